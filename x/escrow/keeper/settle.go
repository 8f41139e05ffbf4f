package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/escrow/types"
)

// Settlement is the result of settling one account.
type Settlement struct {
	// Blocks is the number of blocks paid for.
	Blocks int64
	// Paid is the amount moved out of the balance (gross).
	Paid sdkmath.Int
	// Taken is the part of Paid sent to the community pool.
	Taken sdkmath.Int
}

// computeSettlement settles acc up to height now in memory and returns what
// moved; it touches neither the store nor the bank. Accounts that are not
// active, or already settled up to now, are left unchanged.
//
//	blocks  = min(now - settled_height, balance / rate)
//	paid    = blocks * rate
//	take    = floor(paid * take_rate_bps / 10000)
//	balance -= paid; unwithdrawn += paid - take
//	total_paid += paid; total_taken += take
//	settled_height = now, or settled_height + blocks when funds ran short
//	exhaustion_height = settled_height + balance / rate (unchanged by settling)
//
// paid <= balance and take <= paid, so no coin is created or destroyed.
func computeSettlement(acc *types.Account, now int64, takeRateBps uint32) (Settlement, error) {
	s := Settlement{Paid: sdkmath.ZeroInt(), Taken: sdkmath.ZeroInt()}
	if acc.State != types.AccountStateActive || now <= acc.SettledHeight {
		return s, nil
	}
	rate := acc.Rate.Amount
	if !rate.IsPositive() {
		return s, errorsmod.Wrapf(types.ErrInvalidAccount, "account %d: active with rate %s", acc.Id, acc.Rate)
	}
	elapsed := sdkmath.NewInt(now - acc.SettledHeight)
	blocks := sdkmath.MinInt(elapsed, acc.Balance.Amount.Quo(rate))
	paid := blocks.Mul(rate) // <= balance: cannot overflow
	take := types.Take(paid, takeRateBps)
	earnings := paid.Sub(take)

	unwithdrawn, err := acc.Unwithdrawn.Amount.SafeAdd(earnings)
	if err != nil {
		return s, errorsmod.Wrapf(types.ErrOverflow, "account %d unwithdrawn: %v", acc.Id, err)
	}
	totalPaid, err := acc.TotalPaid.Amount.SafeAdd(paid)
	if err != nil {
		return s, errorsmod.Wrapf(types.ErrOverflow, "account %d total_paid: %v", acc.Id, err)
	}
	totalTaken, err := acc.TotalTaken.Amount.SafeAdd(take)
	if err != nil {
		return s, errorsmod.Wrapf(types.ErrOverflow, "account %d total_taken: %v", acc.Id, err)
	}

	acc.Balance.Amount = acc.Balance.Amount.Sub(paid)
	acc.Unwithdrawn.Amount = unwithdrawn
	acc.TotalPaid.Amount = totalPaid
	acc.TotalTaken.Amount = totalTaken
	if blocks.LT(elapsed) {
		acc.SettledHeight += blocks.Int64() // funds ran short
	} else {
		acc.SettledHeight = now
	}
	acc.ExhaustionHeight = types.ExhaustionHeight(acc.SettledHeight, acc.Balance.Amount, rate)

	s.Blocks = blocks.Int64()
	s.Paid = paid
	s.Taken = take
	return s, nil
}

// Projected returns acc settled in memory to height now at takeRateBps, as
// every state change would settle it (escrow settles lazily, so a stored
// account may lag): for readers that want today's figures without writing.
func Projected(acc types.Account, now int64, takeRateBps uint32) (types.Account, error) {
	_, err := computeSettlement(&acc, now, takeRateBps)
	return acc, err
}

