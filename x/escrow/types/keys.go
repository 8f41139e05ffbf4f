package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the escrow module and of its module account,
	// which holds every account's balance and unwithdrawn earnings. The
	// module account needs no minter or burner permission.
	ModuleName = "escrow"

	// StoreKey is the store key of the escrow module.
	StoreKey = ModuleName
)

// Store prefixes. They are append-only: never renumber one.
var (
	// ParamsKey stores the module Params.
	ParamsKey = collections.NewPrefix(0)
	// AccountsKey stores Account by id.
	AccountsKey = collections.NewPrefix(1)
	// AccountsByOwnerKey indexes accounts by owner address: (owner, id).
	AccountsByOwnerKey = collections.NewPrefix(2)
	// Prefix 3 (retired, never reuse) held the (provider, id) index and
	// prefix 4 (retired, never reuse) the (state, id) index; both are served
	// by AccountsByStateProviderKey.
	// QueueKey is the settlement queue: (exhaustion height, id).
	QueueKey = collections.NewPrefix(5)
	// AccountsByStateProviderKey indexes accounts by (state, provider, id);
	// pending accounts sit under the empty provider.
	AccountsByStateProviderKey = collections.NewPrefix(6)
	// TakeRateHistoryKey stores the take-rate changes: height -> the rate in
	// force up to and including that height.
	TakeRateHistoryKey = collections.NewPrefix(7)
)
