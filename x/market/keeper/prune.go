package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/internal/heightqueue"
	"github.com/crucible-network/crucible/x/market/types"
)

// Finished orders are pruned. An order's business ends when it is cancelled
// or expires, or when its lease closes; markClosed records that height in
// order.closed_height and queues the order. params.closed_retention_blocks
// later the EndBlocker deletes the whole unit: the order, every bid on it,
// its lease and its x/escrow account (which by then holds nothing). Without
// this, state would grow with every order ever placed. Events keep the
// history for indexers.

// markClosed sets o.ClosedHeight to the current height and queues o for
// pruning. The caller stores o.
func (k Keeper) markClosed(ctx context.Context, o *types.Order) error {
	if o.ClosedHeight != 0 {
		return errorsmod.Wrapf(types.ErrInconsistentState, "order %d already closed at %d", o.Id, o.ClosedHeight)
	}
	o.ClosedHeight = blockHeight(ctx)
	return k.ClosedQueue.Set(ctx, collections.Join(o.ClosedHeight, o.Id))
}

// pruneClosed deletes up to limit finished orders (with their bids, leases
// and escrow accounts) whose closed_height is at least
// params.closed_retention_blocks old, oldest first; a retention of 0 keeps
// them. Each unit is deleted in a cached context: one that fails is logged
// and left out of the queue, in state, so one bad entry neither halts the
// chain nor blocks the queue.
func (k Keeper) pruneClosed(ctx context.Context, params types.Params, limit uint32) error {
	now := blockHeight(ctx)
	if params.ClosedRetentionBlocks == 0 || now <= int64(params.ClosedRetentionBlocks) || limit == 0 {
		return nil
	}
	keys, err := heightqueue.Due(ctx, k.ClosedQueue, now-int64(params.ClosedRetentionBlocks), limit)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	for _, key := range keys {
		if err := k.ClosedQueue.Remove(ctx, key); err != nil {
			return err
		}
		k.inCache(ctx, "prune order", key.K2(), func(cctx sdk.Context) error {
			return k.deleteOrder(cctx, key.K2())
		}, nil)
	}
	return emit(ctx, &types.EventOrdersPruned{Count: uint32(len(keys)), ClosedThrough: keys[len(keys)-1].K1()})
}

// deleteOrder deletes a finished order, its bids, its lease and its escrow
// account, with every index entry that points at them.
func (k Keeper) deleteOrder(ctx context.Context, id uint64) error {
	order, err := k.GetOrder(ctx, id)
	if err != nil {
		return err
	}
	if order.ClosedHeight == 0 {
		return errorsmod.Wrapf(types.ErrInconsistentState, "order %d is not finished", id)
	}
	tenant, err := decode(k, order.Tenant)
	if err != nil {
		return err
	}
	// Bids: collect first, then delete (no writes under an open iterator).
	var bids []collections.Triple[uint64, sdk.AccAddress, uint64]
	rng := collections.NewPrefixedTripleRange[uint64, sdk.AccAddress, uint64](id)
	if err := k.BidsByOrderProvider.Walk(ctx, rng, func(key collections.Triple[uint64, sdk.AccAddress, uint64]) (bool, error) {
		bids = append(bids, key)
		return false, nil
	}); err != nil {
		return err
	}
	for _, key := range bids {
		bid, err := k.GetBid(ctx, key.K3())
		if err != nil {
			return err
		}
		if bid.State == types.BidStateOpen {
			return errorsmod.Wrapf(types.ErrInconsistentState, "bid %d of finished order %d is open", bid.Id, id)
		}
		for _, rm := range []func() error{
			func() error {
				return k.BidsByStateProvider.Remove(ctx, collections.Join3(int32(bid.State), key.K2(), bid.Id))
			},
			func() error { return k.BidsByOrderProvider.Remove(ctx, key) },
			func() error { return k.Bids.Remove(ctx, bid.Id) },
		} {
			if err := rm(); err != nil {
				return err
			}
		}
	}
	lease, err := k.Leases.Get(ctx, id)
	switch {
	case errors.Is(err, collections.ErrNotFound):
	case err != nil:
		return err
	case lease.State == types.LeaseStateActive:
		return errorsmod.Wrapf(types.ErrInconsistentState, "lease %d of finished order is active", id)
	default:
		provider, err := decode(k, lease.Provider)
		if err != nil {
			return err
		}
		if err := k.LeasesByStateProvider.Remove(ctx, collections.Join3(int32(lease.State), provider, id)); err != nil {
			return err
		}
		if err := k.Leases.Remove(ctx, id); err != nil {
			return err
		}
	}
	if err := k.escrow.PruneAccount(ctx, id); err != nil {
		return errorsmod.Wrapf(err, "prune escrow account %d", id)
	}
	if err := k.OrdersByStateTenant.Remove(ctx, collections.Join3(int32(order.State), tenant, id)); err != nil {
		return err
	}
	return k.Orders.Remove(ctx, id)
}
