package module_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"

	"github.com/crucible-network/crucible/x/market/keeper"
	market "github.com/crucible-network/crucible/x/market/module"
	"github.com/crucible-network/crucible/x/market/types"
)

func TestGenesisJSON(t *testing.T) {
	enc := moduletestutil.MakeTestEncodingConfig()
	am := market.NewAppModule(enc.Codec, keeper.Keeper{})
	bz := am.DefaultGenesis(enc.Codec)
	require.NoError(t, am.ValidateGenesis(enc.Codec, nil, bz))
	require.Error(t, am.ValidateGenesis(enc.Codec, nil, []byte(`{"params":{"max_bids_per_order":0}}`)))
	require.Error(t, am.ValidateGenesis(enc.Codec, nil, []byte(`not json`)))
	require.Equal(t, types.ModuleName, am.Name())
}

// Every Query and Msg RPC has an autocli command.
func TestAutoCLICoversEveryRPC(t *testing.T) {
	opts := market.AppModule{}.AutoCLIOptions()
	covered := func(desc []string, cmds []string) {
		t.Helper()
		require.ElementsMatch(t, desc, cmds)
	}
	var q, tx []string
	for _, m := range types.Query_serviceDesc.Methods {
		q = append(q, m.MethodName)
	}
	for _, m := range types.Msg_serviceDesc.Methods {
		tx = append(tx, m.MethodName)
	}
	var qc, txc []string
	for _, o := range opts.Query.RpcCommandOptions {
		qc = append(qc, o.RpcMethod)
	}
	for _, o := range opts.Tx.RpcCommandOptions {
		txc = append(txc, o.RpcMethod)
	}
	covered(q, qc)
	covered(tx, txc)
	require.Equal(t, "crucible.market.v1.Query", opts.Query.Service)
	require.Equal(t, "crucible.market.v1.Msg", opts.Tx.Service)
}

func TestCodecRegistration(t *testing.T) {
	ir := codectypes.NewInterfaceRegistry()
	types.RegisterInterfaces(ir)
	for _, msg := range []sdk.Msg{
		&types.MsgCreateOrder{}, &types.MsgCancelOrder{}, &types.MsgCreateBid{}, &types.MsgCloseBid{},
		&types.MsgCreateLease{}, &types.MsgCloseLease{}, &types.MsgSubmitResult{}, &types.MsgUpdateParams{},
	} {
		_, err := ir.Resolve(sdk.MsgTypeURL(msg))
		require.NoError(t, err, sdk.MsgTypeURL(msg))
	}
	amino := codec.NewLegacyAmino()
	require.NotPanics(t, func() { types.RegisterLegacyAminoCodec(amino) })
}
