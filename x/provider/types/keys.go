package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the x/provider module. It is also the name of
	// the module account that holds every provider's bond; the app must give
	// that account the Burner permission (Slash burns from it).
	ModuleName = "provider"

	// StoreKey is the KV store key of the module.
	StoreKey = ModuleName
)

// Collection prefixes. They are part of the state layout: append only, never
// renumber or reuse one.
var (
	// ParamsKey stores the module Params (collections.Item).
	ParamsKey = collections.NewPrefix(0)
	// ProvidersKey stores providers by owner address bytes.
	ProvidersKey = collections.NewPrefix(1)
	// ProvidersByStatusKey is the Multi index (status, owner) over ProvidersKey.
	ProvidersByStatusKey = collections.NewPrefix(2)
	// UnbondingQueueKey is the bond release queue: (unbonding height, owner).
	UnbondingQueueKey = collections.NewPrefix(3)
	// ActiveLeasesKey counts each provider's active leases: owner -> count
	// (no entry when zero). The count is not stored in the provider record,
	// so starting or ending a lease rewrites only this small entry.
	ActiveLeasesKey = collections.NewPrefix(4)
)
