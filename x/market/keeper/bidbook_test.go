package keeper_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// orderBidRecords counts the bid records of an order (any state), through
// the (order, provider, id) index, and checks that every one has its bid.
func orderBidRecords(f *fixture, orderID uint64) int {
	f.t.Helper()
	n := 0
	rng := collections.NewPrefixedTripleRange[uint64, sdk.AccAddress, uint64](orderID)
	require.NoError(f.t, f.k.BidsByOrderProvider.Walk(f.ctx, rng, func(key collections.Triple[uint64, sdk.AccAddress, uint64]) (bool, error) {
		_, err := f.k.GetBid(f.ctx, key.K3())
		require.NoError(f.t, err)
		n++
		return false, nil
	}))
	return n
}

// countAll counts the entries of every bid store and index.
func bidStoreSizes(f *fixture) (bids, byOrder, byState, open int) {
	f.t.Helper()
	require.NoError(f.t, f.k.Bids.Walk(f.ctx, nil, func(uint64, types.Bid) (bool, error) { bids++; return false, nil }))
	require.NoError(f.t, f.k.BidsByOrderProvider.Walk(f.ctx, nil, func(collections.Triple[uint64, sdk.AccAddress, uint64]) (bool, error) {
		byOrder++
		return false, nil
	}))
	require.NoError(f.t, f.k.BidsByStateProvider.Walk(f.ctx, nil, func(collections.Triple[int32, sdk.AccAddress, uint64]) (bool, error) {
		byState++
		return false, nil
	}))
	require.NoError(f.t, f.k.OpenBidsByOrder.Walk(f.ctx, nil, func(collections.Pair[uint64, uint64]) (bool, error) { open++; return false, nil }))
	return bids, byOrder, byState, open
}

// sybils registers n providers with one unverified h100 each and funds
// them; they are the squatters of the tests below.
func (f *fixture) sybils(n int) []sdk.AccAddress {
	out := make([]sdk.AccAddress, n)
	for i := range out {
		out[i] = sdk.AccAddress(fmt.Sprintf("sybil_%014d", i))
		f.bank.fund(out[i], initial)
		f.registerProvider(out[i], gpus(fmt.Sprintf("S%d-", i), 1, h100, h100Name, 81559))
	}
	return out
}

// TestWithdrawnBidsDoNotPileUp reproduces issue 15 item 1: max_bids_per_order
// counted only open bids, and create/close cycles got their deposits back,
// so one provider left 300 bid records on an order with max 20 (and pruning
// the order later deleted them all in one EndBlock). Now a withdrawn bid is
// deleted: however many cycles run, the order holds no more bid records
// than open bids, every index entry goes with its bid, and no coin stays in
// the module.
func TestWithdrawnBidsDoNotPileUp(t *testing.T) {
	f := setup(t)
	require.Equal(t, uint32(20), f.params().MaxBidsPerOrder)
	orderID := f.createOrder(tenantA, 1)
	before := f.balance(provA)
	for range 300 {
		id := f.createBid(provA, orderID, 90, "GPU-A0")
		_, err := f.msg.CloseBid(f.ctx, &types.MsgCloseBid{Provider: f.s(provA), BidId: id})
		require.NoError(t, err)
	}
	require.Zero(t, orderBidRecords(f, orderID), "withdrawn bids stay in the order's state")
	bids, byOrder, byState, open := bidStoreSizes(f)
	require.Equal(t, [4]int{0, 0, 0, 0}, [4]int{bids, byOrder, byState, open})
	require.Equal(t, before, f.balance(provA))
	require.True(t, f.moduleBalance(types.ModuleName).IsZero())

	// The book still works: an open bid and a second provider's.
	f.createBid(provA, orderID, 90, "GPU-A0")
	f.createBid(provB, orderID, 80, "GPU-B0")
	require.Equal(t, 2, orderBidRecords(f, orderID))
}

