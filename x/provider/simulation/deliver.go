package simulation

import (
	"fmt"
	"math/rand"

	abci "github.com/cometbft/cometbft/abci/types"
	gogoproto "github.com/cosmos/gogoproto/proto"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
)

// The simulation operations of Crucible's modules reach other modules' state
// (accounts, balances, providers) through the app's gRPC query router, so that
// each module's AppModule needs only its own keeper.

// MaxFee bounds the random fee of a simulated transaction: the SDK's random
// fees can take a whole balance and would drain the accounts in a few blocks.
const MaxFee = 5_000

// Query runs a gRPC query through the app's query router against ctx's state.
func Query(app *baseapp.BaseApp, ctx sdk.Context, path string, req, resp gogoproto.Message) error {
	handler := app.GRPCQueryRouter().Route(path)
	if handler == nil {
		return fmt.Errorf("no query route %s", path)
	}
	bz, err := gogoproto.Marshal(req)
	if err != nil {
		return err
	}
	res, err := handler(ctx, &abci.RequestQuery{Data: bz, Path: path, Height: ctx.BlockHeight()})
	if err != nil {
		return err
	}
	return gogoproto.Unmarshal(res.Value, resp)
}

// Balance returns addr's balance of denom.
func Balance(app *baseapp.BaseApp, ctx sdk.Context, addr sdk.AccAddress, denom string) sdkmath.Int {
	var resp banktypes.QueryBalanceResponse
	if err := Query(app, ctx, "/cosmos.bank.v1beta1.Query/Balance",
		&banktypes.QueryBalanceRequest{Address: addr.String(), Denom: denom}, &resp); err != nil || resp.Balance == nil {
		return sdkmath.ZeroInt()
	}
	return resp.Balance.Amount
}

// Deliver signs msg with acc's key and delivers it, with a random fee of at
// most MaxFee in denom (less what the message itself spends). A message the
// app refuses is reported as a failed operation, not as an error: the
// factories build valid-ish messages and some of them are meant to fail (a
// stranger's withdrawal, a garbage proof); the invariants are checked
// separately. spent is what the message moves out of acc in denom.
func Deliver(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, txGen client.TxConfig,
	acc simtypes.Account, msg sdk.Msg, module, denom string, spent sdkmath.Int,
) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
	name := sdk.MsgTypeURL(msg)
	var info authtypes.QueryAccountInfoResponse
	if err := Query(app, ctx, "/cosmos.auth.v1beta1.Query/AccountInfo",
		&authtypes.QueryAccountInfoRequest{Address: acc.Address.String()}, &info); err != nil || info.Info == nil {
		return simtypes.NoOpMsg(module, name, "account not found"), nil, nil
	}
	room := Balance(app, ctx, acc.Address, denom).Sub(spent)
	if room.IsNegative() {
		return simtypes.NoOpMsg(module, name, "insufficient funds"), nil, nil
	}
	var fees sdk.Coins
	if room.IsPositive() && r.Intn(4) != 0 {
		maxFee := sdkmath.MinInt(room, sdkmath.NewInt(MaxFee))
		fees = sdk.NewCoins(sdk.NewCoin(denom, sdkmath.NewInt(1+r.Int63n(maxFee.Int64()))))
	}
	tx, err := simtestutil.GenSignedMockTx(r, txGen, []sdk.Msg{msg}, fees, simtestutil.DefaultGenTxGas,
		ctx.ChainID(), []uint64{info.Info.AccountNumber}, []uint64{info.Info.Sequence}, acc.PrivKey)
	if err != nil {
		return simtypes.NoOpMsg(module, name, "unable to generate mock tx"), nil, err
	}
	if _, _, err := app.SimDeliver(txGen.TxEncoder(), tx); err != nil {
		return simtypes.NewOperationMsg(msg, false, err.Error()), nil, nil
	}
	return simtypes.NewOperationMsg(msg, true, ""), nil, nil
}

// Weight returns the weight of an operation from the app params, or def.
func Weight(appParams simtypes.AppParams, key string, def int) int {
	var w int
	appParams.GetOrGenerate(key, &w, nil, func(*rand.Rand) { w = def })
	return w
}
