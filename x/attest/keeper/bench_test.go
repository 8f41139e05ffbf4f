package keeper_test

import (
	"testing"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"

	"github.com/crucible-network/crucible/x/attest/poc"
	"github.com/crucible-network/crucible/x/attest/types"
)

// BenchmarkRevealProof measures MsgRevealProof through the msg server at
// test sizes (poc.TestParams: 16 openings of a 4-unit, 256x256x256
// instance), an honest reveal that passes. Each iteration runs in a cached
// context that is dropped, so the challenge stays COMMITTED. It reports the
// gas used per reveal (params' size gas plus store access gas).
func BenchmarkRevealProof(b *testing.B) {
	f := newFixture(b)
	a := f.addProvider(1, 1)
	f.advance(19)
	f.begin(20)
	good := f.answer(a, 1, nil)
	msg := &types.MsgRevealProof{Provider: f.str(a), ChallengeId: 1, Reveal: good}
	var gas uint64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, _ := f.ctx.WithGasMeter(storetypes.NewGasMeter(10_000_000)).CacheContext()
		resp, err := f.msgs.RevealProof(ctx, msg)
		if err != nil || resp.State != types.ChallengeStatePassed {
			b.Fatalf("reveal: %v %v", resp, err)
		}
		gas = ctx.GasMeter().GasConsumed()
	}
	b.ReportMetric(float64(gas), "gas/reveal")
	b.ReportMetric(float64(len(good)), "reveal-bytes")
	// The gas does not depend on how verification goes, only on the size and
	// the store accesses, which are the same at every size: the production
	// reveal (poc.ProductionParams, 40419 bytes) costs the same store gas
	// plus its own size gas.
	params := testParams()
	prod := types.NewProofSize(poc.ProductionParams())
	b.ReportMetric(float64(gas-params.RevealGas(params.ClassSizes[0].ProofSize, len(good))+
		types.DefaultParams().RevealGas(prod, poc.RevealSize(poc.ProductionParams()))), "est-gas/prod-reveal")
}
