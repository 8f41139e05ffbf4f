package keeper_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/attest/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

func issuedIn(t *testing.T, f *fixture) []*types.EventChallengeIssued {
	return events[*types.EventChallengeIssued](t, f.ctx)
}

// TestScheduleRates: rate 10000 challenges every GPU of every ACTIVE
// provider, rate 0 none; jailed providers are skipped.
func TestScheduleRates(t *testing.T) {
	f := newFixture(t)
	a := f.addProvider(1, 3)
	b := f.addProvider(2, 2)
	j := f.addProvider(3, 4)
	f.prov.providers[string(j)].Status = providertypes.ProviderStatusJailed
	f.advance(19)
	f.begin(20)
	evs := issuedIn(t, f)
	require.Len(t, evs, 5)
	want := []struct {
		owner sdk.AccAddress
		gpu   uint32
	}{{a, 0}, {a, 1}, {a, 2}, {b, 0}, {b, 1}}
	for i, ev := range evs {
		require.Equal(t, uint64(i+1), ev.Id)
		require.Equal(t, f.str(want[i].owner), ev.Provider)
		require.Equal(t, want[i].gpu, ev.GpuIndex)
		c := f.challenge(ev.Id)
		// The event carries everything the sidecar needs.
		seed := types.ChallengeSeed(chainID, 20, blockHash(20), want[i].owner, want[i].gpu)
		require.Equal(t, seed[:], c.Seed)
		require.Equal(t, ev.Seed, hexs(seed[:]))
		require.Equal(t, c.ProofSize, ev.ProofSize)
		require.Equal(t, int64(23), ev.CommitDeadline)
		require.Equal(t, int64(27), ev.RevealDeadline)
		require.Equal(t, f.prov.providers[string(want[i].owner)].Gpus[want[i].gpu].Uuid, ev.GpuUuid)
	}
	started := events[*types.EventWindowStarted](t, f.ctx)
	require.Len(t, started, 1)
	require.Equal(t, hexs(blockHash(20)), started[0].HeaderHash)
	require.False(t, started[0].PreviousIncomplete)

	// No challenge between windows.
	f.end()
	f.begin(21)
	require.Empty(t, issuedIn(t, f))

	f.setParams(func(p *types.Params) { p.ChallengeRateBps = 0 })
	f.end()
	f.advance(39)
	f.begin(40)
	require.Empty(t, issuedIn(t, f))
}

// TestScheduleRateFraction: with a partial rate, exactly the GPUs whose draw
// is under the rate are challenged, and about the right share.
func TestScheduleRateFraction(t *testing.T) {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.ChallengeRateBps = 2_500; p.MaxScheduleGpusPerBlock = 100 })
	var provs []sdk.AccAddress
	for i := 0; i < 50; i++ {
		provs = append(provs, f.addProvider(i, 8))
	}
	f.advance(19)
	got := map[string]bool{}
	for h := int64(20); h < 24; h++ { // 400 GPUs, 100 examined per block
		f.begin(h)
		for _, ev := range issuedIn(t, f) {
			require.False(t, got[ev.GpuUuid], "GPU challenged twice in one window")
			got[ev.GpuUuid] = true
		}
		f.end()
	}
	cur, err := f.k.Cursor.Get(f.ctx)
	require.NoError(t, err)
	require.True(t, cur.Done)
	n := 0
	for _, a := range provs {
		for g, gpu := range f.prov.providers[string(a)].Gpus {
			want := types.IsChallenged(2_500, blockHash(20), a, uint32(g))
			require.Equal(t, want, got[gpu.Uuid], gpu.Uuid)
			if want {
				n++
			}
		}
	}
	require.Equal(t, len(got), n)
	require.InDelta(t, 100, n, 40, "400 GPUs at 25%%")
}

