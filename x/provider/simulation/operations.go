package simulation

import (
	"fmt"
	"math/rand"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	sdk "github.com/cosmos/cosmos-sdk/types"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	"github.com/cosmos/cosmos-sdk/x/simulation"

	"github.com/crucible-network/crucible/x/provider/keeper"
	"github.com/crucible-network/crucible/x/provider/types"
)

// Operation weights (keys of the simulation app params).
const (
	OpWeightMsgRegisterProvider   = "op_weight_msg_register_provider"
	OpWeightMsgUpdateProvider     = "op_weight_msg_update_provider"
	OpWeightMsgAddBond            = "op_weight_msg_add_bond"
	OpWeightMsgDeregisterProvider = "op_weight_msg_deregister_provider"
	OpWeightMsgUnjailProvider     = "op_weight_msg_unjail_provider"
)

// GPUClasses are the classes simulated providers offer and tenants order:
// "test" has tiny proof sizes in x/attest's default params.
var GPUClasses = []string{"h100", "test"}

// Regions are the regions simulated providers sit in.
var Regions = []string{"eu-west", "us-east"}

// WeightedOperations returns x/provider's simulation operations.
func WeightedOperations(appParams simtypes.AppParams, txGen client.TxConfig, k keeper.Keeper) simulation.WeightedOperations {
	return simulation.WeightedOperations{
		simulation.NewWeightedOperation(Weight(appParams, OpWeightMsgRegisterProvider, 40), SimulateMsgRegisterProvider(txGen, k)),
		simulation.NewWeightedOperation(Weight(appParams, OpWeightMsgUpdateProvider, 15), SimulateMsgUpdateProvider(txGen, k)),
		simulation.NewWeightedOperation(Weight(appParams, OpWeightMsgAddBond, 15), SimulateMsgAddBond(txGen, k)),
		simulation.NewWeightedOperation(Weight(appParams, OpWeightMsgDeregisterProvider, 4), SimulateMsgDeregisterProvider(txGen, k)),
		simulation.NewWeightedOperation(Weight(appParams, OpWeightMsgUnjailProvider, 10), SimulateMsgUnjailProvider(txGen, k)),
	}
}

// RandomGPUs returns 1 to 4 GPUs whose uuids are unique to owner.
func RandomGPUs(r *rand.Rand, owner sdk.AccAddress) []types.GPU {
	n := 1 + r.Intn(4)
	class := GPUClasses[r.Intn(len(GPUClasses))]
	gpus := make([]types.GPU, n)
	for i := range gpus {
		gpus[i] = types.GPU{
			Uuid:      fmt.Sprintf("GPU-%x-%d", owner.Bytes()[:8], i),
			Model:     "NVIDIA " + class,
			Class:     class,
			MemoryMib: 81_559,
		}
	}
	return gpus
}

// providersByStatus returns the registered providers that have a simulation
// account, with status st (any status when st is unspecified).
func providersByStatus(ctx sdk.Context, k keeper.Keeper, accs []simtypes.Account, st types.ProviderStatus) []simtypes.Account {
	var out []simtypes.Account
	for _, a := range accs {
		p, err := k.Providers.Get(ctx, a.Address)
		if err != nil {
			continue
		}
		if st == types.ProviderStatusUnspecified || p.Status == st {
			out = append(out, a)
		}
	}
	return out
}

// SimulateMsgRegisterProvider registers a random unregistered account with a
// bond at or above the minimum.
func SimulateMsgRegisterProvider(txGen client.TxConfig, k keeper.Keeper) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		name := sdk.MsgTypeURL(&types.MsgRegisterProvider{})
		acc, _ := simtypes.RandomAcc(r, accs)
		if ok, _ := k.Providers.Has(ctx, acc.Address); ok {
			return simtypes.NoOpMsg(types.ModuleName, name, "already registered"), nil, nil
		}
		params, err := k.Params.Get(ctx)
		if err != nil {
			return simtypes.NoOpMsg(types.ModuleName, name, "no params"), nil, err
		}
		bond := params.MinBond.AddAmount(sdkmath.NewInt(r.Int63n(1_000_000_000)))
		if Balance(app, ctx, acc.Address, bond.Denom).LT(bond.Amount) {
			return simtypes.NoOpMsg(types.ModuleName, name, "insufficient funds for the bond"), nil, nil
		}
		msg := &types.MsgRegisterProvider{
			Owner:   acc.Address.String(),
			HostUri: fmt.Sprintf("https://p%x.example:8443", acc.Address.Bytes()[:4]),
			Region:  Regions[r.Intn(len(Regions))],
			Tier:    "datacenter",
			Gpus:    RandomGPUs(r, acc.Address),
			Bond:    bond,
		}
		return Deliver(r, app, ctx, txGen, acc, msg, types.ModuleName, bond.Denom, bond.Amount)
	}
}

