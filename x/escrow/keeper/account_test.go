package keeper_test

import (
	"errors"
	"math"
	"testing"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/crucible-network/crucible/x/escrow/types"
)

var (
	tenant   = addr("tenant")
	tenant2  = addr("tenant2")
	provider = addr("provider")
	other    = addr("other")
)

func TestOpenAccount(t *testing.T) {
	f := newFixture(t)
	em := f.freshEvents()
	f.open(1, tenant, 1000)
	require.Equal(t, []string{"crucible.escrow.v1.EventAccountOpened"}, eventTypes(em))

	acc := f.account(1)
	require.Equal(t, types.AccountStatePending, acc.State)
	require.Equal(t, f.str(tenant), acc.Owner)
	require.Empty(t, acc.Provider)
	require.Equal(t, "1000ucru", acc.Balance.String())
	require.Equal(t, "0ucru", acc.Rate.String())
	require.Equal(t, int64(0), acc.ExhaustionHeight)
	require.True(t, f.balance(tenant).IsZero())
	require.Equal(t, "1000", f.balance(moduleAddr).String())
	require.Empty(t, f.queue(), "pending accounts do not stream")
	f.checkInvariants()

	// Duplicate id: refused, nothing moves.
	f.bank.mint(tenant, coin(5))
	err := f.k.OpenAccount(f.ctx, 1, tenant, coin(5))
	require.ErrorIs(t, err, types.ErrAccountExists)
	require.Equal(t, "5", f.balance(tenant).String())

	// Zero deposit is allowed and fixes the denom.
	require.NoError(t, f.k.OpenAccount(f.ctx, 2, tenant, coin(0)))
	require.Equal(t, "0ucru", f.account(2).Balance.String())

	// Bad input.
	require.ErrorIs(t, f.k.OpenAccount(f.ctx, 3, tenant, sdk.Coin{Denom: denom, Amount: sdkmath.NewInt(-1)}), types.ErrInvalidAmount)
	require.ErrorIs(t, f.k.OpenAccount(f.ctx, 3, tenant, sdk.Coin{Denom: "!bad", Amount: sdkmath.NewInt(1)}), types.ErrInvalidAmount)
	require.ErrorIs(t, f.k.OpenAccount(f.ctx, 3, tenant, sdk.Coin{Denom: denom}), types.ErrInvalidAmount)
	require.ErrorIs(t, f.k.OpenAccount(f.ctx, 3, nil, coin(1)), sdkerrors.ErrInvalidAddress)
	// Insufficient funds: bank error, no account.
	require.ErrorIs(t, f.k.OpenAccount(f.ctx, 3, tenant, coin(6)), sdkerrors.ErrInsufficientFunds)
	_, err = f.k.GetAccount(f.ctx, 3)
	require.ErrorIs(t, err, types.ErrAccountNotFound)
	require.Equal(t, "5", f.balance(tenant).String())
	f.checkInvariants()
}

func TestActivateAccount(t *testing.T) {
	f := newFixture(t)
	f.setHeight(10)
	f.open(1, tenant, 1000)

	// Bad input first: nothing changes.
	require.ErrorIs(t, f.k.ActivateAccount(f.ctx, 1, provider, coin(0), 0), types.ErrInvalidAmount)
	require.ErrorIs(t, f.k.ActivateAccount(f.ctx, 1, provider, sdk.Coin{Denom: denom, Amount: sdkmath.NewInt(-3)}, 0), types.ErrInvalidAmount)
	require.ErrorIs(t, f.k.ActivateAccount(f.ctx, 1, provider, sdk.NewInt64Coin("uother", 7), 0), types.ErrInvalidDenom)
	require.ErrorIs(t, f.k.ActivateAccount(f.ctx, 1, nil, coin(7), 0), sdkerrors.ErrInvalidAddress)
	require.ErrorIs(t, f.k.ActivateAccount(f.ctx, 99, provider, coin(7), 0), types.ErrAccountNotFound)
	require.Equal(t, types.AccountStatePending, f.account(1).State)

	em := f.freshEvents()
	require.NoError(t, f.k.ActivateAccount(f.ctx, 1, provider, coin(7), 0))
	require.Equal(t, []string{"crucible.escrow.v1.EventAccountActivated"}, eventTypes(em))
	acc := f.account(1)
	require.Equal(t, types.AccountStateActive, acc.State)
	require.Equal(t, f.str(provider), acc.Provider)
	require.Equal(t, int64(10), acc.SettledHeight)
	require.Equal(t, int64(10+1000/7), acc.ExhaustionHeight) // 152
	require.Equal(t, []string{"152/1"}, f.queue())
	f.checkInvariants()

	// Only pending accounts can be activated.
	require.ErrorIs(t, f.k.ActivateAccount(f.ctx, 1, provider, coin(7), 0), types.ErrInvalidState)
}

