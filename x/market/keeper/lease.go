package keeper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/market/types"
)

// CreateLease accepts an open bid on tenant's open order. It re-checks that
// the provider can still serve the order with the bid's GPUs, activates the
// escrow account at the bid price, assigns the GPUs, marks the bid WON (its
// deposit stays locked until the lease closes), the other open bids LOST
// (deposits returned) and the order MATCHED. The lease id is the order id.
func (k Keeper) CreateLease(ctx context.Context, tenant sdk.AccAddress, bidID uint64) (uint64, error) {
	bid, err := k.GetBid(ctx, bidID)
	if err != nil {
		return 0, err
	}
	order, err := k.GetOrder(ctx, bid.OrderId)
	if err != nil {
		return 0, err
	}
	if err := k.checkOwner("order tenant", order.Tenant, tenant); err != nil {
		return 0, err
	}
	if order.State != types.OrderStateOpen {
		return 0, errorsmod.Wrapf(types.ErrOrderNotOpen, "order %d is %s", order.Id, order.State)
	}
	if bid.State != types.BidStateOpen {
		return 0, errorsmod.Wrapf(types.ErrBidNotOpen, "bid %d is %s", bid.Id, bid.State)
	}
	now := blockHeight(ctx)
	if now >= order.ExpiresHeight {
		return 0, errorsmod.Wrapf(types.ErrOrderExpired, "order %d expired at height %d", order.Id, order.ExpiresHeight)
	}
	end, err := addHeight(now, order.DurationBlocks)
	if err != nil {
		return 0, err
	}
	provider, err := k.addressCodec.StringToBytes(bid.Provider)
	if err != nil {
		return 0, err
	}
	if err := k.checkProviderServes(ctx, provider, order.Spec, bid.GpuUuids); err != nil {
		return 0, err
	}

	if err := k.escrow.ActivateAccount(ctx, order.Id, provider, bid.Price, end); err != nil {
		return 0, errorsmod.Wrapf(err, "activate escrow account %d", order.Id)
	}
	if err := k.providers.AddActiveLease(ctx, provider); err != nil {
		return 0, errorsmod.Wrapf(err, "count lease on provider %s", bid.Provider)
	}
	for _, u := range bid.GpuUuids {
		if err := k.GPUAssignments.Set(ctx, collections.Join(sdk.AccAddress(provider), u), order.Id); err != nil {
			return 0, err
		}
	}
	prevBid := bid
	bid.State = types.BidStateWon
	if err := k.setBid(ctx, &prevBid, bid); err != nil {
		return 0, err
	}
	if err := k.loseOpenBids(ctx, order.Id, bid.Id); err != nil {
		return 0, err
	}
	if err := k.OrderExpiryQueue.Remove(ctx, collections.Join(order.ExpiresHeight, order.Id)); err != nil {
		return 0, err
	}
	prevOrder := order
	order.State = types.OrderStateMatched
	if err := k.setOrder(ctx, &prevOrder, order); err != nil {
		return 0, err
	}
	lease := types.Lease{
		Id:          order.Id,
		BidId:       bid.Id,
		Tenant:      order.Tenant,
		Provider:    bid.Provider,
		Price:       bid.Price,
		GpuUuids:    bid.GpuUuids,
		StartHeight: now,
		EndHeight:   end,
		State:       types.LeaseStateActive,
	}
	if err := k.setLease(ctx, nil, lease); err != nil {
		return 0, err
	}
	if err := k.LeaseEndQueue.Set(ctx, collections.Join(end, lease.Id)); err != nil {
		return 0, err
	}
	return lease.Id, emit(ctx, &types.EventLeaseCreated{
		LeaseId:     lease.Id,
		BidId:       bid.Id,
		Tenant:      lease.Tenant,
		Provider:    lease.Provider,
		Price:       lease.Price,
		GpuUuids:    lease.GpuUuids,
		StartHeight: now,
		EndHeight:   end,
	})
}

