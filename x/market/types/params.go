package types

import (
	"fmt"

	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Default parameter values.
const (
	DefaultDenom               = "ucru"
	DefaultMaxBidsPerOrder     = uint32(20)
	DefaultOrderTTLBlocks      = uint64(600)        // ten minutes of 1 s blocks
	DefaultMaxLeaseBlocks      = uint64(31_536_000) // a year of 1 s blocks
	DefaultMaxExpiriesPerBlock = uint32(200)
	DefaultMaxStringLen        = uint32(256)
	// DefaultClosedRetentionBlocks keeps a finished order, its bids, lease
	// and escrow account for 1 week of 1 s blocks.
	DefaultClosedRetentionBlocks = uint64(604_800)
	// DefaultMaxPruneRecordsPerBlock bounds the deletions of pruning in one
	// EndBlock.
	DefaultMaxPruneRecordsPerBlock = uint32(1_000)

	// Upper bounds that keep per-block and per-message work small.
	maxMaxBidsPerOrder     = 1_000
	maxMaxExpiriesPerBlock = 10_000
	maxMaxStringLen        = 4_096
	maxMaxPruneRecords     = 100_000
	minMaxPruneRecords     = 4
)

// Default deposits: 1 CRU for an order, 0.5 CRU for a bid.
var (
	DefaultMinOrderDeposit = sdk.NewCoin(DefaultDenom, math.NewInt(1_000_000))
	DefaultMinBidDeposit   = sdk.NewCoin(DefaultDenom, math.NewInt(500_000))
)

// DefaultParams returns the default x/market parameters.
func DefaultParams() Params {
	return Params{
		MaxBidsPerOrder:     DefaultMaxBidsPerOrder,
		MinBidDeposit:       DefaultMinBidDeposit,
		MinOrderDeposit:     DefaultMinOrderDeposit,
		OrderTtlBlocks:      DefaultOrderTTLBlocks,
		MaxLeaseBlocks:      DefaultMaxLeaseBlocks,
		MaxExpiriesPerBlock: DefaultMaxExpiriesPerBlock,
		MaxStringLen:        DefaultMaxStringLen,

		ClosedRetentionBlocks:   DefaultClosedRetentionBlocks,
		MaxPruneRecordsPerBlock: DefaultMaxPruneRecordsPerBlock,
	}
}

// Validate checks every parameter against its bounds.
func (p Params) Validate() error {
	if p.MaxBidsPerOrder == 0 || p.MaxBidsPerOrder > maxMaxBidsPerOrder {
		return errorsmod.Wrapf(ErrInvalidParams, "max_bids_per_order must be in [1, %d], got %d", maxMaxBidsPerOrder, p.MaxBidsPerOrder)
	}
	if err := validatePositiveCoin(p.MinBidDeposit); err != nil {
		return errorsmod.Wrapf(ErrInvalidParams, "min_bid_deposit: %s", err)
	}
	if err := validatePositiveCoin(p.MinOrderDeposit); err != nil {
		return errorsmod.Wrapf(ErrInvalidParams, "min_order_deposit: %s", err)
	}
	if p.OrderTtlBlocks == 0 || p.OrderTtlBlocks > MaxBlocksParam {
		return errorsmod.Wrapf(ErrInvalidParams, "order_ttl_blocks must be in [1, %d], got %d", MaxBlocksParam, p.OrderTtlBlocks)
	}
	if p.MaxLeaseBlocks == 0 || p.MaxLeaseBlocks > MaxBlocksParam {
		return errorsmod.Wrapf(ErrInvalidParams, "max_lease_blocks must be in [1, %d], got %d", MaxBlocksParam, p.MaxLeaseBlocks)
	}
	if p.MaxExpiriesPerBlock == 0 || p.MaxExpiriesPerBlock > maxMaxExpiriesPerBlock {
		return errorsmod.Wrapf(ErrInvalidParams, "max_expiries_per_block must be in [1, %d], got %d", maxMaxExpiriesPerBlock, p.MaxExpiriesPerBlock)
	}
	if p.MaxStringLen == 0 || p.MaxStringLen > maxMaxStringLen {
		return errorsmod.Wrapf(ErrInvalidParams, "max_string_len must be in [1, %d], got %d", maxMaxStringLen, p.MaxStringLen)
	}
	if p.ClosedRetentionBlocks > MaxBlocksParam {
		return errorsmod.Wrapf(ErrInvalidParams, "closed_retention_blocks must be at most %d (0 keeps finished orders), got %d", MaxBlocksParam, p.ClosedRetentionBlocks)
	}
	// At least 4, so that the last step of pruning an order (its winning
	// bid, lease, escrow account and the order itself) fits in one block.
	if p.MaxPruneRecordsPerBlock < minMaxPruneRecords || p.MaxPruneRecordsPerBlock > maxMaxPruneRecords {
		return errorsmod.Wrapf(ErrInvalidParams, "max_prune_records_per_block must be in [%d, %d], got %d", minMaxPruneRecords, maxMaxPruneRecords, p.MaxPruneRecordsPerBlock)
	}
	return nil
}

// validatePositiveCoin checks that c has a valid denom and a positive amount.
func validatePositiveCoin(c sdk.Coin) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if !c.IsPositive() {
		return fmt.Errorf("amount must be positive, got %s", c)
	}
	return nil
}
