package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// CreateBid places provider's bid on an open order. msg must have passed
// msg.Validate(params). Every check runs before the deposit moves into the
// market module account. On a full book (max_bids_per_order open bids) the
// bid must outrank the worst open bid (types.BidOutranks), which it
// displaces: that bid's deposit is returned and the bid deleted
// (EventBidClosed, state DISPLACED).
func (k Keeper) CreateBid(ctx context.Context, provider sdk.AccAddress, msg *types.MsgCreateBid) (uint64, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	return k.createBid(ctx, params, provider, msg)
}

// createBid is CreateBid with the params already loaded.
func (k Keeper) createBid(ctx context.Context, params types.Params, provider sdk.AccAddress, msg *types.MsgCreateBid) (uint64, error) {
	order, err := k.GetOrder(ctx, msg.OrderId)
	if err != nil {
		return 0, err
	}
	now := blockHeight(ctx)
	if order.State != types.OrderStateOpen {
		return 0, errorsmod.Wrapf(types.ErrOrderNotOpen, "order %d is %s", order.Id, order.State)
	}
	if now >= order.ExpiresHeight {
		return 0, errorsmod.Wrapf(types.ErrOrderExpired, "order %d expired at height %d", order.Id, order.ExpiresHeight)
	}
	if msg.Price.Denom != order.MaxPricePerBlock.Denom {
		return 0, errorsmod.Wrapf(types.ErrInvalidPrice, "price denom must be %s, got %s", order.MaxPricePerBlock.Denom, msg.Price.Denom)
	}
	if order.MaxPricePerBlock.IsLT(msg.Price) {
		return 0, errorsmod.Wrapf(types.ErrInvalidPrice, "price %s is above the order's maximum %s", msg.Price, order.MaxPricePerBlock)
	}

	// At most max_bids_per_order open bids exist: only index keys are read
	// while the book has room (the open bid ids of the order, and the ids of
	// the provider's bids on the order, which must not include an open one).
	open, err := k.openBidIDs(ctx, order.Id)
	if err != nil {
		return 0, err
	}
	if len(open) > 0 {
		mine, err := k.BidsByOrderProvider.Iterate(ctx,
			collections.NewSuperPrefixedTripleRange[uint64, sdk.AccAddress, uint64](order.Id, provider))
		if err != nil {
			return 0, err
		}
		keys, err := mine.Keys()
		if err != nil {
			return 0, err
		}
		for _, key := range keys {
			if _, ok := open[key.K3()]; ok {
				return 0, errorsmod.Wrapf(types.ErrDuplicateBid, "bid %d on order %d", key.K3(), order.Id)
			}
		}
	}

	p, err := k.providerServes(ctx, provider, order.Spec, msg.GpuUuids)
	if err != nil {
		return 0, err
	}
	providerStr, err := k.addressCodec.BytesToString(provider)
	if err != nil {
		return 0, err
	}
	bid := types.Bid{
		OrderId:       order.Id,
		Provider:      providerStr,
		Price:         msg.Price,
		Deposit:       msg.Deposit,
		GpuUuids:      msg.GpuUuids,
		State:         types.BidStateOpen,
		CreatedHeight: now,
		Verified:      types.BidVerified(order.Spec, p, msg.GpuUuids, now),
	}

	// A full book: the new bid enters only by displacing the worst open bid,
	// which it must outrank (verified over unverified, then a strictly lower
	// price). Squatters holding every slot with unverified or overpriced bids
	// cannot keep a better bid out.
	var displaced *types.Bid
	if uint64(len(open)) >= uint64(params.MaxBidsPerOrder) {
		bids, err := k.openBidsOfOrder(ctx, order.Id)
		if err != nil {
			return 0, err
		}
		worst := bids[types.WorstBid(bids)]
		if !types.BidOutranks(bid, worst) {
			return 0, errorsmod.Wrapf(types.ErrTooManyBids,
				"order %d has %d open bids and this bid (price %s, verified %t) does not outrank the worst (bid %d, price %s, verified %t)",
				order.Id, len(open), bid.Price, bid.Verified, worst.Id, worst.Price, worst.Verified)
		}
		displaced = &worst
	}

	if err := k.bank.SendCoinsFromAccountToModule(ctx, provider, types.ModuleName, sdk.NewCoins(msg.Deposit)); err != nil {
		return 0, errorsmod.Wrap(err, "lock bid deposit")
	}
	id, err := nextID(ctx, k.NextBidID)
	if err != nil {
		return 0, err
	}
	bid.Id = id
	if displaced != nil {
		if err := k.removeOpenBid(ctx, *displaced, types.BidStateDisplaced, id); err != nil {
			return 0, err
		}
	}
	if err := k.setBid(ctx, nil, bid); err != nil {
		return 0, err
	}
	return id, emit(ctx, &types.EventBidCreated{
		BidId:    id,
		OrderId:  order.Id,
		Provider: providerStr,
		Price:    bid.Price,
		GpuUuids: bid.GpuUuids,
	})
}

// checkProviderServes checks, against x/provider's registration and the GPUs
// this module has leased out, that provider can serve spec with gpuUUIDs,
// and that its bond meets x/provider's min_bond: at a new bid and again at
// lease creation, since a provider slashed (or docked) below it after
// bidding may not start a lease from its old open bid.
func (k Keeper) checkProviderServes(ctx context.Context, provider sdk.AccAddress, spec types.OrderSpec, gpuUUIDs []string) error {
	_, err := k.providerServes(ctx, provider, spec, gpuUUIDs)
	return err
}

