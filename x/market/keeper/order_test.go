package keeper_test

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

func TestCreateOrder(t *testing.T) {
	f := setup(t)
	before := f.balance(tenantA)
	res, err := f.msg.CreateOrder(f.ctx, f.orderMsg(tenantA, 2))
	require.NoError(t, err)
	require.Equal(t, uint64(1), res.OrderId, "ids start at 1")

	o := f.order(res.OrderId)
	require.Equal(t, types.OrderStateOpen, o.State)
	require.Equal(t, f.s(tenantA), o.Tenant)
	require.Equal(t, startH, o.CreatedHeight)
	require.Equal(t, startH+int64(types.DefaultOrderTTLBlocks), o.ExpiresHeight)
	require.Equal(t, coin(1_000_000), o.Deposit)

	// The deposit moved tenant -> escrow.
	require.Equal(t, before.SubRaw(1_000_000), f.balance(tenantA))
	require.Equal(t, sdkmath.NewInt(1_000_000), f.moduleBalance(escrowModule))
	require.Contains(t, f.escrow.accounts, res.OrderId)

	require.Len(t, queueKeys(f, f.k.OrderExpiryQueue), 1)
	f.requireEvent("EventOrderCreated")

	res2, err := f.msg.CreateOrder(f.ctx, f.orderMsg(tenantA, 1))
	require.NoError(t, err)
	require.Equal(t, uint64(2), res2.OrderId)
}

func TestCreateOrderRejectsBadInput(t *testing.T) {
	long := strings.Repeat("x", int(types.DefaultMaxStringLen)+1)
	cases := []struct {
		name   string
		mut    func(*types.MsgCreateOrder)
		target error
	}{
		{"bad tenant address", func(m *types.MsgCreateOrder) { m.Tenant = "cru1notanaddress" }, sdkerrors.ErrInvalidAddress},
		{"empty tenant", func(m *types.MsgCreateOrder) { m.Tenant = "" }, sdkerrors.ErrInvalidAddress},
		{"zero deposit", func(m *types.MsgCreateOrder) { m.Deposit = coin(0) }, types.ErrInvalidDeposit},
		{"negative deposit", func(m *types.MsgCreateOrder) { m.Deposit = sdk.Coin{Denom: denom, Amount: sdkmath.NewInt(-5)} }, types.ErrInvalidDeposit},
		{"nil deposit amount", func(m *types.MsgCreateOrder) { m.Deposit = sdk.Coin{Denom: denom} }, types.ErrInvalidDeposit},
		{"deposit wrong denom", func(m *types.MsgCreateOrder) { m.Deposit = sdk.NewInt64Coin("uatom", 2_000_000) }, types.ErrInvalidDeposit},
		{"deposit invalid denom", func(m *types.MsgCreateOrder) { m.Deposit = sdk.Coin{Denom: "!", Amount: sdkmath.NewInt(2_000_000)} }, types.ErrInvalidDeposit},
		{"deposit below minimum", func(m *types.MsgCreateOrder) { m.Deposit = coin(999_999) }, types.ErrInvalidDeposit},
		{"zero price", func(m *types.MsgCreateOrder) { m.MaxPricePerBlock = coin(0) }, types.ErrInvalidPrice},
		{"negative price", func(m *types.MsgCreateOrder) { m.MaxPricePerBlock = sdk.Coin{Denom: denom, Amount: sdkmath.NewInt(-1)} }, types.ErrInvalidPrice},
		{"price wrong denom", func(m *types.MsgCreateOrder) { m.MaxPricePerBlock = sdk.NewInt64Coin("uatom", 10) }, types.ErrInvalidPrice},
		{"zero duration", func(m *types.MsgCreateOrder) { m.DurationBlocks = 0 }, types.ErrInvalidDuration},
		{"duration above max", func(m *types.MsgCreateOrder) { m.DurationBlocks = types.DefaultMaxLeaseBlocks + 1 }, types.ErrInvalidDuration},
		{"duration overflow", func(m *types.MsgCreateOrder) { m.DurationBlocks = math.MaxUint64 }, types.ErrInvalidDuration},
		{"zero gpus", func(m *types.MsgCreateOrder) { m.Spec.Gpu.Count = 0 }, types.ErrInvalidSpec},
		{"too many gpus", func(m *types.MsgCreateOrder) { m.Spec.Gpu.Count = math.MaxUint32 }, types.ErrInvalidSpec},
		{"no class or model", func(m *types.MsgCreateOrder) { m.Spec.Gpu.Class = "" }, types.ErrInvalidSpec},
		// Issue 15 item 10: classes match exactly and are lowercase on
		// chain; "H100" used to be accepted and matched h100 GPUs.
		{"uppercase class", func(m *types.MsgCreateOrder) { m.Spec.Gpu.Class = "H100" }, types.ErrInvalidSpec},
		{"short manifest hash", func(m *types.MsgCreateOrder) { m.Spec.ManifestHash = manifest[:31] }, types.ErrInvalidSpec},
		{"no manifest hash", func(m *types.MsgCreateOrder) { m.Spec.ManifestHash = nil }, types.ErrInvalidSpec},
		{"negative reputation", func(m *types.MsgCreateOrder) { m.Spec.MinReputation = -1 }, types.ErrInvalidSpec},
		{"reputation above max", func(m *types.MsgCreateOrder) { m.Spec.MinReputation = types.MaxReputation + 1 }, types.ErrInvalidSpec},
		{"long class", func(m *types.MsgCreateOrder) { m.Spec.Gpu.Class = long }, types.ErrStringTooLong},
		{"long model", func(m *types.MsgCreateOrder) { m.Spec.Gpu.Model = long }, types.ErrStringTooLong},
		{"long region", func(m *types.MsgCreateOrder) { m.Spec.Region = long }, types.ErrStringTooLong},
		{"long tier", func(m *types.MsgCreateOrder) { m.Spec.Tier = long }, types.ErrStringTooLong},
		{"long attribute value", func(m *types.MsgCreateOrder) {
			m.Spec.Attributes = []providertypes.Attribute{{Key: "k", Value: long}}
		}, types.ErrStringTooLong},
		{"empty attribute key", func(m *types.MsgCreateOrder) {
			m.Spec.Attributes = []providertypes.Attribute{{Key: "", Value: "v"}}
		}, types.ErrInvalidSpec},
		{"duplicate attribute key", func(m *types.MsgCreateOrder) {
			m.Spec.Attributes = []providertypes.Attribute{{Key: "k", Value: "a"}, {Key: "k", Value: "b"}}
		}, types.ErrInvalidSpec},
		{"too many attributes", func(m *types.MsgCreateOrder) {
			m.Spec.Attributes = make([]providertypes.Attribute, types.MaxOrderAttributes+1)
			for i := range m.Spec.Attributes {
				m.Spec.Attributes[i] = providertypes.Attribute{Key: strings.Repeat("k", i+1), Value: "v"}
			}
		}, types.ErrInvalidSpec},
		{"insufficient funds", func(m *types.MsgCreateOrder) { m.Deposit = coin(2_000_000_000) }, sdkerrors.ErrInsufficientFunds},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			m := f.orderMsg(tenantA, 1)
			tc.mut(m)
			f.failsWithoutMovingCoins(tc.target, func() error {
				_, err := f.msg.CreateOrder(f.ctx, m)
				return err
			})
			n := 0
			require.NoError(t, f.k.Orders.Walk(f.ctx, nil, func(uint64, types.Order) (bool, error) { n++; return false, nil }))
			require.Zero(t, n)
			require.Empty(t, queueKeys(f, f.k.OrderExpiryQueue))
		})
	}
}