// CloseLease closes an active lease on behalf of its tenant or provider; the
// reason (TENANT or PROVIDER) follows from which one signed.
func (k Keeper) CloseLease(ctx context.Context, sender sdk.AccAddress, leaseID uint64) error {
	lease, err := k.GetLease(ctx, leaseID)
	if err != nil {
		return err
	}
	var reason types.LeaseCloseReason
	switch {
	case k.isAddress(lease.Tenant, sender):
		reason = types.LeaseCloseReasonTenant
	case k.isAddress(lease.Provider, sender):
		reason = types.LeaseCloseReasonProvider
	default:
		return errorsmod.Wrapf(types.ErrUnauthorized, "lease %d belongs to tenant %s and provider %s", leaseID, lease.Tenant, lease.Provider)
	}
	if lease.State != types.LeaseStateActive {
		return errorsmod.Wrapf(types.ErrLeaseNotActive, "lease %d is %s", leaseID, lease.State)
	}
	return k.closeLease(ctx, lease, reason)
}

// CloseProviderLeases closes every active lease of provider with reason (for
// x/attest: PROVIDER_SLASHED or PROVIDER_JAILED, or any other closing
// reason). The work is bounded by the provider's active leases, which its GPU
// count bounds; they are found through the leases-by-(provider, state) index.
func (k Keeper) CloseProviderLeases(ctx context.Context, provider sdk.AccAddress, reason types.LeaseCloseReason) (closed []uint64, err error) {
	if err := checkCloseReason(reason); err != nil {
		return nil, err
	}
	iter, err := k.LeasesByStateProvider.Iterate(ctx,
		collections.NewSuperPrefixedTripleRange[int32, sdk.AccAddress, uint64](int32(types.LeaseStateActive), provider))
	if err != nil {
		return nil, err
	}
	keys, err := iter.Keys()
	if err != nil {
		return nil, err
	}
	for _, key := range keys {
		id := key.K3()
		lease, err := k.Leases.Get(ctx, id)
		if err != nil {
			return closed, err
		}
		if err := k.closeLease(ctx, lease, reason); err != nil {
			return closed, err
		}
		closed = append(closed, id)
	}
	return closed, nil
}

// escrowCloseReason is the escrow close reason of a lease closed for reason,
// in the format of the order reasons (escrowReasonOrderCancelled):
// LEASE_CLOSE_REASON_INSUFFICIENT_FUNDS -> "lease_insufficient_funds".
func escrowCloseReason(reason types.LeaseCloseReason) string {
	return "lease_" + strings.ToLower(strings.TrimPrefix(reason.String(), "LEASE_CLOSE_REASON_"))
}

// closeLease closes an active lease: settles and closes the escrow account,
// releases the provider's lease count and GPUs, returns the winning bid's
// deposit and records the close.
func (k Keeper) closeLease(ctx context.Context, lease types.Lease, reason types.LeaseCloseReason) error {
	provider, err := k.addressCodec.StringToBytes(lease.Provider)
	if err != nil {
		return err
	}
	if _, err := k.escrow.CloseAccount(ctx, lease.Id, escrowCloseReason(reason)); err != nil {
		return errorsmod.Wrapf(err, "close escrow account %d", lease.Id)
	}
	if err := k.providers.RemoveActiveLease(ctx, provider); err != nil {
		return errorsmod.Wrapf(err, "uncount lease on provider %s", lease.Provider)
	}
	for _, u := range lease.GpuUuids {
		key := collections.Join(sdk.AccAddress(provider), u)
		owner, err := k.GPUAssignments.Get(ctx, key)
		if errors.Is(err, collections.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if owner != lease.Id {
			continue // not ours (never happens with consistent state)
		}
		if err := k.GPUAssignments.Remove(ctx, key); err != nil {
			return err
		}
	}
	bid, err := k.GetBid(ctx, lease.BidId)
	if err != nil {
		return err
	}
	compensation := sdk.NewCoin(bid.Deposit.Denom, math.ZeroInt())
	if types.IsProviderFault(reason) {
		// The provider's fault ended the lease: its winning bid deposit goes
		// to the tenant.
		if bid.Deposit.IsPositive() {
			tenant, err := k.addressCodec.StringToBytes(lease.Tenant)
			if err != nil {
				return err
			}
			if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, tenant, sdk.NewCoins(bid.Deposit)); err != nil {
				return errorsmod.Wrapf(err, "compensate tenant of lease %d", lease.Id)
			}
			compensation = bid.Deposit
		}
	} else if err := k.refundBidDeposit(ctx, bid); err != nil {
		return err
	}
	if err := k.LeaseEndQueue.Remove(ctx, collections.Join(lease.EndHeight, lease.Id)); err != nil {
		return err
	}
	now := blockHeight(ctx)
	prev := lease
	lease.State = types.LeaseStateClosed
	lease.CloseReason = reason
	lease.ClosedHeight = now
	if err := k.setLease(ctx, &prev, lease); err != nil {
		return err
	}
	order, err := k.GetOrder(ctx, lease.Id)
	if err != nil {
		return err
	}
	if err := k.markClosed(ctx, &order); err != nil {
		return err
	}
	if err := k.Orders.Set(ctx, order.Id, order); err != nil { // state unchanged: no index moves
		return err
	}
	return emit(ctx, &types.EventLeaseClosed{
		LeaseId:      lease.Id,
		Reason:       reason,
		Tenant:       lease.Tenant,
		Provider:     lease.Provider,
		ClosedHeight: now,
		Compensation: compensation,
	})
}

