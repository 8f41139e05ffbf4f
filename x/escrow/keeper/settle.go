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

// TakeRates is the take-rate schedule settlement follows: Changes (oldest
// first, heights increasing) say which rate was in force up to and including
// each height; Current applies after the last change.
type TakeRates struct {
	Changes []types.TakeRateChange
	Current uint32
}

// ConstantTakeRate is the schedule of a take rate that never changed.
func ConstantTakeRate(bps uint32) TakeRates { return TakeRates{Current: bps} }

// segments calls fn for each run of blocks (from, to] at one rate, in order.
func (r TakeRates) segments(from, to int64, fn func(blocks int64, bps uint32)) {
	cur := from
	for _, c := range r.Changes {
		if cur >= to {
			return
		}
		if c.Height <= cur {
			continue
		}
		end := min(c.Height, to)
		fn(end-cur, c.TakeRateBps)
		cur = end
	}
	if cur < to {
		fn(to-cur, r.Current)
	}
}

// computeSettlement settles acc up to height now in memory and returns what
// moved; it touches neither the store nor the bank. Accounts that are not
// active, or already settled up to now (or to their end), are left unchanged.
//
//	to      = min(now, end_height)        (end_height 0: no end)
//	blocks  = min(to - settled_height, balance / rate)
//	paid    = blocks * rate
//	take    = sum over the runs of blocks at one take rate (rates.segments) of
//	          floor((run_paid * bps + take_remainder) / 10000), the rest of
//	          the numerator carried in take_remainder (types.TakeWithRemainder)
//	balance -= paid; unwithdrawn += paid - take
//	total_paid += paid; total_taken += take
//	settled_height = to, or settled_height + blocks when funds ran short
//	exhaustion_height = settled_height + balance / rate (unchanged by settling)
//
// paid <= balance and take <= paid, so no coin is created or destroyed.
func computeSettlement(acc *types.Account, now int64, rates TakeRates) (Settlement, error) {
	s := Settlement{Paid: sdkmath.ZeroInt(), Taken: sdkmath.ZeroInt()}
	if acc.EndHeight > 0 && now > acc.EndHeight {
		now = acc.EndHeight
	}
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
	take := sdkmath.ZeroInt()
	rem := acc.TakeRemainder
	rates.segments(acc.SettledHeight, acc.SettledHeight+blocks.Int64(), func(n int64, bps uint32) {
		t, r := types.TakeWithRemainder(sdkmath.NewInt(n).Mul(rate), bps, rem)
		take, rem = take.Add(t), r
	})
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
	acc.TakeRemainder = rem
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

// Projected returns acc settled in memory to height now under the take-rate
// schedule rates, as every state change would settle it (escrow settles
// lazily, so a stored account may lag): for readers that want today's figures
// without writing. Keeper.ProjectedAccount reads the schedule from state.
func Projected(acc types.Account, now int64, rates TakeRates) (types.Account, error) {
	_, err := computeSettlement(&acc, now, rates)
	return acc, err
}

// ProjectedAccount is Projected under the take-rate schedule in state.
func (k Keeper) ProjectedAccount(ctx context.Context, acc types.Account, now int64) (types.Account, error) {
	rates, err := k.takeRates(ctx, acc.SettledHeight)
	if err != nil {
		return acc, err
	}
	return Projected(acc, now, rates)
}

// takeRates loads the take-rate schedule for blocks after height from: the
// changes above from (at most types.MaxTakeRateHistory) and the current
// param.
func (k Keeper) takeRates(ctx context.Context, from int64) (TakeRates, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return TakeRates{}, err
	}
	rates := TakeRates{Current: params.TakeRateBps}
	rng := new(collections.Range[int64]).StartExclusive(from)
	err = k.TakeRateHistory.Walk(ctx, rng, func(h int64, bps uint32) (bool, error) {
		rates.Changes = append(rates.Changes, types.TakeRateChange{Height: h, TakeRateBps: bps})
		return false, nil
	})
	return rates, err
}

// settlementHeight is the height settlement runs to in ctx: the block height,
// or in simulation (gas estimation) the next block's. A simulated transaction
// runs on the last committed state at its height, where a lease started in
// that block has zero blocks to settle; its delivery comes in a later block
// and settles at least one, which costs gas (the take's transfer, the event,
// the store writes). Settling as of height + 1 in simulation makes the
// estimate pay for what delivery pays. Simulated state is discarded, so this
// never touches consensus.
func settlementHeight(ctx context.Context) int64 {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if sdkCtx.ExecMode() == sdk.ExecModeSimulate {
		return sdkCtx.BlockHeight() + 1
	}
	return sdkCtx.BlockHeight()
}

// settle settles acc up to the current block height (settlementHeight),
// capped at its end_height: it updates acc in memory,
// sends the take to the community pool and emits EventSettled when anything was
// paid. The caller stores acc. Settling never moves an account in the queue
// (see types.ExhaustionHeight).
func (k Keeper) settle(ctx context.Context, acc *types.Account) (Settlement, error) {
	rates, err := k.takeRates(ctx, acc.SettledHeight)
	if err != nil {
		return Settlement{}, err
	}
	s, err := computeSettlement(acc, settlementHeight(ctx), rates)
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
		// Not exhausted: an account paid up to its end_height (its lease
		// ended and waits in x/market's lease-end queue, which closes it)
		// settles no further, so it leaves the queue; a deposit would put it
		// back.
		if acc.EndHeight > 0 && acc.SettledHeight >= acc.EndHeight {
			continue
		}
		// Otherwise (cannot happen while the queue is in sync) put it back at
		// its real exhaustion height, which is > now.
		if err := k.Queue.Set(ctx, collections.Join(acc.ExhaustionHeight, id)); err != nil {
			return exhausted, err
		}
	}
	return exhausted, nil
}
