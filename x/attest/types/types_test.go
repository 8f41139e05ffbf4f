package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crucible-network/crucible/x/attest/poc"
	"github.com/crucible-network/crucible/x/attest/types"
)

func TestDefaultParams(t *testing.T) {
	p := types.DefaultParams()
	require.NoError(t, p.Validate())
	require.Equal(t, types.NewProofSize(poc.ProductionParams()), p.SizeFor(types.ClassH100))
	require.Equal(t, types.NewProofSize(poc.TestParams()), p.SizeFor(types.ClassTest))
	require.Equal(t, p.DefaultSize, p.SizeFor("unknown"))
	// A production reveal costs a few hundred thousand gas.
	g := p.RevealGas(p.SizeFor(types.ClassH100), poc.RevealSize(poc.ProductionParams()))
	require.Equal(t, uint64(40_419*3+32*(1_000+64*64)), g)
	require.Greater(t, g, uint64(200_000))
	require.Less(t, g, uint64(500_000))
}

func TestParamsValidate(t *testing.T) {
	bad := func(mut func(p *types.Params)) {
		t.Helper()
		p := types.DefaultParams()
		mut(&p)
		require.ErrorIs(t, p.Validate(), types.ErrInvalidParams)
	}
	bad(func(p *types.Params) { p.WindowBlocks = 0 })
	bad(func(p *types.Params) { p.WindowBlocks = p.CommitWindowBlocks + p.RevealWindowBlocks })
	bad(func(p *types.Params) { p.CommitWindowBlocks = 0 })
	bad(func(p *types.Params) { p.RevealWindowBlocks = 1 })
	bad(func(p *types.Params) { p.ChallengeRateBps = 10_001 })
	bad(func(p *types.Params) { p.FraudSlashBps = 10_001 })
	bad(func(p *types.Params) { p.MaxMissed = 0 })
	bad(func(p *types.Params) { p.ClassSizes = append(p.ClassSizes, p.ClassSizes[0]) })
	bad(func(p *types.Params) { p.ClassSizes[0].Class = "" })
	bad(func(p *types.Params) { p.ClassSizes[0].ProofSize.K = 7 })
	bad(func(p *types.Params) { p.DefaultSize.Samples = 0 })
	bad(func(p *types.Params) { p.GasPerRevealByte = types.MaxGasParam + 1 })
	bad(func(p *types.Params) { p.MaxScheduleGpusPerBlock = 0 })
	bad(func(p *types.Params) { p.MaxExpiriesPerBlock = 0 })
	bad(func(p *types.Params) { p.MaxScheduleGpusPerBlock = types.MaxPerBlockParam + 1 })
	bad(func(p *types.Params) { p.MaxExpiriesPerBlock = types.MaxPerBlockParam + 1 })
	bad(func(p *types.Params) { p.FinishedRetentionBlocks = types.MaxBlocksParam + 1 })
	bad(func(p *types.Params) { p.BlockHashRetention = p.CommitWindowBlocks + p.RevealWindowBlocks + 1 })
}

func TestScheduleDraw(t *testing.T) {
	hash := []byte("window hash")
	prov := []byte("provider-address-20b")
	// Deterministic, and sensitive to every input.
	d := types.ScheduleDraw(hash, prov, 0)
	require.Equal(t, d, types.ScheduleDraw(hash, prov, 0))
	require.NotEqual(t, d, types.ScheduleDraw(hash, prov, 1))
	require.NotEqual(t, d, types.ScheduleDraw([]byte("window hasi"), prov, 0))
	require.NotEqual(t, d, types.ScheduleDraw(hash, []byte("provider-address-20c"), 0))
	require.True(t, types.IsChallenged(10_000, hash, prov, 0))
	require.False(t, types.IsChallenged(0, hash, prov, 0))
	n := 0
	for g := uint32(0); g < 4_000; g++ {
		if types.IsChallenged(2_500, hash, prov, g) {
			n++
		}
	}
	require.InDelta(t, 1_000, n, 120)
}

func TestScores(t *testing.T) {
	require.Equal(t, int64(10_000), types.PassScore(10_000))
	require.Equal(t, int64(5_313), types.PassScore(5_000))
	require.Equal(t, int64(625), types.PassScore(0))
	require.Equal(t, int64(4_375), types.MissScore(5_000))
	require.Equal(t, int64(0), types.MissScore(0))
	s := int64(0)
	for i := 0; i < 200; i++ {
		s = types.PassScore(s)
		require.LessOrEqual(t, s, types.MaxScore)
	}
	require.GreaterOrEqual(t, s, int64(9_985))
}
