package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	"github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// A leased GPU that missed a challenge: DockGPU refunds the tenant
// price * blocks / gpus for the blocks since the GPU last proved itself,
// from the provider's earnings first and then from its bond, so a provider
// that withdrew everything still pays.
func TestDockGPU(t *testing.T) {
	f := setup(t)
	f.providers.get(provA).Bond = coin(1_000_000)
	leaseID, _ := f.leased(tenantA, provA, "GPU-A0", "GPU-A1") // price 50 for 2 GPUs, from startH
	start := f.lease(leaseID).StartHeight

	// Not leased: nothing.
	id, err := f.k.DockGPU(f.ctx, provA, "GPU-A3", 0)
	require.NoError(t, err)
	require.Zero(t, id)

	f.setHeight(start + 10)
	before := f.balance(tenantA)
	id, err = f.k.DockGPU(f.ctx, provA, "GPU-A0", start-100) // since before the lease: from its start
	require.NoError(t, err)
	require.Equal(t, leaseID, id)
	// 10 blocks * 50 / 2 GPUs = 250, all from the 500 earned so far.
	require.Equal(t, math.NewInt(250), f.balance(tenantA).Sub(before))
	require.Equal(t, coin(1_000_000), f.providers.get(provA).Bond)
	f.requireEvent("EventLeaseDocked")

	// Since the last docking only; earnings left: 500 - 250 + 0 new = 250 at
	// the same height, so docking the other GPU over 10 blocks takes them.
	id, err = f.k.DockGPU(f.ctx, provA, "GPU-A1", start)
	require.NoError(t, err)
	require.Equal(t, leaseID, id)
	require.Equal(t, math.NewInt(500), f.balance(tenantA).Sub(before))

	// Nothing earned is left: the next docking comes from the bond.
	f.setHeight(start + 14) // 4 blocks: 200 earned, 4*50/2 = 100 owed per GPU
	id, err = f.k.DockGPU(f.ctx, provA, "GPU-A0", start)
	require.NoError(t, err)
	require.Equal(t, leaseID, id)
	// owed = 14*50/2 = 350: 200 from earnings, 150 from the bond.
	require.Equal(t, math.NewInt(850), f.balance(tenantA).Sub(before))
	require.Equal(t, coin(1_000_000-150), f.providers.get(provA).Bond)

	// Docking at the lease's own height owes nothing.
	f.setHeight(start)
	id, err = f.k.DockGPU(f.ctx, provA, "GPU-A0", start)
	require.NoError(t, err)
	require.Zero(t, id)
}

// A lease that ends through the provider's fault pays the tenant the winning
// bid's deposit; one that ends otherwise returns it to the provider.
func TestFaultCloseCompensatesTenant(t *testing.T) {
	f := setup(t)
	leaseID, bidID := f.leased(tenantA, provA, "GPU-A0")
	deposit := f.bid(bidID).Deposit
	tenantBefore, provBefore := f.balance(tenantA), f.balance(provA)
	closed, err := f.k.CloseGPULease(f.ctx, provA, "GPU-A0", types.LeaseCloseReasonGPUFailed)
	require.NoError(t, err)
	require.Equal(t, []uint64{leaseID}, closed)
	l := f.lease(leaseID)
	require.Equal(t, types.LeaseStateClosed, l.State)
	require.Equal(t, types.LeaseCloseReasonGPUFailed, l.CloseReason)
	// Same height as the lease's start: nothing paid, the whole deposit
	// refunded, plus the bid deposit.
	require.Equal(t, f.orderMsg(tenantA, 1).Deposit.Amount.Add(deposit.Amount), f.balance(tenantA).Sub(tenantBefore))
	require.Equal(t, provBefore, f.balance(provA))
	_, assigned := f.gpuAssigned(provA, "GPU-A0")
	require.False(t, assigned)

	// Not leased any more: nothing to close.
	closed, err = f.k.CloseGPULease(f.ctx, provA, "GPU-A0", types.LeaseCloseReasonGPUFailed)
	require.NoError(t, err)
	require.Empty(t, closed)

	// A tenant's own close returns the deposit to the provider.
	leaseID, bidID = f.leased(tenantB, provB, "GPU-B0")
	provBefore = f.balance(provB)
	_, err = f.msg.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.s(tenantB), LeaseId: leaseID})
	require.NoError(t, err)
	require.Equal(t, f.bid(bidID).Deposit.Amount, f.balance(provB).Sub(provBefore))

	for r, fault := range map[types.LeaseCloseReason]bool{
		types.LeaseCloseReasonTenant: false, types.LeaseCloseReasonProvider: false, types.LeaseCloseReasonExpired: false,
		types.LeaseCloseReasonInsufficientFunds: false, types.LeaseCloseReasonProviderSlashed: true,
		types.LeaseCloseReasonProviderJailed: true, types.LeaseCloseReasonGPUFailed: true,
	} {
		require.Equal(t, fault, types.IsProviderFault(r), r.String())
	}
}

