package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/provider/types"
)

// EndBlocker releases the bonds whose unbonding height has been reached: the
// bond goes back to the owner, the provider record is deleted (the owner may
// then register again) and EventBondReleased is emitted. At most
// MaxReleasesPerBlock entries are released per block, oldest first; the rest
// wait for the next block. Each release runs in a cached context: one that
// fails (the bank refuses to pay the owner) is dropped from the queue, its
// bond stays locked in the UNBONDING record, EventBondReleaseFailed says why,
// and the chain goes on: one bad record never halts block production.
func (k Keeper) EndBlocker(ctx context.Context) error {
	now := blockHeight(ctx)
	due := make([]collections.Pair[int64, sdk.AccAddress], 0, MaxReleasesPerBlock)
	err := k.Unbonding.Walk(ctx, collections.NewPrefixUntilPairRange[int64, sdk.AccAddress](now),
		func(key collections.Pair[int64, sdk.AccAddress]) (bool, error) {
			due = append(due, key)
			return len(due) >= MaxReleasesPerBlock, nil
		})
	if err != nil {
		return err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	for _, key := range due {
		cctx, write := sdkCtx.CacheContext()
		err := k.releaseBond(cctx, key)
		if err == nil {
			write()
			continue
		}
		sdkCtx.Logger().Error("x/provider: releasing a bond failed; it stays locked", "owner", k.fmtAddr(key.K2()), "err", err)
		if err := k.Unbonding.Remove(ctx, key); err != nil {
			return err
		}
		p, gerr := k.Providers.Get(ctx, key.K2())
		if gerr != nil {
			return gerr
		}
		if err := emit(ctx, &types.EventBondReleaseFailed{Owner: p.Owner, Amount: p.Bond, Reason: err.Error()}); err != nil {
			return err
		}
	}
	return nil
}

// releaseBond returns the bond of the provider in queue entry key to its owner
// and deletes the provider and the entry.
func (k Keeper) releaseBond(ctx context.Context, key collections.Pair[int64, sdk.AccAddress]) error {
	owner := key.K2()
	if err := k.Unbonding.Remove(ctx, key); err != nil {
		return err
	}
	p, err := k.Providers.Get(ctx, owner)
	if errors.Is(err, collections.ErrNotFound) {
		// Cannot happen while the queue and the providers agree (genesis
		// validation and every keeper path keep them so); drop the stale entry
		// rather than halt the chain.
		sdk.UnwrapSDKContext(ctx).Logger().Error("x/provider: unbonding entry without provider",
			"owner", k.fmtAddr(owner), "height", key.K1())
		return nil
	}
	if err != nil {
		return err
	}
	if p.Bond.IsPositive() {
		if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, owner, sdk.NewCoins(p.Bond)); err != nil {
			return errorsmod.Wrapf(err, "releasing bond of %s", p.Owner)
		}
	}
	if err := k.Providers.Remove(ctx, owner); err != nil {
		return err
	}
	return emit(ctx, &types.EventBondReleased{Owner: p.Owner, Amount: p.Bond})
}
