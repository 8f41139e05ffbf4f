package types_test

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/market/types"
)

func TestDefaultParamsAndGenesisValid(t *testing.T) {
	p := types.DefaultParams()
	require.NoError(t, p.Validate())
	require.Equal(t, uint32(20), p.MaxBidsPerOrder)
	require.Equal(t, uint64(600), p.OrderTtlBlocks)
	require.Equal(t, uint64(31_536_000), p.MaxLeaseBlocks)
	require.Equal(t, uint32(200), p.MaxExpiriesPerBlock)
	require.Equal(t, uint32(256), p.MaxStringLen)
	require.Equal(t, "ucru", p.MinBidDeposit.Denom)
	require.Equal(t, "ucru", p.MinOrderDeposit.Denom)
	require.NoError(t, types.DefaultGenesisState().Validate())
}

func TestParamsValidate(t *testing.T) {
	cases := map[string]func(*types.Params){
		"no bids":                func(p *types.Params) { p.MaxBidsPerOrder = 0 },
		"too many bids":          func(p *types.Params) { p.MaxBidsPerOrder = math.MaxUint32 },
		"zero bid deposit":       func(p *types.Params) { p.MinBidDeposit = sdk.NewInt64Coin("ucru", 0) },
		"negative bid deposit":   func(p *types.Params) { p.MinBidDeposit = sdk.Coin{Denom: "ucru", Amount: sdkmath.NewInt(-1)} },
		"bad bid deposit denom":  func(p *types.Params) { p.MinBidDeposit = sdk.Coin{Denom: "1", Amount: sdkmath.NewInt(1)} },
		"nil order deposit":      func(p *types.Params) { p.MinOrderDeposit = sdk.Coin{} },
		"zero ttl":               func(p *types.Params) { p.OrderTtlBlocks = 0 },
		"huge ttl":               func(p *types.Params) { p.OrderTtlBlocks = math.MaxUint64 },
		"zero lease blocks":      func(p *types.Params) { p.MaxLeaseBlocks = 0 },
		"lease blocks overflow":  func(p *types.Params) { p.MaxLeaseBlocks = 1 << 63 },
		"zero expiries":          func(p *types.Params) { p.MaxExpiriesPerBlock = 0 },
		"too many expiries":      func(p *types.Params) { p.MaxExpiriesPerBlock = 1_000_000 },
		"zero string len":        func(p *types.Params) { p.MaxStringLen = 0 },
		"string len above bound": func(p *types.Params) { p.MaxStringLen = 1 << 20 },
	}
	for name, mut := range cases {
		t.Run(name, func(t *testing.T) {
			p := types.DefaultParams()
			mut(&p)
			require.ErrorIs(t, p.Validate(), types.ErrInvalidParams)
		})
	}
}

// An amount past 256 bits cannot even be decoded: the SDK rejects it before
// any handler runs, so no keeper sees an overflowing coin.
func TestOverflowingAmountDoesNotDecode(t *testing.T) {
	ok := encodeCoin("ucru", "1"+strings.Repeat("0", 70)) // < 2^256
	var m types.MsgCreateBid
	require.NoError(t, m.Unmarshal(append([]byte{0x1a, byte(len(ok))}, ok...)))

	huge := encodeCoin("ucru", "1"+strings.Repeat("0", 80)) // > 2^256
	require.Error(t, m.Unmarshal(append([]byte{0x1a, byte(len(huge))}, huge...)))
}

// encodeCoin encodes a cosmos.base.v1beta1.Coin by hand (field 1 denom,
// field 2 amount as a decimal string), to put any amount on the wire.
func encodeCoin(denom, amount string) []byte {
	out := []byte{0x0a, byte(len(denom))}
	out = append(out, denom...)
	out = append(out, 0x12, byte(len(amount)))
	return append(out, amount...)
}
