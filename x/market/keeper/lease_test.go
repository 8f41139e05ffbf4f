package keeper_test

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

func TestCreateLease(t *testing.T) {
	f := setup(t)
	f.registerProvider(provC, gpus("C", 2, h100, h100Name, 81559))
	orderID := f.createOrder(tenantA, 2)
	bidA := f.createBid(provA, orderID, 90, "GPU-A0", "GPU-A1")
	bidB := f.createBid(provB, orderID, 70, "GPU-B0", "GPU-B1")
	bidC := f.createBid(provC, orderID, 80, "GPU-C0", "GPU-C1")
	provABefore, provBBefore, provCBefore := f.balance(provA), f.balance(provB), f.balance(provC)

	f.setHeight(startH + 5)
	res, err := f.msg.CreateLease(f.ctx, &types.MsgCreateLease{Tenant: f.s(tenantA), BidId: bidB})
	require.NoError(t, err)
	require.Equal(t, orderID, res.LeaseId, "lease id == order id")

	l := f.lease(res.LeaseId)
	require.Equal(t, types.LeaseStateActive, l.State)
	require.Equal(t, bidB, l.BidId)
	require.Equal(t, f.s(tenantA), l.Tenant)
	require.Equal(t, f.s(provB), l.Provider)
	require.Equal(t, coin(70), l.Price)
	require.Equal(t, startH+5, l.StartHeight)
	require.Equal(t, startH+5+1000, l.EndHeight)
	require.Equal(t, []string{"GPU-B0", "GPU-B1"}, l.GpuUuids)

	require.Equal(t, types.OrderStateMatched, f.order(orderID).State)
	require.Equal(t, types.BidStateWon, f.bid(bidB).State)
	require.Equal(t, types.BidStateLost, f.bid(bidA).State)
	require.Equal(t, types.BidStateLost, f.bid(bidC).State)

	// Losers refunded; the winner's deposit stays held.
	require.Equal(t, provABefore.AddRaw(500_000), f.balance(provA))
	require.Equal(t, provCBefore.AddRaw(500_000), f.balance(provC))
	require.Equal(t, provBBefore, f.balance(provB))
	require.Equal(t, int64(500_000), f.moduleBalance(types.ModuleName).Int64())

	acc := f.escrow.accounts[orderID]
	require.Equal(t, provB, acc.provider)
	require.Equal(t, coin(70), acc.rate)
	require.Equal(t, uint64(1), f.providers.get(provB).ActiveLeases)
	for _, u := range l.GpuUuids {
		id, ok := f.gpuAssigned(provB, u)
		require.True(t, ok)
		require.Equal(t, orderID, id)
	}
	require.Empty(t, queueKeys(f, f.k.OrderExpiryQueue))
	require.Len(t, queueKeys(f, f.k.LeaseEndQueue), 1)
	require.Equal(t, l.EndHeight, queueKeys(f, f.k.LeaseEndQueue)[0].K1())
	f.requireEvent("EventLeaseCreated")
	f.requireEvent("EventBidClosed")
}

