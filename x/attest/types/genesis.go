package types

import (
	errorsmod "cosmossdk.io/errors"
)

// NewGenesisState builds a GenesisState.
func NewGenesisState(params Params, challenges []Challenge, nextID uint64, records []Record, hashes []BlockHash, cursor ScheduleCursor, gpus []GPUStatus) *GenesisState {
	return &GenesisState{
		Params: params, Challenges: challenges, NextChallengeId: nextID,
		Records: records, BlockHashes: hashes, Cursor: cursor, GpuStatuses: gpus,
	}
}

// DefaultGenesis returns the default genesis: default params, no challenges,
// ids from 1.
func DefaultGenesis() *GenesisState {
	return NewGenesisState(DefaultParams(), []Challenge{}, 1, []Record{}, []BlockHash{}, ScheduleCursor{}, []GPUStatus{})
}

// Validate performs the stateless checks of a genesis state. Addresses are
// decoded by InitGenesis, which has the address codec.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return err
	}
	if gs.NextChallengeId == 0 {
		return errorsmod.Wrap(ErrInvalidGenesis, "next_challenge_id must be positive")
	}
	ids := make(map[uint64]struct{}, len(gs.Challenges))
	for i, c := range gs.Challenges {
		if err := c.Validate(); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "challenge %d: %s", i, err)
		}
		if c.Id >= gs.NextChallengeId {
			return errorsmod.Wrapf(ErrInvalidGenesis, "challenge id %d >= next_challenge_id %d", c.Id, gs.NextChallengeId)
		}
		if _, dup := ids[c.Id]; dup {
			return errorsmod.Wrapf(ErrInvalidGenesis, "duplicate challenge id %d", c.Id)
		}
		ids[c.Id] = struct{}{}
	}
	providers := make(map[string]struct{}, len(gs.Records))
	for i, r := range gs.Records {
		if err := r.Validate(); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "record %d: %s", i, err)
		}
		if _, dup := providers[r.Provider]; dup {
			return errorsmod.Wrapf(ErrInvalidGenesis, "duplicate record for %s", r.Provider)
		}
		providers[r.Provider] = struct{}{}
	}
	heights := make(map[int64]struct{}, len(gs.BlockHashes))
	for _, bh := range gs.BlockHashes {
		if bh.Height <= 0 {
			return errorsmod.Wrapf(ErrInvalidGenesis, "block hash at height %d", bh.Height)
		}
		if _, dup := heights[bh.Height]; dup {
			return errorsmod.Wrapf(ErrInvalidGenesis, "duplicate block hash at height %d", bh.Height)
		}
		heights[bh.Height] = struct{}{}
	}
	gpus := make(map[string]struct{}, len(gs.GpuStatuses))
	for i, g := range gs.GpuStatuses {
		if err := g.Validate(); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "gpu status %d: %s", i, err)
		}
		key := g.Provider + "/" + g.GpuUuid
		if _, dup := gpus[key]; dup {
			return errorsmod.Wrapf(ErrInvalidGenesis, "duplicate gpu status for %s", key)
		}
		gpus[key] = struct{}{}
	}
	if gs.Cursor.WindowHeight < 0 {
		return errorsmod.Wrap(ErrInvalidGenesis, "negative cursor window height")
	}
	return nil
}
