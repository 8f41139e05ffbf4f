package types

import (
	errorsmod "cosmossdk.io/errors"
	"google.golang.org/grpc/codes"
)

// x/attest errors. Codes start at 2 (1 is reserved for internal errors) and
// are part of the API: never renumber or reuse one, append new errors at the end.
var (
	ErrChallengeNotFound  = errorsmod.RegisterWithGRPCCode(ModuleName, 2, codes.NotFound, "challenge not found")
	ErrNotChallengeOwner  = errorsmod.RegisterWithGRPCCode(ModuleName, 3, codes.PermissionDenied, "challenge belongs to another provider")
	ErrWrongState         = errorsmod.RegisterWithGRPCCode(ModuleName, 4, codes.FailedPrecondition, "challenge is not in the required state")
	ErrCommitTooLate      = errorsmod.RegisterWithGRPCCode(ModuleName, 5, codes.FailedPrecondition, "commit deadline passed")
	ErrRevealTooLate      = errorsmod.RegisterWithGRPCCode(ModuleName, 6, codes.FailedPrecondition, "reveal deadline passed")
	ErrSampleBlockUnknown = errorsmod.RegisterWithGRPCCode(ModuleName, 7, codes.FailedPrecondition, "sample block hash not known yet")
	ErrRevealSize         = errorsmod.RegisterWithGRPCCode(ModuleName, 8, codes.InvalidArgument, "reveal has the wrong size")
	ErrMalformedReveal    = errorsmod.RegisterWithGRPCCode(ModuleName, 9, codes.InvalidArgument, "malformed reveal")
	ErrInvalidRoot        = errorsmod.RegisterWithGRPCCode(ModuleName, 10, codes.InvalidArgument, "invalid root")
	ErrInvalidSigner      = errorsmod.RegisterWithGRPCCode(ModuleName, 11, codes.PermissionDenied, "expected gov authority as signer")
	ErrInvalidParams      = errorsmod.RegisterWithGRPCCode(ModuleName, 12, codes.InvalidArgument, "invalid params")
	ErrInvalidGenesis     = errorsmod.RegisterWithGRPCCode(ModuleName, 13, codes.InvalidArgument, "invalid genesis state")
	ErrInvalidAddress     = errorsmod.RegisterWithGRPCCode(ModuleName, 14, codes.InvalidArgument, "invalid address")
	ErrInvalidState       = errorsmod.RegisterWithGRPCCode(ModuleName, 15, codes.InvalidArgument, "invalid challenge state")
	ErrInvalidChallengeID = errorsmod.RegisterWithGRPCCode(ModuleName, 16, codes.InvalidArgument, "invalid challenge id")
	ErrProofCountMismatch = errorsmod.RegisterWithGRPCCode(ModuleName, 17, codes.InvalidArgument, "proof has the wrong number of openings")
	ErrProofWrongPosition = errorsmod.RegisterWithGRPCCode(ModuleName, 18, codes.InvalidArgument, "proof opens a position that was not sampled")
	ErrProofBadPath       = errorsmod.RegisterWithGRPCCode(ModuleName, 19, codes.InvalidArgument, "proof has a bad merkle path")
	ErrProofWrongValue    = errorsmod.RegisterWithGRPCCode(ModuleName, 20, codes.InvalidArgument, "proof opens a wrong value")
	ErrProofInvalid       = errorsmod.RegisterWithGRPCCode(ModuleName, 21, codes.InvalidArgument, "proof does not verify")
	ErrInvalidChallenge   = errorsmod.RegisterWithGRPCCode(ModuleName, 22, codes.InvalidArgument, "invalid challenge")
)

// Errors added later (codes are append-only).
var (
	// ErrUnknownClass is returned for a GPU class that params.class_sizes does
	// not define.
	ErrUnknownClass = errorsmod.RegisterWithGRPCCode(ModuleName, 23, codes.InvalidArgument, "gpu class not defined by the chain")
)
