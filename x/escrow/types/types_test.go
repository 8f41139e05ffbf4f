package types_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/crucible-network/crucible/x/escrow/types"
)

func maxInt() sdkmath.Int {
	return sdkmath.NewIntFromBigInt(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)))
}

func TestTake(t *testing.T) {
	for _, tc := range []struct {
		paid int64
		bps  uint32
		want int64
	}{
		{0, 200, 0}, {49, 200, 0}, {50, 200, 1}, {99, 200, 1}, {100, 200, 2},
		{3, 3333, 0}, {10_000, 3333, 3333}, {10_001, 3333, 3333}, {7, 10_000, 7}, {7, 0, 0},
		{12_345, 5000, 6172},
	} {
		require.Equal(t, tc.want, types.Take(sdkmath.NewInt(tc.paid), tc.bps).Int64(), "%d at %d bps", tc.paid, tc.bps)
	}
	// Near the 256-bit limit: equals floor(paid*bps/10000) computed in big.Int,
	// with no overflow of the intermediate product.
	for _, bps := range []uint32{1, 200, 3333, 5000, 9999, 10_000} {
		paid := maxInt()
		want := new(big.Int).Mul(paid.BigInt(), big.NewInt(int64(bps)))
		want.Quo(want, big.NewInt(types.BasisPoints))
		require.Equal(t, want.String(), types.Take(paid, bps).String(), "bps %d", bps)
	}
}

func TestExhaustionHeight(t *testing.T) {
	require.Equal(t, int64(11), types.ExhaustionHeight(1, sdkmath.NewInt(100), sdkmath.NewInt(10)))
	require.Equal(t, int64(11), types.ExhaustionHeight(1, sdkmath.NewInt(109), sdkmath.NewInt(10)))
	require.Equal(t, int64(5), types.ExhaustionHeight(5, sdkmath.NewInt(9), sdkmath.NewInt(10)))
	require.Equal(t, int64(math.MaxInt64), types.ExhaustionHeight(5, maxInt(), sdkmath.OneInt()))
	require.Equal(t, int64(math.MaxInt64), types.ExhaustionHeight(math.MaxInt64-3, sdkmath.NewInt(3), sdkmath.OneInt()))
	require.Equal(t, int64(math.MaxInt64), types.ExhaustionHeight(math.MaxInt64-3, sdkmath.NewInt(4), sdkmath.OneInt()))
	require.Equal(t, int64(math.MaxInt64-1), types.ExhaustionHeight(math.MaxInt64-3, sdkmath.NewInt(2), sdkmath.OneInt()))
}

func TestParamsValidate(t *testing.T) {
	require.NoError(t, types.DefaultParams().Validate())
	require.Equal(t, uint32(200), types.DefaultParams().TakeRateBps)
	require.Equal(t, uint32(200), types.DefaultParams().MaxSettlementsPerBlock)
	require.NoError(t, types.Params{TakeRateBps: 0, MaxSettlementsPerBlock: 1}.Validate())
	require.NoError(t, types.Params{TakeRateBps: types.MaxTakeRateBps, MaxSettlementsPerBlock: 1}.Validate())
	require.ErrorIs(t, types.Params{TakeRateBps: types.MaxTakeRateBps + 1, MaxSettlementsPerBlock: 1}.Validate(), types.ErrInvalidParams)
	require.ErrorIs(t, types.Params{TakeRateBps: 1}.Validate(), types.ErrInvalidParams)
}

func TestMsgValidate(t *testing.T) {
	ac := addresscodec.NewBech32Codec("cru")
	good, err := ac.BytesToString([]byte("01234567890123456789"))
	require.NoError(t, err)
	c := sdk.NewInt64Coin("ucru", 5)

	require.NoError(t, (&types.MsgDeposit{Depositor: good, Id: 1, Amount: c}).Validate(ac))
	require.ErrorIs(t, (&types.MsgDeposit{Depositor: "x", Id: 1, Amount: c}).Validate(ac), sdkerrors.ErrInvalidAddress)
	require.ErrorIs(t, (&types.MsgDeposit{Depositor: good, Amount: sdk.NewInt64Coin("ucru", 0)}).Validate(ac), types.ErrInvalidAmount)
	require.ErrorIs(t, (&types.MsgDeposit{Depositor: good, Amount: sdk.Coin{Denom: "ucru", Amount: sdkmath.NewInt(-1)}}).Validate(ac), types.ErrInvalidAmount)
	require.ErrorIs(t, (&types.MsgDeposit{Depositor: good}).Validate(ac), types.ErrInvalidAmount)
	require.NoError(t, (&types.MsgWithdraw{Provider: good, Id: 1}).Validate(ac))
	require.ErrorIs(t, (&types.MsgWithdraw{}).Validate(ac), sdkerrors.ErrInvalidAddress)
	require.NoError(t, (&types.MsgUpdateParams{Authority: good, Params: types.DefaultParams()}).Validate(ac))
	require.ErrorIs(t, (&types.MsgUpdateParams{Authority: good}).Validate(ac), types.ErrInvalidParams)
}

