package keeper_test

import (
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/crucible-network/crucible/x/escrow/types"
)

func TestMsgDeposit(t *testing.T) {
	f := newFixture(t)
	f.setHeight(1)
	f.openActive(1, tenant, provider, 100, 10) // exhausts at 11
	f.open(2, tenant2, 50)
	f.bank.mint(other, coin(1000))

	// Anyone may deposit into an active account: it settles first and moves in
	// the queue.
	f.setHeight(5)
	em := f.freshEvents()
	res, err := f.msgs.Deposit(f.ctx, &types.MsgDeposit{Depositor: f.str(other), Id: 1, Amount: coin(55)})
	require.NoError(t, err)
	require.Equal(t, []string{"crucible.escrow.v1.EventSettled", "crucible.escrow.v1.EventDeposit"}, eventTypes(em))
	// 4 blocks paid (40), then +55: 115 left from height 5 -> exhausts at 5 + 11.
	require.Equal(t, "115ucru", res.Balance.String())
	acc := f.account(1)
	require.Equal(t, int64(5), acc.SettledHeight)
	require.Equal(t, int64(16), acc.ExhaustionHeight)
	require.Equal(t, []string{"16/1"}, f.queue())
	require.Equal(t, "945", f.balance(other).String())
	f.checkInvariants()

	// Pending accounts take deposits too; they stay out of the queue.
	_, err = f.msgs.Deposit(f.ctx, &types.MsgDeposit{Depositor: f.str(tenant2), Id: 2, Amount: coin(0 + 1)})
	require.Error(t, err, "tenant2 has no funds left")
	require.ErrorIs(t, err, sdkerrors.ErrInsufficientFunds)
	res, err = f.msgs.Deposit(f.ctx, &types.MsgDeposit{Depositor: f.str(other), Id: 2, Amount: coin(25)})
	require.NoError(t, err)
	require.Equal(t, "75ucru", res.Balance.String())
	require.Equal(t, []string{"16/1"}, f.queue())
	f.checkInvariants()

	// Bad input: a clear error and no coin moves.
	before := f.bank.snapshot()
	accBefore := f.account(1)
	cases := []struct {
		name string
		msg  *types.MsgDeposit
		err  error
	}{
		{"zero", &types.MsgDeposit{Depositor: f.str(other), Id: 1, Amount: coin(0)}, types.ErrInvalidAmount},
		{"negative", &types.MsgDeposit{Depositor: f.str(other), Id: 1, Amount: sdk.Coin{Denom: denom, Amount: sdkmath.NewInt(-5)}}, types.ErrInvalidAmount},
		{"nil amount", &types.MsgDeposit{Depositor: f.str(other), Id: 1, Amount: sdk.Coin{Denom: denom}}, types.ErrInvalidAmount},
		{"bad denom", &types.MsgDeposit{Depositor: f.str(other), Id: 1, Amount: sdk.Coin{Denom: "1x", Amount: sdkmath.NewInt(5)}}, types.ErrInvalidAmount},
		{"wrong denom", &types.MsgDeposit{Depositor: f.str(other), Id: 1, Amount: sdk.NewInt64Coin("uatom", 5)}, types.ErrInvalidDenom},
		{"unknown id", &types.MsgDeposit{Depositor: f.str(other), Id: 99, Amount: coin(5)}, types.ErrAccountNotFound},
		{"bad address", &types.MsgDeposit{Depositor: "cosmos1xyz", Id: 1, Amount: coin(5)}, sdkerrors.ErrInvalidAddress},
		{"empty address", &types.MsgDeposit{Id: 1, Amount: coin(5)}, sdkerrors.ErrInvalidAddress},
		{"insufficient funds", &types.MsgDeposit{Depositor: f.str(other), Id: 1, Amount: coin(100_000)}, sdkerrors.ErrInsufficientFunds},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			em := f.freshEvents()
			_, err := f.msgs.Deposit(f.ctx, tc.msg)
			require.ErrorIs(t, err, tc.err)
			require.Equal(t, before, f.bank.snapshot())
			require.Equal(t, accBefore, f.account(1))
			require.Empty(t, em.Events())
		})
	}

	// Closed accounts refuse deposits.
	_, err = f.k.CloseAccount(f.ctx, 2, "order cancelled")
	require.NoError(t, err)
	before = f.bank.snapshot()
	_, err = f.msgs.Deposit(f.ctx, &types.MsgDeposit{Depositor: f.str(other), Id: 2, Amount: coin(5)})
	require.ErrorIs(t, err, types.ErrAccountClosed)
	require.Equal(t, before, f.bank.snapshot())
	f.checkInvariants()
}

