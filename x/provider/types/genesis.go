package types

import (
	errorsmod "cosmossdk.io/errors"
)

// NewGenesisState builds a GenesisState.
func NewGenesisState(params Params, providers []Provider, queue []UnbondingEntry) *GenesisState {
	return &GenesisState{Params: params, Providers: providers, UnbondingQueue: queue}
}

// DefaultGenesis returns the default genesis: default params, no providers.
func DefaultGenesis() *GenesisState {
	return NewGenesisState(DefaultParams(), []Provider{}, []UnbondingEntry{})
}

// Validate performs the stateless checks of a genesis state: valid params,
// valid and unique providers, and an unbonding queue that has exactly one
// entry, at the provider's unbonding_height, for every provider in
// PROVIDER_STATUS_UNBONDING and no other entry. Addresses are decoded (and
// duplicates by bytes rejected) by InitGenesis, which has the address codec.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return err
	}
	unbonding := make(map[string]int64, len(gs.Providers))
	seen := make(map[string]struct{}, len(gs.Providers))
	for i := range gs.Providers {
		p := gs.Providers[i]
		if _, dup := seen[p.Owner]; dup {
			return errorsmod.Wrapf(ErrInvalidGenesis, "duplicate provider %s", p.Owner)
		}
		seen[p.Owner] = struct{}{}
		if err := p.Validate(); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "provider %d (%s): %s", i, p.Owner, err)
		}
		if p.Status == ProviderStatusUnbonding {
			unbonding[p.Owner] = p.UnbondingHeight
		}
	}
	queued := make(map[string]struct{}, len(gs.UnbondingQueue))
	for i, e := range gs.UnbondingQueue {
		h, ok := unbonding[e.Owner]
		if !ok {
			return errorsmod.Wrapf(ErrInvalidGenesis, "unbonding entry %d: %s is not an unbonding provider", i, e.Owner)
		}
		if e.Height != h {
			return errorsmod.Wrapf(ErrInvalidGenesis, "unbonding entry %d: height %d differs from the provider's unbonding_height %d", i, e.Height, h)
		}
		if _, dup := queued[e.Owner]; dup {
			return errorsmod.Wrapf(ErrInvalidGenesis, "duplicate unbonding entry for %s", e.Owner)
		}
		queued[e.Owner] = struct{}{}
	}
	if len(queued) != len(unbonding) {
		return errorsmod.Wrapf(ErrInvalidGenesis, "%d unbonding providers but %d unbonding entries", len(unbonding), len(queued))
	}
	return nil
}

// ValidStatus reports whether s is one of the statuses a provider can have.
func ValidStatus(s ProviderStatus) bool {
	switch s {
	case ProviderStatusActive, ProviderStatusJailed, ProviderStatusUnbonding:
		return true
	default:
		return false
	}
}

// Validate checks the stateless invariants of a stored provider. It does not
// check the owner's address encoding nor the params-dependent limits (params
// may have shrunk since the provider registered).
func (p Provider) Validate() error {
	if p.Owner == "" {
		return errorsmod.Wrap(ErrInvalidAddress, "empty owner")
	}
	if err := ValidateDescription(p.HostUri, p.Region, p.Tier); err != nil {
		return err
	}
	if err := ValidateAttributes(p.Attributes); err != nil {
		return err
	}
	if err := ValidateGPUs(p.Gpus); err != nil {
		return err
	}
	if err := p.Bond.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidBond, "%s", err)
	}
	if !ValidStatus(p.Status) {
		return errorsmod.Wrapf(ErrInvalidStatus, "%s", p.Status)
	}
	if p.Reputation < 0 || p.Reputation > MaxReputation {
		return errorsmod.Wrapf(ErrInvalidReputation, "%d not in [0, %d]", p.Reputation, MaxReputation)
	}
	if p.RegisteredHeight < 0 || p.JailedUntil < 0 || p.UnbondingHeight < 0 {
		return errorsmod.Wrap(ErrInvalidGenesis, "negative height")
	}
	if p.Status == ProviderStatusJailed && p.JailedUntil == 0 {
		return errorsmod.Wrap(ErrInvalidGenesis, "jailed provider without jailed_until")
	}
	if (p.Status == ProviderStatusUnbonding) != (p.UnbondingHeight != 0) {
		return errorsmod.Wrap(ErrInvalidGenesis, "unbonding_height must be set exactly when status is unbonding")
	}
	if p.Status == ProviderStatusUnbonding && p.ActiveLeases != 0 {
		return errorsmod.Wrap(ErrInvalidGenesis, "unbonding provider with active leases")
	}
	return nil
}
