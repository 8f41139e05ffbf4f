package keeper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/core/header"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/attest/poc"
	"github.com/crucible-network/crucible/x/attest/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
)

// TestHonestProverAlwaysPasses runs three windows of challenges to every GPU
// of three providers; the honest prover passes all of them.
func TestHonestProverAlwaysPasses(t *testing.T) {
	f := newFixture(t)
	provs := []sdk.AccAddress{f.addProvider(1, 2), f.addProvider(2, 2), f.addProvider(3, 1)}
	total := 0
	for w := int64(1); w <= 3; w++ {
		f.advance(20*w - 1)
		f.begin(20 * w)
		issued := events[*types.EventChallengeIssued](t, f.ctx)
		require.Len(t, issued, 5)
		provers := map[uint64]*prover{}
		owners := map[uint64]sdk.AccAddress{}
		for _, ev := range issued {
			c := f.challenge(ev.Id)
			require.Equal(t, types.ChallengeStatePendingCommit, c.State)
			bz, err := f.addrs.StringToBytes(ev.Provider)
			require.NoError(t, err)
			a := sdk.AccAddress(bz)
			provers[ev.Id] = newProver(t, c, nil)
			owners[ev.Id] = a
			f.commit(a, c, provers[ev.Id])
		}
		f.end()
		f.begin(20*w + 1)
		for _, ev := range issued {
			b := encode(t, provers[ev.Id].reveal(t, f.ctx.HeaderHash()))
			resp, err := f.reveal(owners[ev.Id], ev.Id, b)
			require.NoError(t, err)
			require.Equal(t, types.ChallengeStatePassed, resp.State)
			require.Equal(t, types.ChallengeStatePassed, f.challenge(ev.Id).State)
			total++
		}
		f.end()
	}
	require.Equal(t, 15, total)
	require.Empty(t, f.prov.slashes)
	require.Empty(t, f.market.closes)
	// Provider 1: 6 passes from 5000: s <- s - s/16 + 625.
	want := int64(5_000)
	for i := 0; i < 6; i++ {
		want = types.PassScore(want)
	}
	r := f.record(provs[0])
	require.Equal(t, uint64(6), r.Passes)
	require.Equal(t, want, r.Score)
	require.Equal(t, want, f.prov.providers[string(provs[0])].Reputation)
	require.Equal(t, int64(61), f.prov.providers[string(provs[0])].Gpus[0].VerifiedHeight)
	require.Len(t, f.prov.verified, 15)
	require.Equal(t, uint64(3), f.record(provs[2]).Passes)
	// Nothing left in the deadline queue.
	n := 0
	require.NoError(t, f.k.Deadlines.Walk(f.ctx, nil, func(_ keyPair) (bool, error) { n++; return false, nil }))
	require.Zero(t, n)
}

