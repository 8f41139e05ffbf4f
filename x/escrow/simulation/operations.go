package simulation

import (
	"math/rand"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	sdk "github.com/cosmos/cosmos-sdk/types"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	"github.com/cosmos/cosmos-sdk/x/simulation"

	"github.com/crucible-network/crucible/x/escrow/keeper"
	"github.com/crucible-network/crucible/x/escrow/types"
	providersim "github.com/crucible-network/crucible/x/provider/simulation"
)

// Operation weights (keys of the simulation app params).
const (
	OpWeightMsgDeposit  = "op_weight_msg_escrow_deposit"
	OpWeightMsgWithdraw = "op_weight_msg_escrow_withdraw"
)

// WeightedOperations returns x/escrow's simulation operations.
func WeightedOperations(appParams simtypes.AppParams, txGen client.TxConfig, k keeper.Keeper) simulation.WeightedOperations {
	return simulation.WeightedOperations{
		simulation.NewWeightedOperation(providersim.Weight(appParams, OpWeightMsgDeposit, 30), SimulateMsgDeposit(txGen, k)),
		simulation.NewWeightedOperation(providersim.Weight(appParams, OpWeightMsgWithdraw, 30), SimulateMsgWithdraw(txGen, k)),
	}
}

func accounts(ctx sdk.Context, k keeper.Keeper, keep func(types.Account) bool) []types.Account {
	var out []types.Account
	_ = k.Accounts.Walk(ctx, nil, func(_ uint64, a types.Account) (bool, error) {
		if keep(a) {
			out = append(out, a)
		}
		return false, nil
	})
	return out
}

// SimulateMsgDeposit tops up an open (pending or active) escrow account from
// a random simulation account.
func SimulateMsgDeposit(txGen client.TxConfig, k keeper.Keeper) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		name := sdk.MsgTypeURL(&types.MsgDeposit{})
		open := accounts(ctx, k, func(a types.Account) bool { return a.State != types.AccountStateClosed })
		if len(open) == 0 {
			return simtypes.NoOpMsg(types.ModuleName, name, "no open escrow account"), nil, nil
		}
		ea := open[r.Intn(len(open))]
		from, _ := simtypes.RandomAcc(r, accs)
		amt := sdk.NewCoin(ea.Balance.Denom, sdkmath.NewInt(1+r.Int63n(100_000)))
		msg := &types.MsgDeposit{Depositor: from.Address.String(), Id: ea.Id, Amount: amt}
		return providersim.Deliver(r, app, ctx, txGen, from, msg, types.ModuleName, amt.Denom, amt.Amount)
	}
}

// SimulateMsgWithdraw withdraws a provider's earnings from an account it is
// paid from; one time in four the signer is a stranger and must be refused.
func SimulateMsgWithdraw(txGen client.TxConfig, k keeper.Keeper) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		name := sdk.MsgTypeURL(&types.MsgWithdraw{})
		paid := accounts(ctx, k, func(a types.Account) bool { return a.Provider != "" })
		if len(paid) == 0 {
			return simtypes.NoOpMsg(types.ModuleName, name, "no account with a provider"), nil, nil
		}
		ea := paid[r.Intn(len(paid))]
		signer, _ := simtypes.RandomAcc(r, accs)
		if r.Intn(4) != 0 {
			addr, err := sdk.AccAddressFromBech32(ea.Provider)
			if err != nil {
				return simtypes.NoOpMsg(types.ModuleName, name, "bad provider address"), nil, err
			}
			acc, ok := simtypes.FindAccount(accs, addr)
			if !ok {
				return simtypes.NoOpMsg(types.ModuleName, name, "provider is not a simulation account"), nil, nil
			}
			signer = acc
		}
		msg := &types.MsgWithdraw{Provider: signer.Address.String(), Id: ea.Id}
		return providersim.Deliver(r, app, ctx, txGen, signer, msg, types.ModuleName, ea.Balance.Denom, sdkmath.ZeroInt())
	}
}
