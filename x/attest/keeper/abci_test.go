package keeper_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

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
		require.Equal(t, blockTime(20).UnixMilli(), ev.IssuedTimeMs)
		require.Equal(t, blockTime(23).UnixMilli(), ev.CommitDeadlineMs, "1.3 x 1 s + 1.7 s slack")
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

// TestScheduleRateFraction: with a partial rate, exactly the providers
// whose draw (one per provider and window) is under the rate are challenged,
// all their GPUs in the same block with the same deadline, and about the
// right share.
func TestScheduleRateFraction(t *testing.T) {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.ChallengeRateBps = 2_500; p.MaxScheduleGpusPerBlock = 100 })
	var provs []sdk.AccAddress
	for i := 0; i < 200; i++ {
		provs = append(provs, f.addProvider(i, 2))
	}
	f.advance(19)
	got := map[string]int{}
	issued := map[string]int64{}
	deadline := map[string]int64{}
	for h := int64(20); h < 25; h++ { // 400 GPUs, 100 examined per block
		f.begin(h)
		for _, ev := range issuedIn(t, f) {
			got[ev.Provider]++
			if at, ok := issued[ev.Provider]; ok {
				require.Equal(t, at, ev.IssuedHeight, "a provider's GPUs are challenged in one block")
				require.Equal(t, deadline[ev.Provider], ev.CommitDeadlineMs)
			}
			issued[ev.Provider], deadline[ev.Provider] = ev.IssuedHeight, ev.CommitDeadlineMs
		}
		f.end()
	}
	cur, err := f.k.Cursor.Get(f.ctx)
	require.NoError(t, err)
	require.True(t, cur.Done)
	n := 0
	for _, a := range provs {
		want := types.IsChallenged(2_500, blockHash(20), a)
		if want {
			n++
			require.Equal(t, 2, got[f.str(a)], "every GPU of a drawn provider")
		} else {
			require.Zero(t, got[f.str(a)])
		}
	}
	require.Equal(t, len(got), n)
	require.InDelta(t, 50, n, 22, "200 providers at 25%%")
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
			require.Equal(t, blockTime(h+3).UnixMilli(), ev.CommitDeadlineMs)
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
	f.setParams(func(p *types.Params) { p.MaxScheduleGpusPerBlock = 1; p.WindowMs = 8_000; p.RevealWindowMs = 1_000 })
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

// TestScheduleNeverSplitsAProvider: the per-block cap counts GPUs, but a
// provider's GPUs are always challenged together in one block: a provider
// that does not fit in what is left of a block's budget waits for the next
// block, and one larger than the whole budget is examined alone. The first
// window walks in owner-key order and covers each provider once.
func sortedAddrs(addrs []sdk.AccAddress) []sdk.AccAddress {
	out := slices.Clone(addrs)
	slices.SortFunc(out, func(a, b sdk.AccAddress) int { return bytes.Compare(a, b) })
	return out
}

func TestScheduleNeverSplitsAProvider(t *testing.T) {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.MaxScheduleGpusPerBlock = 3; p.MaxMissed = 100 })
	gpus := map[string]int{}
	var addrs []sdk.AccAddress
	for i, n := range []int{2, 5, 1, 2} {
		a := f.addProvider(i+1, n)
		addrs = append(addrs, a)
		gpus[f.str(a)] = n
	}
	f.advance(19)
	// The expected blocks, by the rule: fill up to 3 GPUs, never split, a
	// provider larger than the budget alone.
	var want [][]string
	var block []string
	used := 0
	for _, a := range sortedAddrs(addrs) {
		n := gpus[f.str(a)]
		if used > 0 && used+n > 3 {
			want, block, used = append(want, block), nil, 0
		}
		for range n {
			block = append(block, f.str(a))
		}
		used += n
	}
	want = append(want, block)
	var got [][]string
	for h := int64(20); h < 20+int64(len(want))+2; h++ {
		f.begin(h)
		var provs []string
		for _, ev := range issuedIn(t, f) {
			provs = append(provs, ev.Provider)
			require.Equal(t, h, ev.IssuedHeight)
		}
		if provs != nil {
			got = append(got, provs)
		}
		f.end()
	}
	require.Equal(t, want, got)
	cur, err := f.k.Cursor.Get(f.ctx)
	require.NoError(t, err)
	require.True(t, cur.Done)
}