// TestFraudIsCaught: a provider with two challenged GPUs answers the first
// with a tampered reveal or a wrong product; every variant is fraud with
// the exact consequences.
func TestFraudIsCaught(t *testing.T) {
	cases := []struct {
		name    string
		corrupt func(u uint32, c []int32)
		tamper  func(r *poc.Reveal)
		code    uint32
	}{
		{
			name: "flipped leaf entry",
			tamper: func(r *poc.Reveal) {
				o := &r.Openings[3]
				o.Leaf[o.Pos.Col%poc.LeafValues]++
			},
			code: types.ErrProofBadPath.ABCICode(),
		},
		{
			name:   "forged merkle path",
			tamper: func(r *poc.Reveal) { r.Openings[0].UnitPath[2][5] ^= 1 },
			code:   types.ErrProofBadPath.ABCICode(),
		},
		{
			name:   "opening at another position",
			tamper: func(r *poc.Reveal) { r.Openings[1], r.Openings[2] = r.Openings[2], r.Openings[1] },
			code:   types.ErrProofWrongPosition.ABCICode(),
		},
		{
			// Committed to a wrong product (every entry off by one): the
			// paths verify, the values do not.
			name: "wrong product committed",
			corrupt: func(_ uint32, c []int32) {
				for i := range c {
					c[i]++
				}
			},
			code: types.ErrProofWrongValue.ABCICode(),
		},
		{
			// Skipped the work: zeros committed.
			name:    "skipped work",
			corrupt: func(_ uint32, c []int32) { clear(c) },
			code:    types.ErrProofWrongValue.ABCICode(),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			a := f.addProvider(1, 2)
			f.market.leases[string(a)] = []uint64{7, 9}
			f.advance(19)
			f.begin(20)
			ids := []uint64{1, 2}
			require.Equal(t, ids, f.challengesOf(a, types.ChallengeStatePendingCommit))

			c := f.challenge(1)
			pr := newProver(t, c, tc.corrupt)
			f.commit(a, c, pr)
			f.end()
			f.begin(21)
			r := pr.reveal(t, f.ctx.HeaderHash())
			if tc.tamper != nil {
				tc.tamper(r)
			}
			resp, err := f.reveal(a, 1, encode(t, r))
			require.NoError(t, err, "fraud must not fail the tx, or the penalty would be reverted")
			require.Equal(t, types.ChallengeStateFailed, resp.State)
			require.NotEmpty(t, resp.Failure)

			got := f.challenge(1)
			require.Equal(t, types.ChallengeStateFailed, got.State)
			require.Equal(t, resp.Failure, got.Failure)
			require.Equal(t, int64(21), got.FinishedHeight)

			// Exactly one slash of fraud_slash_bps, GPUs dropped, score 0,
			// leases closed as PROVIDER_SLASHED.
			require.Equal(t, []slashCall{{owner: f.str(a), bps: 5_000, reason: "challenge 1: CHALLENGE_STATE_FAILED", amount: coin(5_000)}}, f.prov.slashes)
			require.Equal(t, []string{f.str(a)}, f.prov.jails, "fraud jails")
			// Every GPU's lease is docked since its last pass before closing.
			require.Len(t, f.market.docks, 2)
			require.Equal(t, []string{f.str(a)}, f.prov.drops)
			require.Equal(t, repCall{owner: f.str(a), score: 0}, f.prov.reps[len(f.prov.reps)-1])
			require.Equal(t, []closeCall{{provider: f.str(a), reason: markettypes.LeaseCloseReasonProviderSlashed}}, f.market.closes)
			require.Equal(t, coin(5_000), f.prov.providers[string(a)].Bond)
			require.Empty(t, f.prov.providers[string(a)].Gpus)

			rec := f.record(a)
			require.Equal(t, uint64(1), rec.Frauds)
			require.Zero(t, rec.Score)
			// The other GPU's open challenge is cancelled and off the queue.
			require.Equal(t, types.ChallengeStateCancelled, f.challenge(2).State)
			require.Empty(t, f.challengesOf(a, types.ChallengeStatePendingCommit))

			evs := events[*types.EventFraudDetected](t, f.ctx)
			require.Len(t, evs, 1)
			require.Equal(t, uint64(1), evs[0].Id)
			require.Equal(t, coin(5_000), evs[0].Slashed)
			require.Equal(t, []uint64{7, 9}, evs[0].ClosedLeases)
			require.Equal(t, []uint64{2}, evs[0].CancelledChallenges)
			require.Contains(t, evs[0].Reason, "(code ")
			require.Len(t, events[*types.EventChallengeCancelled](t, f.ctx), 1)

			// The registered error code is recorded in the failure text.
			reg := map[uint32]string{
				types.ErrProofBadPath.ABCICode():       types.ErrProofBadPath.Error(),
				types.ErrProofWrongPosition.ABCICode(): types.ErrProofWrongPosition.Error(),
				types.ErrProofWrongValue.ABCICode():    types.ErrProofWrongValue.Error(),
			}
			require.Contains(t, got.Failure, reg[tc.code])

			// Nothing expires later: the queue is empty.
			f.end()
			f.advance(40)
			require.Len(t, f.prov.slashes, 1)
		})
	}
}

type keyPair = collectionsPair