func TestCreateLeaseErrors(t *testing.T) {
	cases := []struct {
		name   string
		run    func(f *fixture) (tenant sdk.AccAddress, bidID uint64)
		target error
	}{
		{"unknown bid", func(f *fixture) (sdk.AccAddress, uint64) { return tenantA, 55 }, types.ErrBidNotFound},
		{"bid id 0", func(f *fixture) (sdk.AccAddress, uint64) { return tenantA, 0 }, types.ErrInvalidID},
		{"another tenant's order", func(f *fixture) (sdk.AccAddress, uint64) {
			id := f.createOrder(tenantA, 1)
			return tenantB, f.createBid(provA, id, 90, "GPU-A0")
		}, types.ErrUnauthorized},
		{"withdrawn bid", func(f *fixture) (sdk.AccAddress, uint64) {
			id := f.createOrder(tenantA, 1)
			b := f.createBid(provA, id, 90, "GPU-A0")
			_, err := f.msg.CloseBid(f.ctx, &types.MsgCloseBid{Provider: f.s(provA), BidId: b})
			require.NoError(f.t, err)
			return tenantA, b
		}, types.ErrBidNotFound}, // a withdrawn bid is deleted
		{"order already matched", func(f *fixture) (sdk.AccAddress, uint64) {
			id := f.createOrder(tenantA, 1)
			b1 := f.createBid(provA, id, 90, "GPU-A0")
			b2 := f.createBid(provB, id, 90, "GPU-B0")
			f.createLease(tenantA, b1)
			return tenantA, b2
		}, types.ErrOrderNotOpen},
		{"order expired", func(f *fixture) (sdk.AccAddress, uint64) {
			id := f.createOrder(tenantA, 1)
			b := f.createBid(provA, id, 90, "GPU-A0")
			f.setHeight(f.order(id).ExpiresHeight)
			return tenantA, b
		}, types.ErrOrderExpired},
		{"provider jailed since the bid", func(f *fixture) (sdk.AccAddress, uint64) {
			id := f.createOrder(tenantA, 1)
			b := f.createBid(provA, id, 90, "GPU-A0")
			f.providers.get(provA).Status = providertypes.ProviderStatusJailed
			return tenantA, b
		}, types.ErrProviderNotActive},
		{"gpu dropped from inventory since the bid", func(f *fixture) (sdk.AccAddress, uint64) {
			id := f.createOrder(tenantA, 1)
			b := f.createBid(provA, id, 90, "GPU-A0")
			f.providers.get(provA).Gpus = f.providers.get(provA).Gpus[1:]
			return tenantA, b
		}, types.ErrGPUMismatch},
		{"gpu leased since the bid", func(f *fixture) (sdk.AccAddress, uint64) {
			o1 := f.createOrder(tenantA, 1)
			o2 := f.createOrder(tenantB, 1)
			b1 := f.createBid(provA, o1, 90, "GPU-A0")
			b2 := f.createBid(provA, o2, 90, "GPU-A0")
			f.createLease(tenantB, b2)
			return tenantA, b1
		}, types.ErrGPUInUse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			tenant, bidID := tc.run(f)
			f.failsWithoutMovingCoins(tc.target, func() error {
				_, err := f.msg.CreateLease(f.ctx, &types.MsgCreateLease{Tenant: f.s(tenant), BidId: bidID})
				return err
			})
		})
	}
}

func TestCloseLeaseByTenant(t *testing.T) {
	f := setup(t)
	tenantBefore, provBefore := f.balance(tenantA), f.balance(provA)
	leaseID, bidID := f.leased(tenantA, provA, "GPU-A0", "GPU-A1")

	f.setHeight(startH + 10)
	_, err := f.msg.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.s(tenantA), LeaseId: leaseID})
	require.NoError(t, err)

	l := f.lease(leaseID)
	require.Equal(t, types.LeaseStateClosed, l.State)
	require.Equal(t, types.LeaseCloseReasonTenant, l.CloseReason)
	require.Equal(t, startH+10, l.ClosedHeight)
	require.Equal(t, types.BidStateWon, f.bid(bidID).State)
	// Escrow close reasons have one format (issue 15 item 10): lease_<reason>,
	// like order_cancelled, not LEASE_CLOSE_REASON_TENANT.
	require.Equal(t, "lease_tenant", f.escrow.closed[leaseID])

	// 10 blocks at 50: the provider earned 500, the tenant got the rest back,
	// and the bid deposit went back to the provider.
	require.Equal(t, tenantBefore.SubRaw(500), f.balance(tenantA))
	require.Equal(t, provBefore.AddRaw(500), f.balance(provA))
	require.True(t, f.moduleBalance(types.ModuleName).IsZero())
	require.True(t, f.moduleBalance(escrowModule).IsZero())

	require.Zero(t, f.providers.get(provA).ActiveLeases)
	_, ok := f.gpuAssigned(provA, "GPU-A0")
	require.False(t, ok)
	require.Empty(t, queueKeys(f, f.k.LeaseEndQueue))
	f.requireEvent("EventLeaseClosed")

	// Double close fails and moves nothing.
	f.failsWithoutMovingCoins(types.ErrLeaseNotActive, func() error {
		_, err := f.msg.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.s(tenantA), LeaseId: leaseID})
		return err
	})
	f.failsWithoutMovingCoins(types.ErrLeaseNotActive, func() error {
		_, err := f.msg.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.s(provA), LeaseId: leaseID})
		return err
	})

	// The freed GPUs can be bid again.
	orderID := f.createOrder(tenantB, 2)
	f.createBid(provA, orderID, 90, "GPU-A0", "GPU-A1")
}

