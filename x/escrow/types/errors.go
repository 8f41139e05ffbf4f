package types

import errorsmod "cosmossdk.io/errors"

// x/escrow registered errors. Codes are append-only.
var (
	ErrAccountNotFound   = errorsmod.Register(ModuleName, 2, "escrow account not found")
	ErrAccountExists     = errorsmod.Register(ModuleName, 3, "escrow account already exists")
	ErrAccountClosed     = errorsmod.Register(ModuleName, 4, "escrow account is closed")
	ErrInvalidState      = errorsmod.Register(ModuleName, 5, "escrow account is in the wrong state")
	ErrInvalidAmount     = errorsmod.Register(ModuleName, 6, "invalid amount")
	ErrInvalidDenom      = errorsmod.Register(ModuleName, 7, "denom does not match the account")
	ErrNotProvider       = errorsmod.Register(ModuleName, 8, "signer is not the account's provider")
	ErrNothingToWithdraw = errorsmod.Register(ModuleName, 9, "no unwithdrawn earnings")
	ErrInvalidAuthority  = errorsmod.Register(ModuleName, 10, "invalid authority")
	ErrInvalidParams     = errorsmod.Register(ModuleName, 11, "invalid params")
	ErrOverflow          = errorsmod.Register(ModuleName, 12, "amount overflows")
	ErrInvalidGenesis    = errorsmod.Register(ModuleName, 13, "invalid genesis state")
	ErrInvalidAccount    = errorsmod.Register(ModuleName, 14, "invalid escrow account")
	ErrInvariantBroken   = errorsmod.Register(ModuleName, 15, "escrow invariant broken")
	ErrInvalidEndHeight  = errorsmod.Register(ModuleName, 16, "invalid end height")
)