func TestMsgDepositRevivesReportedAccount(t *testing.T) {
	f := newFixture(t)
	f.setHeight(1)
	f.openActive(1, tenant, provider, 30, 10) // exhausts at 4
	f.setHeight(4)
	ids, err := f.k.ProcessDue(f.ctx, 0)
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, ids)
	require.Empty(t, f.queue())
	f.checkInvariants()

	// Not closed by the caller; a deposit puts it back in the queue.
	f.bank.mint(tenant, coin(20))
	_, err = f.msgs.Deposit(f.ctx, &types.MsgDeposit{Depositor: f.str(tenant), Id: 1, Amount: coin(20)})
	require.NoError(t, err)
	require.Equal(t, []string{"6/1"}, f.queue())
	f.checkInvariants()
}

func TestMsgWithdraw(t *testing.T) {
	f := newFixture(t)
	f.setHeight(1)
	f.openActive(1, tenant, provider, 1000, 100)
	f.open(2, tenant, 10)

	// Nothing settled yet.
	_, err := f.msgs.Withdraw(f.ctx, &types.MsgWithdraw{Provider: f.str(provider), Id: 1})
	require.ErrorIs(t, err, types.ErrNothingToWithdraw)

	f.setHeight(4)
	before := f.bank.snapshot()
	for name, tc := range map[string]struct {
		msg *types.MsgWithdraw
		err error
	}{
		"not the provider": {&types.MsgWithdraw{Provider: f.str(other), Id: 1}, types.ErrNotProvider},
		"tenant":           {&types.MsgWithdraw{Provider: f.str(tenant), Id: 1}, types.ErrNotProvider},
		"pending account":  {&types.MsgWithdraw{Provider: f.str(provider), Id: 2}, types.ErrNotProvider},
		"unknown id":       {&types.MsgWithdraw{Provider: f.str(provider), Id: 9}, types.ErrAccountNotFound},
		"bad address":      {&types.MsgWithdraw{Provider: "nope", Id: 1}, sdkerrors.ErrInvalidAddress},
	} {
		_, err := f.msgs.Withdraw(f.ctx, tc.msg)
		require.ErrorIs(t, err, tc.err, name)
		require.Equal(t, before, f.bank.snapshot(), name)
	}

	em := f.freshEvents()
	res, err := f.msgs.Withdraw(f.ctx, &types.MsgWithdraw{Provider: f.str(provider), Id: 1})
	require.NoError(t, err)
	require.Equal(t, []string{"crucible.escrow.v1.EventSettled", "crucible.escrow.v1.EventWithdraw"}, eventTypes(em))
	// 3 blocks * 100 = 300, take 6, provider 294.
	require.Equal(t, "294ucru", res.Amount.String())
	require.Equal(t, "294", f.balance(provider).String())
	require.True(t, f.account(1).Unwithdrawn.IsZero())
	f.checkInvariants()

	// Same block again: nothing new.
	_, err = f.msgs.Withdraw(f.ctx, &types.MsgWithdraw{Provider: f.str(provider), Id: 1})
	require.ErrorIs(t, err, types.ErrNothingToWithdraw)

	// After close the provider was paid in full; nothing is left.
	f.setHeight(6)
	_, err = f.k.CloseAccount(f.ctx, 1, "lease closed")
	require.NoError(t, err)
	require.Equal(t, "490", f.balance(provider).String())
	_, err = f.msgs.Withdraw(f.ctx, &types.MsgWithdraw{Provider: f.str(provider), Id: 1})
	require.ErrorIs(t, err, types.ErrNothingToWithdraw)
	f.checkInvariants()
}

func TestMsgUpdateParams(t *testing.T) {
	f := newFixture(t)
	good := types.Params{TakeRateBps: 500, MaxSettlementsPerBlock: 10}

	_, err := f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.str(other), Params: good})
	require.ErrorIs(t, err, types.ErrInvalidAuthority)
	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.authority, Params: types.Params{TakeRateBps: 5001, MaxSettlementsPerBlock: 1}})
	require.ErrorIs(t, err, types.ErrInvalidParams)
	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.authority, Params: types.Params{TakeRateBps: 1}})
	require.ErrorIs(t, err, types.ErrInvalidParams)
	p, err := f.k.Params.Get(f.ctx)
	require.NoError(t, err)
	require.Equal(t, types.DefaultParams(), p)

	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.authority, Params: good})
	require.NoError(t, err)
	p, err = f.k.Params.Get(f.ctx)
	require.NoError(t, err)
	require.Equal(t, good, p)

	// The new take rate applies to the next settlement.
	f.setHeight(1)
	f.openActive(1, tenant, provider, 1000, 100)
	f.setHeight(2)
	acc, err := f.k.SettleAccount(f.ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "5ucru", acc.TotalTaken.String())
}