// TestBetterBidDisplacesSquatters reproduces issue 15 item 2 from the
// attacker's side: 20 sybil providers with unverified claims fill every bid
// slot of an order at the order's maximum price, and an honest provider got
// ErrTooManyBids. Now a bid that outranks the worst open bid (verified over
// unverified, then a strictly lower price) displaces it: the displaced bid
// is deleted, its deposit returned, and EventBidClosed says DISPLACED and by
// which bid. A bid that does not outrank the worst is still refused, and
// squatters cannot win back a slot without beating the bid that took it.
func TestBetterBidDisplacesSquatters(t *testing.T) {
	f := setup(t)
	orderID := f.createOrder(tenantA, 1)
	syb := f.sybils(20)
	var sybilBids []uint64
	for i, s := range syb {
		sybilBids = append(sybilBids, f.createBid(s, orderID, 100, fmt.Sprintf("GPU-S%d-0", i)))
	}
	require.Len(t, f.openBids(orderID), 20)

	// An unverified honest provider at the same price: refused, nothing moves.
	f.failsWithoutMovingCoins(types.ErrTooManyBids, func() error {
		_, err := f.msg.CreateBid(f.ctx, f.bidMsg(provA, orderID, 100, "GPU-A0"))
		return err
	})

	// A strictly lower price gets in and displaces the newest of the worst
	// (the last sybil at 100).
	last := syb[len(syb)-1]
	lastBefore := f.balance(last)
	f.setHeight(startH + 1)
	honest := f.createBid(provA, orderID, 99, "GPU-A0")
	require.Len(t, f.openBids(orderID), 20)
	_, err := f.k.GetBid(f.ctx, sybilBids[len(sybilBids)-1])
	require.ErrorIs(t, err, types.ErrBidNotFound, "the displaced bid is deleted")
	require.Equal(t, lastBefore.AddRaw(500_000), f.balance(last), "the displaced bid's deposit is returned")
	ev := f.bidClosedEvent(sybilBids[len(sybilBids)-1])
	require.Equal(t, types.BidStateDisplaced, ev.State)
	require.Equal(t, honest, ev.DisplacedBy)
	require.Equal(t, f.s(last), ev.Provider)

	// The displaced sybil cannot come back at its old price, nor displace
	// the honest bid at the same price as it.
	f.failsWithoutMovingCoins(types.ErrTooManyBids, func() error {
		_, err := f.msg.CreateBid(f.ctx, f.bidMsg(last, orderID, 100, fmt.Sprintf("GPU-S%d-0", len(syb)-1)))
		return err
	})

	// A verified provider displaces an unverified bid even at a higher price
	// than all of them: sybils cannot verify GPUs they do not have.
	p := f.providers.get(provB)
	p.Gpus[0].VerifiedHeight = startH
	f.setHeight(startH + 2)
	verified := f.createBid(provB, orderID, 100, "GPU-B0")
	require.True(t, f.bid(verified).Verified)
	require.False(t, f.bid(honest).Verified)
	_, err = f.k.GetBid(f.ctx, sybilBids[len(sybilBids)-2])
	require.ErrorIs(t, err, types.ErrBidNotFound)

	// Every slot taken by verified bids: no unverified bid gets in, however
	// cheap, and the tenant can still accept the honest bids.
	require.Len(t, f.openBids(orderID), 20)
	require.Equal(t, 20, orderBidRecords(f, orderID), "displaced bids leave no record")
	require.Equal(t, f.moduleBalance(types.ModuleName), coin(20*500_000).Amount, "the module holds exactly the open bids' deposits")
	f.createLease(tenantA, verified)
}

// TestDisplacedBidsDoNotPileUp: a price war on a full book (each bid one
// unit below the worst) leaves no more bid records than the book's size.
func TestDisplacedBidsDoNotPileUp(t *testing.T) {
	f := setup(t)
	f.setParams(func(p *types.Params) { p.MaxBidsPerOrder = 2 })
	orderID := f.createOrder(tenantA, 1)
	f.registerProvider(provC, gpus("C", 1, h100, h100Name, 81559))
	provs := map[string]sdk.AccAddress{"GPU-A0": provA, "GPU-B0": provB, "GPU-C0": provC}
	f.createBid(provA, orderID, 100, "GPU-A0")
	f.createBid(provB, orderID, 100, "GPU-B0")
	for price := int64(99); price > 40; price-- {
		// The provider without an open bid (the last displaced) bids again,
		// one below the rest.
		open := map[string]bool{}
		for _, b := range f.openBids(orderID) {
			open[b.GpuUuids[0]] = true
		}
		for _, u := range []string{"GPU-A0", "GPU-B0", "GPU-C0"} {
			if !open[u] {
				f.createBid(provs[u], orderID, price, u)
				break
			}
		}
	}
	require.Equal(t, 2, orderBidRecords(f, orderID))
	bids, _, _, open := bidStoreSizes(f)
	require.Equal(t, 2, bids)
	require.Equal(t, 2, open)
}

