package types

import errorsmod "cosmossdk.io/errors"

// NewGenesisState returns a GenesisState.
func NewGenesisState(params Params, accounts []Account) *GenesisState {
	return &GenesisState{Params: params, Accounts: accounts}
}

// DefaultGenesisState returns the default genesis: default params, no accounts.
func DefaultGenesisState() *GenesisState {
	return NewGenesisState(DefaultParams(), nil)
}

// Validate checks the params, that ids are unique and that every account is
// internally consistent (see Account.Validate).
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidGenesis, "params: %v", err)
	}
	seen := make(map[uint64]struct{}, len(gs.Accounts))
	for _, acc := range gs.Accounts {
		if _, dup := seen[acc.Id]; dup {
			return errorsmod.Wrapf(ErrInvalidGenesis, "duplicate account id %d", acc.Id)
		}
		seen[acc.Id] = struct{}{}
		if err := acc.Validate(); err != nil {
			return errorsmod.Wrap(ErrInvalidGenesis, err.Error())
		}
	}
	return nil
}