// TestScheduleCursor: with a cap of C providers per block, N > C providers
// are covered over ceil(N/C) blocks, each once.
func TestScheduleCursor(t *testing.T) {
	f := newFixture(t)
	const n, capacity = 7, 3
	f.setParams(func(p *types.Params) { p.MaxScheduleGpusPerBlock = capacity })
	for i := 0; i < n; i++ {
		f.addProvider(i, 1)
	}
	f.advance(19)
	seen := map[string]bool{}
	perBlock := []int{}
	for h := int64(20); h < 26; h++ {
		f.begin(h)
		evs := issuedIn(t, f)
		perBlock = append(perBlock, len(evs))
		for _, ev := range evs {
			require.False(t, seen[ev.Provider], "provider challenged twice in one window")
			seen[ev.Provider] = true
			require.Equal(t, int64(20), ev.WindowHeight)
			require.Equal(t, h, ev.IssuedHeight)
			require.Equal(t, h+3, ev.CommitDeadline)
		}
		f.end()
	}
	require.Equal(t, []int{3, 3, 1, 0, 0, 0}, perBlock)
	require.Len(t, seen, n)
	cur, err := f.k.Cursor.Get(f.ctx)
	require.NoError(t, err)
	require.True(t, cur.Done)
	require.Equal(t, int64(20), cur.WindowHeight)

	// A window too short for its providers is reported at the next one.
	f.setParams(func(p *types.Params) { p.MaxScheduleGpusPerBlock = 1; p.WindowBlocks = 8; p.BlockHashRetention = 9 })
	for i := n; i < n+3; i++ { // 10 providers, 8 blocks of 1
		f.addProvider(i, 1)
	}
	f.advance(31)
	f.begin(32) // window at 32
	f.end()
	f.advance(39)
	f.begin(40)
	started := events[*types.EventWindowStarted](t, f.ctx)
	require.Len(t, started, 1)
	require.True(t, started[0].PreviousIncomplete)
}

// TestScheduleCapCountsGPUs: the per-block cap counts GPUs, so a provider
// with more GPUs than the cap is split across blocks (cursor.next_gpu_index),
// each GPU examined exactly once; a provider that leaves the active set while
// the cursor sits inside it does not pass its GPU index on to the next one.
func TestScheduleCapCountsGPUs(t *testing.T) {
	f := newFixture(t)
	// Missed commits must not jail anyone here.
	f.setParams(func(p *types.Params) { p.MaxScheduleGpusPerBlock = 2; p.MaxMissed = 100 })
	big := f.addProvider(1, 5)
	small := f.addProvider(2, 1)
	require.Negative(t, bytes.Compare(big, small), "store key order")
	f.advance(19)
	type gpu struct {
		prov string
		idx  uint32
	}
	var order []gpu
	perBlock := []int{}
	for h := int64(20); h < 24; h++ {
		f.begin(h)
		evs := issuedIn(t, f)
		perBlock = append(perBlock, len(evs))
		for _, ev := range evs {
			order = append(order, gpu{ev.Provider, ev.GpuIndex})
		}
		if h == 21 {
			cur, err := f.k.Cursor.Get(f.ctx)
			require.NoError(t, err)
			require.Equal(t, []byte(big), cur.NextProvider)
			require.Equal(t, uint32(4), cur.NextGpuIndex)
		}
		f.end()
	}
	require.Equal(t, []int{2, 2, 2, 0}, perBlock)
	want := []gpu{{f.str(big), 0}, {f.str(big), 1}, {f.str(big), 2}, {f.str(big), 3}, {f.str(big), 4}, {f.str(small), 0}}
	require.Equal(t, want, order)

	// Next window: the cursor stops inside the first provider, which is then
	// jailed; the schedule resumes at the next provider's GPU 0.
	f.setParams(func(p *types.Params) { p.MaxScheduleGpusPerBlock = 1 })
	f.advance(39)
	f.begin(40)
	require.Len(t, issuedIn(t, f), 1)
	cur, err := f.k.Cursor.Get(f.ctx)
	require.NoError(t, err)
	require.Equal(t, []byte(big), cur.NextProvider)
	require.Equal(t, uint32(1), cur.NextGpuIndex)
	f.end()
	require.NoError(t, f.prov.Jail(f.ctx, big, "test"))
	f.begin(41)
	evs := issuedIn(t, f)
	require.Len(t, evs, 1)
	require.Equal(t, f.str(small), evs[0].Provider)
	require.Equal(t, uint32(0), evs[0].GpuIndex)
	f.end()
}

