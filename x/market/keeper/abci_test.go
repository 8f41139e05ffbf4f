package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crucible-network/crucible/x/market/types"
)

func TestEndBlockerExpiresOrdersWithinCap(t *testing.T) {
	f := setup(t)
	const capN = 3
	f.setParams(func(p *types.Params) { p.MaxExpiriesPerBlock = capN })
	tenantBefore := f.balance(tenantA)
	var ids []uint64
	for range capN + 1 {
		ids = append(ids, f.createOrder(tenantA, 1))
	}
	bidID := f.createBid(provA, ids[0], 90, "GPU-A0")
	provBefore := f.balance(provA)
	expires := f.order(ids[0]).ExpiresHeight

	// One block early: nothing happens.
	f.setHeight(expires - 1)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	for _, id := range ids {
		require.Equal(t, types.OrderStateOpen, f.order(id).State)
	}

	f.setHeight(expires)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	var expired, open int
	for _, id := range ids {
		switch f.order(id).State {
		case types.OrderStateExpired:
			expired++
			require.Equal(t, "order_expired", f.escrow.closed[id])
		case types.OrderStateOpen:
			open++
		}
	}
	require.Equal(t, capN, expired)
	require.Equal(t, 1, open, "one order is left for the next block")
	require.Len(t, queueKeys(f, f.k.OrderExpiryQueue), 1)
	require.Equal(t, types.BidStateLost, f.bid(bidID).State)
	require.Equal(t, provBefore.AddRaw(500_000), f.balance(provA), "bid deposit refunded")
	f.requireEvent("EventOrderExpired")

	f.setHeight(expires + 1)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	for _, id := range ids {
		require.Equal(t, types.OrderStateExpired, f.order(id).State)
	}
	require.Empty(t, queueKeys(f, f.k.OrderExpiryQueue))
	require.Equal(t, tenantBefore, f.balance(tenantA), "every deposit refunded")
	require.True(t, f.moduleBalance(escrowModule).IsZero())
	require.True(t, f.moduleBalance(types.ModuleName).IsZero())
}

func TestEndBlockerEndsLeases(t *testing.T) {
	f := setup(t)
	leaseID, _ := f.leased(tenantA, provA, "GPU-A0")
	end := f.lease(leaseID).EndHeight
	// 1000 blocks at 50 cost 50_000 of the 1_000_000 deposit: funds last.

	f.setHeight(end - 1)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	require.Equal(t, types.LeaseStateActive, f.lease(leaseID).State)

	f.setHeight(end)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	l := f.lease(leaseID)
	require.Equal(t, types.LeaseStateClosed, l.State)
	require.Equal(t, types.LeaseCloseReasonExpired, l.CloseReason)
	require.Equal(t, end, l.ClosedHeight)
	require.Empty(t, queueKeys(f, f.k.LeaseEndQueue))
	require.Zero(t, f.providers.get(provA).ActiveLeases)
	f.requireEvent("EventLeaseClosed")
}

func TestEndBlockerSharesCapLeasesFirst(t *testing.T) {
	f := setup(t)
	f.setParams(func(p *types.Params) { p.MaxExpiriesPerBlock = 2; p.OrderTtlBlocks = 10 })
	// Two leases of 10 blocks and two orders that expire at the same height.
	var leases []uint64
	for _, u := range []string{"GPU-A0", "GPU-A1"} {
		m := f.orderMsg(tenantA, 1)
		m.DurationBlocks = 10
		res, err := f.msg.CreateOrder(f.ctx, m)
		require.NoError(t, err)
		leases = append(leases, f.createLease(tenantA, f.createBid(provA, res.OrderId, 1, u)))
	}
	o1, o2 := f.createOrder(tenantB, 1), f.createOrder(tenantB, 1)

	f.setHeight(startH + 10)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	for _, id := range leases {
		require.Equal(t, types.LeaseStateClosed, f.lease(id).State)
	}
	require.Equal(t, types.OrderStateOpen, f.order(o1).State)
	require.Equal(t, types.OrderStateOpen, f.order(o2).State)

	f.setHeight(startH + 11)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	require.Equal(t, types.OrderStateExpired, f.order(o1).State)
	require.Equal(t, types.OrderStateExpired, f.order(o2).State)
}

func TestEndBlockerClosesUnfundedLeases(t *testing.T) {
	f := setup(t)
	f.setParams(func(p *types.Params) { p.MinOrderDeposit = coin(100) })
	// 120 at 50 per block: after 2 blocks 20 is left, less than one block.
	m := f.orderMsg(tenantA, 1)
	m.Deposit = coin(120)
	res, err := f.msg.CreateOrder(f.ctx, m)
	require.NoError(t, err)
	leaseID := f.createLease(tenantA, f.createBid(provA, res.OrderId, 50, "GPU-A0"))
	other, _ := f.leased(tenantB, provB, "GPU-B0")
	tenantBefore, provBefore := f.balance(tenantA), f.balance(provA)

	f.setHeight(startH + 1)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	require.Equal(t, types.LeaseStateActive, f.lease(leaseID).State)

	f.setHeight(startH + 2)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	l := f.lease(leaseID)
	require.Equal(t, types.LeaseStateClosed, l.State)
	require.Equal(t, types.LeaseCloseReasonInsufficientFunds, l.CloseReason)
	require.Equal(t, "lease_insufficient_funds", f.escrow.closed[leaseID], "one escrow reason format (was LEASE_CLOSE_REASON_INSUFFICIENT_FUNDS)")
	require.Equal(t, types.LeaseStateActive, f.lease(other).State)
	require.Zero(t, f.providers.get(provA).ActiveLeases)
	// Provider: 100 earned + 500_000 bid deposit back; tenant: 20 refunded.
	require.Equal(t, provBefore.AddRaw(500_100), f.balance(provA))
	require.Equal(t, tenantBefore.AddRaw(20), f.balance(tenantA))
	f.requireEvent("EventLeaseClosed")
}

func TestEndBlockerSkipsFailingEntry(t *testing.T) {
	f := setup(t)
	bad, good := f.createOrder(tenantA, 1), f.createOrder(tenantA, 1)
	bidID := f.createBid(provA, bad, 90, "GPU-A0")
	f.escrow.failClose[bad] = true
	f.setHeight(f.order(bad).ExpiresHeight)
	require.NoError(t, f.k.EndBlocker(f.ctx), "one failing entry does not halt the chain")

	// The failing order's store writes were dropped (the fake bank is not
	// transactional, so only state is checked) and it has left the queue; the
	// other order expired.
	require.Equal(t, types.OrderStateOpen, f.order(bad).State)
	require.Equal(t, types.BidStateOpen, f.bid(bidID).State)
	require.Equal(t, types.OrderStateExpired, f.order(good).State)
	require.Empty(t, queueKeys(f, f.k.OrderExpiryQueue))
}
