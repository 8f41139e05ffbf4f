package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crucible-network/crucible/x/escrow/types"
)

// Clawback settles to now, then moves the provider's share of the asked
// gross amount (less the take rate) from its unwithdrawn earnings to the
// owner; withdrawn earnings are out of its reach, and the module balance
// still reconciles.
func TestClawback(t *testing.T) {
	f := newFixture(t)
	f.setTakeRate(1_000) // 10%
	f.openActive(1, tenant, provider, 10_000, 100)
	f.advance(5) // 500 paid: 450 earned, 50 taken
	em := f.freshEvents()
	before := f.balance(tenant)
	taken, owed, err := f.k.Clawback(f.ctx, 1, coin(300))
	require.NoError(t, err)
	require.Equal(t, coin(270), owed, "300 less the 10% take")
	require.Equal(t, coin(270), taken)
	require.Equal(t, "270", f.balance(tenant).Sub(before).String())
	require.Contains(t, eventTypes(em), "crucible.escrow.v1.EventEarningsClawedBack")
	require.Equal(t, "180ucru", f.account(1).Unwithdrawn.String())
	f.checkInvariants()

	// More than what is unwithdrawn: only that.
	taken, owed, err = f.k.Clawback(f.ctx, 1, coin(1_000))
	require.NoError(t, err)
	require.Equal(t, coin(900), owed)
	require.Equal(t, coin(180), taken)
	require.True(t, f.account(1).Unwithdrawn.IsZero())
	f.checkInvariants()

	// Withdrawn earnings are gone: nothing to take.
	f.advance(2)
	_, err = f.k.Withdraw(f.ctx, 1, provider)
	require.NoError(t, err)
	taken, _, err = f.k.Clawback(f.ctx, 1, coin(1_000))
	require.NoError(t, err)
	require.True(t, taken.IsZero())
	f.checkInvariants()

	// Pending, closed and unknown accounts are refused.
	f.open(2, tenant, 1_000)
	_, _, err = f.k.Clawback(f.ctx, 2, coin(1))
	require.ErrorIs(t, err, types.ErrAccountClosed)
	_, _, err = f.k.Clawback(f.ctx, 9, coin(1))
	require.Error(t, err)
}
