package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/provider/types"
)

// InitGenesis validates gs and writes it to the store. The bonds of the
// imported providers must already be in the module account (x/bank genesis);
// x/provider does not move coins at genesis.
func (k Keeper) InitGenesis(ctx context.Context, gs *types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, p := range gs.Providers {
		owner, err := k.decodeAddress("provider owner", p.Owner)
		if err != nil {
			return errorsmod.Wrap(types.ErrInvalidGenesis, err.Error())
		}
		has, err := k.Providers.Has(ctx, owner)
		if err != nil {
			return err
		}
		if has {
			return errorsmod.Wrapf(types.ErrInvalidGenesis, "duplicate provider %s", p.Owner)
		}
		if err := k.setProvider(ctx, owner, p); err != nil {
			return err
		}
		if p.ActiveLeases > 0 {
			if err := k.ActiveLeases.Set(ctx, owner, p.ActiveLeases); err != nil {
				return err
			}
		}
	}
	for _, e := range gs.UnbondingQueue {
		owner, err := k.decodeAddress("unbonding owner", e.Owner)
		if err != nil {
			return errorsmod.Wrap(types.ErrInvalidGenesis, err.Error())
		}
		if err := k.Unbonding.Set(ctx, collections.Join(e.Height, owner)); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis exports the module state: params, every provider in owner
// byte order (active_leases filled in from the lease counter) and the
// unbonding queue in (height, owner) order.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	gs := types.NewGenesisState(params, []types.Provider{}, []types.UnbondingEntry{})
	err = k.Providers.Walk(ctx, nil, func(owner sdk.AccAddress, p types.Provider) (bool, error) {
		if err := k.fillActiveLeases(ctx, owner, &p); err != nil {
			return true, err
		}
		gs.Providers = append(gs.Providers, p)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.Unbonding.Walk(ctx, nil, func(key collections.Pair[int64, sdk.AccAddress]) (bool, error) {
		owner, err := k.ownerString(key.K2())
		if err != nil {
			return true, err
		}
		gs.UnbondingQueue = append(gs.UnbondingQueue, types.UnbondingEntry{Owner: owner, Height: key.K1()})
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return gs, nil
}