func TestActivateBelowOneBlockIsDueNow(t *testing.T) {
	f := newFixture(t)
	f.setHeight(5)
	f.openActive(1, tenant, provider, 3, 10)
	require.Equal(t, []string{"5/1"}, f.queue())
	ids, err := f.k.ProcessDue(f.ctx, 0)
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, ids)
	refund, err := f.k.CloseAccount(f.ctx, 1, "insufficient funds")
	require.NoError(t, err)
	require.Equal(t, "3ucru", refund.String())
	require.Equal(t, "3", f.balance(tenant).String())
	f.checkInvariants()
}

func TestSettleAndClose(t *testing.T) {
	f := newFixture(t)
	f.setHeight(10)
	f.openActive(1, tenant, provider, 1000, 7)

	f.setHeight(20)
	em := f.freshEvents()
	acc, err := f.k.SettleAccount(f.ctx, 1)
	require.NoError(t, err)
	require.Equal(t, []string{"crucible.escrow.v1.EventSettled"}, eventTypes(em))
	// 10 blocks * 7 = 70 paid; take floor(70 * 2%) = 1; provider earns 69.
	require.Equal(t, "930ucru", acc.Balance.String())
	require.Equal(t, "69ucru", acc.Unwithdrawn.String())
	require.Equal(t, "70ucru", acc.TotalPaid.String())
	require.Equal(t, "1ucru", acc.TotalTaken.String())
	require.Equal(t, int64(20), acc.SettledHeight)
	require.Equal(t, int64(152), acc.ExhaustionHeight, "settling never moves the exhaustion height")
	require.Equal(t, "1", f.balance(communityPool).String())
	require.Equal(t, "1ucru", f.distr.pool.String())
	f.checkInvariants()

	// Settling twice in one block pays nothing and emits nothing.
	em = f.freshEvents()
	_, err = f.k.SettleAccount(f.ctx, 1)
	require.NoError(t, err)
	require.Empty(t, em.Events())

	f.setHeight(30)
	em = f.freshEvents()
	refund, err := f.k.CloseAccount(f.ctx, 1, "lease closed")
	require.NoError(t, err)
	require.Equal(t, []string{
		"crucible.escrow.v1.EventSettled",
		"crucible.escrow.v1.EventWithdraw",
		"crucible.escrow.v1.EventAccountClosed",
	}, eventTypes(em))
	require.Equal(t, "860ucru", refund.String())
	acc = f.account(1)
	require.Equal(t, types.AccountStateClosed, acc.State)
	require.True(t, acc.Balance.IsZero())
	require.True(t, acc.Unwithdrawn.IsZero())
	require.Equal(t, "140ucru", acc.TotalPaid.String())
	require.Equal(t, "2ucru", acc.TotalTaken.String())
	require.Equal(t, int64(0), acc.ExhaustionHeight)
	require.Equal(t, "860", f.balance(tenant).String())
	require.Equal(t, "138", f.balance(provider).String())
	require.Equal(t, "2", f.balance(communityPool).String())
	require.True(t, f.balance(moduleAddr).IsZero())
	require.Empty(t, f.queue())
	f.checkInvariants()

	// Closed is final.
	_, err = f.k.CloseAccount(f.ctx, 1, "again")
	require.ErrorIs(t, err, types.ErrAccountClosed)
	_, err = f.k.CloseAccount(f.ctx, 2, "unknown")
	require.ErrorIs(t, err, types.ErrAccountNotFound)
}

func TestClosePendingRefundsEverything(t *testing.T) {
	f := newFixture(t)
	f.open(1, tenant, 500)
	f.advance(100)
	refund, err := f.k.CloseAccount(f.ctx, 1, "order cancelled")
	require.NoError(t, err)
	require.Equal(t, "500ucru", refund.String())
	require.Equal(t, "500", f.balance(tenant).String())
	require.True(t, f.balance(communityPool).IsZero())
	require.Equal(t, types.AccountStateClosed, f.account(1).State)
	f.checkInvariants()
}

