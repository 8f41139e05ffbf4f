package keeper_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

func TestCreateBid(t *testing.T) {
	f := setup(t)
	orderID := f.createOrder(tenantA, 2)
	before := f.balance(provA)
	f.setHeight(startH + 1)
	res, err := f.msg.CreateBid(f.ctx, f.bidMsg(provA, orderID, 100, "GPU-A0", "GPU-A1"))
	require.NoError(t, err)
	require.Equal(t, uint64(1), res.BidId)

	b := f.bid(res.BidId)
	require.Equal(t, types.BidStateOpen, b.State)
	require.Equal(t, orderID, b.OrderId)
	require.Equal(t, f.s(provA), b.Provider)
	require.Equal(t, []string{"GPU-A0", "GPU-A1"}, b.GpuUuids)
	require.Equal(t, startH+1, b.CreatedHeight)
	require.Equal(t, before.SubRaw(500_000), f.balance(provA))
	require.Equal(t, sdkmath.NewInt(500_000), f.moduleBalance(types.ModuleName), "the market module holds bid deposits")
	f.requireEvent("EventBidCreated")
}

func TestCreateBidRejects(t *testing.T) {
	long := strings.Repeat("u", int(types.DefaultMaxStringLen)+1)
	cases := []struct {
		name   string
		prep   func(f *fixture, orderID uint64) // state changes before the bid
		msg    func(f *fixture, orderID uint64) *types.MsgCreateBid
		target error
	}{
		{name: "bad provider address", msg: func(f *fixture, id uint64) *types.MsgCreateBid {
			m := f.bidMsg(provA, id, 90, "GPU-A0")
			m.Provider = "nope"
			return m
		}, target: sdkerrors.ErrInvalidAddress},
		{name: "order id 0", msg: func(f *fixture, _ uint64) *types.MsgCreateBid { return f.bidMsg(provA, 0, 90, "GPU-A0") }, target: types.ErrInvalidID},
		{name: "unknown order", msg: func(f *fixture, _ uint64) *types.MsgCreateBid { return f.bidMsg(provA, 42, 90, "GPU-A0") }, target: types.ErrOrderNotFound},
		{name: "order cancelled", prep: func(f *fixture, id uint64) {
			_, err := f.msg.CancelOrder(f.ctx, &types.MsgCancelOrder{Tenant: f.s(tenantA), OrderId: id})
			require.NoError(f.t, err)
		}, msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 90, "GPU-A0") }, target: types.ErrOrderNotOpen},
		{name: "order expired but not yet processed", prep: func(f *fixture, id uint64) {
			f.setHeight(f.order(id).ExpiresHeight)
		}, msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 90, "GPU-A0") }, target: types.ErrOrderExpired},
		{name: "price above max", msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 101, "GPU-A0") }, target: types.ErrInvalidPrice},
		{name: "zero price", msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 0, "GPU-A0") }, target: types.ErrInvalidPrice},
		{name: "negative price", msg: func(f *fixture, id uint64) *types.MsgCreateBid {
			m := f.bidMsg(provA, id, 1, "GPU-A0")
			m.Price = sdk.Coin{Denom: denom, Amount: sdkmath.NewInt(-3)}
			return m
		}, target: types.ErrInvalidPrice},
		{name: "price wrong denom", msg: func(f *fixture, id uint64) *types.MsgCreateBid {
			m := f.bidMsg(provA, id, 1, "GPU-A0")
			m.Price = sdk.NewInt64Coin("uatom", 1)
			return m
		}, target: types.ErrInvalidPrice},
		{name: "deposit below min", msg: func(f *fixture, id uint64) *types.MsgCreateBid {
			m := f.bidMsg(provA, id, 90, "GPU-A0")
			m.Deposit = coin(499_999)
			return m
		}, target: types.ErrInvalidDeposit},
		{name: "zero deposit", msg: func(f *fixture, id uint64) *types.MsgCreateBid {
			m := f.bidMsg(provA, id, 90, "GPU-A0")
			m.Deposit = coin(0)
			return m
		}, target: types.ErrInvalidDeposit},
		{name: "deposit wrong denom", msg: func(f *fixture, id uint64) *types.MsgCreateBid {
			m := f.bidMsg(provA, id, 90, "GPU-A0")
			m.Deposit = sdk.NewInt64Coin("uatom", 1_000_000)
			return m
		}, target: types.ErrInvalidDeposit},
		{name: "deposit unaffordable", msg: func(f *fixture, id uint64) *types.MsgCreateBid {
			m := f.bidMsg(provA, id, 90, "GPU-A0")
			m.Deposit = coin(5_000_000_000)
			return m
		}, target: sdkerrors.ErrInsufficientFunds},
		{name: "unregistered provider", msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(stranger, id, 90, "GPU-A0") }, target: providertypes.ErrProviderNotFound},
		{name: "jailed provider", prep: func(f *fixture, _ uint64) {
			f.providers.get(provA).Status = providertypes.ProviderStatusJailed
		}, msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 90, "GPU-A0") }, target: types.ErrProviderNotActive},
		{name: "unbonding provider", prep: func(f *fixture, _ uint64) {
			f.providers.get(provA).Status = providertypes.ProviderStatusUnbonding
		}, msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 90, "GPU-A0") }, target: types.ErrProviderNotActive},
		{name: "low reputation", prep: func(f *fixture, _ uint64) {
			f.providers.get(provA).Reputation = 10
		}, msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 90, "GPU-A0") }, target: types.ErrReputationTooLow},
		{name: "wrong region", prep: func(f *fixture, _ uint64) {
			f.providers.get(provA).Region = "us-east"
		}, msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 90, "GPU-A0") }, target: types.ErrAttributeMismatch},
		{name: "wrong tier", prep: func(f *fixture, _ uint64) {
			f.providers.get(provA).Tier = "community"
		}, msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 90, "GPU-A0") }, target: types.ErrAttributeMismatch},
		{name: "missing attribute", prep: func(f *fixture, _ uint64) {
			f.providers.get(provA).Attributes = []providertypes.Attribute{{Key: "cc", Value: "off"}}
		}, msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 90, "GPU-A0") }, target: types.ErrAttributeMismatch},
		{name: "too few gpus", msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 90) }, target: types.ErrGPUMismatch},
		{name: "too many gpus", msg: func(f *fixture, id uint64) *types.MsgCreateBid {
			return f.bidMsg(provA, id, 90, "GPU-A0", "GPU-A1")
		}, target: types.ErrGPUMismatch},
		{name: "duplicate gpu", prep: func(f *fixture, _ uint64) {}, msg: func(f *fixture, _ uint64) *types.MsgCreateBid {
			id := f.createOrder(tenantA, 2)
			return f.bidMsg(provA, id, 90, "GPU-A0", "GPU-A0")
		}, target: types.ErrGPUMismatch},
		{name: "gpu of another provider", msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 90, "GPU-B0") }, target: types.ErrGPUMismatch},
		{name: "gpu too small", prep: func(f *fixture, _ uint64) {
			f.providers.get(provA).Gpus[0].MemoryMib = 40_000
		}, msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 90, "GPU-A0") }, target: types.ErrGPUMismatch},
		{name: "gpu wrong class", prep: func(f *fixture, _ uint64) {
			f.providers.get(provA).Gpus[0].Class = "a100"
		}, msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 90, "GPU-A0") }, target: types.ErrGPUMismatch},
		{name: "long gpu uuid", msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 90, long) }, target: types.ErrStringTooLong},
		{name: "gpu already leased", prep: func(f *fixture, _ uint64) {
			f.leased(tenantB, provA, "GPU-A0")
		}, msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 90, "GPU-A0") }, target: types.ErrGPUInUse},
		{name: "second open bid", prep: func(f *fixture, id uint64) {
			f.createBid(provA, id, 90, "GPU-A0")
		}, msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 80, "GPU-A1") }, target: types.ErrDuplicateBid},
		{name: "max bids reached", prep: func(f *fixture, id uint64) {
			f.setParams(func(p *types.Params) { p.MaxBidsPerOrder = 1 })
			f.createBid(provB, id, 90, "GPU-B0")
		}, msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 90, "GPU-A1") }, target: types.ErrTooManyBids},
		{name: "max bids reached, a worse price", prep: func(f *fixture, id uint64) {
			f.setParams(func(p *types.Params) { p.MaxBidsPerOrder = 1 })
			f.createBid(provB, id, 90, "GPU-B0")
		}, msg: func(f *fixture, id uint64) *types.MsgCreateBid { return f.bidMsg(provA, id, 95, "GPU-A1") }, target: types.ErrTooManyBids},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			orderID := f.createOrder(tenantA, 1)
			if tc.prep != nil {
				tc.prep(f, orderID)
			}
			m := tc.msg(f, orderID)
			var bidsBefore int
			require.NoError(t, f.k.Bids.Walk(f.ctx, nil, func(uint64, types.Bid) (bool, error) { bidsBefore++; return false, nil }))
			f.failsWithoutMovingCoins(tc.target, func() error {
				_, err := f.msg.CreateBid(f.ctx, m)
				return err
			})
			var bidsAfter int
			require.NoError(t, f.k.Bids.Walk(f.ctx, nil, func(uint64, types.Bid) (bool, error) { bidsAfter++; return false, nil }))
			require.Equal(t, bidsBefore, bidsAfter)
		})
	}
}

