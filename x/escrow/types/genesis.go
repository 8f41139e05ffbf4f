package types

import errorsmod "cosmossdk.io/errors"

// NewGenesisState returns a GenesisState.
func NewGenesisState(params Params, accounts []Account) *GenesisState {
	return &GenesisState{Params: params, Accounts: accounts}
}

// ValidateTakeRateHistory checks a take-rate history: at most
// MaxTakeRateHistory entries, heights non-negative and strictly increasing,
// every rate valid.
func ValidateTakeRateHistory(history []TakeRateChange) error {
	if len(history) > MaxTakeRateHistory {
		return errorsmod.Wrapf(ErrInvalidGenesis, "take_rate_history has %d entries, at most %d", len(history), MaxTakeRateHistory)
	}
	for i, c := range history {
		if c.Height < 0 || (i > 0 && c.Height <= history[i-1].Height) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "take_rate_history[%d]: height %d not increasing", i, c.Height)
		}
		if c.TakeRateBps > MaxTakeRateBps {
			return errorsmod.Wrapf(ErrInvalidGenesis, "take_rate_history[%d]: take_rate_bps %d above %d", i, c.TakeRateBps, MaxTakeRateBps)
		}
	}
	return nil
}

// DefaultGenesisState returns the default genesis: default params, no accounts.
func DefaultGenesisState() *GenesisState {
	return NewGenesisState(DefaultParams(), nil)
}

// Validate checks the params, the take-rate history, that ids are unique and that every account is
// internally consistent (see Account.Validate).
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidGenesis, "params: %v", err)
	}
	if err := ValidateTakeRateHistory(gs.TakeRateHistory); err != nil {
		return err
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
