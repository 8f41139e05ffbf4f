package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/market/types"
)

// TestPruneClosedOrders: an order cancelled or expired, or whose lease closed,
// is deleted with its bids, its lease and its escrow account
// closed_retention_blocks after it finished, at most max_expiries_per_block a
// block; open orders and active leases are never touched; no index entry and
// no coin is left behind; retention 0 keeps everything.
func TestPruneClosedOrders(t *testing.T) {
	f := setup(t)
	f.setParams(func(p *types.Params) { p.ClosedRetentionBlocks = 10; p.MaxExpiriesPerBlock = 2 })

	// Finished at startH: a cancelled order with a lost and a withdrawn bid,
	// and a leased order whose lease closed (plus its losing bid).
	cancelled := f.createOrder(tenantA, 1)
	lost := f.createBid(provA, cancelled, 50, "GPU-A0")
	withdrawn := f.createBid(provB, cancelled, 50, "GPU-B0")
	_, err := f.msg.CloseBid(f.ctx, &types.MsgCloseBid{Provider: f.s(provB), BidId: withdrawn})
	require.NoError(t, err)
	_, err = f.msg.CancelOrder(f.ctx, &types.MsgCancelOrder{Tenant: f.s(tenantA), OrderId: cancelled})
	require.NoError(t, err)
	closedOrder := f.createOrder(tenantB, 1)
	won := f.createBid(provA, closedOrder, 50, "GPU-A1")
	loser := f.createBid(provB, closedOrder, 60, "GPU-B1")
	closed := f.createLease(tenantB, won)
	_, err = f.msg.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.s(tenantB), LeaseId: closed})
	require.NoError(t, err)
	require.Equal(t, startH, f.order(cancelled).ClosedHeight)
	require.Equal(t, startH, f.order(closedOrder).ClosedHeight)
	require.Equal(t, types.BidStateLost, f.bid(loser).State)

	// Still alive: an open order and an active lease.
	open := f.createOrder(tenantA, 1)
	openBid := f.createBid(provB, open, 50, "GPU-B2")
	active, activeBid := f.leased(tenantB, provA, "GPU-A2")
	require.Zero(t, f.order(open).ClosedHeight)
	require.Zero(t, f.order(active).ClosedHeight)

	// A third finished order, one block later.
	f.setHeight(startH + 1)
	late := f.createOrder(tenantA, 1)
	_, err = f.msg.CancelOrder(f.ctx, &types.MsgCancelOrder{Tenant: f.s(tenantA), OrderId: late})
	require.NoError(t, err)

	endBlock := func(h int64) (pruned uint32) {
		t.Helper()
		f.setHeight(h)
		require.NoError(t, f.k.EndBlocker(f.ctx))
		for _, e := range f.ctx.EventManager().ABCIEvents() {
			if msg, err := sdk.ParseTypedEvent(e); err == nil {
				if ev, ok := msg.(*types.EventOrdersPruned); ok {
					pruned += ev.Count
				}
			}
		}
		return pruned
	}
	require.Zero(t, endBlock(startH+9), "kept for the retention")
	before := f.bank.snapshot()
	require.Equal(t, uint32(2), endBlock(startH+10), "cap of 2: both orders closed at startH")
	require.Equal(t, uint32(1), endBlock(startH+11))
	require.Zero(t, endBlock(startH+12))
	require.Equal(t, before, f.bank.snapshot(), "pruning moves no coin")

	for _, id := range []uint64{cancelled, closedOrder, late} {
		_, err := f.k.GetOrder(f.ctx, id)
		require.ErrorIs(t, err, types.ErrOrderNotFound)
		require.True(t, f.escrow.pruned[id], "escrow account %d pruned", id)
	}
	for _, id := range []uint64{lost, withdrawn, won, loser} {
		_, err := f.k.GetBid(f.ctx, id)
		require.ErrorIs(t, err, types.ErrBidNotFound)
	}
	_, err = f.k.GetLease(f.ctx, closed)
	require.ErrorIs(t, err, types.ErrLeaseNotFound)

	// The survivors, and nothing else, are left in every index.
	orders, err := f.q.Orders(f.ctx, &types.QueryOrdersRequest{})
	require.NoError(t, err)
	require.Equal(t, []uint64{open, active}, orderIDs(orders.Orders))
	for _, req := range []*types.QueryBidsRequest{{}, {Provider: f.s(provA)}, {Provider: f.s(provB)}, {OrderId: closedOrder}} {
		bids, err := f.q.Bids(f.ctx, req)
		require.NoError(t, err)
		for _, b := range bids.Bids {
			require.Contains(t, []uint64{openBid, activeBid}, b.Id)
		}
	}
	leases, err := f.q.Leases(f.ctx, &types.QueryLeasesRequest{})
	require.NoError(t, err)
	require.Equal(t, []uint64{active}, leaseIDs(leases.Leases))
	leases, err = f.q.Leases(f.ctx, &types.QueryLeasesRequest{Tenant: f.s(tenantB)})
	require.NoError(t, err)
	require.Equal(t, []uint64{active}, leaseIDs(leases.Leases))
	require.Empty(t, queueKeys(f, f.k.ClosedQueue))

	// Genesis round trip keeps closed_height and rebuilds the queue; with
	// retention 0 a finished order stays.
	f.setParams(func(p *types.Params) { p.ClosedRetentionBlocks = 0 })
	_, err = f.msg.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.s(tenantB), LeaseId: active})
	require.NoError(t, err)
	require.Len(t, queueKeys(f, f.k.ClosedQueue), 1)
	gs, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)
	g := setup(t)
	require.NoError(t, g.k.InitGenesis(g.ctx, gs))
	require.Equal(t, queueKeys(f, f.k.ClosedQueue), queueKeys(g, g.k.ClosedQueue))
	require.Zero(t, endBlock(startH+1_000_000))
	_, err = f.k.GetOrder(f.ctx, active)
	require.NoError(t, err)
}