// TestScheduleOrderCannotBeGround reproduces issue 15 item 8: providers were
// walked from the lowest address every window, so when windows did not
// finish (more GPUs than window blocks × budget) an address ground to sort
// last was never challenged. Now a window that ends unfinished is resumed by
// the next where it stopped: over windows that each examine half the
// providers, every provider, the highest address included, is challenged,
// as often as any other, and none twice in a window.
func TestScheduleOrderCannotBeGround(t *testing.T) {
	f := newFixture(t)
	const n = 16
	// 16 providers, budget 1, windows of 8 blocks: half of each window is left.
	f.setParams(func(p *types.Params) {
		p.MaxScheduleGpusPerBlock = 1
		p.WindowMs = 8_000
		p.RevealWindowMs = 1_000
		p.MaxMissed = 1_000
	})
	var addrs []sdk.AccAddress
	for i := 0; i < n; i++ {
		addrs = append(addrs, f.addProvider(i, 1))
	}
	highest := slices.MaxFunc(addrs, func(a, b sdk.AccAddress) int { return bytes.Compare(a, b) })
	challenged := map[string]int{}
	h := int64(1)
	f.advance(h)
	windows := 0
	for ; windows < 12; h++ {
		f.begin(h)
		if len(events[*types.EventWindowStarted](t, f.ctx)) > 0 {
			windows++
		}
		seen := map[string]bool{}
		for _, ev := range issuedIn(t, f) {
			require.False(t, seen[ev.Provider], "examined twice in a window")
			seen[ev.Provider] = true
			challenged[ev.Provider]++
		}
		f.end()
	}
	require.Positive(t, challenged[f.str(highest)], "the highest address must be challenged in some window")
	require.Len(t, challenged, n, "every provider challenged over 12 windows: %v", challenged)
	for a, c := range challenged {
		require.InDelta(t, 6, c, 1, "12 windows of half the providers: %s", a)
	}
}

