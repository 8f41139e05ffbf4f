package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/market/types"
)

// InitGenesis loads the genesis state and rebuilds what is derived from it:
// the indexes, the order-expiry queue (open orders), the lease-end queue and
// the GPU assignments (active leases).
func (k Keeper) InitGenesis(ctx context.Context, gs *types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, o := range gs.Orders {
		if _, err := k.decodeAddress("order tenant", o.Tenant); err != nil {
			return errorsmod.Wrapf(types.ErrInvalidGenesis, "order %d: %s", o.Id, err)
		}
		if err := k.setOrder(ctx, nil, o); err != nil {
			return err
		}
		if o.State == types.OrderStateOpen {
			if err := k.OrderExpiryQueue.Set(ctx, collections.Join(o.ExpiresHeight, o.Id)); err != nil {
				return err
			}
		}
		if o.ClosedHeight > 0 {
			if err := k.ClosedQueue.Set(ctx, collections.Join(o.ClosedHeight, o.Id)); err != nil {
				return err
			}
		}
	}
	for _, b := range gs.Bids {
		if _, err := k.decodeAddress("bid provider", b.Provider); err != nil {
			return errorsmod.Wrapf(types.ErrInvalidGenesis, "bid %d: %s", b.Id, err)
		}
		if err := k.setBid(ctx, nil, b); err != nil {
			return err
		}
	}
	for _, l := range gs.Leases {
		provider, err := k.decodeAddress("lease provider", l.Provider)
		if err != nil {
			return errorsmod.Wrapf(types.ErrInvalidGenesis, "lease %d: %s", l.Id, err)
		}
		if _, err := k.decodeAddress("lease tenant", l.Tenant); err != nil {
			return errorsmod.Wrapf(types.ErrInvalidGenesis, "lease %d: %s", l.Id, err)
		}
		if err := k.setLease(ctx, nil, l); err != nil {
			return err
		}
		if l.State != types.LeaseStateActive {
			continue
		}
		if err := k.LeaseEndQueue.Set(ctx, collections.Join(l.EndHeight, l.Id)); err != nil {
			return err
		}
		for _, u := range l.GpuUuids {
			if err := k.GPUAssignments.Set(ctx, collections.Join(sdk.AccAddress(provider), u), l.Id); err != nil {
				return err
			}
		}
	}
	if err := k.NextOrderID.Set(ctx, gs.NextOrderId); err != nil {
		return err
	}
	return k.NextBidID.Set(ctx, gs.NextBidId)
}

// ExportGenesis exports params, every order, bid and lease, and the next ids.
// Queues and assignments are not exported: InitGenesis rebuilds them.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: params}
	if err := k.Orders.Walk(ctx, nil, func(_ uint64, o types.Order) (bool, error) {
		gs.Orders = append(gs.Orders, o)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Bids.Walk(ctx, nil, func(_ uint64, b types.Bid) (bool, error) {
		gs.Bids = append(gs.Bids, b)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Leases.Walk(ctx, nil, func(_ uint64, l types.Lease) (bool, error) {
		gs.Leases = append(gs.Leases, l)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if gs.NextOrderId, err = k.NextOrderID.Peek(ctx); err != nil {
		return nil, err
	}
	if gs.NextBidId, err = k.NextBidID.Peek(ctx); err != nil {
		return nil, err
	}
	// A store that never ran InitGenesis has its sequences at 0; ids start at 1.
	gs.NextOrderId = max(gs.NextOrderId, 1)
	gs.NextBidId = max(gs.NextBidId, 1)
	return gs, nil
}
