package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/attest/types"
)

// InitGenesis validates gs and writes it to the store, rebuilding the
// deadline queue from the open challenges and the pruning queue from the
// finished ones.
func (k Keeper) InitGenesis(ctx context.Context, gs *types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, c := range gs.Challenges {
		if _, err := k.decodeAddress("challenge provider", c.Provider); err != nil {
			return errorsmod.Wrap(types.ErrInvalidGenesis, err.Error())
		}
		if err := k.Challenges.Set(ctx, c.Id, c); err != nil {
			return err
		}
		if d, ok := c.NextDeadline(); ok {
			if err := k.Deadlines.Set(ctx, collections.Join(d, c.Id)); err != nil {
				return err
			}
		} else if c.FinishedHeight > 0 {
			if err := k.Finished.Set(ctx, collections.Join(c.FinishedHeight, c.Id)); err != nil {
				return err
			}
		}
	}
	if err := k.NextChallengeID.Set(ctx, gs.NextChallengeId); err != nil {
		return err
	}
	for _, r := range gs.Records {
		p, err := k.decodeAddress("record provider", r.Provider)
		if err != nil {
			return errorsmod.Wrap(types.ErrInvalidGenesis, err.Error())
		}
		has, err := k.Records.Has(ctx, p)
		if err != nil {
			return err
		}
		if has {
			return errorsmod.Wrapf(types.ErrInvalidGenesis, "duplicate record for %s", r.Provider)
		}
		if err := k.Records.Set(ctx, p, r); err != nil {
			return err
		}
	}
	for _, bh := range gs.BlockHashes {
		if err := k.BlockHashes.Set(ctx, bh.Height, bh.Hash); err != nil {
			return err
		}
	}
	for _, g := range gs.GpuStatuses {
		p, err := k.decodeAddress("gpu status provider", g.Provider)
		if err != nil {
			return errorsmod.Wrap(types.ErrInvalidGenesis, err.Error())
		}
		if err := k.GPUStatuses.Set(ctx, collections.Join(p, g.GpuUuid), g); err != nil {
			return err
		}
	}
	return k.Cursor.Set(ctx, gs.Cursor)
}

// ExportGenesis exports the module state: params, challenges in id order,
// the next id, records in provider byte order, the retained block hashes in
// height order, the schedule cursor and the GPU liveness states.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	next, err := k.NextChallengeID.Peek(ctx)
	if err != nil {
		return nil, err
	}
	if next == 0 {
		next = 1
	}
	cursor, err := k.Cursor.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return nil, err
	}
	gs := types.NewGenesisState(params, []types.Challenge{}, next, []types.Record{}, []types.BlockHash{}, cursor, []types.GPUStatus{})
	err = k.Challenges.Walk(ctx, nil, func(_ uint64, c types.Challenge) (bool, error) {
		gs.Challenges = append(gs.Challenges, c)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.Records.Walk(ctx, nil, func(_ sdk.AccAddress, r types.Record) (bool, error) {
		gs.Records = append(gs.Records, r)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.BlockHashes.Walk(ctx, nil, func(h int64, hash []byte) (bool, error) {
		gs.BlockHashes = append(gs.BlockHashes, types.BlockHash{Height: h, Hash: hash})
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.GPUStatuses.Walk(ctx, nil, func(_ collections.Pair[sdk.AccAddress, string], g types.GPUStatus) (bool, error) {
		gs.GpuStatuses = append(gs.GpuStatuses, g)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return gs, nil
}
