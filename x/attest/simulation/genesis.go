// Package simulation holds x/attest's randomized genesis and the message
// factories of the SDK's simulation framework.
package simulation

import (
	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/crucible-network/crucible/x/attest/types"
)

// RandomizedGenState generates a random x/attest genesis: short windows so
// that challenges are issued, committed (with garbage) and expire within a
// simulation; a random challenge rate and fraud slash.
func RandomizedGenState(simState *module.SimulationState) {
	r := simState.Rand
	gs := types.DefaultGenesis()
	p := &gs.Params
	p.CommitWindowBlocks = uint64(1 + r.Intn(5))
	p.RevealWindowBlocks = uint64(2 + r.Intn(4))
	p.WindowBlocks = p.CommitWindowBlocks + p.RevealWindowBlocks + uint64(1+r.Intn(10))
	p.ChallengeRateBps = uint32(r.Intn(int(types.BasisPoints) + 1))
	p.FraudSlashBps = uint32(r.Intn(int(types.BasisPoints) + 1))
	p.MaxMissed = uint32(1 + r.Intn(3))
	p.MaxScheduleGpusPerBlock = uint32(1 + r.Intn(200))
	p.MaxExpiriesPerBlock = uint32(1 + r.Intn(200))
	p.BlockHashRetention = p.CommitWindowBlocks + p.RevealWindowBlocks + 2 + uint64(r.Intn(20))
	p.FinishedRetentionBlocks = uint64(r.Intn(30)) // 0 keeps them; short ones prune during the run
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(gs)
}
