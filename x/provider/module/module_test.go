package module_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	gogoproto "github.com/cosmos/gogoproto/proto"
	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	protov2 "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"

	"cosmossdk.io/client/v2/autocli"
	"cosmossdk.io/client/v2/autocli/flag"

	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"

	providermodule "github.com/crucible-network/crucible/x/provider/module"
	"github.com/crucible-network/crucible/x/provider/types"
)

func TestDefaultGenesisJSON(t *testing.T) {
	enc := moduletestutil.MakeTestEncodingConfig(providermodule.AppModule{})
	am := providermodule.AppModule{}
	bz := am.DefaultGenesis(enc.Codec)
	require.NoError(t, am.ValidateGenesis(enc.Codec, nil, bz))

	var gs types.GenesisState
	require.NoError(t, enc.Codec.UnmarshalJSON(bz, &gs))
	require.Equal(t, types.DefaultParams(), gs.Params)

	require.Error(t, am.ValidateGenesis(enc.Codec, nil, json.RawMessage(`{"params":{"max_gpus":0}}`)))
	require.Error(t, am.ValidateGenesis(enc.Codec, nil, json.RawMessage(`not json`)))
}

func TestAminoNames(t *testing.T) {
	cdc := codec.NewLegacyAmino()
	providermodule.AppModule{}.RegisterLegacyAminoCodec(cdc)
	bz, err := cdc.MarshalJSON(&types.MsgDeregisterProvider{Owner: "cru1x"})
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"crucible/provider/MsgDeregisterProvider","value":{"owner":"cru1x"}}`, string(bz))
}

func TestInterfacesRegistered(t *testing.T) {
	enc := moduletestutil.MakeTestEncodingConfig(providermodule.AppModule{})
	for _, url := range []string{
		"/crucible.provider.v1.MsgRegisterProvider", "/crucible.provider.v1.MsgUpdateProvider",
		"/crucible.provider.v1.MsgDeregisterProvider", "/crucible.provider.v1.MsgUnjailProvider",
		"/crucible.provider.v1.MsgAddBond", "/crucible.provider.v1.MsgUpdateParams",
	} {
		_, err := enc.InterfaceRegistry.Resolve(url)
		require.NoError(t, err, url)
	}
}

// recordingConn is a gRPC client connection that records the last request.
// recordingConn is a gRPC client connection that records the last request
// and answers with a canned response.
type recordingConn struct {
	method string
	req    []byte
	reply  []byte
}

func (c *recordingConn) Invoke(_ context.Context, method string, args, reply any, _ ...grpc.CallOption) error {
	c.method = method
	bz, err := protov2.Marshal(args.(protov2.Message))
	if err != nil {
		return err
	}
	c.req = bz
	return protov2.Unmarshal(c.reply, reply.(protov2.Message))
}

func (c *recordingConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, fmt.Errorf("not supported")
}

func newBuilder(t *testing.T, conn grpc.ClientConnInterface) *autocli.Builder {
	files, err := gogoproto.MergedRegistry()
	require.NoError(t, err)
	b := &autocli.Builder{
		Builder: flag.Builder{
			TypeResolver:          protoregistry.GlobalTypes,
			FileResolver:          files,
			AddressCodec:          addresscodec.NewBech32Codec("cru"),
			ValidatorAddressCodec: addresscodec.NewBech32Codec("cruvaloper"),
			ConsensusAddressCodec: addresscodec.NewBech32Codec("cruvalcons"),
		},
		GetClientConn:     func(*cobra.Command) (grpc.ClientConnInterface, error) { return conn, nil },
		AddQueryConnFlags: flags.AddQueryFlagsToCmd,
		AddTxConnFlags:    flags.AddTxFlagsToCmd,
	}
	require.NoError(t, b.ValidateAndComplete())
	return b
}

func TestAutoCLIQueries(t *testing.T) {
	conn := &recordingConn{}
	b := newBuilder(t, conn)
	opts := providermodule.AppModule{}.AutoCLIOptions()
	root := &cobra.Command{Use: "provider"}
	require.NoError(t, b.AddQueryServiceCommands(root, opts.Query))

	out := new(bytes.Buffer)
	run := func(reply gogoproto.Message, args ...string) {
		t.Helper()
		bz, err := gogoproto.Marshal(reply)
		require.NoError(t, err)
		conn.reply = bz
		out.Reset()
		root.SetArgs(args)
		root.SetOut(out)
		require.NoError(t, root.Execute())
	}

	run(&types.QueryProvidersResponse{}, "providers", "--status", "jailed", "--page-limit", "7", "--page-count-total")
	require.Equal(t, "/crucible.provider.v1.Query/Providers", conn.method)
	var req types.QueryProvidersRequest
	require.NoError(t, req.Unmarshal(conn.req))
	require.Equal(t, types.ProviderStatusJailed, req.Status)
	require.Equal(t, uint64(7), req.Pagination.Limit)
	require.True(t, req.Pagination.CountTotal)

	owner := "cru1qyqszqgpqyqszqgpqyqszqgpqyqszqgpzhr0h9"
	run(&types.QueryProviderResponse{Provider: types.Provider{
		Owner: owner, Status: types.ProviderStatusJailed, Bond: sdk.NewInt64Coin("ucru", 5), Reputation: 5000,
	}}, "provider", owner)
	require.Contains(t, out.String(), owner)
	require.Contains(t, out.String(), "PROVIDER_STATUS_JAILED")
	require.Equal(t, "/crucible.provider.v1.Query/Provider", conn.method)
	var preq types.QueryProviderRequest
	require.NoError(t, preq.Unmarshal(conn.req))
	require.Equal(t, owner, preq.Owner)

	run(&types.QueryParamsResponse{Params: types.DefaultParams()}, "params")
	require.Contains(t, out.String(), "1000000000")
	require.Equal(t, "/crucible.provider.v1.Query/Params", conn.method)
}

func TestAutoCLITxCommands(t *testing.T) {
	b := newBuilder(t, &recordingConn{})
	opts := providermodule.AppModule{}.AutoCLIOptions()
	root := &cobra.Command{Use: "provider"}
	require.NoError(t, b.AddMsgServiceCommands(root, opts.Tx))
	var uses []string
	for _, c := range root.Commands() {
		uses = append(uses, c.Name())
	}
	require.ElementsMatch(t, []string{"register", "update", "deregister", "unjail", "add-bond", "update-params-proposal"}, uses)
}
