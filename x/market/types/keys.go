package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the module's name. It is also the name of the module
	// account that holds bid deposits (no mint or burn permission).
	ModuleName = "market"

	// StoreKey is the module's KV store key.
	StoreKey = ModuleName
)

// Store prefixes. They are append-only: never renumber or reuse one.
var (
	ParamsKey = collections.NewPrefix(1)

	OrdersKey              = collections.NewPrefix(2)
	OrdersByStateKey       = collections.NewPrefix(3)
	OrdersByTenantKey      = collections.NewPrefix(4)
	OrdersByTenantStateKey = collections.NewPrefix(5)

	BidsKey                = collections.NewPrefix(10)
	BidsByOrderKey         = collections.NewPrefix(11)
	BidsByProviderKey      = collections.NewPrefix(12)
	BidsByStateKey         = collections.NewPrefix(13)
	BidsByOrderStateKey    = collections.NewPrefix(14)
	BidsByProviderStateKey = collections.NewPrefix(15)
	BidsByOrderProviderKey = collections.NewPrefix(16)

	LeasesKey                 = collections.NewPrefix(20)
	LeasesByTenantKey         = collections.NewPrefix(21)
	LeasesByProviderKey       = collections.NewPrefix(22)
	LeasesByStateKey          = collections.NewPrefix(23)
	LeasesByTenantStateKey    = collections.NewPrefix(24)
	LeasesByProviderStateKey  = collections.NewPrefix(25)
	LeasesByTenantProviderKey = collections.NewPrefix(26)

	NextOrderIDKey = collections.NewPrefix(30)
	NextBidIDKey   = collections.NewPrefix(31)

	OrderExpiryQueueKey = collections.NewPrefix(40)
	LeaseEndQueueKey    = collections.NewPrefix(41)
	GPUAssignmentsKey   = collections.NewPrefix(42)
)

// Bounds that are not parameters: they keep messages and per-message work
// small whatever governance sets.
const (
	// MaxGPUCount is the largest spec.gpu.count an order may ask for.
	MaxGPUCount = 256
	// MaxOrderAttributes is the largest number of attributes an order may
	// require.
	MaxOrderAttributes = 32
	// HashLen is the length of manifest and result hashes (SHA-256).
	HashLen = 32
	// MaxSignatureLen is the longest result signature accepted.
	MaxSignatureLen = 512
	// MaxReputation is the highest reputation, in basis points.
	MaxReputation = 10_000
	// MaxBlocksParam bounds order_ttl_blocks and max_lease_blocks so that
	// height arithmetic can never overflow an int64.
	MaxBlocksParam = uint64(1) << 40
)
