// Package simulation holds x/market's randomized genesis and the message
// factories of the SDK's simulation framework.
package simulation

import (
	"math/rand"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/crucible-network/crucible/x/market/types"
)

// RandomParams returns params within the valid bounds, with short order TTLs
// and leases so that expiries and lease ends happen within a simulation.
func RandomParams(r *rand.Rand, denom string) types.Params {
	return types.Params{
		MaxBidsPerOrder:     uint32(1 + r.Intn(20)),
		MinBidDeposit:       sdk.NewCoin(denom, sdkmath.NewInt(1_000+r.Int63n(500_000))),
		MinOrderDeposit:     sdk.NewCoin(denom, sdkmath.NewInt(10_000+r.Int63n(1_000_000))),
		OrderTtlBlocks:      uint64(2 + r.Intn(30)),
		MaxLeaseBlocks:      uint64(5 + r.Intn(100)),
		MaxExpiriesPerBlock: uint32(1 + r.Intn(200)),
		MaxStringLen:        types.DefaultMaxStringLen,
		// 0 keeps finished orders; a short retention prunes during the run.
		ClosedRetentionBlocks: uint64(r.Intn(40)),
		// Small, so that pruning an order often spans several blocks.
		MaxPruneRecordsPerBlock: uint32(4 + r.Intn(20)),
	}
}

// RandomizedGenState generates a random x/market genesis: random params, no
// orders (they come from the simulated messages).
func RandomizedGenState(simState *module.SimulationState) {
	gs := types.DefaultGenesisState()
	gs.Params = RandomParams(simState.Rand, simState.BondDenom)
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(gs)
}
