// Package keeper implements the x/escrow state machine: escrow accounts per
// order/lease, lazy settlement of streaming payments, and a height-keyed
// settlement queue that x/market walks with a cap each block.
package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"
	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/crucible-network/crucible/x/escrow/types"
)

// Keeper of the escrow store.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	addressCodec address.Codec
	bank         types.BankKeeper
	distr        types.DistrKeeper
	authority    string
	moduleAddr   sdk.AccAddress

	Schema collections.Schema
	// Params are the module parameters.
	Params collections.Item[types.Params]
	// Accounts are the escrow accounts by id (order id = lease id). Its two
	// indexes are kept by the keeper (setAccount), which touches an index
	// entry only when the indexed fields change: AccountsByOwner never after
	// opening, AccountsByStateProvider on activation and close.
	Accounts collections.Map[uint64, types.Account]
	// AccountsByOwner holds (owner, id) for every account.
	AccountsByOwner collections.KeySet[collections.Pair[sdk.AccAddress, uint64]]
	// AccountsByStateProvider holds (state, provider, id) for every account;
	// pending accounts have the empty provider.
	AccountsByStateProvider collections.KeySet[collections.Triple[int32, sdk.AccAddress, uint64]]
	// Queue is the settlement queue: (exhaustion height, account id) for every
	// active account that has not yet been reported exhausted.
	Queue collections.KeySet[collections.Pair[int64, uint64]]
	// TakeRateHistory maps the height of each take-rate change to the rate
	// in force up to and including that height (SetParams appends, at most
	// types.MaxTakeRateHistory entries): settlement charges every block the
	// rate of its own time.
	TakeRateHistory collections.Map[int64, uint32]
}

// NewKeeper returns the escrow keeper. authority is the address allowed to
// update the params (normally the x/gov module account). It panics when
// authority is not a valid address for addressCodec.
func NewKeeper(
	cdc codec.BinaryCodec,
	storeService store.KVStoreService,
	addressCodec address.Codec,
	bank types.BankKeeper,
	distr types.DistrKeeper,
	authority string,
) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("escrow: invalid authority address %q: %w", authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		addressCodec: addressCodec,
		bank:         bank,
		distr:        distr,
		authority:    authority,
		moduleAddr:   authtypes.NewModuleAddress(types.ModuleName),
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Queue: collections.NewKeySet(sb, types.QueueKey, "queue",
			collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
		TakeRateHistory: collections.NewMap(sb, types.TakeRateHistoryKey, "take_rate_history",
			collections.Int64Key, collections.Uint32Value),
	}
	k.Accounts = collections.NewMap(sb, types.AccountsKey, "accounts",
		collections.Uint64Key, codec.CollValue[types.Account](cdc))
	k.AccountsByOwner = collections.NewKeySet(sb, types.AccountsByOwnerKey, "accounts_by_owner",
		collections.PairKeyCodec(sdk.AccAddressKey, collections.Uint64Key))
	k.AccountsByStateProvider = collections.NewKeySet(sb, types.AccountsByStateProviderKey, "accounts_by_state_provider",
		collections.TripleKeyCodec(collections.Int32Key, sdk.AccAddressKey, collections.Uint64Key))
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// GetAuthority returns the address allowed to update the params.
func (k Keeper) GetAuthority() string { return k.authority }

// SetParams stores p. When the take rate changes it records the rate in
// force so far at the current height in TakeRateHistory (a second change in
// the same block keeps the first record: blocks up to this one pay the rate
// they started with) and emits EventTakeRateChanged; the new rate applies
// from the next block. Beyond types.MaxTakeRateHistory records the oldest is
// dropped: an account not settled since before it would be charged the next
// record's rate for those blocks (64 governance changes of the take rate
// while an account never settles).
func (k Keeper) SetParams(ctx context.Context, p types.Params) error {
	if err := p.Validate(); err != nil {
		return err
	}
	old, err := k.Params.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return err
	}
	if err == nil && old.TakeRateBps != p.TakeRateBps {
		now := sdk.UnwrapSDKContext(ctx).BlockHeight()
		has, err := k.TakeRateHistory.Has(ctx, now)
		if err != nil {
			return err
		}
		if !has {
			if err := k.TakeRateHistory.Set(ctx, now, old.TakeRateBps); err != nil {
				return err
			}
			if err := k.pruneTakeRateHistory(ctx); err != nil {
				return err
			}
		}
		if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventTakeRateChanged{
			Height: now, OldTakeRateBps: old.TakeRateBps, NewTakeRateBps: p.TakeRateBps,
		}); err != nil {
			return err
		}
	}
	return k.Params.Set(ctx, p)
}

