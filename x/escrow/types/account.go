package types

import (
	"math"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// ExhaustionHeight returns the block height at which an active account
// settled up to settled with the given balance runs out at rate:
// settled + floor(balance / rate), saturating at math.MaxInt64. At that height
// the account has paid for every block it can and holds less than one block's
// rate. rate must be positive.
//
// Settlement leaves the result unchanged (it moves whole blocks from balance
// into settled), so only deposits and activation move an account in the queue.
func ExhaustionHeight(settled int64, balance, rate sdkmath.Int) int64 {
	blocks := balance.Quo(rate)
	room := sdkmath.NewInt(math.MaxInt64 - settled)
	if blocks.GT(room) {
		return math.MaxInt64
	}
	return settled + blocks.Int64()
}

// Take returns floor(paid * bps / BasisPoints): TakeWithRemainder with no
// carried remainder. bps must be at most BasisPoints, so the take never
// exceeds paid.
func Take(paid sdkmath.Int, bps uint32) sdkmath.Int {
	take, _ := TakeWithRemainder(paid, bps, 0)
	return take
}

// TakeWithRemainder returns the take of a payment paid at bps with the
// account's carried remainder rem (in 1/BasisPoints of a unit, < BasisPoints):
//
//	take   = floor((paid*bps + rem) / BasisPoints)
//	newRem = (paid*bps + rem) mod BasisPoints
//
// computed without a product larger than paid (paid = q*BasisPoints + r). So
// over any sequence of payments the takes sum to floor(sum(paid_i*bps_i) /
// BasisPoints): settling often cannot round the take away. take <= paid for
// bps <= BasisPoints.
func TakeWithRemainder(paid sdkmath.Int, bps, rem uint32) (take sdkmath.Int, newRem uint32) {
	q := paid.QuoRaw(BasisPoints)
	r := paid.ModRaw(BasisPoints).Uint64()
	num := r*uint64(bps) + uint64(rem) // < 10^8 + 10^4
	take = q.Mul(sdkmath.NewIntFromUint64(uint64(bps))).Add(sdkmath.NewIntFromUint64(num / BasisPoints))
	return take, uint32(num % BasisPoints)
}

// Validate checks an account's internal consistency: every coin valid and in
// the balance's denom, and the fields each state requires. Addresses are only
// checked for presence; the keeper decodes them with its address codec.
func (a Account) Validate() error {
	wrap := func(format string, args ...any) error {
		return errorsmod.Wrapf(ErrInvalidAccount, "account %d: "+format, append([]any{a.Id}, args...)...)
	}
	if a.Owner == "" {
		return wrap("empty owner")
	}
	denom := a.Balance.Denom
	if err := sdk.ValidateDenom(denom); err != nil {
		return wrap("balance denom: %v", err)
	}
	for _, c := range []struct {
		name string
		coin sdk.Coin
	}{
		{"balance", a.Balance},
		{"rate", a.Rate},
		{"unwithdrawn", a.Unwithdrawn},
		{"total_paid", a.TotalPaid},
		{"total_taken", a.TotalTaken},
	} {
		if c.coin.Amount.IsNil() || c.coin.Amount.IsNegative() {
			return wrap("%s must be a non-negative amount", c.name)
		}
		if c.coin.Denom != denom {
			return wrap("%s denom %q differs from balance denom %q", c.name, c.coin.Denom, denom)
		}
	}
	if a.TotalTaken.Amount.GT(a.TotalPaid.Amount) {
		return wrap("total_taken %s exceeds total_paid %s", a.TotalTaken, a.TotalPaid)
	}
	if a.Unwithdrawn.Amount.GT(a.TotalPaid.Amount.Sub(a.TotalTaken.Amount)) {
		return wrap("unwithdrawn %s exceeds earnings %s", a.Unwithdrawn, a.TotalPaid.Sub(a.TotalTaken))
	}
	if a.SettledHeight < 0 || a.ExhaustionHeight < 0 || a.EndHeight < 0 {
		return wrap("negative height")
	}
	if a.TakeRemainder >= BasisPoints {
		return wrap("take_remainder %d must be below %d", a.TakeRemainder, BasisPoints)
	}
	switch a.State {
	case AccountStatePending:
		if a.Provider != "" {
			return wrap("pending account has a provider")
		}
		if !a.Rate.IsZero() || !a.TotalPaid.IsZero() || a.ExhaustionHeight != 0 || a.EndHeight != 0 || a.TakeRemainder != 0 {
			return wrap("pending account has a rate, payments, an exhaustion or end height or a take remainder")
		}
	case AccountStateActive:
		if a.Provider == "" {
			return wrap("active account has no provider")
		}
		if !a.Rate.Amount.IsPositive() {
			return wrap("active account needs a positive rate")
		}
		if want := ExhaustionHeight(a.SettledHeight, a.Balance.Amount, a.Rate.Amount); a.ExhaustionHeight != want {
			return wrap("exhaustion_height %d, want %d", a.ExhaustionHeight, want)
		}
		if a.EndHeight != 0 && a.SettledHeight > a.EndHeight {
			return wrap("settled_height %d past end_height %d", a.SettledHeight, a.EndHeight)
		}
	case AccountStateClosed:
		if !a.Balance.IsZero() || !a.Unwithdrawn.IsZero() || a.ExhaustionHeight != 0 {
			return wrap("closed account holds funds or an exhaustion height")
		}
	default:
		return wrap("invalid state %s", a.State)
	}
	return nil
}
