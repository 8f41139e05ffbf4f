package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"

	"github.com/crucible-network/crucible/x/escrow/types"
)

func TestGenesisRoundTrip(t *testing.T) {
	f := queryFixture(t)
	f.setTakeRate(300)
	f.advance(40)
	_, err := f.k.SettleAccount(f.ctx, 1)
	require.NoError(t, err)
	_, err = f.msgs.Withdraw(f.ctx, &types.MsgWithdraw{Provider: f.str(addr("Q")), Id: 3})
	require.NoError(t, err)
	f.checkInvariants()

	exported, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)
	require.NoError(t, exported.Validate())
	require.Len(t, exported.Accounts, 7)
	require.Equal(t, uint32(300), exported.Params.TakeRateBps)

	// Through JSON, as a chain export does.
	cdc := moduletestutil.MakeTestEncodingConfig().Codec
	bz, err := cdc.MarshalJSON(exported)
	require.NoError(t, err)
	var imported types.GenesisState
	require.NoError(t, cdc.UnmarshalJSON(bz, &imported))

	g := newFixture(t)
	g.ctx = g.ctx.WithBlockHeight(f.ctx.BlockHeight())
	g.bank.balances = f.bank.snapshot() // x/bank's genesis
	require.NoError(t, g.k.InitGenesis(g.ctx, &imported))
	again, err := g.k.ExportGenesis(g.ctx)
	require.NoError(t, err)
	require.Equal(t, exported, again)
	require.Equal(t, f.queue(), g.queue(), "queue rebuilt from active accounts")
	g.checkInvariants()

	// Index-backed queries work on the imported state.
	res, err := g.query.Accounts(g.ctx, &types.QueryAccountsRequest{Owner: g.str(addr("A")), State: types.AccountStateActive})
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 3}, ids(res.Accounts))

	// The imported chain keeps streaming exactly like the original.
	f.advance(5)
	g.advance(5)
	a, err := f.k.CloseAccount(f.ctx, 5, "x")
	require.NoError(t, err)
	b, err := g.k.CloseAccount(g.ctx, 5, "x")
	require.NoError(t, err)
	require.Equal(t, a, b)
	require.Equal(t, f.bank.snapshot(), g.bank.snapshot())
}

func TestDefaultGenesis(t *testing.T) {
	f := newFixture(t)
	gs, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)
	require.Equal(t, types.DefaultGenesisState(), gs)
}

func TestInitGenesisRejects(t *testing.T) {
	f := newFixture(t)
	good := types.Account{
		Id: 1, Owner: f.str(tenant), Balance: coin(10), Rate: coin(0),
		Unwithdrawn: coin(0), TotalPaid: coin(0), TotalTaken: coin(0),
		State: types.AccountStatePending,
	}
	badPrefix := good
	badPrefix.Owner = "cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu"
	err := f.k.InitGenesis(f.ctx, types.NewGenesisState(types.DefaultParams(), []types.Account{badPrefix}))
	require.Error(t, err)

	dup := types.NewGenesisState(types.DefaultParams(), []types.Account{good, good})
	require.ErrorIs(t, f.k.InitGenesis(f.ctx, dup), types.ErrInvalidGenesis)
}
