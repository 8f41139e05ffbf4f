package types

import errorsmod "cosmossdk.io/errors"

// x/market registered errors. Codes start at 2 and are append-only.
var (
	ErrInvalidParams          = errorsmod.Register(ModuleName, 2, "invalid params")
	ErrInvalidAuthority       = errorsmod.Register(ModuleName, 3, "invalid authority")
	ErrInvalidSpec            = errorsmod.Register(ModuleName, 4, "invalid order spec")
	ErrInvalidPrice           = errorsmod.Register(ModuleName, 5, "invalid price")
	ErrInvalidDeposit         = errorsmod.Register(ModuleName, 6, "invalid deposit")
	ErrInvalidDuration        = errorsmod.Register(ModuleName, 7, "invalid duration")
	ErrStringTooLong          = errorsmod.Register(ModuleName, 8, "string too long")
	ErrOrderNotFound          = errorsmod.Register(ModuleName, 9, "order not found")
	ErrOrderNotOpen           = errorsmod.Register(ModuleName, 10, "order not open")
	ErrOrderExpired           = errorsmod.Register(ModuleName, 11, "order expired")
	ErrBidNotFound            = errorsmod.Register(ModuleName, 12, "bid not found")
	ErrBidNotOpen             = errorsmod.Register(ModuleName, 13, "bid not open")
	ErrLeaseNotFound          = errorsmod.Register(ModuleName, 14, "lease not found")
	ErrLeaseNotActive         = errorsmod.Register(ModuleName, 15, "lease not active")
	ErrUnauthorized           = errorsmod.Register(ModuleName, 16, "signer does not own the object")
	ErrProviderNotActive      = errorsmod.Register(ModuleName, 17, "provider not active")
	ErrReputationTooLow       = errorsmod.Register(ModuleName, 18, "provider reputation too low")
	ErrAttributeMismatch      = errorsmod.Register(ModuleName, 19, "provider attributes do not match the order")
	ErrGPUMismatch            = errorsmod.Register(ModuleName, 20, "gpus do not match the order")
	ErrGPUInUse               = errorsmod.Register(ModuleName, 21, "gpu already leased")
	ErrDuplicateBid           = errorsmod.Register(ModuleName, 22, "provider already has an open bid on this order")
	ErrTooManyBids            = errorsmod.Register(ModuleName, 23, "order has the maximum number of open bids")
	ErrResultAlreadySubmitted = errorsmod.Register(ModuleName, 24, "lease result already submitted")
	ErrInvalidResult          = errorsmod.Register(ModuleName, 25, "invalid lease result")
	ErrInvalidCloseReason     = errorsmod.Register(ModuleName, 26, "invalid lease close reason")
	ErrInvalidGenesis         = errorsmod.Register(ModuleName, 27, "invalid genesis state")
	ErrInvalidID              = errorsmod.Register(ModuleName, 28, "invalid id")
	// ErrInconsistentState reports state that breaks the module's own rules
	// (a bug, never user input), e.g. pruning an order that is not finished.
	ErrInconsistentState = errorsmod.Register(ModuleName, 29, "inconsistent market state")
	// ErrGPUNotVerified: the order requires GPUs that passed a
	// proof-of-compute challenge recently (verified_within_blocks).
	ErrGPUNotVerified = errorsmod.Register(ModuleName, 30, "gpu not verified recently enough")
	// ErrManifestMismatch: a result names a manifest hash other than its
	// lease's order's.
	ErrManifestMismatch = errorsmod.Register(ModuleName, 31, "manifest hash does not match the order")
	// ErrTooManyResults: the lease already has MaxResultSubmissions results.
	ErrTooManyResults = errorsmod.Register(ModuleName, 32, "lease has the maximum number of results")
)
