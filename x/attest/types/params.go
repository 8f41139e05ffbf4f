package types

import (
	"fmt"

	errorsmod "cosmossdk.io/errors"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// Default parameters. Deadlines and windows are in block header time
// (BFT time, deterministic), so they hold for any block interval; only
// storage retention counts blocks (1 s blocks: see cmd/crucibled's
// DefaultTimeoutCommit).
const (
	// DefaultWindowMs starts a window every 10 minutes of header time.
	DefaultWindowMs uint64 = 600_000
	// DefaultChallengeRateBps draws each provider in a quarter of the windows
	// (about once every 40 minutes); every GPU of a drawn provider is
	// challenged. Proof overhead = rate * reference_proof_ms / window_ms =
	// 0.25 * 21 s / 600 s = 0.875% of a GPU's time at the H100 class.
	DefaultChallengeRateBps uint32 = 2_500
	// DefaultCommitDeadlineBps gives 1.3x the class's reference proof time.
	DefaultCommitDeadlineBps uint32 = 13_000
	// DefaultCommitSlackMs covers learning of the challenge (one block) and
	// getting the commit into a block (one block) at 1 s blocks, plus network
	// latency.
	DefaultCommitSlackMs uint64 = 6_000
	// DefaultRevealWindowMs gives 30 s after the commit's block to reveal
	// (recomputing the k sampled units takes well under a second on a GPU).
	DefaultRevealWindowMs uint64 = 30_000
	// DefaultMaxMissed drops a GPU's claim after 3 missed challenges of that
	// GPU in a row.
	DefaultMaxMissed uint32 = 3
	// DefaultFraudSlashBps burns half the bond for a proven wrong opening.
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
	// DefaultMaxScheduleGpusPerBlock examines at most 1,000 GPUs per block.
	DefaultMaxScheduleGpusPerBlock uint32 = 1_000
	// MaxPerBlockParam bounds max_schedule_gpus_per_block and
	// max_expiries_per_block, so that no governance typo can make one block's
	// BeginBlock or EndBlock unbounded in practice.
	MaxPerBlockParam uint32 = 100_000
	// DefaultMaxExpiriesPerBlock processes at most 1,000 deadlines per block
	// (as many as a block can issue).
	DefaultMaxExpiriesPerBlock uint32 = 1_000
	// DefaultBlockHashRetention keeps 1,000 header hashes: the sample block of
	// a commit stays known for the whole reveal window at blocks of 30 ms
	// and up.
	DefaultBlockHashRetention uint64 = 1_000
	// DefaultFinishedRetentionBlocks keeps a finished challenge queryable
	// for ~1 day (86,400 blocks of 1 s), then deletes it.
	DefaultFinishedRetentionBlocks uint64 = 86_400

	// H100ReferenceProofMs is the H100 class's reference proof time for
	// poc.ProductionParams (N=4096, K=65536, M=8192: 2^54 int8 operations):
	// 20.6 s at the 876 int8 TOPS cuBLASLt sustained on an H100, rounded up.
	H100ReferenceProofMs uint64 = 21_000
	// TestReferenceProofMs is the test class's reference time (poc.TestParams
	// take a few ms on one CPU core; the deadline is dominated by the slack).
	TestReferenceProofMs uint64 = 1_000

	// MinCommitDeadlineBps and MaxCommitDeadlineBps bound
	// commit_deadline_bps: at least the proof time, and below twice it.
	MinCommitDeadlineBps uint32 = 10_000
	MaxCommitDeadlineBps uint32 = 20_000
	// MaxMsParam bounds the millisecond params (about 35 years).
	MaxMsParam uint64 = 1 << 40

	// ClassH100 and ClassH200 are the production GPU classes of the defaults.
	ClassH100 = "h100"
	ClassH200 = "h200"
	// ClassTest is a class with poc.TestParams sizes. It exists only in
	// localnet and test genesis (testutil/network.LocalnetGenesis), never in
	// DefaultParams.
	ClassTest = "test"
)

// TestClassSize is the "test" class: poc.TestParams sizes answered by the
// CPU prover. Only localnet and test genesis define it.
func TestClassSize() ClassSize {
	return ClassSize{Class: ClassTest, ProofSize: NewProofSize(poc.TestParams()), ReferenceProofMs: TestReferenceProofMs}
}

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
// (poc.ProductionParams) for the H100 and H200 classes (the same tensor-core
// throughput) and no other class. Localnets and tests add the "test" class
// through genesis.
func DefaultParams() Params {
	prod := NewProofSize(poc.ProductionParams())
	return Params{
		WindowMs:          DefaultWindowMs,
		ChallengeRateBps:  DefaultChallengeRateBps,
		CommitDeadlineBps: DefaultCommitDeadlineBps,
		CommitSlackMs:     DefaultCommitSlackMs,
		RevealWindowMs:    DefaultRevealWindowMs,
		MaxMissed:         DefaultMaxMissed,
		FraudSlashBps:     DefaultFraudSlashBps,
		ClassSizes: []ClassSize{
			{Class: ClassH100, ProofSize: prod, ReferenceProofMs: H100ReferenceProofMs},
			{Class: ClassH200, ProofSize: prod, ReferenceProofMs: H100ReferenceProofMs},
		},
		GasPerRevealByte:        DefaultGasPerRevealByte,
		GasPerSample:            DefaultGasPerSample,
		GasPerKiloMac:           DefaultGasPerKiloMac,
		MaxScheduleGpusPerBlock: DefaultMaxScheduleGpusPerBlock,
		MaxExpiriesPerBlock:     DefaultMaxExpiriesPerBlock,
		BlockHashRetention:      DefaultBlockHashRetention,
		FinishedRetentionBlocks: DefaultFinishedRetentionBlocks,
	}
}

// Class returns the class_sizes entry of a GPU class (exact, case-sensitive
// match) and whether the chain defines it.
func (p Params) Class(class string) (ClassSize, bool) {
	for _, cs := range p.ClassSizes {
		if cs.Class == class {
			return cs, true
		}
	}
	return ClassSize{}, false
}

// CommitDeadlineMs is the time a challenged GPU of class cs has from the
// issuing block's header time to its commit:
//
//	reference_proof_ms * commit_deadline_bps / 10000 + commit_slack_ms
func (p Params) CommitDeadlineMs(cs ClassSize) uint64 {
	return cs.ReferenceProofMs*uint64(p.CommitDeadlineBps)/BasisPoints + p.CommitSlackMs
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
	if err := ms("window_ms", p.WindowMs, 1_000); err != nil {
		return err
	}
	if err := ms("commit_slack_ms", p.CommitSlackMs, 0); err != nil {
		return err
	}
	if err := ms("reveal_window_ms", p.RevealWindowMs, 1); err != nil {
		return err
	}
	if p.CommitDeadlineBps < MinCommitDeadlineBps || p.CommitDeadlineBps >= MaxCommitDeadlineBps {
		return errorsmod.Wrapf(ErrInvalidParams, "commit_deadline_bps must be in [%d, %d), got %d",
			MinCommitDeadlineBps, MaxCommitDeadlineBps, p.CommitDeadlineBps)
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
		if err := ValidateClassName(cs.Class); err != nil {
			return errorsmod.Wrapf(ErrInvalidParams, "class_sizes[%d]: %s", i, err)
		}
		if _, dup := seen[cs.Class]; dup {
			return errorsmod.Wrapf(ErrInvalidParams, "class_sizes[%d]: duplicate class %q", i, cs.Class)
		}
		seen[cs.Class] = struct{}{}
		if err := cs.ProofSize.Validate(); err != nil {
			return errorsmod.Wrapf(err, "class_sizes[%d] (%s)", i, cs.Class)
		}
		if cs.ReferenceProofMs == 0 || cs.ReferenceProofMs > MaxMsParam {
			return errorsmod.Wrapf(ErrInvalidParams, "class_sizes[%d] (%s): reference_proof_ms must be in [1, %d], got %d",
				i, cs.Class, MaxMsParam, cs.ReferenceProofMs)
		}
		// A GPU has at most one open challenge: the commit deadline and the
		// reveal window end before the next window can start.
		if open := p.CommitDeadlineMs(cs) + p.RevealWindowMs; open >= p.WindowMs {
			return errorsmod.Wrapf(ErrInvalidParams, "class %s: commit deadline + reveal window = %d ms must be below window_ms %d",
				cs.Class, open, p.WindowMs)
		}
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
	if p.BlockHashRetention < MinBlockHashRetention || p.BlockHashRetention > MaxRetention {
		return errorsmod.Wrapf(ErrInvalidParams, "block_hash_retention %d must be in [%d, %d]",
			p.BlockHashRetention, MinBlockHashRetention, MaxRetention)
	}
	return nil
}

// MinBlockHashRetention is the least block_hash_retention: the sample block
// of a commit must still be known two blocks later.
const MinBlockHashRetention uint64 = 4

// ValidateClassName checks a GPU class name: 1 to MaxClassLen bytes of
// lowercase letters, digits, '-', '_' and '.'.
func ValidateClassName(class string) error {
	if class == "" || len(class) > MaxClassLen {
		return fmt.Errorf("class must be 1 to %d bytes", MaxClassLen)
	}
	for _, r := range class {
		ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' || r == '_' || r == '.'
		if !ok {
			return fmt.Errorf("class %q: only lowercase letters, digits, '-', '_' and '.'", class)
		}
	}
	return nil
}

func ms(name string, v, lo uint64) error {
	if v < lo || v > MaxMsParam {
		return errorsmod.Wrap(ErrInvalidParams, fmt.Sprintf("%s must be in [%d, %d], got %d", name, lo, MaxMsParam, v))
	}
	return nil
}