// TestScheduleReadsMatchTheWork reproduces issue 15 item 8: a block read up
// to max_schedule_gpus_per_block provider records although its budget was
// spent on the first few. Now it reads the providers it examines and the one
// it stops at.
func TestScheduleReadsMatchTheWork(t *testing.T) {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.MaxScheduleGpusPerBlock = 16; p.MaxMissed = 100 })
	for i := 0; i < 40; i++ {
		f.addProvider(i, 8) // 2 providers fill a block's budget
	}
	f.advance(19)
	f.prov.reads = 0
	f.begin(20)
	require.Len(t, issuedIn(t, f), 16)
	f.end()
	require.LessOrEqual(t, f.prov.reads, 3, "2 examined + the one it stops at")
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
	f.advance(24) // all five miss their commit (deadline: block 23's time)
	require.Len(t, f.challengesOf(a, types.ChallengeStateMissedCommit), 5)
	f.setParams(func(p *types.Params) { p.MaxScheduleGpusPerBlock = 2 })

	f.advance(33)
	require.Len(t, f.challengesOf(a, types.ChallengeStateMissedCommit), 5, "kept for the retention")
	pruned := []uint32{}
	for h := int64(34); h <= 37; h++ {
		f.begin(h)
		f.end()
		n := uint32(0)
		for _, ev := range events[*types.EventChallengesPruned](t, f.ctx) {
			n += ev.Count
			require.Equal(t, int64(24), ev.FinishedThrough)
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
	f.advance(43)
	require.Len(t, f.challengesOf(a, types.ChallengeStatePendingCommit), 5)

	// Retention 0 keeps finished challenges.
	f.setParams(func(p *types.Params) { p.FinishedRetentionBlocks = 0 })
	f.advance(60)
	require.Len(t, f.challengesOf(a, types.ChallengeStateMissedCommit), 5)
	require.Len(t, finishedQueue(t, f), 5)
}

// TestPerGPUMissLadder: misses are counted per GPU and only that GPU's own
// pass resets them (another GPU's pass does not); a leased GPU's missed
// challenge refunds its tenant for the blocks since it last proved itself;
// at max_missed in a row the GPU's claim is dropped and its lease closed
// with compensation (GPU_FAILED). A liveness fault never burns the bond nor
// jails the provider.
func TestPerGPUMissLadder(t *testing.T) {
	f := newFixture(t)
	a := f.addProvider(1, 2) // GPU-1-0 answers every window, GPU-1-1 never
	f.market.gpuLeases[string(a)+"/GPU-1-1"] = 7
	window := func(w int64) {
		t.Helper()
		f.advance(w - 1)
		f.begin(w)
		evs := issuedIn(t, f)
		require.Len(t, evs, 2)
		good := f.answer(a, evs[0].Id, nil) // GPU-1-0: commit at w, reveal at w+1
		_, err := f.reveal(a, evs[0].Id, good)
		require.NoError(t, err)
		f.end()
		f.advance(w + 4) // GPU-1-1's commit deadline (block w+3's time) has passed
	}
	score := int64(5_000)
	window(20)
	score = types.MissScore(types.PassScore(score))
	st, err := f.k.GPUStatuses.Get(f.ctx, collections.Join(a, "GPU-1-1"))
	require.NoError(t, err)
	require.Equal(t, uint32(1), st.ConsecutiveMisses)
	require.Equal(t, int64(24), st.DockedThroughHeight)
	has, err := f.k.GPUStatuses.Has(f.ctx, collections.Join(a, "GPU-1-0"))
	require.NoError(t, err)
	require.False(t, has, "the passing GPU has no miss run")
	require.Equal(t, []dockCall{{provider: f.str(a), uuid: "GPU-1-1", since: 0, at: 24, lease: 7}}, f.market.docks)

	window(40)
	score = types.MissScore(types.PassScore(score))
	require.Len(t, f.market.docks, 2)
	require.Equal(t, int64(24), f.market.docks[1].since, "docked only since the last docking")
	require.Empty(t, f.prov.removed, "GPU-1-0's passes do not reset GPU-1-1's run, but 2 < max_missed")
	require.Empty(t, f.market.gpuCloses)

	window(60)
	score = types.MissScore(types.PassScore(score))
	require.Equal(t, []string{f.str(a) + "/GPU-1-1"}, f.prov.removed)
	require.Equal(t, []string{f.str(a) + "/GPU-1-1/" + markettypes.LeaseCloseReasonGPUFailed.String()}, f.market.gpuCloses)
	ev := events[*types.EventCommitMissed](t, f.ctx)
	require.Len(t, ev, 1)
	require.True(t, ev[0].GpuDropped)
	require.Equal(t, []uint64{7}, ev[0].ClosedLeases)
	require.Equal(t, uint64(7), ev[0].DockedLease)
	require.Equal(t, uint32(3), ev[0].ConsecutiveMisses)

	rec := f.record(a)
	require.Equal(t, uint64(3), rec.Misses)
	require.Equal(t, uint64(3), rec.Passes)
	require.Equal(t, uint64(1), rec.GpusDropped)
	require.Zero(t, rec.Frauds)
	require.Equal(t, score, rec.Score)
	require.Empty(t, f.prov.slashes, "a liveness fault is not slashed")
	require.Empty(t, f.prov.jails, "nor jailed")
	require.Empty(t, f.market.closes, "the provider's other leases are untouched")

	// Only the remaining GPU is challenged now.
	f.advance(79)
	f.begin(80)
	require.Len(t, issuedIn(t, f), 1)
}

// TestOwnPassResetsTheRun: a GPU's own pass ends its miss run, so an honest
// GPU that misses once in a while is never dropped.
func TestOwnPassResetsTheRun(t *testing.T) {
	f := newFixture(t)
	a := f.addProvider(1, 1)
	miss := func(w int64) {
		f.advance(w - 1)
		f.begin(w)
		require.Len(t, issuedIn(t, f), 1)
		f.end()
		f.advance(w + 4)
	}
	pass := func(w int64) {
		f.advance(w - 1)
		f.begin(w)
		evs := issuedIn(t, f)
		good := f.answer(a, evs[0].Id, nil)
		_, err := f.reveal(a, evs[0].Id, good)
		require.NoError(t, err)
		f.end()
	}
	miss(20)
	miss(40)
	pass(60)
	has, err := f.k.GPUStatuses.Has(f.ctx, collections.Join(a, "GPU-1-0"))
	require.NoError(t, err)
	require.False(t, has)
	miss(80)
	miss(100)
	require.Empty(t, f.prov.removed)
	miss(120)
	require.Equal(t, []string{f.str(a) + "/GPU-1-0"}, f.prov.removed)
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
	f.advance(24)
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
	f.advance(23)
	missed := func() int {
		resp, err := f.queries.Challenges(f.ctx, &types.QueryChallengesRequest{State: types.ChallengeStateMissedCommit})
		require.NoError(t, err)
		return len(resp.Challenges)
	}
	require.Zero(t, missed())
	counts := []int{}
	for h := int64(24); h <= 27; h++ {
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