// TestRejectedMessagesChangeNothing checks every refused commit or reveal:
// registered error, no state change, no call to the other modules.
func TestRejectedMessagesChangeNothing(t *testing.T) {
	f := newFixture(t)
	a := f.addProvider(1, 1)
	other := f.addProvider(2, 1)
	f.advance(19)
	f.begin(20)
	c := f.challenge(1)
	require.Equal(t, f.str(a), c.Provider)
	pr := newProver(t, c, nil)

	calls := func() int {
		return len(f.prov.reps) + len(f.prov.slashes) + len(f.market.closes) + len(f.market.docks) +
			len(f.market.gpuCloses) + len(f.prov.removed) + len(f.prov.jails)
	}
	unchanged := func(run func() error, want error) {
		t.Helper()
		before := f.export()
		n := calls()
		err := run()
		require.ErrorIs(t, err, want)
		require.Equal(t, before, f.export())
		require.Equal(t, n, calls())
	}
	commitAs := func(p sdk.AccAddress, id uint64, root []byte) func() error {
		return func() error {
			_, err := f.msgs.CommitProof(f.ctx, &types.MsgCommitProof{Provider: f.str(p), ChallengeId: id, Root: root})
			return err
		}
	}
	revealAs := func(p sdk.AccAddress, id uint64, b []byte) func() error {
		return func() error { _, err := f.reveal(p, id, b); return err }
	}

	// Commit: another provider's challenge, unknown id, short root, reveal
	// before commit.
	unchanged(commitAs(other, 1, pr.root[:]), types.ErrNotChallengeOwner)
	unchanged(commitAs(a, 99, pr.root[:]), types.ErrChallengeNotFound)
	unchanged(commitAs(a, 1, pr.root[:31]), types.ErrInvalidRoot)
	unchanged(revealAs(a, 1, []byte{1}), types.ErrWrongState)

	f.commit(a, c, pr)
	unchanged(commitAs(a, 1, pr.root[:]), types.ErrWrongState) // double commit
	// The sample block has not begun: its hash is unknown.
	unchanged(revealAs(a, 1, make([]byte, poc.RevealSize(poc.TestParams()))), types.ErrSampleBlockUnknown)
	f.end()
	f.begin(21)
	good := encode(t, pr.reveal(t, f.ctx.HeaderHash()))

	unchanged(revealAs(other, 1, good), types.ErrNotChallengeOwner)
	oversized := append(append([]byte(nil), good...), 0)
	unchanged(revealAs(a, 1, oversized), types.ErrRevealSize)
	unchanged(revealAs(a, 1, good[:len(good)-1]), types.ErrRevealSize)
	unchanged(revealAs(a, 1, make([]byte, poc.MaxRevealSize+1)), types.ErrRevealSize)
	malformed := append([]byte(nil), good...)
	malformed[0] = 9 // unknown version
	unchanged(revealAs(a, 1, malformed), types.ErrMalformedReveal)
	truncatedPath := append([]byte(nil), good...)
	truncatedPath[3+1+12+poc.LeafBytes] = 40 // a path length above the bound
	unchanged(revealAs(a, 1, truncatedPath), types.ErrMalformedReveal)

	// A retry with the right reveal still passes, and a replay is refused.
	resp, err := f.reveal(a, 1, good)
	require.NoError(t, err)
	require.Equal(t, types.ChallengeStatePassed, resp.State)
	unchanged(revealAs(a, 1, good), types.ErrWrongState)

	// Late commit: the other provider's challenge, past its deadline.
	f.end()
	f.begin(22)
	f.end()
	f.begin(23)
	oc := f.challenge(2)
	require.Equal(t, blockTime(23).UnixMilli(), oc.CommitDeadlineMs)
	opr := newProver(t, oc, nil)
	f.end()
	f.begin(24)
	f.end() // block 24's time is past the deadline: MISSED_COMMIT
	require.Equal(t, types.ChallengeStateMissedCommit, f.challenge(2).State)
	f.begin(25)
	// Issue 15 item 10: a late commit returned attest 4 (wrong state) once
	// the miss was recorded, 5 only in the deadline's own block; now it is
	// attest 5 (commit too late) either way.
	unchanged(commitAs(other, 2, opr.root[:]), types.ErrCommitTooLate)

	// A commit arriving in a block past the deadline before EndBlocker ran
	// (e.g. the queue was capped) is late.
	f.setParams(func(p *types.Params) { p.MaxExpiriesPerBlock = 1 })
	f.advance(39)
	f.begin(40)
	require.Equal(t, []uint64{3, 4}, append(f.challengesOf(a, types.ChallengeStatePendingCommit), f.challengesOf(other, types.ChallengeStatePendingCommit)...))
	f.end()
	f.advance(44)
	f.begin(45) // deadline (block 43's time) passed; EndBlocker at 44 expired only challenge 3
	require.Equal(t, types.ChallengeStatePendingCommit, f.challenge(4).State)
	c4 := f.challenge(4)
	unchanged(commitAs(other, 4, newProver(t, c4, nil).root[:]), types.ErrCommitTooLate)
}

