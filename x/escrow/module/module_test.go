package escrow_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"

	escrow "github.com/crucible-network/crucible/x/escrow/module"
	"github.com/crucible-network/crucible/x/escrow/types"
)

// Every Query and Msg RPC has an autocli command.
func TestAutoCLICoversEveryRPC(t *testing.T) {
	opts := escrow.AppModule{}.AutoCLIOptions()
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
	enc := moduletestutil.MakeTestEncodingConfig(escrow.AppModule{})
	am := escrow.AppModule{}
	bz := am.DefaultGenesis(enc.Codec)
	require.NoError(t, am.ValidateGenesis(enc.Codec, nil, bz))
	require.Error(t, am.ValidateGenesis(enc.Codec, nil, []byte(`{"params":{"take_rate_bps":9000,"max_settlements_per_block":1}}`)))
	require.Error(t, am.ValidateGenesis(enc.Codec, nil, []byte(`{`)))
}
