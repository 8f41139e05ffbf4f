package types

import (
	"cosmossdk.io/core/address"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
)

var (
	_ sdk.Msg = (*MsgDeposit)(nil)
	_ sdk.Msg = (*MsgWithdraw)(nil)
	_ sdk.Msg = (*MsgUpdateParams)(nil)
)

// ValidateCoinAmount checks that coin has a valid denom and a positive amount.
func ValidateCoinAmount(coin sdk.Coin) error {
	if coin.Amount.IsNil() {
		return errorsmod.Wrap(ErrInvalidAmount, "amount is empty")
	}
	if err := sdk.ValidateDenom(coin.Denom); err != nil {
		return errorsmod.Wrapf(ErrInvalidAmount, "denom: %v", err)
	}
	if !coin.Amount.IsPositive() {
		return errorsmod.Wrapf(ErrInvalidAmount, "amount must be positive, got %s", coin.Amount)
	}
	return nil
}

// Validate performs the stateless checks of MsgDeposit.
func (m *MsgDeposit) Validate(ac address.Codec) error {
	if _, err := ac.StringToBytes(m.Depositor); err != nil {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "depositor: %v", err)
	}
	return ValidateCoinAmount(m.Amount)
}

// Validate performs the stateless checks of MsgWithdraw.
func (m *MsgWithdraw) Validate(ac address.Codec) error {
	if _, err := ac.StringToBytes(m.Provider); err != nil {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "provider: %v", err)
	}
	return nil
}

// Validate performs the stateless checks of MsgUpdateParams.
func (m *MsgUpdateParams) Validate(ac address.Codec) error {
	if _, err := ac.StringToBytes(m.Authority); err != nil {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "authority: %v", err)
	}
	return m.Params.Validate()
}
