package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the x/attest module. It holds no funds and
	// needs no module account.
	ModuleName = "attest"

	// StoreKey is the KV store key of the module.
	StoreKey = ModuleName
)

// Collection prefixes. They are part of the state layout: append only, never
// renumber or reuse one.
var (
	// ParamsKey stores the module Params (collections.Item).
	ParamsKey = collections.NewPrefix(0)
	// ChallengesKey stores challenges by id.
	ChallengesKey = collections.NewPrefix(1)
	// ChallengesByProviderKey is the Multi index (provider, id).
	ChallengesByProviderKey = collections.NewPrefix(2)
	// ChallengesByStateKey is the Multi index (state, id).
	ChallengesByStateKey = collections.NewPrefix(3)
	// ChallengesByProviderStateKey is the Multi index ((provider, state), id).
	ChallengesByProviderStateKey = collections.NewPrefix(4)
	// NextChallengeIDKey is the challenge id sequence.
	NextChallengeIDKey = collections.NewPrefix(5)
	// RecordsKey stores provider records by address bytes.
	RecordsKey = collections.NewPrefix(6)
	// BlockHashesKey stores recent header hashes by height.
	BlockHashesKey = collections.NewPrefix(7)
	// DeadlinesKey is the deadline queue: (header time in unix ms, challenge id).
	DeadlinesKey = collections.NewPrefix(8)
	// CursorKey stores the ScheduleCursor.
	CursorKey = collections.NewPrefix(9)
	// FinishedKey is the pruning queue of finished challenges:
	// (finished_height, challenge id).
	FinishedKey = collections.NewPrefix(10)
	// GPUStatusesKey stores per-GPU liveness state by (provider, gpu uuid).
	GPUStatusesKey = collections.NewPrefix(11)
)

const (
	// BasisPoints is the denominator of rates and slash fractions.
	BasisPoints = 10_000
	// MaxScore is the top of the reputation scale, in basis points.
	MaxScore int64 = 10_000
	// PassBonus is added to the decayed score on every pass:
	// score <- score - score/16 + PassBonus (a fixed point of 10000).
	PassBonus int64 = 625
	// RootLen is the length of a committed instance root.
	RootLen = 32
	// MaxClassSizes bounds params.class_sizes.
	MaxClassSizes = 64
	// MaxClassLen bounds a class name in params.
	MaxClassLen = 64
	// MaxBlocksParam bounds the block-count params so that height arithmetic
	// can never overflow an int64.
	MaxBlocksParam uint64 = 1 << 40
	// MaxGasParam bounds each gas param; with reveals of at most
	// poc.MaxRevealSize bytes and 256 samples the total cannot overflow.
	MaxGasParam uint64 = 1 << 30
	// MaxRetention bounds block_hash_retention.
	MaxRetention uint64 = 1 << 20
	// PruneHashesPerBlock is how many expired block hashes BeginBlocker
	// deletes at most per block (one is added per block, so a backlog left by
	// lowering the retention drains).
	PruneHashesPerBlock = 4
)
