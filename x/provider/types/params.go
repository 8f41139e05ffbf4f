package types

import (
	"fmt"

	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

const (
	// DefaultBondDenom is the denom of the default minimum bond.
	DefaultBondDenom = "ucru"
	// DefaultUnbondingBlocks is seven days at the chain's 1 s blocks
	// (cmd/crucibled DefaultTimeoutCommit).
	DefaultUnbondingBlocks uint64 = 604_800
	// DefaultMaxGPUs is the default largest inventory of one provider.
	DefaultMaxGPUs uint32 = 64
	// DefaultMaxAttributes is the default largest number of attributes.
	DefaultMaxAttributes uint32 = 16
	// DefaultJailBlocks is one day at 1 s blocks.
	DefaultJailBlocks uint64 = 86_400

	// DefaultInitialReputation is the reputation a new provider starts with, in
	// basis points: 0, unverified. Reputation is earned by passing
	// proof-of-compute challenges, so a provider with a bad record gains
	// nothing by registering a new identity.
	DefaultInitialReputation int64 = 0
	// MaxReputation is the top of the reputation scale, in basis points.
	MaxReputation int64 = 10_000
	// BasisPoints is the denominator of slash fractions.
	BasisPoints uint32 = 10_000

	// MaxGPUsLimit and MaxAttributesLimit bound the params (and the stateless
	// checks on messages) whatever governance sets.
	MaxGPUsLimit       uint32 = 1_024
	MaxAttributesLimit uint32 = 64
	// MaxBlocksParam bounds unbonding_blocks and jail_blocks (about 19 years at
	// 6 s blocks) so that height + blocks can never overflow an int64.
	MaxBlocksParam uint64 = 100_000_000
)

// DefaultMinBond is 1,000 CRU.
func DefaultMinBond() sdk.Coin { return sdk.NewCoin(DefaultBondDenom, math.NewInt(1_000_000_000)) }

// NewParams builds Params.
func NewParams(minBond sdk.Coin, unbondingBlocks uint64, maxGPUs, maxAttributes uint32, jailBlocks uint64) Params {
	return Params{
		MinBond:         minBond,
		UnbondingBlocks: unbondingBlocks,
		MaxGpus:         maxGPUs,
		MaxAttributes:   maxAttributes,
		JailBlocks:      jailBlocks,
	}
}

// DefaultParams returns the default module parameters.
func DefaultParams() Params {
	return NewParams(DefaultMinBond(), DefaultUnbondingBlocks, DefaultMaxGPUs, DefaultMaxAttributes, DefaultJailBlocks)
}

// Validate checks that the params are usable.
func (p Params) Validate() error {
	if err := p.MinBond.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidParams, "min_bond: %s", err)
	}
	if !p.MinBond.IsPositive() {
		return errorsmod.Wrapf(ErrInvalidParams, "min_bond must be positive, got %s", p.MinBond)
	}
	if err := validateBlocks("unbonding_blocks", p.UnbondingBlocks); err != nil {
		return err
	}
	if err := validateBlocks("jail_blocks", p.JailBlocks); err != nil {
		return err
	}
	if p.MaxGpus == 0 || p.MaxGpus > MaxGPUsLimit {
		return errorsmod.Wrapf(ErrInvalidParams, "max_gpus must be in [1, %d], got %d", MaxGPUsLimit, p.MaxGpus)
	}
	if p.MaxAttributes > MaxAttributesLimit {
		return errorsmod.Wrapf(ErrInvalidParams, "max_attributes must be at most %d, got %d", MaxAttributesLimit, p.MaxAttributes)
	}
	return nil
}

func validateBlocks(name string, v uint64) error {
	if v == 0 || v > MaxBlocksParam {
		return errorsmod.Wrap(ErrInvalidParams, fmt.Sprintf("%s must be in [1, %d], got %d", name, MaxBlocksParam, v))
	}
	return nil
}
