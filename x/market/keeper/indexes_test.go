package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/market/types"
)

// requireIndexesMatch checks that every index holds exactly the entries the
// stored orders, bids and leases imply: the keeper updates only the entries
// whose fields change, so a missed or stale entry would show here.
func requireIndexesMatch(t *testing.T, f *fixture) {
	t.Helper()
	ctx, k := f.ctx, f.k
	addr := func(s string) sdk.AccAddress {
		bz, err := k.AddressCodec().StringToBytes(s)
		require.NoError(t, err)
		return bz
	}
	type (
		sa = collections.Triple[int32, sdk.AccAddress, uint64]
		oa = collections.Triple[uint64, sdk.AccAddress, uint64]
	)
	str := func(k sa) string { return string(rune(k.K1())) + string(k.K2()) + string(rune(k.K3())) }

	var wantOrders, wantBidsState, wantLeases []string
	var wantBidsOrder []oa
	var wantOpen []collections.Pair[uint64, uint64]
	require.NoError(t, k.Orders.Walk(ctx, nil, func(id uint64, o types.Order) (bool, error) {
		wantOrders = append(wantOrders, str(collections.Join3(int32(o.State), addr(o.Tenant), id)))
		return false, nil
	}))
	require.NoError(t, k.Bids.Walk(ctx, nil, func(id uint64, b types.Bid) (bool, error) {
		wantBidsState = append(wantBidsState, str(collections.Join3(int32(b.State), addr(b.Provider), id)))
		wantBidsOrder = append(wantBidsOrder, collections.Join3(b.OrderId, addr(b.Provider), id))
		if b.State == types.BidStateOpen {
			wantOpen = append(wantOpen, collections.Join(b.OrderId, id))
		}
		return false, nil
	}))
	require.NoError(t, k.Leases.Walk(ctx, nil, func(id uint64, l types.Lease) (bool, error) {
		wantLeases = append(wantLeases, str(collections.Join3(int32(l.State), addr(l.Provider), id)))
		return false, nil
	}))

	keys := func(set collections.KeySet[sa]) []string {
		var out []string
		require.NoError(t, set.Walk(ctx, nil, func(key sa) (bool, error) {
			out = append(out, str(key))
			return false, nil
		}))
		return out
	}
	require.ElementsMatch(t, wantOrders, keys(k.OrdersByStateTenant), "orders by (state, tenant)")
	require.ElementsMatch(t, wantBidsState, keys(k.BidsByStateProvider), "bids by (state, provider)")
	require.ElementsMatch(t, wantLeases, keys(k.LeasesByStateProvider), "leases by (state, provider)")

	var gotOrder []oa
	require.NoError(t, k.BidsByOrderProvider.Walk(ctx, nil, func(key oa) (bool, error) {
		gotOrder = append(gotOrder, key)
		return false, nil
	}))
	require.Len(t, gotOrder, len(wantBidsOrder))
	for i := range gotOrder {
		require.Equal(t, wantBidsOrder[i].K1(), gotOrder[i].K1())
		require.Equal(t, wantBidsOrder[i].K3(), gotOrder[i].K3())
	}
	var gotOpen []collections.Pair[uint64, uint64]
	require.NoError(t, k.OpenBidsByOrder.Walk(ctx, nil, func(key collections.Pair[uint64, uint64]) (bool, error) {
		gotOpen = append(gotOpen, key)
		return false, nil
	}))
	require.ElementsMatch(t, wantOpen, gotOpen, "open bids by order")
}

func TestIndexesFollowEveryStateChange(t *testing.T) {
	f := queryWorld(t)
	requireIndexesMatch(t, f)

	// The indexes survive a genesis round trip (InitGenesis rebuilds them).
	gs, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)
	g := setup(t)
	require.NoError(t, g.k.InitGenesis(g.ctx, gs))
	requireIndexesMatch(t, g)
}
