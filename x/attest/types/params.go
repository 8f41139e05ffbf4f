package types

import (
	"fmt"
	"strings"

	errorsmod "cosmossdk.io/errors"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// Default parameters. Block counts assume ~6 s blocks.
const (
	// DefaultWindowBlocks is one window every 100 blocks (~10 minutes).
	DefaultWindowBlocks uint64 = 100
	// DefaultChallengeRateBps challenges each GPU in a quarter of the windows
	// (about once every 40 minutes); an H100 spends ~20 s per challenge.
	DefaultChallengeRateBps uint32 = 2_500
	// DefaultCommitWindowBlocks gives ~60 s to compute and commit (an H100
	// needs ~20 s at production size).
	DefaultCommitWindowBlocks uint64 = 10
	// DefaultRevealWindowBlocks gives ~60 s more to reveal.
	DefaultRevealWindowBlocks uint64 = 10
	// DefaultMaxMissed jails after 3 missed commits in a row.
	DefaultMaxMissed uint32 = 3
	// DefaultFraudSlashBps slashes half the bond for fraud.
	DefaultFraudSlashBps uint32 = 5_000
	// DefaultGasPerRevealByte is charged per reveal byte (the ante handler
	// charges its own per-byte tx cost on top).
	DefaultGasPerRevealByte uint64 = 3
	// DefaultGasPerSample covers sampling and ~31 SHA-256 per opening.
	DefaultGasPerSample uint64 = 1_000
	// DefaultGasPerKiloMac is charged per 1024 multiply-adds of the recomputed
	// dot products: ~190 us of CPU per production sample (K = 65536) costs
	// 4096 gas, in line with the SDK's 1000 gas per secp256k1 verification.
	DefaultGasPerKiloMac uint64 = 64
	// DefaultMaxScheduleGpusPerBlock examines at most 1,000 GPUs per block:
	// a 100-block window reaches 100,000 GPUs, and a block issues at most
	// 1,000 * challenge_rate challenges (250 at the default rate).
	DefaultMaxScheduleGpusPerBlock uint32 = 1_000
	// MaxPerBlockParam bounds max_schedule_gpus_per_block and
	// max_expiries_per_block, so that no governance typo can make one block's
	// BeginBlock or EndBlock unbounded in practice.
	MaxPerBlockParam uint32 = 100_000
	// DefaultMaxExpiriesPerBlock processes at most 200 deadlines per block.
	DefaultMaxExpiriesPerBlock uint32 = 200
	// DefaultBlockHashRetention keeps 100 header hashes.
	DefaultBlockHashRetention uint64 = 100
	// DefaultFinishedRetentionBlocks keeps a finished challenge queryable
	// for ~1 day (14,400 blocks of 6 s), then deletes it: at 100,000 GPUs
	// and the default rate, ~3.6 million challenges finish per day.
	DefaultFinishedRetentionBlocks uint64 = 14_400

	// ClassH100 and ClassH200 are the production GPU classes of the defaults.
	ClassH100 = "h100"
	ClassH200 = "h200"
	// ClassTest is a class with poc.TestParams sizes, for tests and demos.
	ClassTest = "test"
)

// NewProofSize converts poc.Params to a ProofSize.
func NewProofSize(p poc.Params) ProofSize {
	return ProofSize{N: p.N, K: p.K, M: p.M, Samples: p.Samples}
}

// PocParams converts the size to poc.Params.
func (s ProofSize) PocParams() poc.Params {
	return poc.Params{N: s.N, K: s.K, M: s.M, Samples: s.Samples}
}

// Validate checks the size with poc.Params.Validate.
func (s ProofSize) Validate() error {
	if err := s.PocParams().Validate(); err != nil {
		return errorsmod.Wrap(ErrInvalidParams, err.Error())
	}
	return nil
}

// DefaultParams returns the default module parameters: production sizes
// (poc.ProductionParams) for the H100 and H200 classes and unknown classes,
// and poc.TestParams sizes for the "test" class. A localnet overrides the
// sizes through genesis.
func DefaultParams() Params {
	prod := NewProofSize(poc.ProductionParams())
	return Params{
		WindowBlocks:       DefaultWindowBlocks,
		ChallengeRateBps:   DefaultChallengeRateBps,
		CommitWindowBlocks: DefaultCommitWindowBlocks,
		RevealWindowBlocks: DefaultRevealWindowBlocks,
		MaxMissed:          DefaultMaxMissed,
		FraudSlashBps:      DefaultFraudSlashBps,
		ClassSizes: []ClassSize{
			{Class: ClassH100, ProofSize: prod},
			{Class: ClassH200, ProofSize: prod},
			{Class: ClassTest, ProofSize: NewProofSize(poc.TestParams())},
		},
		DefaultSize:             prod,
		GasPerRevealByte:        DefaultGasPerRevealByte,
		GasPerSample:            DefaultGasPerSample,
		GasPerKiloMac:           DefaultGasPerKiloMac,
		MaxScheduleGpusPerBlock: DefaultMaxScheduleGpusPerBlock,
		MaxExpiriesPerBlock:     DefaultMaxExpiriesPerBlock,
		BlockHashRetention:      DefaultBlockHashRetention,
	}
}

// SizeFor returns the proof size for a GPU class: its class_sizes entry, or
// default_size.
func (p Params) SizeFor(class string) ProofSize {
	for _, cs := range p.ClassSizes {
		if strings.EqualFold(cs.Class, class) {
			return cs.ProofSize
		}
	}
	return p.DefaultSize
}

// RevealGas is the gas MsgRevealProof charges, before decoding, for a reveal
// of revealLen bytes answering a challenge of the given size:
//
//	revealLen*gas_per_reveal_byte + samples*(gas_per_sample + ceil(k/1024)*gas_per_kilo_mac)
//
// Validated params keep it far below 2^64.
func (p Params) RevealGas(size ProofSize, revealLen int) uint64 {
	kilo := (uint64(size.K) + 1023) / 1024
	return uint64(revealLen)*p.GasPerRevealByte +
		uint64(size.Samples)*(p.GasPerSample+kilo*p.GasPerKiloMac)
}

// Validate checks that the params are usable.
func (p Params) Validate() error {
	if err := blocks("window_blocks", p.WindowBlocks, 1); err != nil {
		return err
	}
	if err := blocks("commit_window_blocks", p.CommitWindowBlocks, 1); err != nil {
		return err
	}
	if err := blocks("reveal_window_blocks", p.RevealWindowBlocks, 2); err != nil {
		return err
	}
	if p.WindowBlocks <= p.CommitWindowBlocks+p.RevealWindowBlocks {
		return errorsmod.Wrapf(ErrInvalidParams, "window_blocks %d must exceed commit_window_blocks + reveal_window_blocks = %d",
			p.WindowBlocks, p.CommitWindowBlocks+p.RevealWindowBlocks)
	}
	if p.ChallengeRateBps > BasisPoints {
		return errorsmod.Wrapf(ErrInvalidParams, "challenge_rate_bps %d exceeds %d", p.ChallengeRateBps, BasisPoints)
	}
	if p.FraudSlashBps > BasisPoints {
		return errorsmod.Wrapf(ErrInvalidParams, "fraud_slash_bps %d exceeds %d", p.FraudSlashBps, BasisPoints)
	}
	if p.MaxMissed == 0 {
		return errorsmod.Wrap(ErrInvalidParams, "max_missed must be positive")
	}
	if len(p.ClassSizes) > MaxClassSizes {
		return errorsmod.Wrapf(ErrInvalidParams, "%d class_sizes exceed %d", len(p.ClassSizes), MaxClassSizes)
	}
	seen := make(map[string]struct{}, len(p.ClassSizes))
	for i, cs := range p.ClassSizes {
		if cs.Class == "" || len(cs.Class) > MaxClassLen {
			return errorsmod.Wrapf(ErrInvalidParams, "class_sizes[%d]: class must be 1 to %d bytes", i, MaxClassLen)
		}
		if _, dup := seen[cs.Class]; dup {
			return errorsmod.Wrapf(ErrInvalidParams, "class_sizes[%d]: duplicate class %q", i, cs.Class)
		}
		seen[cs.Class] = struct{}{}
		if err := cs.ProofSize.Validate(); err != nil {
			return errorsmod.Wrapf(err, "class_sizes[%d] (%s)", i, cs.Class)
		}
	}
	if err := p.DefaultSize.Validate(); err != nil {
		return errorsmod.Wrap(err, "default_size")
	}
	for _, g := range []struct {
		name string
		v    uint64
	}{
		{"gas_per_reveal_byte", p.GasPerRevealByte},
		{"gas_per_sample", p.GasPerSample},
		{"gas_per_kilo_mac", p.GasPerKiloMac},
	} {
		if g.v > MaxGasParam {
			return errorsmod.Wrapf(ErrInvalidParams, "%s %d exceeds %d", g.name, g.v, MaxGasParam)
		}
	}
	for _, c := range []struct {
		name string
		v    uint32
	}{
		{"max_schedule_gpus_per_block", p.MaxScheduleGpusPerBlock},
		{"max_expiries_per_block", p.MaxExpiriesPerBlock},
	} {
		if c.v == 0 || c.v > MaxPerBlockParam {
			return errorsmod.Wrapf(ErrInvalidParams, "%s must be in [1, %d], got %d", c.name, MaxPerBlockParam, c.v)
		}
	}
	if p.FinishedRetentionBlocks > MaxBlocksParam {
		return errorsmod.Wrapf(ErrInvalidParams, "finished_retention_blocks must be at most %d (0 keeps finished challenges), got %d",
			MaxBlocksParam, p.FinishedRetentionBlocks)
	}
	minRetention := p.CommitWindowBlocks + p.RevealWindowBlocks + 2
	if p.BlockHashRetention < minRetention || p.BlockHashRetention > MaxRetention {
		return errorsmod.Wrapf(ErrInvalidParams, "block_hash_retention %d must be in [%d, %d]",
			p.BlockHashRetention, minRetention, MaxRetention)
	}
	return nil
}

func blocks(name string, v, lo uint64) error {
	if v < lo || v > MaxBlocksParam {
		return errorsmod.Wrap(ErrInvalidParams, fmt.Sprintf("%s must be in [%d, %d], got %d", name, lo, MaxBlocksParam, v))
	}
	return nil
}
