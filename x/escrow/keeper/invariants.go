package keeper

import (
	"context"
	"fmt"
	"sort"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/escrow/types"
)

// CheckBalances checks the escrow invariant: for every denom used by an
// account, the module account's bank balance equals the sum over all accounts
// of balance + unwithdrawn. It walks every account: call it from tests,
// simulations and audits, never from a block hook.
func (k Keeper) CheckBalances(ctx context.Context) error {
	sums := map[string]sdkmath.Int{}
	err := k.Accounts.Walk(ctx, nil, func(id uint64, acc types.Account) (bool, error) {
		if err := acc.Validate(); err != nil {
			return true, err
		}
		sum, ok := sums[acc.Balance.Denom]
		if !ok {
			sum = sdkmath.ZeroInt()
		}
		sums[acc.Balance.Denom] = sum.Add(acc.Balance.Amount).Add(acc.Unwithdrawn.Amount)
		return false, nil
	})
	if err != nil {
		return errorsmod.Wrap(types.ErrInvariantBroken, err.Error())
	}
	denoms := make([]string, 0, len(sums))
	for denom := range sums {
		denoms = append(denoms, denom)
	}
	sort.Strings(denoms)
	for _, denom := range denoms {
		held := k.bank.GetBalance(ctx, k.moduleAddr, denom)
		if !held.Amount.Equal(sums[denom]) {
			return errorsmod.Wrapf(types.ErrInvariantBroken,
				"module account holds %s%s, accounts owe %s%s", held.Amount, denom, sums[denom], denom)
		}
	}
	return nil
}

// CheckQueue checks that the settlement queue agrees with the accounts: every
// entry is an ACTIVE account at its exhaustion_height, and every ACTIVE
// account whose exhaustion height is still ahead of the current block has its
// entry. (An active account at or past its exhaustion height may have been
// reported by ProcessDue and be waiting for x/market to close it.)
func (k Keeper) CheckQueue(ctx context.Context) error {
	now := sdk.UnwrapSDKContext(ctx).BlockHeight()
	err := k.Queue.Walk(ctx, nil, func(key collections.Pair[int64, uint64]) (bool, error) {
		acc, err := k.Accounts.Get(ctx, key.K2())
		if err != nil {
			return true, fmt.Errorf("queue entry (%d, %d): %w", key.K1(), key.K2(), err)
		}
		if acc.State != types.AccountStateActive || acc.ExhaustionHeight != key.K1() {
			return true, fmt.Errorf("queue entry (%d, %d): account is %s with exhaustion height %d",
				key.K1(), key.K2(), acc.State, acc.ExhaustionHeight)
		}
		return false, nil
	})
	if err != nil {
		return errorsmod.Wrap(types.ErrInvariantBroken, err.Error())
	}
	err = k.AccountsByStateProvider.Walk(ctx,
		collections.NewPrefixedTripleRange[int32, sdk.AccAddress, uint64](int32(types.AccountStateActive)),
		func(key collections.Triple[int32, sdk.AccAddress, uint64]) (bool, error) {
			id := key.K3()
			acc, err := k.Accounts.Get(ctx, id)
			if err != nil {
				return true, err
			}
			if acc.ExhaustionHeight <= now {
				return false, nil
			}
			has, err := k.Queue.Has(ctx, collections.Join(acc.ExhaustionHeight, id))
			if err != nil {
				return true, err
			}
			if !has {
				return true, fmt.Errorf("active account %d missing from the queue at %d", id, acc.ExhaustionHeight)
			}
			return false, nil
		})
	if err != nil {
		return errorsmod.Wrap(types.ErrInvariantBroken, err.Error())
	}
	return nil
}

// AccountsInvariant returns the escrow invariant in the x/crisis style
// (message, broken) for simulations: CheckBalances and CheckQueue.
func AccountsInvariant(k Keeper) func(ctx sdk.Context) (string, bool) {
	return func(ctx sdk.Context) (string, bool) {
		for _, check := range []func(context.Context) error{k.CheckBalances, k.CheckQueue} {
			if err := check(ctx); err != nil {
				return sdk.FormatInvariant(types.ModuleName, "accounts", err.Error()), true
			}
		}
		return sdk.FormatInvariant(types.ModuleName, "accounts", "module balance matches accounts; queue in sync"), false
	}
}
