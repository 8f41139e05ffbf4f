package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/market/types"
)

// Escrow close reasons for orders that end without a lease.
const (
	escrowReasonOrderCancelled = "order_cancelled"
	escrowReasonOrderExpired   = "order_expired"
)

// CreateOrder opens an order for tenant. msg must have passed
// msg.Validate(params). The deposit moves into the order's escrow account
// before anything is written.
func (k Keeper) CreateOrder(ctx context.Context, tenant sdk.AccAddress, msg *types.MsgCreateOrder) (uint64, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	return k.createOrder(ctx, params, tenant, msg)
}

// createOrder is CreateOrder with the params already loaded.
func (k Keeper) createOrder(ctx context.Context, params types.Params, tenant sdk.AccAddress, msg *types.MsgCreateOrder) (uint64, error) {
	now := blockHeight(ctx)
	expires, err := addHeight(now, params.OrderTtlBlocks)
	if err != nil {
		return 0, err
	}
	tenantStr, err := k.addressCodec.BytesToString(tenant)
	if err != nil {
		return 0, err
	}
	id, err := nextID(ctx, k.NextOrderID)
	if err != nil {
		return 0, err
	}
	if err := k.escrow.OpenAccount(ctx, id, tenant, msg.Deposit); err != nil {
		return 0, errorsmod.Wrapf(err, "open escrow account for order %d", id)
	}
	order := types.Order{
		Id:               id,
		Tenant:           tenantStr,
		Spec:             msg.Spec,
		MaxPricePerBlock: msg.MaxPricePerBlock,
		DurationBlocks:   msg.DurationBlocks,
		Deposit:          msg.Deposit,
		State:            types.OrderStateOpen,
		CreatedHeight:    now,
		ExpiresHeight:    expires,
	}
	if err := k.setOrder(ctx, nil, order); err != nil {
		return 0, err
	}
	if err := k.OrderExpiryQueue.Set(ctx, collections.Join(expires, id)); err != nil {
		return 0, err
	}
	return id, emit(ctx, &types.EventOrderCreated{
		OrderId:          id,
		Tenant:           tenantStr,
		Spec:             order.Spec,
		MaxPricePerBlock: order.MaxPricePerBlock,
		DurationBlocks:   order.DurationBlocks,
		ExpiresHeight:    expires,
	})
}

// CancelOrder cancels tenant's open order: its open bids lose (deposits
// returned) and the escrow account is closed, refunding the tenant.
func (k Keeper) CancelOrder(ctx context.Context, tenant sdk.AccAddress, orderID uint64) error {
	order, err := k.GetOrder(ctx, orderID)
	if err != nil {
		return err
	}
	if err := k.checkOwner("order tenant", order.Tenant, tenant); err != nil {
		return err
	}
	if order.State != types.OrderStateOpen {
		return errorsmod.Wrapf(types.ErrOrderNotOpen, "order %d is %s", orderID, order.State)
	}
	return k.endOpenOrder(ctx, order, types.OrderStateCancelled)
}

// endOpenOrder moves an open order to CANCELLED or EXPIRED: open bids lose,
// the escrow account is closed (refunding the tenant), the order leaves the
// expiry queue and an event is emitted.
func (k Keeper) endOpenOrder(ctx context.Context, order types.Order, state types.OrderState) error {
	if err := k.loseOpenBids(ctx, order.Id, 0); err != nil {
		return err
	}
	reason := escrowReasonOrderCancelled
	if state == types.OrderStateExpired {
		reason = escrowReasonOrderExpired
	}
	if _, err := k.escrow.CloseAccount(ctx, order.Id, reason); err != nil {
		return errorsmod.Wrapf(err, "close escrow account of order %d", order.Id)
	}
	if err := k.OrderExpiryQueue.Remove(ctx, collections.Join(order.ExpiresHeight, order.Id)); err != nil {
		return err
	}
	prev := order
	order.State = state
	if err := k.markClosed(ctx, &order); err != nil {
		return err
	}
	if err := k.setOrder(ctx, &prev, order); err != nil {
		return err
	}
	if state == types.OrderStateExpired {
		return emit(ctx, &types.EventOrderExpired{OrderId: order.Id, Tenant: order.Tenant})
	}
	return emit(ctx, &types.EventOrderCancelled{OrderId: order.Id, Tenant: order.Tenant})
}

// checkOwner fails with ErrUnauthorized unless owner (a bech32 string from
// state) is signer.
func (k Keeper) checkOwner(what, owner string, signer sdk.AccAddress) error {
	ownerBz, err := k.addressCodec.StringToBytes(owner)
	if err != nil {
		return err
	}
	if !signer.Equals(sdk.AccAddress(ownerBz)) {
		return errorsmod.Wrapf(types.ErrUnauthorized, "%s is %s", what, owner)
	}
	return nil
}

// isAddress reports whether the bech32 string s (from state) is addr.
func (k Keeper) isAddress(s string, addr sdk.AccAddress) bool {
	bz, err := k.addressCodec.StringToBytes(s)
	return err == nil && addr.Equals(sdk.AccAddress(bz))
}