// TestPruneFinished: a finished challenge is deleted
// finished_retention_blocks after it finished, at most
// max_schedule_gpus_per_block per block (the rest the next blocks), open
// challenges never; the record keeps the totals; retention 0 keeps all.
func TestPruneFinished(t *testing.T) {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.FinishedRetentionBlocks = 10; p.MaxMissed = 100 })
	a := f.addProvider(1, 5)
	f.advance(19)
	f.begin(20)
	require.Len(t, issuedIn(t, f), 5)
	f.end()
	f.advance(23) // all five miss their commit at 23
	require.Len(t, f.challengesOf(a, types.ChallengeStateMissedCommit), 5)
	f.setParams(func(p *types.Params) { p.MaxScheduleGpusPerBlock = 2 })

	f.advance(32)
	require.Len(t, f.challengesOf(a, types.ChallengeStateMissedCommit), 5, "kept for the retention")
	pruned := []uint32{}
	for h := int64(33); h <= 36; h++ {
		f.begin(h)
		f.end()
		n := uint32(0)
		for _, ev := range events[*types.EventChallengesPruned](t, f.ctx) {
			n += ev.Count
			require.Equal(t, int64(23), ev.FinishedThrough)
		}
		pruned = append(pruned, n)
	}
	require.Equal(t, []uint32{2, 2, 1, 0}, pruned)
	require.Empty(t, f.challengesOf(a, types.ChallengeStateMissedCommit))
	_, err := f.k.GetChallenge(f.ctx, 1)
	require.ErrorIs(t, err, types.ErrChallengeNotFound)
	require.Empty(t, finishedQueue(t, f))
	require.Equal(t, uint64(5), f.record(a).Misses, "the record keeps the totals")

	// Window 40's challenges stay while open, however old the retention.
	f.setParams(func(p *types.Params) { p.FinishedRetentionBlocks = 1; p.MaxScheduleGpusPerBlock = 10 })
	f.advance(39)
	f.begin(40)
	require.Len(t, issuedIn(t, f), 5)
	f.end()
	f.advance(42)
	require.Len(t, f.challengesOf(a, types.ChallengeStatePendingCommit), 5)

	// Retention 0 keeps finished challenges.
	f.setParams(func(p *types.Params) { p.FinishedRetentionBlocks = 0 })
	f.advance(60)
	require.Len(t, f.challengesOf(a, types.ChallengeStateMissedCommit), 5)
	require.Len(t, finishedQueue(t, f), 5)
}