// CloseGPULease closes the active lease on provider's GPU uuid, if there is
// one, with reason (x/attest: GPU_FAILED when the GPU's claim is dropped).
// It returns the closed lease ids (none or one).
func (k Keeper) CloseGPULease(ctx context.Context, provider sdk.AccAddress, uuid string, reason types.LeaseCloseReason) ([]uint64, error) {
	if err := checkCloseReason(reason); err != nil {
		return nil, err
	}
	lease, ok, err := k.gpuLease(ctx, provider, uuid)
	if err != nil || !ok {
		return nil, err
	}
	if err := k.closeLease(ctx, lease, reason); err != nil {
		return nil, err
	}
	return []uint64{lease.Id}, nil
}

// gpuLease returns the active lease assigned provider's GPU uuid, if any.
func (k Keeper) gpuLease(ctx context.Context, provider sdk.AccAddress, uuid string) (types.Lease, bool, error) {
	id, err := k.GPUAssignments.Get(ctx, collections.Join(provider, uuid))
	if errors.Is(err, collections.ErrNotFound) {
		return types.Lease{}, false, nil
	} else if err != nil {
		return types.Lease{}, false, err
	}
	lease, err := k.GetLease(ctx, id)
	if err != nil {
		return types.Lease{}, false, err
	}
	return lease, lease.State == types.LeaseStateActive, nil
}

// DockGPU refunds the tenant of the active lease on provider's GPU uuid what
// the provider was paid for that GPU over the blocks after max(sinceHeight,
// the lease's start) up to now (x/attest: the GPU missed a challenge, so
// those blocks are unproven):
//
//	gross = price * (now - from) / len(lease.gpu_uuids)   (rounded down)
//	owed  = gross less x/escrow's take rate                 (the take stays with the community pool)
//
// taken first from the provider's unwithdrawn earnings of the lease's escrow
// account, the rest from its bond (x/provider.PayFromBond), so withdrawing
// every block does not escape it. The account is settled to now first. It
// returns the lease id, 0 when the GPU is not leased or nothing is owed.
func (k Keeper) DockGPU(ctx context.Context, provider sdk.AccAddress, uuid string, sinceHeight int64) (uint64, error) {
	lease, ok, err := k.gpuLease(ctx, provider, uuid)
	if err != nil || !ok {
		return 0, err
	}
	now := blockHeight(ctx)
	from := max(sinceHeight, lease.StartHeight)
	if now <= from || len(lease.GpuUuids) == 0 {
		return 0, nil
	}
	gross := sdk.NewCoin(lease.Price.Denom,
		lease.Price.Amount.Mul(math.NewInt(now-from)).Quo(math.NewInt(int64(len(lease.GpuUuids)))))
	if !gross.IsPositive() {
		return 0, nil
	}
	fromEarnings, owed, err := k.escrow.Clawback(ctx, lease.Id, gross)
	if err != nil {
		return 0, errorsmod.Wrapf(err, "claw back earnings of lease %d", lease.Id)
	}
	fromBond := sdk.NewCoin(owed.Denom, math.ZeroInt())
	if rest := owed.Amount.Sub(fromEarnings.Amount); rest.IsPositive() {
		tenant, err := k.addressCodec.StringToBytes(lease.Tenant)
		if err != nil {
			return 0, err
		}
		if fromBond, err = k.providers.PayFromBond(ctx, provider, tenant, sdk.NewCoin(owed.Denom, rest),
			fmt.Sprintf("lease %d: gpu %s missed a challenge", lease.Id, uuid)); err != nil {
			return 0, err
		}
	}
	return lease.Id, emit(ctx, &types.EventLeaseDocked{
		LeaseId: lease.Id, GpuUuid: uuid, FromHeight: from, ToHeight: now,
		Owed: owed, FromEarnings: fromEarnings, FromBond: fromBond,
	})
}