func TestRebidAfterWithdraw(t *testing.T) {
	f := setup(t)
	orderID := f.createOrder(tenantA, 1)
	first := f.createBid(provA, orderID, 90, "GPU-A0")
	_, err := f.msg.CloseBid(f.ctx, &types.MsgCloseBid{Provider: f.s(provA), BidId: first})
	require.NoError(t, err)
	second := f.createBid(provA, orderID, 80, "GPU-A0")
	require.NotEqual(t, first, second)
}

func TestCloseBid(t *testing.T) {
	f := setup(t)
	orderID := f.createOrder(tenantA, 1)
	bidID := f.createBid(provA, orderID, 90, "GPU-A0")
	before := f.balance(provA)

	closeBid := func(p sdk.AccAddress, id uint64) func() error {
		return func() error {
			_, err := f.msg.CloseBid(f.ctx, &types.MsgCloseBid{Provider: f.s(p), BidId: id})
			return err
		}
	}
	f.failsWithoutMovingCoins(types.ErrUnauthorized, closeBid(provB, bidID))
	f.failsWithoutMovingCoins(types.ErrUnauthorized, closeBid(tenantA, bidID))
	f.failsWithoutMovingCoins(types.ErrBidNotFound, closeBid(provA, 77))
	f.failsWithoutMovingCoins(types.ErrInvalidID, closeBid(provA, 0))

	require.NoError(t, closeBid(provA, bidID)())
	_, err := f.k.GetBid(f.ctx, bidID)
	require.ErrorIs(t, err, types.ErrBidNotFound, "a withdrawn bid is deleted")
	require.Equal(t, before.AddRaw(500_000), f.balance(provA))
	require.True(t, f.moduleBalance(types.ModuleName).IsZero())
	f.requireEvent("EventBidClosed")

	f.failsWithoutMovingCoins(types.ErrBidNotFound, closeBid(provA, bidID))
}

// A provider slashed below x/provider's min_bond may not bid (nor move a
// coin) until it adds bond.
func TestCreateBidRefusesABondBelowTheMinimum(t *testing.T) {
	f := setup(t)
	orderID := f.createOrder(tenantA, 1)
	f.setHeight(startH + 1)
	f.providers.minBond = sdk.NewInt64Coin("ucru", 1_000)
	p := f.providers.get(provA)
	p.Bond = sdk.NewInt64Coin("ucru", 999)
	f.failsWithoutMovingCoins(providertypes.ErrInsufficientBond, func() error {
		_, err := f.msg.CreateBid(f.ctx, f.bidMsg(provA, orderID, 100, "GPU-A0"))
		return err
	})
	p.Bond = sdk.NewInt64Coin("ucru", 1_000)
	_, err := f.msg.CreateBid(f.ctx, f.bidMsg(provA, orderID, 100, "GPU-A0"))
	require.NoError(t, err)
}