func TestCloseLeaseByProviderAndErrors(t *testing.T) {
	f := setup(t)
	leaseID, _ := f.leased(tenantA, provA, "GPU-A0")
	closeLease := func(sender sdk.AccAddress, id uint64) func() error {
		return func() error {
			_, err := f.msg.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.s(sender), LeaseId: id})
			return err
		}
	}
	f.failsWithoutMovingCoins(types.ErrUnauthorized, closeLease(tenantB, leaseID))
	f.failsWithoutMovingCoins(types.ErrUnauthorized, closeLease(provB, leaseID))
	f.failsWithoutMovingCoins(types.ErrLeaseNotFound, closeLease(tenantA, 404))
	f.failsWithoutMovingCoins(types.ErrInvalidID, closeLease(tenantA, 0))

	require.NoError(t, closeLease(provA, leaseID)())
	require.Equal(t, types.LeaseCloseReasonProvider, f.lease(leaseID).CloseReason)
	f.failsWithoutMovingCoins(types.ErrLeaseNotActive, closeLease(provA, leaseID))
}

func TestSubmitResult(t *testing.T) {
	f := setup(t)
	leaseID, _ := f.leased(tenantA, provA, "GPU-A0")
	hash := bytes.Repeat([]byte{7}, 32)
	msg := func(sender sdk.AccAddress) *types.MsgSubmitResult {
		return &types.MsgSubmitResult{
			Provider: f.s(sender), LeaseId: leaseID, ResultHash: hash,
			Location: "https://gpu1.example.com/results/1", ManifestHash: manifest[:],
		}
	}
	submit := func(m *types.MsgSubmitResult) func() error {
		return func() error { _, err := f.msg.SubmitResult(f.ctx, m); return err }
	}
	bad := func(mut func(*types.MsgSubmitResult)) *types.MsgSubmitResult {
		m := msg(provA)
		mut(m)
		return m
	}
	// Issue 15 item 5: a result from anyone but the lease's provider is
	// refused (the tenant, another provider).
	f.failsWithoutMovingCoins(types.ErrUnauthorized, submit(msg(tenantA)))
	f.failsWithoutMovingCoins(types.ErrUnauthorized, submit(msg(provB)))
	f.failsWithoutMovingCoins(types.ErrLeaseNotFound, submit(bad(func(m *types.MsgSubmitResult) { m.LeaseId = 9 })))
	f.failsWithoutMovingCoins(types.ErrInvalidResult, submit(bad(func(m *types.MsgSubmitResult) { m.ResultHash = hash[:16] })))
	f.failsWithoutMovingCoins(types.ErrInvalidResult, submit(bad(func(m *types.MsgSubmitResult) { m.ResultHash = make([]byte, 32) })))
	f.failsWithoutMovingCoins(types.ErrInvalidResult, submit(bad(func(m *types.MsgSubmitResult) { m.Location = "" })))
	f.failsWithoutMovingCoins(types.ErrStringTooLong, submit(bad(func(m *types.MsgSubmitResult) { m.Location = strings.Repeat("l", 257) })))
	f.failsWithoutMovingCoins(types.ErrInvalidResult, submit(bad(func(m *types.MsgSubmitResult) { m.ManifestHash = nil })))
	f.failsWithoutMovingCoins(types.ErrInvalidResult, submit(bad(func(m *types.MsgSubmitResult) { m.ManifestHash = manifest[:31] })))
	// Issue 15 item 5: the receipt is bound to the order's manifest: a result
	// for another manifest (another job) is refused. The old code had no
	// manifest hash in the receipt at all.
	other := sha256.Sum256([]byte("another job"))
	f.failsWithoutMovingCoins(types.ErrManifestMismatch, submit(bad(func(m *types.MsgSubmitResult) { m.ManifestHash = other[:] })))
	require.Nil(t, f.lease(leaseID).Result)

	f.setHeight(startH + 3)
	require.NoError(t, submit(msg(provA))())
	r := f.lease(leaseID).Result
	require.NotNil(t, r)
	require.Equal(t, hash, r.ResultHash)
	require.Equal(t, manifest[:], r.ManifestHash)
	require.Equal(t, startH+3, r.Height)
	require.Equal(t, uint32(1), r.Submission)
	f.requireEvent("EventResultSubmitted")

	// The same result again is refused (it would only burn a submission).
	f.failsWithoutMovingCoins(types.ErrResultAlreadySubmitted, submit(msg(provA)))
}