// SubmitResult records the provider's result receipt on its lease. The
// first result may come while the lease is active or after it closed (a job
// can finish in the block its lease ends); while the lease is active a later
// one supersedes it, up to MaxResultSubmissions in all, so a result posted
// before the job ran (a stolen hot key) does not stand for good: the honest
// sidecar replaces it. The superseded receipts stay on the lease (bounded by
// the same cap) and every submission emits EventResultSubmitted. The
// manifest hash must be the order's. msg must have passed msg.Validate(params).
func (k Keeper) SubmitResult(ctx context.Context, provider sdk.AccAddress, msg *types.MsgSubmitResult) error {
	lease, err := k.GetLease(ctx, msg.LeaseId)
	if err != nil {
		return err
	}
	if err := k.checkOwner("lease provider", lease.Provider, provider); err != nil {
		return err
	}
	order, err := k.GetOrder(ctx, lease.Id) // lease id == order id
	if err != nil {
		return err
	}
	if !bytes.Equal(msg.ManifestHash, order.Spec.ManifestHash) {
		return errorsmod.Wrapf(types.ErrManifestMismatch, "lease %d: order manifest %x, result names %x", lease.Id, order.Spec.ManifestHash, msg.ManifestHash)
	}
	prev := lease
	submission := uint32(1)
	var superseded []byte
	if old := lease.Result; old != nil {
		if lease.State != types.LeaseStateActive {
			return errorsmod.Wrapf(types.ErrResultAlreadySubmitted, "lease %d is %s: its result of height %d is final", lease.Id, lease.State, old.Height)
		}
		if bytes.Equal(old.ResultHash, msg.ResultHash) && old.Location == msg.Location {
			return errorsmod.Wrapf(types.ErrResultAlreadySubmitted, "lease %d already has this result (height %d)", lease.Id, old.Height)
		}
		submission = max(old.Submission, uint32(len(lease.SupersededResults))+1) + 1
		if submission > types.MaxResultSubmissions {
			return errorsmod.Wrapf(types.ErrTooManyResults, "lease %d has %d results, at most %d", lease.Id, submission-1, types.MaxResultSubmissions)
		}
		lease.SupersededResults = append(slices.Clone(lease.SupersededResults), *old)
		superseded = old.ResultHash
	}
	lease.Result = &types.LeaseResult{
		ResultHash:   msg.ResultHash,
		Location:     msg.Location,
		Height:       blockHeight(ctx),
		ManifestHash: msg.ManifestHash,
		Submission:   submission,
	}
	if err := k.setLease(ctx, &prev, lease); err != nil {
		return err
	}
	return emit(ctx, &types.EventResultSubmitted{
		LeaseId:        lease.Id,
		Provider:       lease.Provider,
		Tenant:         lease.Tenant,
		ResultHash:     msg.ResultHash,
		Location:       msg.Location,
		ManifestHash:   msg.ManifestHash,
		Submission:     submission,
		SupersededHash: superseded,
	})
}

// checkCloseReason refuses an unknown or unspecified close reason from
// another module.
func checkCloseReason(reason types.LeaseCloseReason) error {
	if _, ok := types.LeaseCloseReason_name[int32(reason)]; !ok || reason == types.LeaseCloseReasonUnspecified {
		return errorsmod.Wrapf(types.ErrInvalidCloseReason, "%d", reason)
	}
	return nil
}