// TestPruneAccount: only a CLOSED account holding nothing can be pruned; it
// leaves no index entry behind and moves no coin.
func TestPruneAccount(t *testing.T) {
	f := newFixture(t)
	f.openActive(1, tenant, provider, 1_000, 10)
	f.open(2, tenant, 300)
	require.ErrorIs(t, f.k.PruneAccount(f.ctx, 1), types.ErrInvalidState, "active")
	require.ErrorIs(t, f.k.PruneAccount(f.ctx, 2), types.ErrInvalidState, "pending")
	require.ErrorIs(t, f.k.PruneAccount(f.ctx, 3), types.ErrAccountNotFound)

	f.advance(5)
	_, err := f.k.CloseAccount(f.ctx, 1, "lease closed")
	require.NoError(t, err)
	before := f.bank.snapshot()
	require.NoError(t, f.k.PruneAccount(f.ctx, 1))
	require.Equal(t, before, f.bank.snapshot(), "no coin moved")
	_, err = f.k.GetAccount(f.ctx, 1)
	require.ErrorIs(t, err, types.ErrAccountNotFound)
	n := 0
	require.NoError(t, f.k.AccountsByOwner.Walk(f.ctx, nil, func(k collections.Pair[sdk.AccAddress, uint64]) (bool, error) {
		require.Equal(t, uint64(2), k.K2())
		n++
		return false, nil
	}))
	require.Equal(t, 1, n)
	require.NoError(t, f.k.AccountsByStateProvider.Walk(f.ctx, nil, func(k collections.Triple[int32, sdk.AccAddress, uint64]) (bool, error) {
		require.Equal(t, uint64(2), k.K3())
		return false, nil
	}))
	f.checkInvariants()
}

func TestGetAccountNotFound(t *testing.T) {
	f := newFixture(t)
	_, err := f.k.GetAccount(f.ctx, 42)
	require.ErrorIs(t, err, types.ErrAccountNotFound)
	_, err = f.k.SettleAccount(f.ctx, 42)
	require.ErrorIs(t, err, types.ErrAccountNotFound)
}

func TestExactExhaustion(t *testing.T) {
	f := newFixture(t)
	f.setHeight(1)
	f.openActive(1, tenant, provider, 100, 10) // exactly 10 blocks
	require.Equal(t, []string{"11/1"}, f.queue())

	f.setHeight(10)
	ids, err := f.k.ProcessDue(f.ctx, 0)
	require.NoError(t, err)
	require.Empty(t, ids, "not due before its exhaustion height")

	f.setHeight(11)
	ids, err = f.k.ProcessDue(f.ctx, 0)
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, ids)
	acc := f.account(1)
	require.True(t, acc.Balance.IsZero())
	require.Equal(t, "100ucru", acc.TotalPaid.String())
	require.Equal(t, "2ucru", acc.TotalTaken.String())
	require.Equal(t, int64(11), acc.SettledHeight)
	require.Empty(t, f.queue())
	f.checkInvariants()

	refund, err := f.k.CloseAccount(f.ctx, 1, "insufficient funds")
	require.NoError(t, err)
	require.True(t, refund.IsZero())
	require.Equal(t, "98", f.balance(provider).String())
	require.Equal(t, "2", f.balance(communityPool).String())
	f.checkInvariants()
}

func TestOneUnitRemainderAndShortFunds(t *testing.T) {
	f := newFixture(t)
	f.setHeight(1)
	f.openActive(1, tenant, provider, 101, 10)
	require.Equal(t, int64(11), f.account(1).ExhaustionHeight)

	// Far past exhaustion: only whole affordable blocks are paid and
	// settled_height stops where the money ran out.
	f.setHeight(50)
	acc, err := f.k.SettleAccount(f.ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "1ucru", acc.Balance.String())
	require.Equal(t, int64(11), acc.SettledHeight)
	require.Equal(t, "100ucru", acc.TotalPaid.String())

	ids, err := f.k.ProcessDue(f.ctx, 0)
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, ids)
	refund, err := f.k.CloseAccount(f.ctx, 1, "insufficient funds")
	require.NoError(t, err)
	require.Equal(t, "1ucru", refund.String())
	require.Equal(t, "1", f.balance(tenant).String())
	require.Equal(t, "98", f.balance(provider).String())
	require.Equal(t, "2", f.balance(communityPool).String())
	f.checkInvariants()
}