// TestSubmitResultPoisonedResultIsSuperseded reproduces issue 15 item 5's
// poisoning: a stolen hot key posts a result before the job ran. The old
// chain kept the first result for good (ErrResultAlreadySubmitted for the
// honest one); now the provider supersedes it while the lease is active, the
// bogus receipt stays visible in superseded_results, each submission emits
// an event, and the number of submissions (so the stored history) is
// bounded.
func TestSubmitResultPoisonedResultIsSuperseded(t *testing.T) {
	f := setup(t)
	leaseID, _ := f.leased(tenantA, provA, "GPU-A0")
	result := func(b byte, loc string) *types.MsgSubmitResult {
		return &types.MsgSubmitResult{Provider: f.s(provA), LeaseId: leaseID, ResultHash: bytes.Repeat([]byte{b}, 32),
			Location: loc, ManifestHash: manifest[:]}
	}
	// The attacker, one block into the lease.
	f.setHeight(startH + 1)
	_, err := f.msg.SubmitResult(f.ctx, result(0xba, "https://evil.example/out"))
	require.NoError(t, err)

	// The honest sidecar, once the job ran.
	f.setHeight(startH + 50)
	_, err = f.msg.SubmitResult(f.ctx, result(0x11, "https://gpu1.example.com/results/1"))
	require.NoError(t, err)
	l := f.lease(leaseID)
	require.Equal(t, bytes.Repeat([]byte{0x11}, 32), l.Result.ResultHash, "the latest result wins")
	require.Equal(t, uint32(2), l.Result.Submission)
	require.Equal(t, startH+50, l.Result.Height)
	require.Len(t, l.SupersededResults, 1)
	require.Equal(t, bytes.Repeat([]byte{0xba}, 32), l.SupersededResults[0].ResultHash, "the bogus receipt stays visible")
	require.Equal(t, startH+1, l.SupersededResults[0].Height)
	var ev *types.EventResultSubmitted
	for _, e := range f.ctx.EventManager().ABCIEvents() {
		if msg, err := sdk.ParseTypedEvent(e); err == nil {
			if e, ok := msg.(*types.EventResultSubmitted); ok {
				ev = e
			}
		}
	}
	require.NotNil(t, ev)
	require.Equal(t, uint32(2), ev.Submission)
	require.Equal(t, bytes.Repeat([]byte{0xba}, 32), ev.SupersededHash)
	require.Equal(t, manifest[:], ev.ManifestHash)

	// Bounded: MaxResultSubmissions in all, then ErrTooManyResults.
	for i := 3; i <= types.MaxResultSubmissions; i++ {
		_, err = f.msg.SubmitResult(f.ctx, result(byte(0x20+i), "https://gpu1.example.com/results/1"))
		require.NoError(t, err)
	}
	f.failsWithoutMovingCoins(types.ErrTooManyResults, func() error {
		_, err := f.msg.SubmitResult(f.ctx, result(0x99, "https://gpu1.example.com/results/1"))
		return err
	})
	l = f.lease(leaseID)
	require.Len(t, l.SupersededResults, types.MaxResultSubmissions-1)
	require.Equal(t, uint32(types.MaxResultSubmissions), l.Result.Submission)

	// The lease and its results survive a genesis round trip.
	gs, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)
	require.NoError(t, gs.Validate())
}

