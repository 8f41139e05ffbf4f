package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	providertestutil "github.com/crucible-network/crucible/x/provider/testutil"
	"github.com/crucible-network/crucible/x/provider/types"
)

// Attack: a provider picks its own proof size by registering GPUs under a
// class the chain does not define (e.g. a tiny "toy" class). Registration
// and update are refused with the definer's registered error and move no
// coin.
func TestUnknownGPUClassRefused(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	f.bank.fund(owner, sdk.NewCoins(sdk.NewInt64Coin(denom, 5000)))
	msg := f.registerMsg(owner, 1500)
	msg.Gpus[1].Class = "toy"
	_, err := f.msgs.RegisterProvider(f.ctx, msg)
	require.ErrorIs(t, err, providertestutil.ErrUnknownClass)
	require.Equal(t, math.NewInt(5000), f.bank.balance(owner))
	require.True(t, f.bank.moduleBalance().IsZero())

	f.register(owner, 1500)
	up := updateMsg(f.str(owner), gpu("GPU-aaaa"), types.GPU{Uuid: "GPU-cccc", Model: "x", Class: "toy", MemoryMib: 1})
	_, err = f.msgs.UpdateProvider(f.ctx, up)
	require.ErrorIs(t, err, providertestutil.ErrUnknownClass)
	require.Len(t, f.provider(owner).Gpus, 2)
}

// A new identity starts unverified: reputation 0, so a provider with a bad
// record gains nothing by registering again.
func TestNewProviderStartsUnverified(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	f.register(owner, 1000)
	require.Zero(t, f.provider(owner).Reputation)
	for _, g := range f.provider(owner).Gpus {
		require.Zero(t, g.VerifiedHeight)
	}
}

func TestRemoveGPU(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	require.ErrorIs(t, f.k.RemoveGPU(f.ctx, owner, "GPU-aaaa", "x"), types.ErrProviderNotFound)
	f.register(owner, 1000)
	f.freshEvents()
	require.NoError(t, f.k.RemoveGPU(f.ctx, owner, "GPU-aaaa", "missed"))
	require.Equal(t, []types.GPU{gpu("GPU-bbbb")}, f.provider(owner).Gpus)
	require.Equal(t, []*types.EventGPURemoved{{Owner: f.str(owner), Uuid: "GPU-aaaa", Reason: "missed"}},
		events[*types.EventGPURemoved](t, f.ctx))
	require.ErrorIs(t, f.k.RemoveGPU(f.ctx, owner, "GPU-aaaa", "x"), types.ErrGPUNotFound)
}

// PayFromBond pays min(amount, bond) to the recipient; the module keeps
// exactly the remaining bond.
func TestPayFromBond(t *testing.T) {
	f := newFixture(t)
	owner, tenant := f.addr(1), f.addr(2)
	f.register(owner, 1000)
	f.freshEvents()
	paid, err := f.k.PayFromBond(f.ctx, owner, tenant, sdk.NewInt64Coin(denom, 300), "dock")
	require.NoError(t, err)
	require.Equal(t, sdk.NewInt64Coin(denom, 300), paid)
	require.Equal(t, math.NewInt(300), f.bank.balance(tenant))
	require.Equal(t, sdk.NewInt64Coin(denom, 700), f.provider(owner).Bond)
	require.Equal(t, math.NewInt(700), f.bank.moduleBalance())
	require.Equal(t, []*types.EventBondPaidOut{{Owner: f.str(owner), Recipient: f.str(tenant), Amount: paid,
		Bond: sdk.NewInt64Coin(denom, 700), Reason: "dock"}}, events[*types.EventBondPaidOut](t, f.ctx))

	// More than the bond: only the bond is paid.
	paid, err = f.k.PayFromBond(f.ctx, owner, tenant, sdk.NewInt64Coin(denom, 5000), "dock")
	require.NoError(t, err)
	require.Equal(t, sdk.NewInt64Coin(denom, 700), paid)
	require.True(t, f.provider(owner).Bond.IsZero())
	require.True(t, f.bank.moduleBalance().IsZero())

	// Nothing left, other denom, zero: nothing paid.
	for _, c := range []sdk.Coin{sdk.NewInt64Coin(denom, 1), sdk.NewInt64Coin("other", 5), sdk.NewInt64Coin(denom, 0)} {
		paid, err = f.k.PayFromBond(f.ctx, owner, tenant, c, "dock")
		require.NoError(t, err)
		require.True(t, paid.IsZero())
	}
	require.Equal(t, math.NewInt(1000), f.bank.balance(tenant))
}
