package types

import (
	errorsmod "cosmossdk.io/errors"
)

// DefaultGenesisState returns the default genesis: default params, no
// orders, ids starting at 1.
func DefaultGenesisState() *GenesisState {
	return &GenesisState{
		Params:      DefaultParams(),
		NextOrderId: 1,
		NextBidId:   1,
	}
}

// Validate checks the genesis state for internal consistency: params, unique
// ids below the next ids, known states, and references between orders, bids
// and leases. Addresses are decoded (and so checked) by InitGenesis, which has
// the address codec.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return err
	}
	if gs.NextOrderId == 0 || gs.NextBidId == 0 {
		return errorsmod.Wrap(ErrInvalidGenesis, "next_order_id and next_bid_id must be at least 1")
	}

	orders := make(map[uint64]Order, len(gs.Orders))
	for _, o := range gs.Orders {
		if o.Id == 0 || o.Id >= gs.NextOrderId {
			return errorsmod.Wrapf(ErrInvalidGenesis, "order id %d not in [1, next_order_id %d)", o.Id, gs.NextOrderId)
		}
		if _, dup := orders[o.Id]; dup {
			return errorsmod.Wrapf(ErrInvalidGenesis, "duplicate order %d", o.Id)
		}
		if o.Tenant == "" {
			return errorsmod.Wrapf(ErrInvalidGenesis, "order %d has no tenant", o.Id)
		}
		if _, ok := OrderState_name[int32(o.State)]; !ok || o.State == OrderStateUnspecified {
			return errorsmod.Wrapf(ErrInvalidGenesis, "order %d has invalid state %d", o.Id, o.State)
		}
		if err := o.MaxPricePerBlock.Validate(); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "order %d max price: %s", o.Id, err)
		}
		if err := o.Deposit.Validate(); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "order %d deposit: %s", o.Id, err)
		}
		orders[o.Id] = o
	}

	bids := make(map[uint64]Bid, len(gs.Bids))
	for _, b := range gs.Bids {
		if b.Id == 0 || b.Id >= gs.NextBidId {
			return errorsmod.Wrapf(ErrInvalidGenesis, "bid id %d not in [1, next_bid_id %d)", b.Id, gs.NextBidId)
		}
		if _, dup := bids[b.Id]; dup {
			return errorsmod.Wrapf(ErrInvalidGenesis, "duplicate bid %d", b.Id)
		}
		if b.Provider == "" {
			return errorsmod.Wrapf(ErrInvalidGenesis, "bid %d has no provider", b.Id)
		}
		// A displaced bid is deleted at once: no bid in state has that state.
		if _, ok := BidState_name[int32(b.State)]; !ok || b.State == BidStateUnspecified || b.State == BidStateDisplaced {
			return errorsmod.Wrapf(ErrInvalidGenesis, "bid %d has invalid state %d", b.Id, b.State)
		}
		o, ok := orders[b.OrderId]
		if !ok {
			return errorsmod.Wrapf(ErrInvalidGenesis, "bid %d is for unknown order %d", b.Id, b.OrderId)
		}
		if b.State == BidStateOpen && o.State != OrderStateOpen {
			return errorsmod.Wrapf(ErrInvalidGenesis, "open bid %d is on order %d in state %s", b.Id, o.Id, o.State)
		}
		if err := b.Price.Validate(); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "bid %d price: %s", b.Id, err)
		}
		if err := b.Deposit.Validate(); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "bid %d deposit: %s", b.Id, err)
		}
		bids[b.Id] = b
	}

	leases := make(map[uint64]struct{}, len(gs.Leases))
	gpus := make(map[string]uint64)
	for _, l := range gs.Leases {
		if _, dup := leases[l.Id]; dup {
			return errorsmod.Wrapf(ErrInvalidGenesis, "duplicate lease %d", l.Id)
		}
		leases[l.Id] = struct{}{}
		o, ok := orders[l.Id]
		if !ok || o.State != OrderStateMatched {
			return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d has no matched order", l.Id)
		}
		b, ok := bids[l.BidId]
		if !ok || b.OrderId != l.Id || b.State != BidStateWon {
			return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d has no winning bid %d on its order", l.Id, l.BidId)
		}
		if l.Tenant != o.Tenant || l.Provider != b.Provider {
			return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d tenant or provider differ from its order and bid", l.Id)
		}
		if len(l.SupersededResults) >= MaxResultSubmissions || (len(l.SupersededResults) > 0 && l.Result == nil) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d has %d superseded results (at most %d, and only beside a result)",
				l.Id, len(l.SupersededResults), MaxResultSubmissions-1)
		}
		switch l.State {
		case LeaseStateActive:
			for _, u := range l.GpuUuids {
				key := l.Provider + "/" + u
				if other, taken := gpus[key]; taken {
					return errorsmod.Wrapf(ErrInvalidGenesis, "gpu %s of %s is assigned to leases %d and %d", u, l.Provider, other, l.Id)
				}
				gpus[key] = l.Id
			}
		case LeaseStateClosed:
		default:
			return errorsmod.Wrapf(ErrInvalidGenesis, "lease %d has invalid state %d", l.Id, l.State)
		}
	}
	closedLeases := make(map[uint64]bool, len(gs.Leases))
	for _, l := range gs.Leases {
		closedLeases[l.Id] = l.State == LeaseStateClosed
	}
	for _, o := range gs.Orders {
		if _, ok := leases[o.Id]; o.State == OrderStateMatched && !ok {
			return errorsmod.Wrapf(ErrInvalidGenesis, "matched order %d has no lease", o.Id)
		}
		// closed_height is set exactly when the order's business ended.
		finished := o.State == OrderStateCancelled || o.State == OrderStateExpired ||
			(o.State == OrderStateMatched && closedLeases[o.Id])
		if o.ClosedHeight < 0 || finished != (o.ClosedHeight > 0) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "order %d in state %s has closed_height %d", o.Id, o.State, o.ClosedHeight)
		}
	}
	return nil
}