// TestSubmitResultOnClosedLease: a job may finish in the block its lease
// ends, so the first result is accepted after the close; once the lease is
// closed that result is final (no supersede).
func TestSubmitResultOnClosedLease(t *testing.T) {
	f := setup(t)
	leaseID, _ := f.leased(tenantA, provA, "GPU-A0")
	_, err := f.msg.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.s(tenantA), LeaseId: leaseID})
	require.NoError(t, err)
	_, err = f.msg.SubmitResult(f.ctx, &types.MsgSubmitResult{
		Provider: f.s(provA), LeaseId: leaseID, ResultHash: bytes.Repeat([]byte{9}, 32),
		Location: "s3://bucket/out", ManifestHash: manifest[:],
	})
	require.NoError(t, err)
	f.failsWithoutMovingCoins(types.ErrResultAlreadySubmitted, func() error {
		_, err := f.msg.SubmitResult(f.ctx, &types.MsgSubmitResult{
			Provider: f.s(provA), LeaseId: leaseID, ResultHash: bytes.Repeat([]byte{8}, 32),
			Location: "s3://bucket/out", ManifestHash: manifest[:],
		})
		return err
	})
	require.Equal(t, bytes.Repeat([]byte{9}, 32), f.lease(leaseID).Result.ResultHash)
}

func TestCloseProviderLeases(t *testing.T) {
	f := setup(t)
	l1, _ := f.leased(tenantA, provA, "GPU-A0")
	l2, _ := f.leased(tenantB, provA, "GPU-A1", "GPU-A2")
	other, _ := f.leased(tenantA, provB, "GPU-B0")
	closedBefore, _ := f.leased(tenantA, provA, "GPU-A3")
	_, err := f.msg.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.s(tenantA), LeaseId: closedBefore})
	require.NoError(t, err)
	require.Equal(t, uint64(2), f.providers.get(provA).ActiveLeases)

	_, err = f.k.CloseProviderLeases(f.ctx, provA, types.LeaseCloseReasonUnspecified)
	require.ErrorIs(t, err, types.ErrInvalidCloseReason)
	_, err = f.k.CloseProviderLeases(f.ctx, provA, types.LeaseCloseReason(99))
	require.ErrorIs(t, err, types.ErrInvalidCloseReason)

	closed, err := f.k.CloseProviderLeases(f.ctx, provA, types.LeaseCloseReasonProviderSlashed)
	require.NoError(t, err)
	require.ElementsMatch(t, []uint64{l1, l2}, closed)
	for _, id := range closed {
		l := f.lease(id)
		require.Equal(t, types.LeaseStateClosed, l.State)
		require.Equal(t, types.LeaseCloseReasonProviderSlashed, l.CloseReason)
	}
	require.Equal(t, types.LeaseCloseReasonTenant, f.lease(closedBefore).CloseReason)
	require.Equal(t, types.LeaseStateActive, f.lease(other).State)
	require.Zero(t, f.providers.get(provA).ActiveLeases)
	for _, u := range []string{"GPU-A0", "GPU-A1", "GPU-A2"} {
		_, ok := f.gpuAssigned(provA, u)
		require.False(t, ok)
	}

	// Nothing left: a second call closes nothing.
	closed, err = f.k.CloseProviderLeases(f.ctx, provA, types.LeaseCloseReasonProviderJailed)
	require.NoError(t, err)
	require.Empty(t, closed)

	l, err := f.k.GetLease(f.ctx, l1)
	require.NoError(t, err)
	require.Equal(t, l1, l.Id)
	_, err = f.k.GetLease(f.ctx, 1234)
	require.ErrorIs(t, err, types.ErrLeaseNotFound)
}