// SimulateMsgUpdateProvider replaces a registered provider's description and
// inventory (the update is refused when it drops a leased GPU).
func SimulateMsgUpdateProvider(txGen client.TxConfig, k keeper.Keeper) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		name := sdk.MsgTypeURL(&types.MsgUpdateProvider{})
		ps := providersByStatus(ctx, k, accs, types.ProviderStatusActive)
		if len(ps) == 0 {
			return simtypes.NoOpMsg(types.ModuleName, name, "no active provider"), nil, nil
		}
		acc := ps[r.Intn(len(ps))]
		p, err := k.Providers.Get(ctx, acc.Address)
		if err != nil {
			return simtypes.NoOpMsg(types.ModuleName, name, "provider vanished"), nil, err
		}
		gpus := make([]types.GPU, 0, len(p.Gpus)+1)
		for _, g := range p.Gpus {
			g.VerifiedHeight = 0
			gpus = append(gpus, g)
		}
		switch {
		case len(gpus) == 0: // a slashed provider lost its inventory: list new GPUs
			for _, g := range RandomGPUs(r, acc.Address) {
				g.Uuid = fmt.Sprintf("%s-%d", g.Uuid, 100+r.Intn(1000))
				gpus = append(gpus, g)
			}
		case r.Intn(2) == 0 && len(gpus) < 8: // add a GPU
			last := gpus[len(gpus)-1]
			last.Uuid = fmt.Sprintf("GPU-%x-%d", acc.Address.Bytes()[:8], 100+r.Intn(1000))
			gpus = append(gpus, last)
		case len(gpus) > 1 && r.Intn(2) == 0: // drop one (refused if leased)
			gpus = gpus[:len(gpus)-1]
		}
		msg := &types.MsgUpdateProvider{
			Owner:   acc.Address.String(),
			HostUri: p.HostUri,
			Region:  Regions[r.Intn(len(Regions))],
			Tier:    p.Tier,
			Gpus:    gpus,
		}
		return Deliver(r, app, ctx, txGen, acc, msg, types.ModuleName, p.Bond.Denom, sdkmath.ZeroInt())
	}
}

// SimulateMsgAddBond adds a random amount to a registered provider's bond.
func SimulateMsgAddBond(txGen client.TxConfig, k keeper.Keeper) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		name := sdk.MsgTypeURL(&types.MsgAddBond{})
		ps := providersByStatus(ctx, k, accs, types.ProviderStatusUnspecified)
		if len(ps) == 0 {
			return simtypes.NoOpMsg(types.ModuleName, name, "no provider"), nil, nil
		}
		acc := ps[r.Intn(len(ps))]
		params, err := k.Params.Get(ctx)
		if err != nil {
			return simtypes.NoOpMsg(types.ModuleName, name, "no params"), nil, err
		}
		amt := sdk.NewCoin(params.MinBond.Denom, sdkmath.NewInt(1+r.Int63n(100_000_000)))
		msg := &types.MsgAddBond{Owner: acc.Address.String(), Amount: amt}
		return Deliver(r, app, ctx, txGen, acc, msg, types.ModuleName, amt.Denom, amt.Amount)
	}
}

// SimulateMsgDeregisterProvider starts the unbonding of a registered
// provider (refused while it has active leases).
func SimulateMsgDeregisterProvider(txGen client.TxConfig, k keeper.Keeper) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		name := sdk.MsgTypeURL(&types.MsgDeregisterProvider{})
		ps := providersByStatus(ctx, k, accs, types.ProviderStatusActive)
		if len(ps) == 0 {
			return simtypes.NoOpMsg(types.ModuleName, name, "no active provider"), nil, nil
		}
		acc := ps[r.Intn(len(ps))]
		params, err := k.Params.Get(ctx)
		if err != nil {
			return simtypes.NoOpMsg(types.ModuleName, name, "no params"), nil, err
		}
		msg := &types.MsgDeregisterProvider{Owner: acc.Address.String()}
		return Deliver(r, app, ctx, txGen, acc, msg, types.ModuleName, params.MinBond.Denom, sdkmath.ZeroInt())
	}
}

// SimulateMsgUnjailProvider unjails a jailed provider (refused before its
// jail ends or while its bond is below the minimum).
func SimulateMsgUnjailProvider(txGen client.TxConfig, k keeper.Keeper) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		name := sdk.MsgTypeURL(&types.MsgUnjailProvider{})
		ps := providersByStatus(ctx, k, accs, types.ProviderStatusJailed)
		if len(ps) == 0 {
			return simtypes.NoOpMsg(types.ModuleName, name, "no jailed provider"), nil, nil
		}
		acc := ps[r.Intn(len(ps))]
		params, err := k.Params.Get(ctx)
		if err != nil {
			return simtypes.NoOpMsg(types.ModuleName, name, "no params"), nil, err
		}
		msg := &types.MsgUnjailProvider{Owner: acc.Address.String()}
		return Deliver(r, app, ctx, txGen, acc, msg, types.ModuleName, params.MinBond.Denom, sdkmath.ZeroInt())
	}
}