// TestJunkCommitNeverRevealedIsNotFraud is the hot-key attack: a key
// granted only MsgCommitProof commits a junk root and never reveals. Nothing
// is proven wrong, so it is a liveness fault of that GPU like a missed
// commit: no slash, no jail, the bond intact, one miss on the GPU's run; a
// reveal afterwards is refused.
func TestJunkCommitNeverRevealedIsNotFraud(t *testing.T) {
	f := newFixture(t)
	a := f.addProvider(1, 1)
	f.market.leases[string(a)] = []uint64{7}
	f.advance(19)
	f.begin(20)
	junk := make([]byte, 32)
	junk[0] = 0xAA
	_, err := f.msgs.CommitProof(f.ctx, &types.MsgCommitProof{Provider: f.str(a), ChallengeId: 1, Root: junk})
	require.NoError(t, err)
	c := f.challenge(1)
	require.Equal(t, blockTime(20).UnixMilli()+4_000, c.RevealDeadlineMs)
	f.end()
	f.advance(24)
	require.Equal(t, types.ChallengeStateCommitted, f.challenge(1).State, "still inside the reveal window")
	f.begin(25)
	f.end() // block 25's time is past the reveal deadline
	require.Equal(t, types.ChallengeStateMissedReveal, f.challenge(1).State)
	require.Empty(t, f.prov.slashes, "no bond burned")
	require.Empty(t, f.prov.jails)
	require.Empty(t, f.market.closes)
	require.Equal(t, coin(10_000), f.prov.providers[string(a)].Bond)
	rec := f.record(a)
	require.Zero(t, rec.Frauds)
	require.Equal(t, uint64(1), rec.Misses)
	evs := events[*types.EventCommitMissed](t, f.ctx)
	require.Len(t, evs, 1)
	require.True(t, evs[0].MissedReveal)
	require.Equal(t, uint32(1), evs[0].ConsecutiveMisses)

	f.begin(26)
	_, err = f.reveal(a, 1, make([]byte, poc.RevealSize(poc.TestParams())))
	require.ErrorIs(t, err, types.ErrRevealTooLate, "a reveal after the recorded miss is late (attest 6)")
}

// TestRevealTooLate: a reveal in a block past the reveal deadline (and past
// the two grace blocks) whose expiry was deferred by the cap is refused;
// one in the grace blocks is accepted whatever the time.
func TestRevealTooLate(t *testing.T) {
	f := newFixture(t)
	a := f.addProvider(1, 1)
	f.advance(19)
	f.begin(20)
	good := f.answer(a, 1, nil) // committed at 20, now at 21
	f.end()
	f.advance(24)
	f.begin(25) // no EndBlocker: as if the expiry cap deferred it
	_, err := f.reveal(a, 1, good)
	require.ErrorIs(t, err, types.ErrRevealTooLate)
	require.Equal(t, types.ChallengeStateCommitted, f.challenge(1).State)

	// Grace: a slow chain whose next blocks come long after the deadline.
	g := newFixture(t)
	b := g.addProvider(1, 1)
	g.advance(19)
	g.begin(20)
	c := g.challenge(1)
	pr := newProver(t, c, nil)
	g.end()
	slow := func(h int64, at time.Time) {
		g.ctx = g.ctx.WithBlockHeight(h).WithHeaderHash(blockHash(h)).WithBlockTime(at).
			WithHeaderInfo(header.Info{Height: h, Hash: blockHash(h), Time: at, ChainID: chainID}).
			WithEventManager(sdk.NewEventManager())
		require.NoError(t, g.k.BeginBlocker(g.ctx))
	}
	slow(21, blockTime(20).Add(time.Minute)) // the commit deadline is long gone
	g.commit(b, c, pr)                       // accepted: the block right after the issuing one
	g.end()
	slow(22, blockTime(20).Add(2*time.Minute))
	g.end()
	slow(23, blockTime(20).Add(3*time.Minute)) // two blocks after the commit
	resp, err := g.reveal(b, 1, encode(t, pr.reveal(t, blockHash(22))))
	require.NoError(t, err)
	require.Equal(t, types.ChallengeStatePassed, resp.State)
}