// TestBidRanking pins the order of the book: verified first, then price,
// the newest of equals is the worst.
func TestBidRanking(t *testing.T) {
	bid := func(id uint64, price int64, verified bool) types.Bid {
		return types.Bid{Id: id, Price: coin(price), Verified: verified}
	}
	require.True(t, types.BidOutranks(bid(9, 100, true), bid(1, 1, false)))
	require.True(t, types.BidOutranks(bid(9, 99, false), bid(1, 100, false)))
	require.False(t, types.BidOutranks(bid(9, 100, false), bid(1, 100, false)), "equal is not better")
	require.False(t, types.BidOutranks(bid(9, 1, false), bid(1, 100, true)))
	require.Equal(t, -1, types.WorstBid(nil))
	book := []types.Bid{bid(1, 100, false), bid(2, 90, true), bid(3, 100, false), bid(4, 50, false)}
	require.Equal(t, 2, types.WorstBid(book), "the newest of the worst")
	book = []types.Bid{bid(1, 100, true), bid(2, 1, false)}
	require.Equal(t, 1, types.WorstBid(book), "unverified is worse than any verified")
}

// TestBidVerified: a bid is verified when every offered GPU passed a
// challenge (within the order's window when it sets one) at or before now.
func TestBidVerified(t *testing.T) {
	p := providertypes.Provider{Gpus: []providertypes.GPU{{Uuid: "a", VerifiedHeight: 10}, {Uuid: "b"}, {Uuid: "c", VerifiedHeight: 50}}}
	spec := types.OrderSpec{}
	require.True(t, types.BidVerified(spec, p, []string{"a"}, 20))
	require.False(t, types.BidVerified(spec, p, []string{"a", "b"}, 20))
	require.False(t, types.BidVerified(spec, p, []string{"c"}, 20), "a future height is not a pass")
	require.False(t, types.BidVerified(spec, p, []string{"x"}, 20))
	require.False(t, types.BidVerified(spec, p, nil, 20))
	spec.VerifiedWithinBlocks = 5
	require.False(t, types.BidVerified(spec, p, []string{"a"}, 20), "outside the order's window")
	require.True(t, types.BidVerified(spec, p, []string{"a"}, 15))
}

func (f *fixture) openBids(orderID uint64) []types.Bid {
	f.t.Helper()
	res, err := f.q.Bids(f.ctx, &types.QueryBidsRequest{OrderId: orderID, State: types.BidStateOpen})
	require.NoError(f.t, err)
	return res.Bids
}

// bidClosedEvent returns the EventBidClosed of bidID emitted since the last
// setHeight.
func (f *fixture) bidClosedEvent(bidID uint64) *types.EventBidClosed {
	f.t.Helper()
	for _, e := range f.ctx.EventManager().ABCIEvents() {
		msg, err := sdk.ParseTypedEvent(e)
		if err != nil {
			continue
		}
		if ev, ok := msg.(*types.EventBidClosed); ok && ev.BidId == bidID {
			return ev
		}
	}
	f.t.Fatalf("no EventBidClosed for bid %d", bidID)
	return nil
}

