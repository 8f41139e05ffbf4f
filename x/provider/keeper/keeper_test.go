package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/provider/types"
)

func TestSlash(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	f.register(owner, 1_000_000_007)

	f.freshEvents()
	burned, err := f.k.Slash(f.ctx, owner, 333, "failed challenge 42")
	require.NoError(t, err)
	// 1_000_000_007 * 333 / 10000 = 33_300_000.233... -> floor
	require.Equal(t, sdk.NewInt64Coin(denom, 33_300_000), burned)
	require.Equal(t, sdk.NewInt64Coin(denom, 966_700_007), f.provider(owner).Bond)
	require.Equal(t, math.NewInt(966_700_007), f.bank.moduleBalance())
	require.Equal(t, sdk.NewCoins(sdk.NewInt64Coin(denom, 33_300_000)), f.bank.burned)
	require.Equal(t, []*types.EventProviderSlashed{{
		Owner: f.str(owner), Amount: burned, Reason: "failed challenge 42", Bond: sdk.NewInt64Coin(denom, 966_700_007),
	}}, events[*types.EventProviderSlashed](t, f.ctx))

	// Floor again on the remaining bond: 966_700_007 * 1 / 10000 = 96_670.0007.
	burned, err = f.k.Slash(f.ctx, owner, 1, "x")
	require.NoError(t, err)
	require.Equal(t, sdk.NewInt64Coin(denom, 96_670), burned)

	// bps above 10000 is refused; 0 is a no-op.
	_, err = f.k.Slash(f.ctx, owner, 10_001, "x")
	require.ErrorIs(t, err, types.ErrInvalidSlash)
	f.freshEvents()
	calls := f.bank.calls
	burned, err = f.k.Slash(f.ctx, owner, 0, "x")
	require.NoError(t, err)
	require.True(t, burned.IsZero())
	require.Equal(t, calls, f.bank.calls)
	require.Empty(t, f.ctx.EventManager().Events())

	// 100% takes everything that is left.
	burned, err = f.k.Slash(f.ctx, owner, 10_000, "x")
	require.NoError(t, err)
	require.Equal(t, sdk.NewInt64Coin(denom, 966_700_007-96_670), burned)
	require.True(t, f.provider(owner).Bond.IsZero())
	require.True(t, f.bank.moduleBalance().IsZero())

	_, err = f.k.Slash(f.ctx, f.addr(2), 100, "x")
	require.ErrorIs(t, err, types.ErrProviderNotFound)
}

func TestSlashTinyBondRoundsToZero(t *testing.T) {
	f := newFixture(t)
	params := testParams()
	params.MinBond = sdk.NewInt64Coin(denom, 1)
	require.NoError(t, f.k.SetParams(f.ctx, params))
	owner := f.addr(1)
	f.register(owner, 3)
	burned, err := f.k.Slash(f.ctx, owner, 3333, "x") // 3*3333/10000 = 0.9999
	require.NoError(t, err)
	require.True(t, burned.IsZero())
	require.Equal(t, denom, burned.Denom)
	require.Equal(t, sdk.NewInt64Coin(denom, 3), f.provider(owner).Bond)
}

func TestJailErrors(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	require.ErrorIs(t, f.k.Jail(f.ctx, owner, "x"), types.ErrProviderNotFound)
	f.register(owner, 1000)
	_, err := f.k.DeregisterProvider(f.ctx, owner)
	require.NoError(t, err)
	require.ErrorIs(t, f.k.Jail(f.ctx, owner, "x"), types.ErrProviderUnbonding)
}

func TestActiveLeases(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	require.ErrorIs(t, f.k.AddActiveLease(f.ctx, owner), types.ErrProviderNotFound)
	require.ErrorIs(t, f.k.RemoveActiveLease(f.ctx, owner), types.ErrProviderNotFound)
	f.register(owner, 1000)

	require.ErrorIs(t, f.k.RemoveActiveLease(f.ctx, owner), types.ErrNoActiveLeases)
	require.NoError(t, f.k.AddActiveLease(f.ctx, owner))
	require.NoError(t, f.k.AddActiveLease(f.ctx, owner))
	require.Equal(t, uint64(2), f.provider(owner).ActiveLeases)

	// The count lives in its own collection: the stored record and
	// GetRegistration leave it out, GetProvider and the queries fill it in,
	// and updating the provider keeps it.
	stored, err := f.k.Providers.Get(f.ctx, owner)
	require.NoError(t, err)
	require.Zero(t, stored.ActiveLeases)
	reg, err := f.k.GetRegistration(f.ctx, owner)
	require.NoError(t, err)
	require.Zero(t, reg.ActiveLeases)
	n, err := f.k.ActiveLeaseCount(f.ctx, owner)
	require.NoError(t, err)
	require.Equal(t, uint64(2), n)
	res, err := f.queries.Providers(f.ctx, &types.QueryProvidersRequest{})
	require.NoError(t, err)
	require.Len(t, res.Providers, 1)
	require.Equal(t, uint64(2), res.Providers[0].ActiveLeases)
	require.NoError(t, f.k.SetReputation(f.ctx, owner, 7000, "x"))
	require.Equal(t, uint64(2), f.provider(owner).ActiveLeases)

	// A lease on a provider jailed meanwhile can still close.
	require.NoError(t, f.k.Jail(f.ctx, owner, "x"))
	require.NoError(t, f.k.RemoveActiveLease(f.ctx, owner))
	require.NoError(t, f.k.RemoveActiveLease(f.ctx, owner))
	require.Equal(t, uint64(0), f.provider(owner).ActiveLeases)
	require.ErrorIs(t, f.k.RemoveActiveLease(f.ctx, owner), types.ErrNoActiveLeases)
}

