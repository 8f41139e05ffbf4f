package keeper

import (
	"cosmossdk.io/collections"
	"cosmossdk.io/collections/indexes"
	"cosmossdk.io/core/address"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/market/types"
)

// Index reference keys use the raw account bytes of addresses and the int32
// value of states. Every list-query filter combination has an index whose
// prefix selects exactly the wanted entries, except tenant+provider(+state)
// for leases and order+provider(+state) for bids, which use the pair index and
// filter the state within that (small) prefix.

// OrderIndexes are the secondary indexes of Keeper.Orders.
type OrderIndexes struct {
	ByState       *indexes.Multi[int32, uint64, types.Order]
	ByTenant      *indexes.Multi[sdk.AccAddress, uint64, types.Order]
	ByTenantState *indexes.Multi[collections.Pair[sdk.AccAddress, int32], uint64, types.Order]
}

// IndexesList implements collections.Indexes.
func (i OrderIndexes) IndexesList() []collections.Index[uint64, types.Order] {
	return []collections.Index[uint64, types.Order]{i.ByState, i.ByTenant, i.ByTenantState}
}

func newOrderIndexes(sb *collections.SchemaBuilder, ac address.Codec) OrderIndexes {
	return OrderIndexes{
		ByState: indexes.NewMulti(sb, types.OrdersByStateKey, "orders_by_state",
			collections.Int32Key, collections.Uint64Key,
			func(_ uint64, o types.Order) (int32, error) { return int32(o.State), nil }),
		ByTenant: indexes.NewMulti(sb, types.OrdersByTenantKey, "orders_by_tenant",
			sdk.AccAddressKey, collections.Uint64Key,
			func(_ uint64, o types.Order) (sdk.AccAddress, error) { return decode(ac, o.Tenant) }),
		ByTenantState: indexes.NewMulti(sb, types.OrdersByTenantStateKey, "orders_by_tenant_state",
			collections.PairKeyCodec(sdk.AccAddressKey, collections.Int32Key), collections.Uint64Key,
			func(_ uint64, o types.Order) (collections.Pair[sdk.AccAddress, int32], error) {
				t, err := decode(ac, o.Tenant)
				return collections.Join(t, int32(o.State)), err
			}),
	}
}

// BidIndexes are the secondary indexes of Keeper.Bids.
type BidIndexes struct {
	ByOrder         *indexes.Multi[uint64, uint64, types.Bid]
	ByProvider      *indexes.Multi[sdk.AccAddress, uint64, types.Bid]
	ByState         *indexes.Multi[int32, uint64, types.Bid]
	ByOrderState    *indexes.Multi[collections.Pair[uint64, int32], uint64, types.Bid]
	ByProviderState *indexes.Multi[collections.Pair[sdk.AccAddress, int32], uint64, types.Bid]
	ByOrderProvider *indexes.Multi[collections.Pair[uint64, sdk.AccAddress], uint64, types.Bid]
}

// IndexesList implements collections.Indexes.
func (i BidIndexes) IndexesList() []collections.Index[uint64, types.Bid] {
	return []collections.Index[uint64, types.Bid]{
		i.ByOrder, i.ByProvider, i.ByState, i.ByOrderState, i.ByProviderState, i.ByOrderProvider,
	}
}

func newBidIndexes(sb *collections.SchemaBuilder, ac address.Codec) BidIndexes {
	return BidIndexes{
		ByOrder: indexes.NewMulti(sb, types.BidsByOrderKey, "bids_by_order",
			collections.Uint64Key, collections.Uint64Key,
			func(_ uint64, b types.Bid) (uint64, error) { return b.OrderId, nil }),
		ByProvider: indexes.NewMulti(sb, types.BidsByProviderKey, "bids_by_provider",
			sdk.AccAddressKey, collections.Uint64Key,
			func(_ uint64, b types.Bid) (sdk.AccAddress, error) { return decode(ac, b.Provider) }),
		ByState: indexes.NewMulti(sb, types.BidsByStateKey, "bids_by_state",
			collections.Int32Key, collections.Uint64Key,
			func(_ uint64, b types.Bid) (int32, error) { return int32(b.State), nil }),
		ByOrderState: indexes.NewMulti(sb, types.BidsByOrderStateKey, "bids_by_order_state",
			collections.PairKeyCodec(collections.Uint64Key, collections.Int32Key), collections.Uint64Key,
			func(_ uint64, b types.Bid) (collections.Pair[uint64, int32], error) {
				return collections.Join(b.OrderId, int32(b.State)), nil
			}),
		ByProviderState: indexes.NewMulti(sb, types.BidsByProviderStateKey, "bids_by_provider_state",
			collections.PairKeyCodec(sdk.AccAddressKey, collections.Int32Key), collections.Uint64Key,
			func(_ uint64, b types.Bid) (collections.Pair[sdk.AccAddress, int32], error) {
				p, err := decode(ac, b.Provider)
				return collections.Join(p, int32(b.State)), err
			}),
		ByOrderProvider: indexes.NewMulti(sb, types.BidsByOrderProviderKey, "bids_by_order_provider",
			collections.PairKeyCodec(collections.Uint64Key, sdk.AccAddressKey), collections.Uint64Key,
			func(_ uint64, b types.Bid) (collections.Pair[uint64, sdk.AccAddress], error) {
				p, err := decode(ac, b.Provider)
				return collections.Join(b.OrderId, p), err
			}),
	}
}