// settle settles acc up to the current block height: it updates acc in memory,
// sends the take to the community pool and emits EventSettled when anything was
// paid. The caller stores acc. Settling never moves an account in the queue
// (see types.ExhaustionHeight).
func (k Keeper) settle(ctx context.Context, acc *types.Account) (Settlement, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return Settlement{}, err
	}
	now := sdk.UnwrapSDKContext(ctx).BlockHeight()
	s, err := computeSettlement(acc, now, params.TakeRateBps)
	if err != nil || !s.Paid.IsPositive() {
		return s, err
	}
	if s.Taken.IsPositive() {
		take := sdk.NewCoins(sdk.NewCoin(acc.Balance.Denom, s.Taken))
		if err := k.distr.FundCommunityPool(ctx, take, k.moduleAddr); err != nil {
			return s, errorsmod.Wrapf(err, "account %d: fund community pool", acc.Id)
		}
	}
	return s, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventSettled{
		Id:     acc.Id,
		Paid:   sdk.NewCoin(acc.Balance.Denom, s.Paid),
		Taken:  sdk.NewCoin(acc.Balance.Denom, s.Taken),
		Height: acc.SettledHeight,
	})
}

// SettleAccount settles an active account up to the current block and stores
// it; other accounts are returned unchanged. It is what every state change
// does first; x/market may call it to bring an account up to date.
func (k Keeper) SettleAccount(ctx context.Context, id uint64) (types.Account, error) {
	acc, err := k.GetAccount(ctx, id)
	if err != nil {
		return acc, err
	}
	s, err := k.settle(ctx, &acc)
	if err != nil {
		return acc, err
	}
	if s.Paid.IsPositive() {
		err = k.Accounts.Set(ctx, id, acc)
	}
	return acc, err
}

// ProcessDue walks the settlement queue for heights <= the current block,
// at most limit entries (params.max_settlements_per_block when limit is 0),
// removes each entry and settles its account. It returns, in queue order, the
// ids of accounts that can no longer pay for the next block (balance < rate);
// the caller (x/market's EndBlocker) closes them with CloseAccount. Their queue
// entries are gone, so an exhausted account is reported once; a deposit puts it
// back in the queue. Entries beyond limit stay for the next block.
func (k Keeper) ProcessDue(ctx context.Context, limit uint32) (exhausted []uint64, err error) {
	if limit == 0 {
		params, err := k.Params.Get(ctx)
		if err != nil {
			return nil, err
		}
		limit = params.MaxSettlementsPerBlock
	}
	now := sdk.UnwrapSDKContext(ctx).BlockHeight()

	// Collect first, then mutate: no writes while the iterator is open.
	due := make([]collections.Pair[int64, uint64], 0, min(limit, 64))
	rng := collections.NewPrefixUntilPairRange[int64, uint64](now)
	err = k.Queue.Walk(ctx, rng, func(key collections.Pair[int64, uint64]) (bool, error) {
		due = append(due, key)
		return uint32(len(due)) >= limit, nil
	})
	if err != nil {
		return nil, err
	}

	for _, key := range due {
		if err := k.Queue.Remove(ctx, key); err != nil {
			return exhausted, err
		}
		id := key.K2()
		acc, err := k.Accounts.Get(ctx, id)
		if errors.Is(err, collections.ErrNotFound) {
			continue // stale entry
		} else if err != nil {
			return exhausted, err
		}
		if acc.State != types.AccountStateActive || acc.ExhaustionHeight != key.K1() {
			continue // stale entry
		}
		if _, err := k.settle(ctx, &acc); err != nil {
			return exhausted, err
		}
		if err := k.Accounts.Set(ctx, id, acc); err != nil {
			return exhausted, err
		}
		if acc.Balance.Amount.LT(acc.Rate.Amount) {
			exhausted = append(exhausted, id)
			continue
		}
		// Not exhausted after all (cannot happen while the queue is in sync):
		// put it back at its real exhaustion height, which is > now.
		if err := k.Queue.Set(ctx, collections.Join(acc.ExhaustionHeight, id)); err != nil {
			return exhausted, err
		}
	}
	return exhausted, nil
}
