package keeper_test

import (
	"github.com/crucible-network/crucible/x/attest/types"
	marketkeeper "github.com/crucible-network/crucible/x/market/keeper"
	providerkeeper "github.com/crucible-network/crucible/x/provider/keeper"
)

// The real keepers satisfy the expected keeper interfaces.
var (
	_ types.ProviderKeeper = providerkeeper.Keeper{}
	_ types.MarketKeeper   = marketkeeper.Keeper{}
)