// TestRevealGasChargedBySizeFirst: the gas consumed before any decoding grows
// with the reveal's size exactly as params say, even for refused reveals.
func TestRevealGasChargedBySizeFirst(t *testing.T) {
	f := newFixture(t)
	a := f.addProvider(1, 1)
	f.advance(19)
	f.begin(20)
	good := f.answer(a, 1, nil)
	params := testParams()
	size := types.NewProofSize(poc.TestParams())

	gasFor := func(b []byte) (uint64, error) {
		ctx := f.ctx.WithGasMeter(storetypes.NewGasMeter(1 << 40))
		cctx, _ := ctx.CacheContext()
		_, err := f.msgs.RevealProof(cctx, &types.MsgRevealProof{Provider: f.str(a), ChallengeId: 1, Reveal: b})
		return ctx.GasMeter().GasConsumed(), err
	}
	var prev uint64
	for _, n := range []int{100, 1_000, 10_000, len(good) + 1, 100_000} {
		g, err := gasFor(make([]byte, n))
		require.ErrorIs(t, err, types.ErrRevealSize)
		require.GreaterOrEqual(t, g, params.RevealGas(size, n))
		require.Greater(t, g, prev)
		prev = g
	}
	g1, _ := gasFor(make([]byte, 1_000))
	g2, _ := gasFor(make([]byte, 2_000))
	require.Equal(t, 1_000*params.GasPerRevealByte, g2-g1)

	// Too little gas for the size: out of gas before verification.
	ctx := f.ctx.WithGasMeter(storetypes.NewGasMeter(params.RevealGas(size, len(good)) / 2))
	require.Panics(t, func() {
		_, _ = f.msgs.RevealProof(ctx, &types.MsgRevealProof{Provider: f.str(a), ChallengeId: 1, Reveal: good})
	})
	require.Equal(t, types.ChallengeStateCommitted, f.challenge(1).State)

	g, err := gasFor(good)
	require.NoError(t, err)
	require.GreaterOrEqual(t, g, params.RevealGas(size, len(good)))
	t.Logf("test-size reveal: %d bytes, %d gas charged by size, %d gas in all", len(good), params.RevealGas(size, len(good)), g)
}

// TestPassMarksOnlyTheSameGPU: a GPU whose claim changed class since the
// challenge is not marked verified, but the pass still counts.
func TestPassMarksOnlyTheSameGPU(t *testing.T) {
	f := newFixture(t)
	a := f.addProvider(1, 1)
	f.advance(19)
	f.begin(20)
	good := f.answer(a, 1, nil)
	f.prov.providers[string(a)].Gpus[0].Class = "h100"
	_, err := f.reveal(a, 1, good)
	require.NoError(t, err)
	require.Empty(t, f.prov.verified)
	require.Equal(t, uint64(1), f.record(a).Passes)
}

// TestMissOfRemovedProvider: a provider that is gone still gets its
// challenge ended and its record updated; nothing is slashed or docked.
func TestMissOfRemovedProvider(t *testing.T) {
	f := newFixture(t)
	a := f.addProvider(1, 1)
	f.advance(19)
	f.begin(20)
	f.answer(a, 1, nil)
	delete(f.prov.providers, string(a))
	f.end()
	f.advance(27)
	require.Equal(t, types.ChallengeStateMissedReveal, f.challenge(1).State)
	require.Empty(t, f.prov.slashes)
	require.Empty(t, f.market.docks)
	require.Equal(t, uint64(1), f.record(a).Misses)
}
