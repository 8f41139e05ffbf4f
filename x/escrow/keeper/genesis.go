package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/crucible-network/crucible/x/escrow/types"
)

// InitGenesis validates gs and loads it: params, the take-rate history, accounts, and the settlement
// queue rebuilt from every ACTIVE account's exhaustion_height. The module
// account's bank balance is part of x/bank's genesis; CheckBalances verifies
// that the two agree.
func (k Keeper) InitGenesis(ctx context.Context, gs *types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, c := range gs.TakeRateHistory {
		if err := k.TakeRateHistory.Set(ctx, c.Height, c.TakeRateBps); err != nil {
			return err
		}
	}
	for _, acc := range gs.Accounts {
		if _, err := k.addressCodec.StringToBytes(acc.Owner); err != nil {
			return errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "account %d owner: %v", acc.Id, err)
		}
		if acc.Provider != "" {
			if _, err := k.addressCodec.StringToBytes(acc.Provider); err != nil {
				return errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "account %d provider: %v", acc.Id, err)
			}
		}
		if err := k.setAccount(ctx, nil, acc); err != nil {
			return err
		}
		if acc.State == types.AccountStateActive {
			if err := k.Queue.Set(ctx, collections.Join(acc.ExhaustionHeight, acc.Id)); err != nil {
				return err
			}
		}
	}
	return nil
}

// ExportGenesis returns the params, every account in id order and the
// take-rate history.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	var accounts []types.Account
	err = k.Accounts.Walk(ctx, nil, func(_ uint64, acc types.Account) (bool, error) {
		accounts = append(accounts, acc)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	gs := types.NewGenesisState(params, accounts)
	err = k.TakeRateHistory.Walk(ctx, nil, func(h int64, bps uint32) (bool, error) {
		gs.TakeRateHistory = append(gs.TakeRateHistory, types.TakeRateChange{Height: h, TakeRateBps: bps})
		return false, nil
	})
	return gs, err
}
