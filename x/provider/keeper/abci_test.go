package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/provider/keeper"
	"github.com/crucible-network/crucible/x/provider/types"
)

func TestEndBlockerReleasesBondAfterUnbondingPeriod(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	f.register(owner, 1000)
	res, err := f.msgs.DeregisterProvider(f.ctx, &types.MsgDeregisterProvider{Owner: f.str(owner)})
	require.NoError(t, err)
	require.Equal(t, int64(30), res.UnbondingHeight) // 10 + 20

	// Slashable while unbonding.
	_, err = f.k.Slash(f.ctx, owner, 1000, "late fraud") // 100
	require.NoError(t, err)

	for h := int64(11); h < 30; h++ {
		f.setHeight(h)
		require.NoError(t, f.k.EndBlocker(f.ctx))
		require.Equal(t, math.ZeroInt(), f.bank.balance(owner), "height %d", h)
		require.Equal(t, types.ProviderStatusUnbonding, f.provider(owner).Status)
	}
	f.setHeight(30)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	require.Equal(t, math.NewInt(900), f.bank.balance(owner))
	require.True(t, f.bank.moduleBalance().IsZero())
	_, err = f.k.GetProvider(f.ctx, owner)
	require.ErrorIs(t, err, types.ErrProviderNotFound, "the record is deleted once the bond is released")
	has, err := f.k.Unbonding.Has(f.ctx, joinKey(30, owner))
	require.NoError(t, err)
	require.False(t, has)
	require.Equal(t, []*types.EventBondReleased{{Owner: f.str(owner), Amount: sdk.NewInt64Coin(denom, 900)}},
		events[*types.EventBondReleased](t, f.ctx))

	// Nothing more to do, and the owner may register again.
	f.setHeight(31)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	require.Empty(t, f.ctx.EventManager().Events())
	f.register(owner, 1000)
	require.Equal(t, int64(31), f.provider(owner).RegisteredHeight)
}

func TestEndBlockerReleasesFullySlashedBond(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	f.register(owner, 1000)
	_, err := f.k.DeregisterProvider(f.ctx, owner)
	require.NoError(t, err)
	_, err = f.k.Slash(f.ctx, owner, 10_000, "x")
	require.NoError(t, err)
	calls := f.bank.calls
	f.setHeight(30)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	require.Equal(t, calls, f.bank.calls, "nothing to send")
	_, err = f.k.GetProvider(f.ctx, owner)
	require.ErrorIs(t, err, types.ErrProviderNotFound)
	require.Equal(t, []*types.EventBondReleased{{Owner: f.str(owner), Amount: sdk.NewInt64Coin(denom, 0)}},
		events[*types.EventBondReleased](t, f.ctx))
}

func TestEndBlockerCapsReleasesPerBlock(t *testing.T) {
	f := newFixture(t)
	const n = keeper.MaxReleasesPerBlock + 50
	// Half deregister at height 10 (release 30), half at 11 (release 31).
	for i := 0; i < n; i++ {
		if i == n/2 {
			f.setHeight(11)
		}
		f.register(f.addr(i), 1000)
		_, err := f.k.DeregisterProvider(f.ctx, f.addr(i))
		require.NoError(t, err)
	}
	require.Equal(t, math.NewInt(n*1000), f.bank.moduleBalance())

	count := func() int {
		c := 0
		for i := 0; i < n; i++ {
			if f.bank.balance(f.addr(i)).Equal(math.NewInt(1000)) {
				c++
			}
		}
		return c
	}

	f.setHeight(100)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	require.Equal(t, keeper.MaxReleasesPerBlock, count())
	require.Len(t, events[*types.EventBondReleased](t, f.ctx), keeper.MaxReleasesPerBlock)
	// Oldest first: every height-30 entry went before any height-31 entry.
	for i := 0; i < n/2; i++ {
		require.Equal(t, math.NewInt(1000), f.bank.balance(f.addr(i)))
	}

	f.setHeight(101)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	require.Equal(t, n, count())
	require.Len(t, events[*types.EventBondReleased](t, f.ctx), n-keeper.MaxReleasesPerBlock)
	require.True(t, f.bank.moduleBalance().IsZero())
	resp, err := f.queries.Providers(f.ctx, &types.QueryProvidersRequest{})
	require.NoError(t, err)
	require.Empty(t, resp.Providers)
}

// A bond the bank refuses to release (the owner is a blocked account, e.g.
// a module account registered through governance) does not halt the chain:
// the EndBlocker returns no error, releases the other matured bonds of the
// block, drops the stuck entry from the queue, keeps the bond locked in the
// UNBONDING record and says so in EventBondReleaseFailed.
func TestBondReleaseFailureDoesNotHaltTheChain(t *testing.T) {
	f := newFixture(t)
	stuck, fine := f.addr(1), f.addr(2)
	f.register(stuck, 1000)
	f.register(fine, 1000)
	for _, o := range []sdk.AccAddress{stuck, fine} {
		_, err := f.msgs.DeregisterProvider(f.ctx, &types.MsgDeregisterProvider{Owner: f.str(o)})
		require.NoError(t, err)
	}
	f.bank.refuse = map[string]bool{string(stuck): true}
	f.setHeight(30)
	f.freshEvents()
	require.NoError(t, f.k.EndBlocker(f.ctx), "one bad record must not halt the chain")
	require.Equal(t, math.NewInt(1000), f.bank.balance(fine), "the other bond is released")
	require.True(t, f.bank.balance(stuck).IsZero())
	require.Equal(t, math.NewInt(1000), f.bank.moduleBalance(), "the stuck bond stays in the module")
	p := f.provider(stuck)
	require.Equal(t, types.ProviderStatusUnbonding, p.Status)
	require.Equal(t, sdk.NewInt64Coin(denom, 1000), p.Bond)
	has, err := f.k.Unbonding.Has(f.ctx, joinKey(30, stuck))
	require.NoError(t, err)
	require.False(t, has, "the stuck entry leaves the queue (no retry every block)")
	evs := events[*types.EventBondReleaseFailed](t, f.ctx)
	require.Len(t, evs, 1)
	require.Equal(t, f.str(stuck), evs[0].Owner)
	require.Contains(t, evs[0].Reason, "not allowed to receive funds")
	f.setHeight(31)
	require.NoError(t, f.k.EndBlocker(f.ctx))
}
