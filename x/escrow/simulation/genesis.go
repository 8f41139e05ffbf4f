// Package simulation holds x/escrow's randomized genesis and the message
// factories of the SDK's simulation framework.
package simulation

import (
	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/crucible-network/crucible/x/escrow/types"
)

// RandomizedGenState generates a random x/escrow genesis: a take rate in
// [0, MaxTakeRateBps] and a random settlement cap; no accounts (x/market
// opens them for orders).
func RandomizedGenState(simState *module.SimulationState) {
	gs := types.DefaultGenesisState()
	gs.Params.TakeRateBps = uint32(simState.Rand.Intn(types.MaxTakeRateBps + 1))
	gs.Params.MaxSettlementsPerBlock = uint32(1 + simState.Rand.Intn(200))
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(gs)
}
