package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crucible-network/crucible/x/attest/poc"
	"github.com/crucible-network/crucible/x/attest/types"
)

// The default params define production classes only: no "test" class, so
// no provider can pick a toy proof size on a production chain; the H100
// deadline is 1.3 x 21 s + 6 s = 33.3 s, under two proof times (42 s).
func TestDefaultParams(t *testing.T) {
	p := types.DefaultParams()
	require.NoError(t, p.Validate())
	h100, ok := p.Class(types.ClassH100)
	require.True(t, ok)
	require.Equal(t, types.NewProofSize(poc.ProductionParams()), h100.ProofSize)
	_, ok = p.Class(types.ClassTest)
	require.False(t, ok, "the test class exists only in localnet and test genesis")
	_, ok = p.Class("H100")
	require.False(t, ok, "classes match exactly")
	require.Equal(t, uint64(33_300), p.CommitDeadlineMs(h100))
	require.Less(t, p.CommitDeadlineMs(h100), 2*h100.ReferenceProofMs)
	// Proof overhead: rate * reference / window = 0.25 * 21 s / 600 s < 2%.
	require.Less(t, uint64(p.ChallengeRateBps)*h100.ReferenceProofMs*10_000/(types.BasisPoints*p.WindowMs), uint64(200))
	// A production reveal costs a few hundred thousand gas.
	g := p.RevealGas(h100.ProofSize, poc.RevealSize(poc.ProductionParams()))
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
	bad(func(p *types.Params) { p.WindowMs = 999 })
	bad(func(p *types.Params) { p.WindowMs = 33_300 + p.RevealWindowMs }) // a second challenge could overlap
	bad(func(p *types.Params) { p.RevealWindowMs = 0 })
	bad(func(p *types.Params) { p.CommitDeadlineBps = 9_999 })
	bad(func(p *types.Params) { p.CommitDeadlineBps = 20_000 }) // two proofs would fit
	bad(func(p *types.Params) { p.CommitSlackMs = types.MaxMsParam + 1 })
	bad(func(p *types.Params) { p.ChallengeRateBps = 10_001 })
	bad(func(p *types.Params) { p.FraudSlashBps = 10_001 })
	bad(func(p *types.Params) { p.MaxMissed = 0 })
	bad(func(p *types.Params) { p.ClassSizes = append(p.ClassSizes, p.ClassSizes[0]) })
	bad(func(p *types.Params) { p.ClassSizes[0].Class = "" })
	bad(func(p *types.Params) { p.ClassSizes[0].Class = "H100" })
	bad(func(p *types.Params) { p.ClassSizes[0].ProofSize.K = 7 })
	bad(func(p *types.Params) { p.ClassSizes[0].ReferenceProofMs = 0 })
	bad(func(p *types.Params) { p.GasPerRevealByte = types.MaxGasParam + 1 })
	bad(func(p *types.Params) { p.MaxScheduleGpusPerBlock = 0 })
	bad(func(p *types.Params) { p.MaxExpiriesPerBlock = 0 })
	bad(func(p *types.Params) { p.MaxScheduleGpusPerBlock = types.MaxPerBlockParam + 1 })
	bad(func(p *types.Params) { p.MaxExpiriesPerBlock = types.MaxPerBlockParam + 1 })
	bad(func(p *types.Params) { p.FinishedRetentionBlocks = types.MaxBlocksParam + 1 })
	bad(func(p *types.Params) { p.BlockHashRetention = types.MinBlockHashRetention - 1 })
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
	require.True(t, types.IsChallenged(10_000, hash, prov))
	require.False(t, types.IsChallenged(0, hash, prov))
	// One draw per provider: about rate of the providers are drawn.
	n := 0
	for i := 0; i < 4_000; i++ {
		if types.IsChallenged(2_500, hash, []byte{byte(i), byte(i >> 8), 7}) {
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
