package types

import (
	errorsmod "cosmossdk.io/errors"
	"google.golang.org/grpc/codes"
)

// x/provider errors. Codes start at 2 (1 is reserved for internal errors) and
// are part of the API: never renumber or reuse one, append new errors at the end.
var (
	ErrProviderNotFound  = errorsmod.RegisterWithGRPCCode(ModuleName, 2, codes.NotFound, "provider not found")
	ErrProviderExists    = errorsmod.RegisterWithGRPCCode(ModuleName, 3, codes.AlreadyExists, "provider already registered")
	ErrInvalidBond       = errorsmod.RegisterWithGRPCCode(ModuleName, 4, codes.InvalidArgument, "invalid bond amount")
	ErrBondDenom         = errorsmod.RegisterWithGRPCCode(ModuleName, 5, codes.InvalidArgument, "wrong bond denom")
	ErrInsufficientBond  = errorsmod.RegisterWithGRPCCode(ModuleName, 6, codes.FailedPrecondition, "bond below the minimum")
	ErrInvalidHostURI    = errorsmod.RegisterWithGRPCCode(ModuleName, 7, codes.InvalidArgument, "invalid host uri")
	ErrInvalidField      = errorsmod.RegisterWithGRPCCode(ModuleName, 8, codes.InvalidArgument, "invalid provider field")
	ErrInvalidAttribute  = errorsmod.RegisterWithGRPCCode(ModuleName, 9, codes.InvalidArgument, "invalid attribute")
	ErrTooManyAttributes = errorsmod.RegisterWithGRPCCode(ModuleName, 10, codes.InvalidArgument, "too many attributes")
	ErrInvalidGPU        = errorsmod.RegisterWithGRPCCode(ModuleName, 11, codes.InvalidArgument, "invalid gpu")
	ErrDuplicateGPU      = errorsmod.RegisterWithGRPCCode(ModuleName, 12, codes.InvalidArgument, "duplicate gpu uuid")
	ErrTooManyGPUs       = errorsmod.RegisterWithGRPCCode(ModuleName, 13, codes.InvalidArgument, "too many gpus")
	ErrActiveLeases      = errorsmod.RegisterWithGRPCCode(ModuleName, 14, codes.FailedPrecondition, "provider has active leases")
	ErrProviderJailed    = errorsmod.RegisterWithGRPCCode(ModuleName, 15, codes.FailedPrecondition, "provider is jailed")
	ErrProviderUnbonding = errorsmod.RegisterWithGRPCCode(ModuleName, 16, codes.FailedPrecondition, "provider is unbonding")
	ErrProviderNotActive = errorsmod.RegisterWithGRPCCode(ModuleName, 17, codes.FailedPrecondition, "provider is not active")
	ErrNotJailed         = errorsmod.RegisterWithGRPCCode(ModuleName, 18, codes.FailedPrecondition, "provider is not jailed")
	ErrStillJailed       = errorsmod.RegisterWithGRPCCode(ModuleName, 19, codes.FailedPrecondition, "jail period not over")
	ErrInvalidSigner     = errorsmod.RegisterWithGRPCCode(ModuleName, 20, codes.PermissionDenied, "expected gov authority as signer")
	ErrInvalidParams     = errorsmod.RegisterWithGRPCCode(ModuleName, 21, codes.InvalidArgument, "invalid params")
	ErrInvalidReputation = errorsmod.RegisterWithGRPCCode(ModuleName, 22, codes.InvalidArgument, "reputation out of range")
	ErrInvalidSlash      = errorsmod.RegisterWithGRPCCode(ModuleName, 23, codes.InvalidArgument, "invalid slash fraction")
	ErrGPUNotFound       = errorsmod.RegisterWithGRPCCode(ModuleName, 24, codes.NotFound, "gpu not found")
	ErrGPUsLeased        = errorsmod.RegisterWithGRPCCode(ModuleName, 25, codes.FailedPrecondition, "gpu inventory cannot change while leases are active")
	ErrNoActiveLeases    = errorsmod.RegisterWithGRPCCode(ModuleName, 26, codes.FailedPrecondition, "provider has no active lease to remove")
	ErrInvalidGenesis    = errorsmod.RegisterWithGRPCCode(ModuleName, 27, codes.InvalidArgument, "invalid genesis state")
	ErrInvalidAddress    = errorsmod.RegisterWithGRPCCode(ModuleName, 28, codes.InvalidArgument, "invalid address")
	ErrInvalidStatus     = errorsmod.RegisterWithGRPCCode(ModuleName, 29, codes.InvalidArgument, "invalid provider status")
)
