// Package simulation holds x/provider's randomized genesis and the message
// factories of the SDK's simulation framework, plus the helpers (queries,
// signing and delivery) the other Crucible modules' simulations share.
package simulation

import (
	"math/rand"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/crucible-network/crucible/x/provider/types"
)

// RandomParams returns params within the valid bounds, short enough
// (unbonding, jail) that bonds mature and jails end within a simulation.
func RandomParams(r *rand.Rand, denom string) types.Params {
	return types.NewParams(
		sdk.NewCoin(denom, sdkmath.NewInt(1_000_000+r.Int63n(1_000_000_000))),
		uint64(1+r.Intn(30)),
		uint32(4+r.Intn(61)),
		uint32(r.Intn(17)),
		uint64(1+r.Intn(30)),
	)
}

// RandomizedGenState generates a random x/provider genesis: random params,
// no providers (they register through the simulated messages).
func RandomizedGenState(simState *module.SimulationState) {
	gs := types.DefaultGenesis()
	gs.Params = RandomParams(simState.Rand, simState.BondDenom)
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(gs)
}