// TestTakeRounding: the take of one block (49 * 2% = 0.98) is not rounded
// away; the fraction is carried in take_remainder and taken with the next
// block. A take-rate change applies from the block after the change.
func TestTakeRounding(t *testing.T) {
	f := newFixture(t)
	f.setHeight(1)
	f.openActive(1, tenant, provider, 1000, 49)
	f.setHeight(2)
	acc, err := f.k.SettleAccount(f.ctx, 1)
	require.NoError(t, err)
	// 49 * 2% = 0.98: nothing whole to take yet, 9800/10000 carried.
	require.True(t, acc.TotalTaken.IsZero())
	require.Equal(t, uint32(9800), acc.TakeRemainder)
	require.Equal(t, "49ucru", acc.Unwithdrawn.String())

	f.setHeight(3)
	f.setTakeRate(3333) // from block 4 on
	acc, err = f.k.SettleAccount(f.ctx, 1)
	require.NoError(t, err)
	// Block 3 still at 2%: 0.98 + 0.98 = 1.96 -> 1, 0.96 carried.
	require.Equal(t, "1ucru", acc.TotalTaken.String())
	require.Equal(t, uint32(9600), acc.TakeRemainder)
	require.Equal(t, "97ucru", acc.Unwithdrawn.String())
	require.Equal(t, "98ucru", acc.TotalPaid.String())

	f.setHeight(4)
	f.setTakeRate(0) // from block 5 on
	acc, err = f.k.SettleAccount(f.ctx, 1)
	require.NoError(t, err)
	// Block 4 at 33.33%: 16.3317 + 0.96 = 17.2917 -> 17.
	require.Equal(t, "18ucru", acc.TotalTaken.String())
	require.Equal(t, uint32(2917), acc.TakeRemainder)
	require.Equal(t, "129ucru", acc.Unwithdrawn.String())

	f.setHeight(6)
	acc, err = f.k.SettleAccount(f.ctx, 1)
	require.NoError(t, err)
	// Blocks 5 and 6 at 0%.
	require.Equal(t, "18ucru", acc.TotalTaken.String())
	require.Equal(t, "227ucru", acc.Unwithdrawn.String())
	f.checkInvariants()
}

func TestLargeAmounts(t *testing.T) {
	f := newFixture(t)
	f.setHeight(1)
	maxInt := sdkmath.NewIntFromBigInt(new(big256).max())
	f.bank.mint(tenant, sdk.NewCoin(denom, maxInt))
	require.NoError(t, f.k.OpenAccount(f.ctx, 1, tenant, sdk.NewCoin(denom, maxInt)))

	// Deposit that would overflow the balance: refused, nothing moves.
	f.bank.mint(other, coin(1))
	_, err := f.k.Deposit(f.ctx, 1, other, coin(1))
	require.ErrorIs(t, err, types.ErrOverflow)
	require.Equal(t, "1", f.balance(other).String())

	// Rate 1: the exhaustion height saturates at MaxInt64.
	require.NoError(t, f.k.ActivateAccount(f.ctx, 1, provider, coin(1), 0))
	require.Equal(t, int64(math.MaxInt64), f.account(1).ExhaustionHeight)
	f.checkInvariants()

	// A huge rate: one block pays almost everything, the take is exact.
	f2 := newFixture(t)
	f2.setHeight(1)
	half := maxInt.QuoRaw(2) // 2^255 - 1
	f2.bank.mint(tenant, sdk.NewCoin(denom, maxInt))
	require.NoError(t, f2.k.OpenAccount(f2.ctx, 1, tenant, sdk.NewCoin(denom, maxInt)))
	require.NoError(t, f2.k.ActivateAccount(f2.ctx, 1, provider, sdk.NewCoin(denom, half), 0))
	require.Equal(t, int64(3), f2.account(1).ExhaustionHeight) // 2 blocks, remainder 1
	f2.setHeight(100)
	ids, err := f2.k.ProcessDue(f2.ctx, 0)
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, ids)
	acc := f2.account(1)
	paid := half.MulRaw(2)
	require.True(t, acc.TotalPaid.Amount.Equal(paid))
	wantTake := types.Take(paid, types.DefaultTakeRateBps)
	require.True(t, acc.TotalTaken.Amount.Equal(wantTake))
	require.Equal(t, "1ucru", acc.Balance.String())
	refund, err := f2.k.CloseAccount(f2.ctx, 1, "insufficient funds")
	require.NoError(t, err)
	require.Equal(t, "1ucru", refund.String())
	require.True(t, f2.balance(provider).Equal(paid.Sub(wantTake)))
	require.True(t, f2.balance(communityPool).Equal(wantTake))
	require.True(t, f2.balance(moduleAddr).IsZero())
	f2.checkInvariants()
}

func TestCommunityPoolFailurePropagates(t *testing.T) {
	f := newFixture(t)
	f.setHeight(1)
	f.openActive(1, tenant, provider, 1000, 100)
	f.setHeight(5)
	f.distr.fail = errors.New("distr down")
	_, err := f.k.SettleAccount(f.ctx, 1)
	require.ErrorContains(t, err, "distr down")
	f.distr.fail = nil
	acc, err := f.k.SettleAccount(f.ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "400ucru", acc.TotalPaid.String())
	f.checkInvariants()
}
