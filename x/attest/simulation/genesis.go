// Package simulation holds x/attest's randomized genesis and the message
// factories of the SDK's simulation framework.
package simulation

import (
	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/crucible-network/crucible/x/attest/types"
)

// RandomizedGenState generates a random x/attest genesis: short windows so
// that challenges are issued, committed (with garbage) and expire within a
// simulation (whose blocks are seconds apart); the "test" class that
// simulated providers register; a random challenge rate and fraud slash.
func RandomizedGenState(simState *module.SimulationState) {
	r := simState.Rand
	gs := types.DefaultGenesis()
	p := &gs.Params
	test := types.TestClassSize()
	test.ReferenceProofMs = uint64(1_000 + r.Intn(20_000))
	p.ClassSizes = append(p.ClassSizes, test)
	for i := range p.ClassSizes {
		p.ClassSizes[i].ProofSize = test.ProofSize
		p.ClassSizes[i].ReferenceProofMs = test.ReferenceProofMs
	}
	p.CommitSlackMs = uint64(r.Intn(10_000))
	p.RevealWindowMs = uint64(2_000 + r.Intn(20_000))
	p.WindowMs = p.CommitDeadlineMs(test) + p.RevealWindowMs + uint64(1_000+r.Intn(60_000))
	p.ChallengeRateBps = uint32(r.Intn(int(types.BasisPoints) + 1))
	p.FraudSlashBps = uint32(r.Intn(int(types.BasisPoints) + 1))
	p.MaxMissed = uint32(1 + r.Intn(3))
	p.MaxScheduleGpusPerBlock = uint32(1 + r.Intn(200))
	p.MaxExpiriesPerBlock = uint32(1 + r.Intn(200))
	p.BlockHashRetention = types.MinBlockHashRetention + uint64(r.Intn(100))
	p.FinishedRetentionBlocks = uint64(r.Intn(30)) // 0 keeps them; short ones prune during the run
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(gs)
}