// providerServes is checkProviderServes that also returns the provider's
// registration.
func (k Keeper) providerServes(ctx context.Context, provider sdk.AccAddress, spec types.OrderSpec, gpuUUIDs []string) (providertypes.Provider, error) {
	p, err := k.providers.GetRegistration(ctx, provider)
	if err != nil {
		return p, errorsmod.Wrapf(err, "provider %s", provider)
	}
	if err := k.providers.CheckMinBond(ctx, p.Bond); err != nil {
		return p, errorsmod.Wrapf(err, "provider %s", provider)
	}
	if err := types.MatchProvider(spec, p, gpuUUIDs); err != nil {
		return p, err
	}
	if err := types.CheckVerified(spec, p, gpuUUIDs, blockHeight(ctx)); err != nil {
		return p, err
	}
	for _, u := range gpuUUIDs {
		leaseID, err := k.GPUAssignments.Get(ctx, collections.Join(provider, u))
		switch {
		case err == nil:
			return p, errorsmod.Wrapf(types.ErrGPUInUse, "gpu %q is assigned to lease %d", u, leaseID)
		case !errors.Is(err, collections.ErrNotFound):
			return p, err
		}
	}
	return p, nil
}

// CloseBid withdraws provider's open bid and returns its deposit. The bid is
// deleted (EventBidClosed keeps the history): withdrawn bids never pile up
// on an order, however many create/close cycles a provider runs.
func (k Keeper) CloseBid(ctx context.Context, provider sdk.AccAddress, bidID uint64) error {
	bid, err := k.GetBid(ctx, bidID)
	if err != nil {
		return err
	}
	if err := k.checkOwner("bid provider", bid.Provider, provider); err != nil {
		return err
	}
	if bid.State != types.BidStateOpen {
		return errorsmod.Wrapf(types.ErrBidNotOpen, "bid %d is %s", bidID, bid.State)
	}
	return k.removeOpenBid(ctx, bid, types.BidStateWithdrawn, 0)
}

// removeOpenBid returns an open bid's deposit and deletes it, with its index
// entries, emitting EventBidClosed with state (WITHDRAWN, or DISPLACED by
// bid displacedBy). Only bids that leave the book while their order stays
// open go this way, so an order's bid records never outnumber its open bids
// plus the ones its end settles (LOST or WON, at most max_bids_per_order).
func (k Keeper) removeOpenBid(ctx context.Context, bid types.Bid, state types.BidState, displacedBy uint64) error {
	if err := k.refundBidDeposit(ctx, bid); err != nil {
		return err
	}
	if err := k.deleteBid(ctx, bid); err != nil {
		return err
	}
	return emit(ctx, &types.EventBidClosed{BidId: bid.Id, OrderId: bid.OrderId, Provider: bid.Provider, State: state, DisplacedBy: displacedBy})
}

// openBidIDs returns the ids of the open bids of an order (at most
// params.max_bids_per_order of them), reading only the open-bid index.
func (k Keeper) openBidIDs(ctx context.Context, orderID uint64) (map[uint64]struct{}, error) {
	iter, err := k.OpenBidsByOrder.Iterate(ctx, collections.NewPrefixedPairRange[uint64, uint64](orderID))
	if err != nil {
		return nil, err
	}
	keys, err := iter.Keys()
	if err != nil {
		return nil, err
	}
	ids := make(map[uint64]struct{}, len(keys))
	for _, key := range keys {
		ids[key.K2()] = struct{}{}
	}
	return ids, nil
}

// openBidsOfOrder returns the open bids of an order, in id order. There are
// at most params.max_bids_per_order of them.
func (k Keeper) openBidsOfOrder(ctx context.Context, orderID uint64) ([]types.Bid, error) {
	iter, err := k.OpenBidsByOrder.Iterate(ctx, collections.NewPrefixedPairRange[uint64, uint64](orderID))
	if err != nil {
		return nil, err
	}
	keys, err := iter.Keys()
	if err != nil {
		return nil, err
	}
	bids := make([]types.Bid, 0, len(keys))
	for _, key := range keys {
		b, err := k.Bids.Get(ctx, key.K2())
		if err != nil {
			return nil, err
		}
		bids = append(bids, b)
	}
	return bids, nil
}

// loseOpenBids moves every open bid of an order except exceptBidID to LOST and
// returns their deposits.
func (k Keeper) loseOpenBids(ctx context.Context, orderID, exceptBidID uint64) error {
	open, err := k.openBidsOfOrder(ctx, orderID)
	if err != nil {
		return err
	}
	for _, b := range open {
		if b.Id == exceptBidID {
			continue
		}
		if err := k.endOpenBid(ctx, b, types.BidStateLost); err != nil {
			return err
		}
	}
	return nil
}

// endOpenBid returns an open bid's deposit and moves it to state (LOST or
// WITHDRAWN).
func (k Keeper) endOpenBid(ctx context.Context, bid types.Bid, state types.BidState) error {
	if err := k.refundBidDeposit(ctx, bid); err != nil {
		return err
	}
	prev := bid
	bid.State = state
	if err := k.setBid(ctx, &prev, bid); err != nil {
		return err
	}
	return emit(ctx, &types.EventBidClosed{BidId: bid.Id, OrderId: bid.OrderId, Provider: bid.Provider, State: state})
}

// refundBidDeposit returns a bid's deposit from the module account.
func (k Keeper) refundBidDeposit(ctx context.Context, bid types.Bid) error {
	if !bid.Deposit.IsPositive() {
		return nil
	}
	provider, err := k.addressCodec.StringToBytes(bid.Provider)
	if err != nil {
		return err
	}
	if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, provider, sdk.NewCoins(bid.Deposit)); err != nil {
		return errorsmod.Wrapf(err, "refund deposit of bid %d", bid.Id)
	}
	return nil
}
