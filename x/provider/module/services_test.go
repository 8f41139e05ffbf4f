package module_test

import (
	providertestutil "github.com/crucible-network/crucible/x/provider/testutil"

	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/baseapp"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/crucible-network/crucible/x/provider/keeper"
	providermodule "github.com/crucible-network/crucible/x/provider/module"
	"github.com/crucible-network/crucible/x/provider/types"
)

// okBank accepts every transfer (balances are tested in the keeper tests).
type okBank struct{ sent int }

func (b *okBank) SendCoinsFromAccountToModule(context.Context, sdk.AccAddress, string, sdk.Coins) error {
	b.sent++
	return nil
}

func (b *okBank) SendCoinsFromModuleToAccount(context.Context, string, sdk.AccAddress, sdk.Coins) error {
	b.sent++
	return nil
}
func (b *okBank) BurnCoins(context.Context, string, sdk.Coins) error { return nil }

// TestServicesThroughRouter registers the module's services the way the app
// does and sends messages through the msg service router (which runs
// ValidateBasic and checks the interface registry), then runs genesis and
// the end blocker through the AppModule.
func TestServicesThroughRouter(t *testing.T) {
	enc := moduletestutil.MakeTestEncodingConfig(providermodule.AppModule{})
	key := storetypes.NewKVStoreKey(types.StoreKey)
	ctx := testutil.DefaultContextWithDB(t, key, storetypes.NewTransientStoreKey("t")).Ctx.WithBlockHeight(5)
	addrs := addresscodec.NewBech32Codec("cru")
	authority, err := addrs.BytesToString(authtypes.NewModuleAddress("gov"))
	require.NoError(t, err)
	bank := &okBank{}
	k := keeper.NewKeeper(enc.Codec, runtime.NewKVStoreService(key), addrs, bank, providertestutil.DefaultClasses, authority)
	am := providermodule.NewAppModule(enc.Codec, k)

	msr := baseapp.NewMsgServiceRouter()
	msr.SetInterfaceRegistry(enc.InterfaceRegistry)
	qr := baseapp.NewGRPCQueryRouter()
	qr.SetInterfaceRegistry(enc.InterfaceRegistry)
	am.RegisterServices(module.NewConfigurator(enc.Codec, msr, qr))

	gs := types.DefaultGenesis()
	gs.Params.UnbondingBlocks = 3
	am.InitGenesis(ctx, enc.Codec, enc.Codec.MustMarshalJSON(gs))

	owner, err := addrs.BytesToString(sdk.AccAddress("owner_______________"))
	require.NoError(t, err)
	exec := func(msg sdk.Msg) (*sdk.Result, error) {
		h := msr.Handler(msg)
		require.NotNil(t, h, "no handler for %T", msg)
		return h(ctx, msg)
	}

	// ValidateBasic runs in the router: nothing reaches the bank.
	_, err = exec(&types.MsgRegisterProvider{Owner: owner, HostUri: "https://h.example.com", Bond: sdk.NewInt64Coin("ucru", 0)})
	require.ErrorIs(t, err, types.ErrInvalidBond)
	require.Zero(t, bank.sent)

	res, err := exec(&types.MsgRegisterProvider{
		Owner: owner, HostUri: "https://h.example.com",
		Gpus: []types.GPU{{Uuid: "GPU-1", Model: "NVIDIA H100", Class: "h100", MemoryMib: 81559}},
		Bond: types.DefaultMinBond(),
	})
	require.NoError(t, err)
	require.Equal(t, 1, bank.sent)
	require.NotEmpty(t, res.Events)

	res, err = exec(&types.MsgDeregisterProvider{Owner: owner})
	require.NoError(t, err)
	var dres types.MsgDeregisterProviderResponse
	require.NoError(t, enc.Codec.Unmarshal(res.MsgResponses[0].Value, &dres))
	require.Equal(t, int64(8), dres.UnbondingHeight)

	require.NotNil(t, qr.Route("/crucible.provider.v1.Query/Providers"))
	exported := am.ExportGenesis(ctx, enc.Codec)
	require.NoError(t, am.ValidateGenesis(enc.Codec, nil, exported))

	require.NoError(t, am.EndBlock(ctx.WithBlockHeight(8)))
	require.Equal(t, 2, bank.sent, "bond released through EndBlock")
	_, err = k.GetProvider(ctx, sdk.AccAddress("owner_______________"))
	require.ErrorIs(t, err, types.ErrProviderNotFound)
}