func TestCheckCanBid(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	_, err := f.k.CheckCanBid(f.ctx, owner)
	require.ErrorIs(t, err, types.ErrProviderNotFound)
	f.register(owner, 1000)
	_, err = f.k.CheckCanBid(f.ctx, owner)
	require.NoError(t, err)
	_, err = f.k.Slash(f.ctx, owner, 100, "x")
	require.NoError(t, err)
	_, err = f.k.CheckCanBid(f.ctx, owner)
	require.ErrorIs(t, err, types.ErrInsufficientBond)
}

func TestSetReputation(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	require.ErrorIs(t, f.k.SetReputation(f.ctx, owner, 10, "x"), types.ErrProviderNotFound)
	f.register(owner, 1000)
	require.ErrorIs(t, f.k.SetReputation(f.ctx, owner, -1, "x"), types.ErrInvalidReputation)
	require.ErrorIs(t, f.k.SetReputation(f.ctx, owner, 10_001, "x"), types.ErrInvalidReputation)
	f.freshEvents()
	require.NoError(t, f.k.SetReputation(f.ctx, owner, 10_000, "challenge passed"))
	require.Equal(t, int64(10_000), f.provider(owner).Reputation)
	require.Equal(t, []*types.EventReputationChanged{{Owner: f.str(owner), OldReputation: types.DefaultInitialReputation, NewReputation: 10_000, Reason: "challenge passed"}},
		events[*types.EventReputationChanged](t, f.ctx))
	require.NoError(t, f.k.SetReputation(f.ctx, owner, 0, "x"))
	require.Equal(t, int64(0), f.provider(owner).Reputation)
}

func TestMarkGPUVerifiedAndDropGPUs(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	require.ErrorIs(t, f.k.MarkGPUVerified(f.ctx, owner, "GPU-aaaa"), types.ErrProviderNotFound)
	require.ErrorIs(t, f.k.DropGPUs(f.ctx, owner), types.ErrProviderNotFound)
	f.register(owner, 1000)

	f.setHeight(42)
	require.NoError(t, f.k.MarkGPUVerified(f.ctx, owner, "GPU-bbbb"))
	p := f.provider(owner)
	require.Equal(t, int64(0), p.Gpus[0].VerifiedHeight)
	require.Equal(t, int64(42), p.Gpus[1].VerifiedHeight)
	require.Equal(t, []*types.EventGPUVerified{{Owner: f.str(owner), Uuid: "GPU-bbbb", VerifiedHeight: 42}},
		events[*types.EventGPUVerified](t, f.ctx))
	require.ErrorIs(t, f.k.MarkGPUVerified(f.ctx, owner, "GPU-zzzz"), types.ErrGPUNotFound)

	// Fraud: inventory cleared even with active leases.
	require.NoError(t, f.k.AddActiveLease(f.ctx, owner))
	f.freshEvents()
	require.NoError(t, f.k.DropGPUs(f.ctx, owner))
	require.Empty(t, f.provider(owner).Gpus)
	require.Equal(t, []*types.EventGPUsDropped{{Owner: f.str(owner), GpuCount: 2}}, events[*types.EventGPUsDropped](t, f.ctx))
	require.ErrorIs(t, f.k.MarkGPUVerified(f.ctx, owner, "GPU-bbbb"), types.ErrGPUNotFound)
}

func TestNotFoundMapsToGRPCNotFound(t *testing.T) {
	f := newFixture(t)
	_, err := f.k.GetProvider(f.ctx, f.addr(1))
	require.ErrorIs(t, err, types.ErrProviderNotFound)
	require.Equal(t, codes.NotFound, status.Code(err))
	require.Equal(t, codes.InvalidArgument, status.Code(types.ErrDuplicateGPU))
	require.Equal(t, codes.PermissionDenied, status.Code(types.ErrInvalidSigner))
}
