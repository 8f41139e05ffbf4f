package module_test

import (
	"bytes"
	"context"
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

	escrowmodule "github.com/crucible-network/crucible/x/escrow/module"
	"github.com/crucible-network/crucible/x/escrow/types"
)

// Every Query and Msg RPC has an autocli command.
func TestAutoCLICoversEveryRPC(t *testing.T) {
	opts := escrowmodule.AppModule{}.AutoCLIOptions()
	for _, tc := range []struct {
		service string
		methods []string
		got     []string
	}{
		{types.Query_serviceDesc.ServiceName, methodNames(types.Query_serviceDesc.Methods), nil},
		{types.Msg_serviceDesc.ServiceName, methodNames(types.Msg_serviceDesc.Methods), nil},
	} {
		desc := opts.Query
		if tc.service == types.Msg_serviceDesc.ServiceName {
			desc = opts.Tx
		}
		require.Equal(t, tc.service, desc.Service)
		for _, o := range desc.RpcCommandOptions {
			tc.got = append(tc.got, o.RpcMethod)
		}
		require.ElementsMatch(t, tc.methods, tc.got, tc.service)
	}
}

func methodNames(ms []grpc.MethodDesc) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.MethodName)
	}
	return out
}

func TestGenesisJSON(t *testing.T) {
	enc := moduletestutil.MakeTestEncodingConfig(escrowmodule.AppModule{})
	am := escrowmodule.AppModule{}
	bz := am.DefaultGenesis(enc.Codec)
	require.NoError(t, am.ValidateGenesis(enc.Codec, nil, bz))
	require.Error(t, am.ValidateGenesis(enc.Codec, nil, []byte(`{"params":{"take_rate_bps":9000,"max_settlements_per_block":1}}`)))
	require.Error(t, am.ValidateGenesis(enc.Codec, nil, []byte(`{`)))
}

func TestAminoNames(t *testing.T) {
	cdc := codec.NewLegacyAmino()
	escrowmodule.AppModule{}.RegisterLegacyAminoCodec(cdc)
	bz, err := cdc.MarshalJSON(&types.MsgWithdraw{Provider: "cru1x", Id: 3})
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"crucible/escrow/MsgWithdraw","value":{"provider":"cru1x","id":"3"}}`, string(bz))
}

func TestInterfacesRegistered(t *testing.T) {
	enc := moduletestutil.MakeTestEncodingConfig(escrowmodule.AppModule{})
	for _, url := range []string{
		"/crucible.escrow.v1.MsgDeposit", "/crucible.escrow.v1.MsgWithdraw", "/crucible.escrow.v1.MsgUpdateParams",
	} {
		_, err := enc.InterfaceRegistry.Resolve(url)
		require.NoError(t, err, url)
	}
}

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
	opts := escrowmodule.AppModule{}.AutoCLIOptions()
	root := &cobra.Command{Use: "escrow"}
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

	owner := "cru1qyqszqgpqyqszqgpqyqszqgpqyqszqgpzhr0h9"
	run(&types.QueryAccountsResponse{}, "accounts", "--owner", owner, "--provider", owner,
		"--state", "active", "--page-limit", "7", "--page-count-total")
	require.Equal(t, "/crucible.escrow.v1.Query/Accounts", conn.method)
	var req types.QueryAccountsRequest
	require.NoError(t, req.Unmarshal(conn.req))
	require.Equal(t, owner, req.Owner)
	require.Equal(t, owner, req.Provider)
	require.Equal(t, types.AccountStateActive, req.State)
	require.Equal(t, uint64(7), req.Pagination.Limit)
	require.True(t, req.Pagination.CountTotal)

	run(&types.QueryAccountResponse{Account: types.Account{
		Id: 7, Owner: owner, Balance: sdk.NewInt64Coin("ucru", 5), State: types.AccountStateActive,
	}}, "account", "7")
	require.Equal(t, "/crucible.escrow.v1.Query/Account", conn.method)
	require.Contains(t, out.String(), "ACCOUNT_STATE_ACTIVE")
	var areq types.QueryAccountRequest
	require.NoError(t, areq.Unmarshal(conn.req))
	require.Equal(t, uint64(7), areq.Id)

	run(&types.QueryParamsResponse{Params: types.DefaultParams()}, "params")
	require.Equal(t, "/crucible.escrow.v1.Query/Params", conn.method)
	require.Contains(t, out.String(), "200")
}

func TestAutoCLITxCommands(t *testing.T) {
	b := newBuilder(t, &recordingConn{})
	opts := escrowmodule.AppModule{}.AutoCLIOptions()
	root := &cobra.Command{Use: "escrow"}
	require.NoError(t, b.AddMsgServiceCommands(root, opts.Tx))
	var uses []string
	for _, c := range root.Commands() {
		uses = append(uses, c.Name())
	}
	require.ElementsMatch(t, []string{"deposit", "withdraw", "update-params-proposal"}, uses)
}