// An order with verified_within_blocks accepts only GPUs that passed a
// challenge recently enough, at bid and again at lease creation.
func TestVerifiedWithin(t *testing.T) {
	f := setup(t)
	msg := f.orderMsg(tenantA, 1)
	msg.Spec.VerifiedWithinBlocks = 100
	res, err := f.msg.CreateOrder(f.ctx, msg)
	require.NoError(t, err)
	now := f.ctx.BlockHeight()

	// Never verified: refused.
	f.failsWithoutMovingCoins(types.ErrGPUNotVerified, func() error {
		_, err := f.msg.CreateBid(f.ctx, f.bidMsg(provA, res.OrderId, 50, "GPU-A0"))
		return err
	})
	// Verified too long ago: refused.
	f.providers.get(provA).Gpus[0].VerifiedHeight = now - 101
	f.failsWithoutMovingCoins(types.ErrGPUNotVerified, func() error {
		_, err := f.msg.CreateBid(f.ctx, f.bidMsg(provA, res.OrderId, 50, "GPU-A0"))
		return err
	})
	// Within the window: accepted; but by lease time it has gone stale.
	f.providers.get(provA).Gpus[0].VerifiedHeight = now - 99
	bidID := f.createBid(provA, res.OrderId, 50, "GPU-A0")
	f.setHeight(now + 2)
	f.failsWithoutMovingCoins(types.ErrGPUNotVerified, func() error {
		_, err := f.msg.CreateLease(f.ctx, &types.MsgCreateLease{Tenant: f.s(tenantA), BidId: bidID})
		return err
	})
	f.providers.get(provA).Gpus[0].VerifiedHeight = now + 1
	f.createLease(tenantA, bidID)

	g := f.providers.get(provA).Gpus[0]
	require.True(t, types.GPUVerifiedWithin(g, 0, now))
	require.True(t, types.GPUVerifiedWithin(g, 1, now+2))
	require.False(t, types.GPUVerifiedWithin(g, 1, now+3))
	g.VerifiedHeight = 0
	require.False(t, types.GPUVerifiedWithin(g, 1_000_000, now))
	require.True(t, types.GPUVerifiedWithin(g, 0, now))
}

// A provider slashed (or docked) below min_bond after it bid may not start a
// lease from its old open bid: the lease is refused and moves no coin.
func TestLeaseRefusedBelowMinBond(t *testing.T) {
	f := setup(t)
	f.providers.minBond = coin(1_000)
	f.providers.get(provA).Bond = coin(1_000)
	orderID := f.createOrder(tenantA, 1)
	bidID := f.createBid(provA, orderID, 50, "GPU-A0")
	f.providers.get(provA).Bond = coin(999)
	f.failsWithoutMovingCoins(providertypes.ErrInsufficientBond, func() error {
		_, err := f.msg.CreateLease(f.ctx, &types.MsgCreateLease{Tenant: f.s(tenantA), BidId: bidID})
		return err
	})
	f.providers.get(provA).Bond = coin(1_000)
	f.createLease(tenantA, bidID)
}
