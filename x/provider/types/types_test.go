package types_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/provider/types"
)

func TestDefaultParamsValid(t *testing.T) {
	p := types.DefaultParams()
	require.NoError(t, p.Validate())
	require.Equal(t, sdk.NewInt64Coin("ucru", 1_000_000_000), p.MinBond)
	require.NoError(t, types.DefaultGenesis().Validate())
}

func TestParamsValidate(t *testing.T) {
	cases := map[string]func(p *types.Params){
		"zero min bond":          func(p *types.Params) { p.MinBond = sdk.NewInt64Coin("ucru", 0) },
		"negative min bond":      func(p *types.Params) { p.MinBond = sdk.Coin{Denom: "ucru", Amount: math.NewInt(-1)} },
		"bad min bond denom":     func(p *types.Params) { p.MinBond = sdk.Coin{Denom: "1x", Amount: math.NewInt(1)} },
		"nil min bond":           func(p *types.Params) { p.MinBond = sdk.Coin{} },
		"zero unbonding":         func(p *types.Params) { p.UnbondingBlocks = 0 },
		"huge unbonding":         func(p *types.Params) { p.UnbondingBlocks = types.MaxBlocksParam + 1 },
		"zero jail":              func(p *types.Params) { p.JailBlocks = 0 },
		"huge jail":              func(p *types.Params) { p.JailBlocks = 1 << 63 },
		"zero max gpus":          func(p *types.Params) { p.MaxGpus = 0 },
		"max gpus over limit":    func(p *types.Params) { p.MaxGpus = types.MaxGPUsLimit + 1 },
		"max attributes over li": func(p *types.Params) { p.MaxAttributes = types.MaxAttributesLimit + 1 },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			p := types.DefaultParams()
			mutate(&p)
			require.ErrorIs(t, p.Validate(), types.ErrInvalidParams)
		})
	}
	p := types.DefaultParams()
	p.MaxAttributes = 0
	require.NoError(t, p.Validate(), "no attributes at all is a valid policy")
}

func TestValidateHostURI(t *testing.T) {
	for _, ok := range []string{
		"https://gpu1.example.com:8443", "http://10.0.0.1:8080/api", "https://[::1]:8443",
	} {
		require.NoError(t, types.ValidateHostURI(ok), ok)
	}
	for _, bad := range []string{
		"", "gpu1.example.com", "ftp://x", "https://", "https:// spaced.com", "https://u@x.com",
		"https://x.com/\x00", "https://" + strings.Repeat("a", types.MaxHostURILength),
	} {
		require.ErrorIs(t, types.ValidateHostURI(bad), types.ErrInvalidHostURI, "%q", bad)
	}
}

func TestMsgValidateBasic(t *testing.T) {
	gpu := types.GPU{Uuid: "GPU-1", Model: "NVIDIA H100 80GB HBM3", Class: "h100", MemoryMib: 81559}
	reg := types.MsgRegisterProvider{
		Owner: "cru1x", HostUri: "https://h.example.com", Gpus: []types.GPU{gpu},
		Bond: sdk.NewInt64Coin("ucru", 1),
	}
	require.NoError(t, reg.ValidateBasic())

	upd := types.MsgUpdateProvider{Owner: "cru1x", HostUri: "https://h.example.com", Gpus: []types.GPU{gpu}}
	upd.Gpus[0].VerifiedHeight = 7 // ignored on update
	require.NoError(t, upd.ValidateBasic())
	upd.Gpus[0].VerifiedHeight = -1
	require.ErrorIs(t, upd.ValidateBasic(), types.ErrInvalidGPU)

	require.ErrorIs(t, (&types.MsgDeregisterProvider{}).ValidateBasic(), types.ErrInvalidAddress)
	require.ErrorIs(t, (&types.MsgUnjailProvider{}).ValidateBasic(), types.ErrInvalidAddress)
	require.NoError(t, (&types.MsgUnjailProvider{Owner: "cru1x"}).ValidateBasic())
	require.ErrorIs(t, (&types.MsgAddBond{Owner: "cru1x", Amount: sdk.NewInt64Coin("ucru", 0)}).ValidateBasic(), types.ErrInvalidBond)
	require.NoError(t, (&types.MsgAddBond{Owner: "cru1x", Amount: sdk.NewInt64Coin("ucru", 1)}).ValidateBasic())
	require.ErrorIs(t, (&types.MsgUpdateParams{Authority: "cru1x"}).ValidateBasic(), types.ErrInvalidParams)
	require.NoError(t, (&types.MsgUpdateParams{Authority: "cru1x", Params: types.DefaultParams()}).ValidateBasic())
}

func TestValidateGPUsAndAttributes(t *testing.T) {
	g := func(uuid string) types.GPU {
		return types.GPU{Uuid: uuid, Model: "m", Class: "c", MemoryMib: 1}
	}
	require.NoError(t, types.ValidateGPUs(nil))
	require.ErrorIs(t, types.ValidateGPUs([]types.GPU{g("a"), g("b"), g("a")}), types.ErrDuplicateGPU)
	require.ErrorIs(t, types.ValidateGPUs([]types.GPU{g("has space")}), types.ErrInvalidGPU)
	bad := g("a")
	bad.Class = "h 100"
	require.ErrorIs(t, types.ValidateGPUs([]types.GPU{bad}), types.ErrInvalidGPU)

	require.NoError(t, types.ValidateAttributes([]types.Attribute{{Key: "a", Value: ""}, {Key: "b", Value: "x y"}}))
	require.ErrorIs(t, types.ValidateAttributes([]types.Attribute{{Key: "a b"}}), types.ErrInvalidAttribute)
	require.ErrorIs(t, types.ValidateAttributes([]types.Attribute{{Key: strings.Repeat("k", types.MaxAttributeKeyLength+1)}}), types.ErrInvalidAttribute)
	require.ErrorIs(t, types.ValidateAttributes([]types.Attribute{{Key: "k", Value: "\xff"}}), types.ErrInvalidAttribute)
}
