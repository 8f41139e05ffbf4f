package keeper

import (
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/market/types"
)

// The secondary indexes are KeySets kept by the keeper (setOrder, setBid,
// setLease), which writes an index entry only when the fields it holds
// change: a state change moves one entry per state-bearing index and leaves
// the others alone. Index keys use the raw account bytes of addresses and the
// int32 value of states, and end with the object id.
//
// Every list-query filter combination pages through an index prefix (see
// grpc_query.go):
//
//   - orders: (state, tenant, id) serves state, tenant+state, and tenant
//     alone (the tenant's prefixes under every state, merged by id);
//   - bids: (order, provider, id) serves order and order+provider (+state,
//     filtered inside that small prefix); (state, provider, id) serves
//     state, provider+state and provider alone (merged by id); the open
//     bids of an order (what bidding and accepting a bid need) have their
//     own (order, id) set;
//   - leases: (state, provider, id) serves state, provider+state, provider
//     alone (merged by id) and CloseProviderLeases; a lease has the id of its
//     order, and the orders of a tenant that are MATCHED are exactly the
//     tenant's leases, so the tenant filters page through the orders index
//     under (MATCHED, tenant) and filter provider and state on the way.

type (
	stateAddrKey   = collections.Triple[int32, sdk.AccAddress, uint64]
	orderAddrKey   = collections.Triple[uint64, sdk.AccAddress, uint64]
	stateAddrIndex = collections.KeySet[stateAddrKey]
)

func newStateAddrIndex(sb *collections.SchemaBuilder, prefix collections.Prefix, name string) stateAddrIndex {
	return collections.NewKeySet(sb, prefix, name,
		collections.TripleKeyCodec(collections.Int32Key, sdk.AccAddressKey, collections.Uint64Key))
}

// setOrder stores o and keeps the orders index in step; prev is the order as
// loaded (nil for a new one).
func (k Keeper) setOrder(ctx context.Context, prev *types.Order, o types.Order) error {
	if prev == nil || prev.State != o.State {
		tenant, err := decode(k, o.Tenant)
		if err != nil {
			return err
		}
		if prev != nil {
			if err := k.OrdersByStateTenant.Remove(ctx, collections.Join3(int32(prev.State), tenant, o.Id)); err != nil {
				return err
			}
		}
		if err := k.OrdersByStateTenant.Set(ctx, collections.Join3(int32(o.State), tenant, o.Id)); err != nil {
			return err
		}
	}
	return k.Orders.Set(ctx, o.Id, o)
}

// setBid stores b and keeps the bid indexes in step; prev is the bid as
// loaded (nil for a new one).
func (k Keeper) setBid(ctx context.Context, prev *types.Bid, b types.Bid) error {
	if prev == nil || prev.State != b.State {
		provider, err := decode(k, b.Provider)
		if err != nil {
			return err
		}
		if prev == nil {
			if err := k.BidsByOrderProvider.Set(ctx, collections.Join3(b.OrderId, provider, b.Id)); err != nil {
				return err
			}
		} else if err := k.BidsByStateProvider.Remove(ctx, collections.Join3(int32(prev.State), provider, b.Id)); err != nil {
			return err
		}
		if err := k.BidsByStateProvider.Set(ctx, collections.Join3(int32(b.State), provider, b.Id)); err != nil {
			return err
		}
		open := collections.Join(b.OrderId, b.Id)
		switch {
		case b.State == types.BidStateOpen:
			if err := k.OpenBidsByOrder.Set(ctx, open); err != nil {
				return err
			}
		case prev != nil && prev.State == types.BidStateOpen:
			if err := k.OpenBidsByOrder.Remove(ctx, open); err != nil {
				return err
			}
		}
	}
	return k.Bids.Set(ctx, b.Id, b)
}

// deleteBid deletes b and every index entry that points at it.
func (k Keeper) deleteBid(ctx context.Context, b types.Bid) error {
	provider, err := decode(k, b.Provider)
	if err != nil {
		return err
	}
	if b.State == types.BidStateOpen {
		if err := k.OpenBidsByOrder.Remove(ctx, collections.Join(b.OrderId, b.Id)); err != nil {
			return err
		}
	}
	if err := k.BidsByStateProvider.Remove(ctx, collections.Join3(int32(b.State), provider, b.Id)); err != nil {
		return err
	}
	if err := k.BidsByOrderProvider.Remove(ctx, collections.Join3(b.OrderId, provider, b.Id)); err != nil {
		return err
	}
	return k.Bids.Remove(ctx, b.Id)
}

// setLease stores l and keeps the leases index in step; prev is the lease as
// loaded (nil for a new one).
func (k Keeper) setLease(ctx context.Context, prev *types.Lease, l types.Lease) error {
	if prev == nil || prev.State != l.State {
		provider, err := decode(k, l.Provider)
		if err != nil {
			return err
		}
		if prev != nil {
			if err := k.LeasesByStateProvider.Remove(ctx, collections.Join3(int32(prev.State), provider, l.Id)); err != nil {
				return err
			}
		}
		if err := k.LeasesByStateProvider.Set(ctx, collections.Join3(int32(l.State), provider, l.Id)); err != nil {
			return err
		}
	}
	return k.Leases.Set(ctx, l.Id, l)
}

func decode(k Keeper, s string) (sdk.AccAddress, error) {
	bz, err := k.addressCodec.StringToBytes(s)
	if err != nil {
		return nil, err
	}
	return sdk.AccAddress(bz), nil
}
