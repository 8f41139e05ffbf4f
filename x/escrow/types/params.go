package types

import errorsmod "cosmossdk.io/errors"

const (
	// BasisPoints is 100%.
	BasisPoints = 10_000
	// MaxTakeRateBps is the largest take rate Params accept (50%).
	MaxTakeRateBps = 5_000
	// DefaultTakeRateBps is 2%.
	DefaultTakeRateBps = 200
	// DefaultMaxSettlementsPerBlock caps the queue entries settled per block.
	DefaultMaxSettlementsPerBlock = 200
	// MaxTakeRateHistory bounds the take-rate changes kept in state; the
	// oldest is dropped beyond it (see Keeper.SetParams).
	MaxTakeRateHistory = 64
)

// DefaultParams returns the default module parameters.
func DefaultParams() Params {
	return Params{
		TakeRateBps:            DefaultTakeRateBps,
		MaxSettlementsPerBlock: DefaultMaxSettlementsPerBlock,
	}
}

// Validate checks the parameters' ranges.
func (p Params) Validate() error {
	if p.TakeRateBps > MaxTakeRateBps {
		return errorsmod.Wrapf(ErrInvalidParams, "take_rate_bps %d above the maximum %d", p.TakeRateBps, MaxTakeRateBps)
	}
	if p.MaxSettlementsPerBlock == 0 {
		return errorsmod.Wrap(ErrInvalidParams, "max_settlements_per_block must be positive")
	}
	return nil
}