func validAccounts() []types.Account {
	z := sdk.NewInt64Coin("ucru", 0)
	c := func(n int64) sdk.Coin { return sdk.NewInt64Coin("ucru", n) }
	return []types.Account{
		{Id: 1, Owner: "o", Balance: c(10), Rate: z, Unwithdrawn: z, TotalPaid: z, TotalTaken: z, State: types.AccountStatePending},
		{Id: 2, Owner: "o", Provider: "p", Balance: c(95), Rate: c(10), SettledHeight: 7, Unwithdrawn: c(4),
			TotalPaid: c(5), TotalTaken: c(1), ExhaustionHeight: 16, State: types.AccountStateActive},
		{Id: 3, Owner: "o", Provider: "p", Balance: z, Rate: c(10), SettledHeight: 9, Unwithdrawn: z,
			TotalPaid: c(50), TotalTaken: c(1), State: types.AccountStateClosed},
	}
}

func TestGenesisValidate(t *testing.T) {
	require.NoError(t, types.DefaultGenesisState().Validate())
	require.NoError(t, types.NewGenesisState(types.DefaultParams(), validAccounts()).Validate())

	for name, mutate := range map[string]func(gs *types.GenesisState){
		"bad params":           func(gs *types.GenesisState) { gs.Params.MaxSettlementsPerBlock = 0 },
		"duplicate id":         func(gs *types.GenesisState) { gs.Accounts[1].Id = 1 },
		"no owner":             func(gs *types.GenesisState) { gs.Accounts[0].Owner = "" },
		"unspecified state":    func(gs *types.GenesisState) { gs.Accounts[0].State = types.AccountStateUnspecified },
		"unknown state":        func(gs *types.GenesisState) { gs.Accounts[0].State = 7 },
		"denom mismatch":       func(gs *types.GenesisState) { gs.Accounts[1].Rate.Denom = "uother" },
		"bad denom":            func(gs *types.GenesisState) { gs.Accounts[0].Balance.Denom = "1" },
		"negative balance":     func(gs *types.GenesisState) { gs.Accounts[0].Balance.Amount = sdkmath.NewInt(-1) },
		"nil amount":           func(gs *types.GenesisState) { gs.Accounts[0].Unwithdrawn.Amount = sdkmath.Int{} },
		"pending provider":     func(gs *types.GenesisState) { gs.Accounts[0].Provider = "p" },
		"pending rate":         func(gs *types.GenesisState) { gs.Accounts[0].Rate.Amount = sdkmath.NewInt(1) },
		"active no provider":   func(gs *types.GenesisState) { gs.Accounts[1].Provider = "" },
		"active zero rate":     func(gs *types.GenesisState) { gs.Accounts[1].Rate.Amount = sdkmath.ZeroInt() },
		"exhaustion mismatch":  func(gs *types.GenesisState) { gs.Accounts[1].ExhaustionHeight = 17 },
		"taken above paid":     func(gs *types.GenesisState) { gs.Accounts[1].TotalTaken.Amount = sdkmath.NewInt(6) },
		"unwithdrawn too high": func(gs *types.GenesisState) { gs.Accounts[1].Unwithdrawn.Amount = sdkmath.NewInt(5) },
		"closed with balance":  func(gs *types.GenesisState) { gs.Accounts[2].Balance.Amount = sdkmath.NewInt(1) },
		"closed in queue":      func(gs *types.GenesisState) { gs.Accounts[2].ExhaustionHeight = 3 },
		"negative height":      func(gs *types.GenesisState) { gs.Accounts[1].SettledHeight = -1 },
	} {
		gs := types.NewGenesisState(types.DefaultParams(), validAccounts())
		mutate(gs)
		require.ErrorIs(t, gs.Validate(), types.ErrInvalidGenesis, name)
	}
}

// TestTakeWithRemainderSumsExactly: however a total is split into payments
// (and whatever the rate of each), the takes with the carried remainder sum
// to floor(sum(paid_i * bps_i) / 10000); the remainder stays below 10000 and
// no take exceeds its payment. Without the remainder, 49 a block at 2% took 0.
func TestTakeWithRemainderSumsExactly(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 500; trial++ {
		var rem uint32
		sum, num := sdkmath.ZeroInt(), sdkmath.ZeroInt()
		for i := 0; i < 1+rng.IntN(50); i++ {
			paid := sdkmath.NewInt(rng.Int64N(1_000_000))
			if i%7 == 3 {
				paid = maxInt().QuoRaw(1 << 20) // large: no intermediate overflow
			}
			bps := uint32(rng.IntN(types.MaxTakeRateBps + 1))
			take, r := types.TakeWithRemainder(paid, bps, rem)
			require.True(t, take.LTE(paid))
			require.Less(t, r, uint32(types.BasisPoints))
			rem = r
			sum = sum.Add(take)
			num = num.Add(paid.MulRaw(int64(bps)))
		}
		require.Equal(t, num.QuoRaw(types.BasisPoints).String(), sum.String())
		require.Equal(t, num.ModRaw(types.BasisPoints).Int64(), int64(rem))
	}
	var rem uint32
	total := sdkmath.ZeroInt()
	for i := 0; i < 100; i++ {
		take, r := types.TakeWithRemainder(sdkmath.NewInt(49), 200, rem)
		total, rem = total.Add(take), r
	}
	require.Equal(t, "98", total.String()) // old per-settlement floor: 0
}