// LeaseIndexes are the secondary indexes of Keeper.Leases.
type LeaseIndexes struct {
	ByTenant         *indexes.Multi[sdk.AccAddress, uint64, types.Lease]
	ByProvider       *indexes.Multi[sdk.AccAddress, uint64, types.Lease]
	ByState          *indexes.Multi[int32, uint64, types.Lease]
	ByTenantState    *indexes.Multi[collections.Pair[sdk.AccAddress, int32], uint64, types.Lease]
	ByProviderState  *indexes.Multi[collections.Pair[sdk.AccAddress, int32], uint64, types.Lease]
	ByTenantProvider *indexes.Multi[collections.Pair[sdk.AccAddress, sdk.AccAddress], uint64, types.Lease]
}

// IndexesList implements collections.Indexes.
func (i LeaseIndexes) IndexesList() []collections.Index[uint64, types.Lease] {
	return []collections.Index[uint64, types.Lease]{
		i.ByTenant, i.ByProvider, i.ByState, i.ByTenantState, i.ByProviderState, i.ByTenantProvider,
	}
}

func newLeaseIndexes(sb *collections.SchemaBuilder, ac address.Codec) LeaseIndexes {
	return LeaseIndexes{
		ByTenant: indexes.NewMulti(sb, types.LeasesByTenantKey, "leases_by_tenant",
			sdk.AccAddressKey, collections.Uint64Key,
			func(_ uint64, l types.Lease) (sdk.AccAddress, error) { return decode(ac, l.Tenant) }),
		ByProvider: indexes.NewMulti(sb, types.LeasesByProviderKey, "leases_by_provider",
			sdk.AccAddressKey, collections.Uint64Key,
			func(_ uint64, l types.Lease) (sdk.AccAddress, error) { return decode(ac, l.Provider) }),
		ByState: indexes.NewMulti(sb, types.LeasesByStateKey, "leases_by_state",
			collections.Int32Key, collections.Uint64Key,
			func(_ uint64, l types.Lease) (int32, error) { return int32(l.State), nil }),
		ByTenantState: indexes.NewMulti(sb, types.LeasesByTenantStateKey, "leases_by_tenant_state",
			collections.PairKeyCodec(sdk.AccAddressKey, collections.Int32Key), collections.Uint64Key,
			func(_ uint64, l types.Lease) (collections.Pair[sdk.AccAddress, int32], error) {
				t, err := decode(ac, l.Tenant)
				return collections.Join(t, int32(l.State)), err
			}),
		ByProviderState: indexes.NewMulti(sb, types.LeasesByProviderStateKey, "leases_by_provider_state",
			collections.PairKeyCodec(sdk.AccAddressKey, collections.Int32Key), collections.Uint64Key,
			func(_ uint64, l types.Lease) (collections.Pair[sdk.AccAddress, int32], error) {
				p, err := decode(ac, l.Provider)
				return collections.Join(p, int32(l.State)), err
			}),
		ByTenantProvider: indexes.NewMulti(sb, types.LeasesByTenantProviderKey, "leases_by_tenant_provider",
			collections.PairKeyCodec(sdk.AccAddressKey, sdk.AccAddressKey), collections.Uint64Key,
			func(_ uint64, l types.Lease) (collections.Pair[sdk.AccAddress, sdk.AccAddress], error) {
				t, err := decode(ac, l.Tenant)
				if err != nil {
					return collections.Pair[sdk.AccAddress, sdk.AccAddress]{}, err
				}
				p, err := decode(ac, l.Provider)
				return collections.Join(t, p), err
			}),
	}
}

func decode(ac address.Codec, s string) (sdk.AccAddress, error) {
	bz, err := ac.StringToBytes(s)
	if err != nil {
		return nil, err
	}
	return sdk.AccAddress(bz), nil
}