// TestMissedCommitsJail: max_missed commits missed in a row jail the
// provider and close its leases; a pass in between resets the run.
func TestMissedCommitsJail(t *testing.T) {
	f := newFixture(t)
	a := f.addProvider(1, 1)
	f.market.leases[string(a)] = []uint64{5}
	miss := func(window int64) {
		t.Helper()
		f.advance(window - 1)
		f.begin(window)
		require.Len(t, issuedIn(t, f), 1)
		f.end()
		f.advance(window + 3) // commit deadline passes
		evs := events[*types.EventCommitMissed](t, f.ctx)
		require.Len(t, evs, 1)
	}
	pass := func(window int64) {
		t.Helper()
		f.advance(window - 1)
		f.begin(window)
		evs := issuedIn(t, f)
		require.Len(t, evs, 1)
		good := f.answer(a, evs[0].Id, nil)
		_, err := f.reveal(a, evs[0].Id, good)
		require.NoError(t, err)
		f.end()
	}
	score := int64(5_000)
	miss(20)
	score = types.MissScore(score)
	miss(40)
	score = types.MissScore(score)
	require.Equal(t, uint32(2), f.record(a).ConsecutiveMisses)
	pass(60)
	score = types.PassScore(score)
	require.Zero(t, f.record(a).ConsecutiveMisses)
	miss(80)
	miss(100)
	require.Empty(t, f.prov.jails)
	require.Empty(t, f.market.closes)
	score = types.MissScore(types.MissScore(score))
	miss(120)
	score = types.MissScore(score)

	require.Equal(t, []string{f.str(a)}, f.prov.jails)
	require.Equal(t, []closeCall{{provider: f.str(a), reason: markettypes.LeaseCloseReasonProviderJailed}}, f.market.closes)
	ev := events[*types.EventCommitMissed](t, f.ctx)[0]
	require.True(t, ev.Jailed)
	require.Equal(t, []uint64{5}, ev.ClosedLeases)
	rec := f.record(a)
	require.Equal(t, uint64(5), rec.Misses)
	require.Equal(t, uint64(1), rec.Passes)
	require.Zero(t, rec.Frauds)
	require.Zero(t, rec.ConsecutiveMisses, "jailing starts a new run")
	require.Equal(t, score, rec.Score)
	require.Equal(t, score, f.prov.providers[string(a)].Reputation)
	require.Empty(t, f.prov.slashes, "a liveness fault is not slashed")

	// Jailed: no more challenges.
	f.advance(139)
	f.begin(140)
	require.Empty(t, issuedIn(t, f))
}

// TestMissWhileUnbonding: an unbonding provider's missed commit counts but
// does not jail it.
func TestMissWhileUnbonding(t *testing.T) {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.MaxMissed = 1 })
	a := f.addProvider(1, 1)
	f.advance(19)
	f.begin(20)
	f.prov.providers[string(a)].Status = providertypes.ProviderStatusUnbonding
	f.end()
	f.advance(23)
	require.Equal(t, types.ChallengeStateMissedCommit, f.challenge(1).State)
	require.Empty(t, f.prov.jails)
	require.Equal(t, uint64(1), f.record(a).Misses)
}

// TestExpiryCap: EndBlocker expires at most max_expiries_per_block
// challenges; the rest wait for the next blocks.
func TestExpiryCap(t *testing.T) {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.MaxExpiriesPerBlock = 2 })
	f.addProvider(1, 5)
	f.advance(19)
	f.begin(20)
	require.Len(t, issuedIn(t, f), 5)
	f.end()
	f.advance(22)
	missed := func() int {
		resp, err := f.queries.Challenges(f.ctx, &types.QueryChallengesRequest{State: types.ChallengeStateMissedCommit})
		require.NoError(t, err)
		return len(resp.Challenges)
	}
	require.Zero(t, missed())
	counts := []int{}
	for h := int64(23); h <= 26; h++ {
		f.begin(h)
		f.end()
		counts = append(counts, missed())
	}
	require.Equal(t, []int{2, 4, 5, 5}, counts)
}

// TestBlockHashRetention: BeginBlocker keeps the last retention hashes and
// drains a backlog after the retention is lowered.
func TestBlockHashRetention(t *testing.T) {
	f := newFixture(t)
	f.advance(30)
	count := func() (n int, lowest int64) {
		require.NoError(t, f.k.BlockHashes.Walk(f.ctx, nil, func(h int64, hash []byte) (bool, error) {
			if n == 0 {
				lowest = h
			}
			n++
			require.Equal(t, blockHash(h), hash)
			return false, nil
		}))
		return n, lowest
	}
	n, lowest := count()
	require.Equal(t, 20, n)
	require.Equal(t, int64(11), lowest)
	f.setParams(func(p *types.Params) { p.BlockHashRetention = 9 })
	f.advance(40)
	n, lowest = count()
	require.Equal(t, 9, n)
	require.Equal(t, int64(32), lowest)
}
