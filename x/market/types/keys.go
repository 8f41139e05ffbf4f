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

	// Retired prefixes (never reuse): 3, 4, 5 (orders by state, tenant,
	// (tenant, state)), 11-15 (bids by order, provider, state, (order, state),
	// (provider, state)), 21-26 (leases by tenant, provider, state,
	// (tenant, state), (provider, state), (tenant, provider)).

	OrdersKey = collections.NewPrefix(2)
	// OrdersByStateTenantKey: (state, tenant, order id).
	OrdersByStateTenantKey = collections.NewPrefix(6)

	BidsKey = collections.NewPrefix(10)
	// BidsByOrderProviderKey: (order id, provider, bid id), written once when
	// the bid is created (same layout as before).
	BidsByOrderProviderKey = collections.NewPrefix(16)
	// BidsByStateProviderKey: (state, provider, bid id).
	BidsByStateProviderKey = collections.NewPrefix(17)
	// OpenBidsByOrderKey: (order id, bid id) of every OPEN bid.
	OpenBidsByOrderKey = collections.NewPrefix(18)

	LeasesKey = collections.NewPrefix(20)
	// LeasesByStateProviderKey: (state, provider, lease id).
	LeasesByStateProviderKey = collections.NewPrefix(27)

	NextOrderIDKey = collections.NewPrefix(30)
	NextBidIDKey   = collections.NewPrefix(31)

	OrderExpiryQueueKey = collections.NewPrefix(40)
	LeaseEndQueueKey    = collections.NewPrefix(41)
	GPUAssignmentsKey   = collections.NewPrefix(42)
	// ClosedQueueKey is the pruning queue: (closed_height, order id).
	ClosedQueueKey = collections.NewPrefix(43)
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
	// MaxResultSubmissions is how many results a provider may submit for
	// one lease: the latest supersedes the earlier ones while the lease is
	// active, so a result posted early (e.g. by a stolen hot key) does not
	// stand for good, while the lease's stored history stays bounded.
	MaxResultSubmissions = 4
	// MaxReputation is the highest reputation, in basis points.
	MaxReputation = 10_000
	// MaxBlocksParam bounds order_ttl_blocks and max_lease_blocks so that
	// height arithmetic can never overflow an int64.
	MaxBlocksParam = uint64(1) << 40
)
