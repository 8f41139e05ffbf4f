package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/internal/heightqueue"
	"github.com/crucible-network/crucible/x/market/types"
)

// EndBlocker ends leases that reached end_height, expires open orders that
// reached expires_height, and closes the leases whose escrow account can no
// longer pay a block. The two queues share a budget of
// params.max_expiries_per_block entries (leases first, because a late lease
// end costs the tenant money); what is left waits for the next block. Nothing
// loops over all orders or leases.
//
// Each entry is processed in a cached context: an entry whose processing
// fails is logged and dropped from its queue with its state unchanged, so one
// bad entry neither halts the chain nor blocks the queue. Last, up to
// params.max_expiries_per_block finished orders past
// params.closed_retention_blocks are pruned (prune.go).
func (k Keeper) EndBlocker(ctx context.Context) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	budget := params.MaxExpiriesPerBlock
	n, err := k.processLeaseEnds(ctx, budget)
	if err != nil {
		return err
	}
	budget -= n
	if _, err := k.processOrderExpiries(ctx, budget); err != nil {
		return err
	}
	if err := k.processExhausted(ctx); err != nil {
		return err
	}
	return k.pruneClosed(ctx, params, params.MaxExpiriesPerBlock)
}

// dueKeys returns up to limit keys of queue whose height is <= now.
func dueKeys(ctx context.Context, queue collections.KeySet[collections.Pair[int64, uint64]], limit uint32) ([]collections.Pair[int64, uint64], error) {
	return heightqueue.Due(ctx, queue, sdk.UnwrapSDKContext(ctx).BlockHeight(), limit)
}

// processLeaseEnds closes up to limit leases whose end_height has come and
// returns how many queue entries it consumed.
func (k Keeper) processLeaseEnds(ctx context.Context, limit uint32) (uint32, error) {
	keys, err := dueKeys(ctx, k.LeaseEndQueue, limit)
	if err != nil {
		return 0, err
	}
	for _, key := range keys {
		k.inCache(ctx, "lease end", key.K2(), func(cctx sdk.Context) error {
			lease, err := k.GetLease(cctx, key.K2())
			if err != nil {
				return err
			}
			if lease.State != types.LeaseStateActive {
				return errors.New("lease is not active")
			}
			return k.closeLease(cctx, lease, types.LeaseCloseReasonExpired)
		}, func() error { return k.LeaseEndQueue.Remove(ctx, key) })
	}
	return uint32(len(keys)), nil
}

// processOrderExpiries expires up to limit open orders whose expires_height
// has come and returns how many queue entries it consumed.
func (k Keeper) processOrderExpiries(ctx context.Context, limit uint32) (uint32, error) {
	keys, err := dueKeys(ctx, k.OrderExpiryQueue, limit)
	if err != nil {
		return 0, err
	}
	for _, key := range keys {
		k.inCache(ctx, "order expiry", key.K2(), func(cctx sdk.Context) error {
			order, err := k.GetOrder(cctx, key.K2())
			if err != nil {
				return err
			}
			if order.State != types.OrderStateOpen {
				return errors.New("order is not open")
			}
			return k.endOpenOrder(cctx, order, types.OrderStateExpired)
		}, func() error { return k.OrderExpiryQueue.Remove(ctx, key) })
	}
	return uint32(len(keys)), nil
}

// processExhausted closes the active leases whose escrow account can no longer
// pay a block. x/escrow bounds how many it returns.
func (k Keeper) processExhausted(ctx context.Context) error {
	ids, err := k.escrow.ProcessDue(ctx, 0)
	if err != nil {
		return err
	}
	for _, id := range ids {
		lease, err := k.Leases.Get(ctx, id)
		if errors.Is(err, collections.ErrNotFound) {
			continue // an account of an order without a lease
		}
		if err != nil {
			return err
		}
		if lease.State != types.LeaseStateActive {
			continue
		}
		k.inCache(ctx, "insufficient funds", id, func(cctx sdk.Context) error {
			return k.closeLease(cctx, lease, types.LeaseCloseReasonInsufficientFunds)
		}, nil)
	}
	return nil
}

// inCache runs fn in a cached context and writes it on success. On failure it
// logs and drops the cached writes, then runs cleanup (if any) on ctx so the
// entry leaves its queue.
func (k Keeper) inCache(ctx context.Context, what string, id uint64, fn func(sdk.Context) error, cleanup func() error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	cctx, write := sdkCtx.CacheContext()
	if err := fn(cctx); err != nil {
		k.Logger(ctx).Error("end block processing failed", "what", what, "id", id, "err", err)
		if cleanup != nil {
			if err := cleanup(); err != nil && !errors.Is(err, collections.ErrNotFound) {
				k.Logger(ctx).Error("removing queue entry failed", "what", what, "id", id, "err", err)
			}
		}
		return
	}
	write()
}
