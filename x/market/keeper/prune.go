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
// its lease and its x/escrow account (which by then holds nothing), at most
// params.max_prune_records_per_block records a block, so an order with many
// bids is deleted over several blocks. Without this, state would grow with
// every order ever placed. Events keep the history for indexers.

// markClosed sets o.ClosedHeight to the current height and queues o for
// pruning. The caller stores o.
func (k Keeper) markClosed(ctx context.Context, o *types.Order) error {
	if o.ClosedHeight != 0 {
		return errorsmod.Wrapf(types.ErrInconsistentState, "order %d already closed at %d", o.Id, o.ClosedHeight)
	}
	o.ClosedHeight = blockHeight(ctx)
	return k.ClosedQueue.Set(ctx, collections.Join(o.ClosedHeight, o.Id))
}

// pruneClosed deletes finished orders (with their bids, leases and escrow
// accounts) whose closed_height is at least params.closed_retention_blocks
// old, oldest first, looking at up to limit queued orders and deleting at
// most params.max_prune_records_per_block records in all; a retention of 0
// keeps them. An order whose records do not fit in what is left of the
// budget is deleted in part (its bids first) and stays queued: the next
// block resumes where this one stopped. The store itself is the cursor (the
// bids still under the order's index prefix), so a partly pruned order
// survives a genesis export and import and is resumed after it.
//
// Each step runs in a cached context: one that fails is logged and left out
// of the queue, in state, so one bad entry neither halts the chain nor
// blocks the queue; pruning then stops for the block, so the budget bounds
// the work, failed work included.
func (k Keeper) pruneClosed(ctx context.Context, params types.Params, limit uint32) error {
	now := blockHeight(ctx)
	if params.ClosedRetentionBlocks == 0 || now <= int64(params.ClosedRetentionBlocks) || limit == 0 {
		return nil
	}
	keys, err := heightqueue.Due(ctx, k.ClosedQueue, now-int64(params.ClosedRetentionBlocks), limit)
	if err != nil {
		return err
	}
	budget := params.MaxPruneRecordsPerBlock
	var pruned uint32
	var through int64
	for _, key := range keys {
		if budget == 0 {
			break
		}
		var used uint32
		done, ok := false, false
		k.inCache(ctx, "prune order", key.K2(), func(cctx sdk.Context) error {
			var err error
			used, done, err = k.pruneOrder(cctx, key.K2(), budget)
			ok = err == nil
			return err
		}, func() error { return k.ClosedQueue.Remove(ctx, key) })
		if !ok {
			// It left the queue; its work (up to the budget) was dropped.
			// Stop here so that a failing entry costs no more than the
			// budget either.
			break
		}
		budget -= used
		if !done {
			break // out of budget: the order stays queued and resumes next block
		}
		if err := k.ClosedQueue.Remove(ctx, key); err != nil {
			return err
		}
		pruned++
		through = key.K1()
	}
	if pruned == 0 {
		return nil
	}
	return emit(ctx, &types.EventOrdersPruned{Count: pruned, ClosedThrough: through})
}

// pruneOrder deletes up to budget records of a finished order: its bids
// first, then, when they are gone and the budget allows, its winning bid
// with its lease, its escrow account and the order, with every index entry
// that points at them. The winning bid goes with its lease, so a partly
// pruned order is still a valid genesis state (a lease's winning bid
// exists). It returns how many records it deleted and whether the order is
// gone.
func (k Keeper) pruneOrder(ctx context.Context, id uint64, budget uint32) (used uint32, done bool, err error) {
	order, err := k.GetOrder(ctx, id)
	if err != nil {
		return 0, false, err
	}
	if order.ClosedHeight == 0 {
		return 0, false, errorsmod.Wrapf(types.ErrInconsistentState, "order %d is not finished", id)
	}
	tenant, err := decode(k, order.Tenant)
	if err != nil {
		return 0, false, err
	}
	lease, err := k.Leases.Get(ctx, id)
	hasLease := err == nil
	switch {
	case errors.Is(err, collections.ErrNotFound):
	case err != nil:
		return 0, false, err
	case lease.State == types.LeaseStateActive:
		return 0, false, errorsmod.Wrapf(types.ErrInconsistentState, "lease %d of finished order is active", id)
	}
	// The bids but the winning one: collect up to budget, then delete (no
	// writes under an open iterator).
	var bids []uint64
	rng := collections.NewPrefixedTripleRange[uint64, sdk.AccAddress, uint64](id)
	if err := k.BidsByOrderProvider.Walk(ctx, rng, func(key collections.Triple[uint64, sdk.AccAddress, uint64]) (bool, error) {
		if hasLease && key.K3() == lease.BidId {
			return false, nil
		}
		bids = append(bids, key.K3())
		return uint32(len(bids)) >= budget, nil
	}); err != nil {
		return 0, false, err
	}
	for _, bidID := range bids {
		if err := k.pruneBid(ctx, id, bidID); err != nil {
			return 0, false, err
		}
	}
	used = uint32(len(bids))
	// What is left: the escrow account and the order, and the lease with
	// its winning bid.
	rest := uint32(2)
	if hasLease {
		rest += 2
	}
	if uint32(len(bids)) == budget || budget-used < rest {
		return used, false, nil
	}
	if hasLease {
		if err := k.pruneBid(ctx, id, lease.BidId); err != nil && !errors.Is(err, types.ErrBidNotFound) {
			return 0, false, err
		}
		provider, err := decode(k, lease.Provider)
		if err != nil {
			return 0, false, err
		}
		if err := k.LeasesByStateProvider.Remove(ctx, collections.Join3(int32(lease.State), provider, id)); err != nil {
			return 0, false, err
		}
		if err := k.Leases.Remove(ctx, id); err != nil {
			return 0, false, err
		}
	}
	if err := k.escrow.PruneAccount(ctx, id); err != nil {
		return 0, false, errorsmod.Wrapf(err, "prune escrow account %d", id)
	}
	if err := k.OrdersByStateTenant.Remove(ctx, collections.Join3(int32(order.State), tenant, id)); err != nil {
		return 0, false, err
	}
	if err := k.Orders.Remove(ctx, id); err != nil {
		return 0, false, err
	}
	return used + rest, true, nil
}

// pruneBid deletes a bid of a finished order, which must not be open.
func (k Keeper) pruneBid(ctx context.Context, orderID, bidID uint64) error {
	bid, err := k.GetBid(ctx, bidID)
	if err != nil {
		return err
	}
	if bid.State == types.BidStateOpen {
		return errorsmod.Wrapf(types.ErrInconsistentState, "bid %d of finished order %d is open", bid.Id, orderID)
	}
	return k.deleteBid(ctx, bid)
}