// pruneTakeRateHistory drops the oldest records beyond types.MaxTakeRateHistory.
func (k Keeper) pruneTakeRateHistory(ctx context.Context) error {
	var heights []int64
	err := k.TakeRateHistory.Walk(ctx, nil, func(h int64, _ uint32) (bool, error) {
		heights = append(heights, h)
		return false, nil
	})
	if err != nil {
		return err
	}
	for i := 0; i < len(heights)-types.MaxTakeRateHistory; i++ {
		if err := k.TakeRateHistory.Remove(ctx, heights[i]); err != nil {
			return err
		}
	}
	return nil
}

// ModuleAddress returns the escrow module account's address, which holds all
// escrowed funds.
func (k Keeper) ModuleAddress() sdk.AccAddress { return k.moduleAddr }

// AddressCodec returns the keeper's account address codec.
func (k Keeper) AddressCodec() address.Codec { return k.addressCodec }

// setAccount stores acc and keeps the indexes in step. prev is the account as
// it was loaded (nil for a new account): index entries are rewritten only
// when the fields they hold changed.
func (k Keeper) setAccount(ctx context.Context, prev *types.Account, acc types.Account) error {
	if prev == nil {
		owner, err := k.addressCodec.StringToBytes(acc.Owner)
		if err != nil {
			return err
		}
		if err := k.AccountsByOwner.Set(ctx, collections.Join(sdk.AccAddress(owner), acc.Id)); err != nil {
			return err
		}
	}
	if prev == nil || prev.State != acc.State || prev.Provider != acc.Provider {
		if prev != nil {
			old, err := k.stateProviderKey(*prev)
			if err != nil {
				return err
			}
			if err := k.AccountsByStateProvider.Remove(ctx, old); err != nil {
				return err
			}
		}
		key, err := k.stateProviderKey(acc)
		if err != nil {
			return err
		}
		if err := k.AccountsByStateProvider.Set(ctx, key); err != nil {
			return err
		}
	}
	return k.Accounts.Set(ctx, acc.Id, acc)
}

// PruneAccount deletes a CLOSED account and its index entries. Only an
// account that holds nothing may go: its balance and unwithdrawn earnings
// must be zero (CloseAccount pays both out), so no coin is ever lost. x/market
// calls it when it prunes the account's order.
func (k Keeper) PruneAccount(ctx context.Context, id uint64) error {
	acc, err := k.Accounts.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return errorsmod.Wrapf(types.ErrAccountNotFound, "account %d", id)
	} else if err != nil {
		return err
	}
	if acc.State != types.AccountStateClosed {
		return errorsmod.Wrapf(types.ErrInvalidState, "account %d is %s, not closed", id, acc.State)
	}
	if !acc.Balance.IsZero() || !acc.Unwithdrawn.IsZero() {
		return errorsmod.Wrapf(types.ErrInvalidState, "closed account %d still holds %s balance and %s unwithdrawn", id, acc.Balance, acc.Unwithdrawn)
	}
	owner, err := k.addressCodec.StringToBytes(acc.Owner)
	if err != nil {
		return err
	}
	if err := k.AccountsByOwner.Remove(ctx, collections.Join(sdk.AccAddress(owner), id)); err != nil {
		return err
	}
	key, err := k.stateProviderKey(acc)
	if err != nil {
		return err
	}
	if err := k.AccountsByStateProvider.Remove(ctx, key); err != nil {
		return err
	}
	return k.Accounts.Remove(ctx, id)
}

func (k Keeper) stateProviderKey(acc types.Account) (collections.Triple[int32, sdk.AccAddress, uint64], error) {
	provider := sdk.AccAddress{}
	if acc.Provider != "" {
		bz, err := k.addressCodec.StringToBytes(acc.Provider)
		if err != nil {
			return collections.Triple[int32, sdk.AccAddress, uint64]{}, err
		}
		provider = bz
	}
	return collections.Join3(int32(acc.State), provider, acc.Id), nil
}