// TestPruneSpansBlocks reproduces the second half of issue 15 item 1:
// pruning a finished order deleted all its bids in one EndBlock step, so an
// order with very many bids stalled the block that pruned it. Now one block
// deletes at most max_prune_records_per_block records: an order with 40
// bids (one won: a lease) and a budget of 8 is deleted over 6 blocks (its
// losing bids, then its winning bid, lease, escrow account and the order in
// one step, so that every block leaves a valid genesis state), the next
// finished order waits behind it and goes in the last block,
// and the work survives a genesis export and import half-way: the imported
// chain resumes where the exporting one stopped.
func TestPruneSpansBlocks(t *testing.T) {
	f := setup(t)
	const budget, nBids = 8, 40
	f.setParams(func(p *types.Params) {
		p.MaxBidsPerOrder = nBids
		p.ClosedRetentionBlocks = 10
		p.MaxPruneRecordsPerBlock = budget
	})
	big := f.createOrder(tenantA, 1)
	var won uint64
	for i, s := range f.sybils(nBids) {
		id := f.createBid(s, big, 100, fmt.Sprintf("GPU-S%d-0", i))
		if i == 0 {
			won = id
		}
	}
	// The tenant accepts the first bid (the others lose) and closes the lease.
	f.createLease(tenantA, won)
	_, err := f.msg.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.s(tenantA), LeaseId: big})
	require.NoError(t, err)
	small := f.createOrder(tenantB, 1)
	f.createBid(provA, small, 90, "GPU-A0")
	_, err = f.msg.CancelOrder(f.ctx, &types.MsgCancelOrder{Tenant: f.s(tenantB), OrderId: small})
	require.NoError(t, err)
	require.Equal(t, nBids, orderBidRecords(f, big))

	records := func(x *fixture) int {
		bids, _, _, _ := bidStoreSizes(x)
		n := bids
		for _, id := range []uint64{big, small} {
			if _, err := x.k.GetOrder(x.ctx, id); err == nil {
				n++
			}
			if _, ok := x.escrow.closed[id]; ok {
				n++
			}
			if _, err := x.k.Leases.Get(x.ctx, id); err == nil {
				n++
			}
		}
		return n
	}
	step := func(x *fixture, h int64) (deleted int, pruned uint32) {
		t.Helper()
		before := records(x)
		x.setHeight(h)
		require.NoError(t, x.k.EndBlocker(x.ctx))
		for _, e := range x.ctx.EventManager().ABCIEvents() {
			if msg, err := sdk.ParseTypedEvent(e); err == nil {
				if ev, ok := msg.(*types.EventOrdersPruned); ok {
					pruned += ev.Count
				}
			}
		}
		return before - records(x), pruned
	}

	h := startH + 10
	for i := range 2 {
		deleted, pruned := step(f, h+int64(i))
		require.Equal(t, budget, deleted, "block %d", i)
		require.Zero(t, pruned)
	}
	require.Equal(t, nBids-2*budget, orderBidRecords(f, big))
	_, err = f.k.GetBid(f.ctx, won)
	require.NoError(t, err, "the winning bid goes last, with its lease")

	// Export half-way and go on from the import (x/escrow's genesis carries
	// the closed accounts; the fake's are copied).
	gs, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)
	require.NoError(t, gs.Validate())
	g := setup(t)
	g.ctx = g.ctx.WithBlockHeight(f.ctx.BlockHeight())
	require.NoError(t, g.k.InitGenesis(g.ctx, gs))
	for id, reason := range f.escrow.closed {
		g.escrow.closed[id] = reason
	}
	require.Equal(t, queueKeys(f, f.k.ClosedQueue), queueKeys(g, g.k.ClosedQueue))

	var blocks int
	var pruned uint32
	for i := 2; records(g) > 0; i++ {
		require.Less(t, i, 20, "pruning does not finish")
		deleted, n := step(g, h+int64(i))
		require.LessOrEqual(t, deleted, budget, "block %d", i)
		require.Positive(t, deleted, "block %d made no progress", i)
		pruned += n
		blocks = i + 1
	}
	require.Equal(t, 6, blocks, "39 losing bids, then 4 records; then 3: at 8 a block")
	require.Equal(t, uint32(2), pruned)
	require.Empty(t, queueKeys(g, g.k.ClosedQueue))
	bids, byOrder, byState, open := bidStoreSizes(g)
	require.Equal(t, [4]int{0, 0, 0, 0}, [4]int{bids, byOrder, byState, open})
}