func TestCreateOrderModelOnly(t *testing.T) {
	f := setup(t)
	m := f.orderMsg(tenantA, 1)
	m.Spec.Gpu.Class = ""
	m.Spec.Gpu.Model = h100Name
	_, err := f.msg.CreateOrder(f.ctx, m)
	require.NoError(t, err)
}

func TestCancelOrder(t *testing.T) {
	f := setup(t)
	orderID := f.createOrder(tenantA, 1)
	bidA := f.createBid(provA, orderID, 90, "GPU-A0")
	bidB := f.createBid(provB, orderID, 80, "GPU-B0")
	tenantBefore, provABefore, provBBefore := f.balance(tenantA), f.balance(provA), f.balance(provB)

	f.setHeight(startH + 1)
	_, err := f.msg.CancelOrder(f.ctx, &types.MsgCancelOrder{Tenant: f.s(tenantA), OrderId: orderID})
	require.NoError(t, err)

	require.Equal(t, types.OrderStateCancelled, f.order(orderID).State)
	require.Equal(t, types.BidStateLost, f.bid(bidA).State)
	require.Equal(t, types.BidStateLost, f.bid(bidB).State)
	require.Equal(t, tenantBefore.AddRaw(1_000_000), f.balance(tenantA), "escrow deposit refunded")
	require.Equal(t, provABefore.AddRaw(500_000), f.balance(provA), "bid deposit refunded")
	require.Equal(t, provBBefore.AddRaw(500_000), f.balance(provB), "bid deposit refunded")
	require.True(t, f.moduleBalance(types.ModuleName).IsZero())
	require.True(t, f.moduleBalance(escrowModule).IsZero())
	require.Equal(t, "order_cancelled", f.escrow.closed[orderID])
	require.Empty(t, queueKeys(f, f.k.OrderExpiryQueue))
	f.requireEvent("EventOrderCancelled")
	f.requireEvent("EventBidClosed")
}

func TestCancelOrderErrors(t *testing.T) {
	f := setup(t)
	orderID := f.createOrder(tenantA, 1)
	cancel := func(tenant sdk.AccAddress, id uint64) func() error {
		return func() error {
			_, err := f.msg.CancelOrder(f.ctx, &types.MsgCancelOrder{Tenant: f.s(tenant), OrderId: id})
			return err
		}
	}
	f.failsWithoutMovingCoins(types.ErrOrderNotFound, cancel(tenantA, 99))
	f.failsWithoutMovingCoins(types.ErrInvalidID, cancel(tenantA, 0))
	f.failsWithoutMovingCoins(types.ErrUnauthorized, cancel(tenantB, orderID))
	f.failsWithoutMovingCoins(sdkerrors.ErrInvalidAddress, func() error {
		_, err := f.msg.CancelOrder(f.ctx, &types.MsgCancelOrder{Tenant: "bogus", OrderId: orderID})
		return err
	})
	require.NoError(t, cancel(tenantA, orderID)())
	f.failsWithoutMovingCoins(types.ErrOrderNotOpen, cancel(tenantA, orderID))

	// A matched order cannot be cancelled.
	leaseID, _ := f.leased(tenantA, provA, "GPU-A0")
	f.failsWithoutMovingCoins(types.ErrOrderNotOpen, cancel(tenantA, leaseID))
}
