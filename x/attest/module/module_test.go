package module_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"

	attestmodule "github.com/crucible-network/crucible/x/attest/module"
	"github.com/crucible-network/crucible/x/attest/types"
)

func TestDefaultGenesisJSON(t *testing.T) {
	enc := moduletestutil.MakeTestEncodingConfig(attestmodule.AppModule{})
	am := attestmodule.AppModule{}
	bz := am.DefaultGenesis(enc.Codec)
	require.NoError(t, am.ValidateGenesis(enc.Codec, nil, bz))
	var gs types.GenesisState
	require.NoError(t, enc.Codec.UnmarshalJSON(bz, &gs))
	require.Equal(t, *types.DefaultGenesis(), gs)
	require.Error(t, am.ValidateGenesis(enc.Codec, nil, []byte(`{"params":{"window_blocks":"0"}}`)))
}

func TestMsgsRegistered(t *testing.T) {
	enc := moduletestutil.MakeTestEncodingConfig(attestmodule.AppModule{})
	for _, msg := range []sdk.Msg{&types.MsgCommitProof{}, &types.MsgRevealProof{}, &types.MsgUpdateParams{}} {
		name := sdk.MsgTypeURL(msg)
		resolved, err := enc.InterfaceRegistry.Resolve(name)
		require.NoError(t, err, name)
		require.IsType(t, msg, resolved)
	}
	amino := codec.NewLegacyAmino()
	types.RegisterLegacyAminoCodec(amino)
	bz, err := amino.MarshalJSON(&types.MsgCommitProof{Provider: "cru1x", ChallengeId: 1})
	require.NoError(t, err)
	require.Contains(t, string(bz), `"crucible/attest/MsgCommitProof"`)
}

func TestAutoCLICoversEveryRPC(t *testing.T) {
	opts := attestmodule.AppModule{}.AutoCLIOptions()
	rpcs := map[string]bool{}
	for _, o := range opts.Query.RpcCommandOptions {
		rpcs[o.RpcMethod] = true
	}
	for _, o := range opts.Tx.RpcCommandOptions {
		rpcs[o.RpcMethod] = true
	}
	for _, m := range []string{"Params", "Challenge", "Challenges", "Record", "Records", "CommitProof", "RevealProof", "UpdateParams"} {
		require.True(t, rpcs[m], m)
	}
}
