package keeper_test

import (
	"testing"

	"cosmossdk.io/collections"
	"github.com/stretchr/testify/require"

	"github.com/crucible-network/crucible/x/escrow/types"
)

func TestProcessDueHonoursCap(t *testing.T) {
	f := newFixture(t)
	f.setHeight(1)
	// Accounts 1..5 exhaust at heights 3, 3, 4, 5, 6; account 6 much later.
	for i, dep := range []int64{20, 20, 30, 40, 50} {
		f.openActive(uint64(i+1), tenant, provider, dep, 10)
	}
	f.openActive(6, tenant2, provider, 10_000, 10)
	require.Equal(t, []string{"3/1", "3/2", "4/3", "5/4", "6/5", "1001/6"}, f.queue())

	f.setHeight(2)
	ids, err := f.k.ProcessDue(f.ctx, 0)
	require.NoError(t, err)
	require.Empty(t, ids)

	f.setHeight(10)
	ids, err = f.k.ProcessDue(f.ctx, 2)
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 2}, ids)
	require.Equal(t, []string{"4/3", "5/4", "6/5", "1001/6"}, f.queue(), "the rest waits")
	f.checkInvariants()

	// limit 0 uses params.max_settlements_per_block.
	p := types.DefaultParams()
	p.MaxSettlementsPerBlock = 2
	require.NoError(t, f.k.Params.Set(f.ctx, p))
	ids, err = f.k.ProcessDue(f.ctx, 0)
	require.NoError(t, err)
	require.Equal(t, []uint64{3, 4}, ids)
	ids, err = f.k.ProcessDue(f.ctx, 0)
	require.NoError(t, err)
	require.Equal(t, []uint64{5}, ids)
	ids, err = f.k.ProcessDue(f.ctx, 0)
	require.NoError(t, err)
	require.Empty(t, ids)
	require.Equal(t, []string{"1001/6"}, f.queue())

	// Every reported account was settled as far as its money went.
	for id := uint64(1); id <= 5; id++ {
		acc := f.account(id)
		require.True(t, acc.Balance.IsZero(), "account %d", id)
		require.Equal(t, acc.ExhaustionHeight, acc.SettledHeight, "account %d", id)
	}
	// Account 6 was never touched.
	require.Equal(t, int64(1), f.account(6).SettledHeight)
	f.checkInvariants()

	for id := uint64(1); id <= 5; id++ {
		_, err := f.k.CloseAccount(f.ctx, id, "insufficient funds")
		require.NoError(t, err)
	}
	f.checkInvariants()
	require.Equal(t, "10000", f.balance(moduleAddr).String())
}

func TestProcessDueSkipsStaleEntries(t *testing.T) {
	f := newFixture(t)
	f.setHeight(1)
	f.openActive(1, tenant, provider, 20, 10) // exhausts at 3
	f.openActive(2, tenant, provider, 20, 10) // exhausts at 3
	// Entries that match nothing: unknown id, wrong height.
	require.NoError(t, f.k.Queue.Set(f.ctx, collections.Join(int64(2), uint64(99))))
	require.NoError(t, f.k.Queue.Set(f.ctx, collections.Join(int64(2), uint64(1))))

	f.setHeight(3)
	ids, err := f.k.ProcessDue(f.ctx, 0)
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 2}, ids)
	require.Empty(t, f.queue())
	f.checkInvariants()
}

func TestProcessDueRequeuesAccountStillFunded(t *testing.T) {
	f := newFixture(t)
	f.setHeight(1)
	f.openActive(1, tenant, provider, 100, 10) // exhausts at 11
	// Desync on purpose: an entry at the right height but the account has more
	// money than the queue thinks (as after a store migration).
	acc := f.account(1)
	require.NoError(t, f.k.Queue.Remove(f.ctx, collections.Join(acc.ExhaustionHeight, uint64(1))))
	acc.ExhaustionHeight = 5
	acc.Balance = coin(100)
	require.NoError(t, f.k.Accounts.Set(f.ctx, 1, acc))
	require.NoError(t, f.k.Queue.Set(f.ctx, collections.Join(int64(5), uint64(1))))

	f.setHeight(5)
	ids, err := f.k.ProcessDue(f.ctx, 0)
	require.NoError(t, err)
	require.Empty(t, ids)
	require.Equal(t, []string{"11/1"}, f.queue())
	require.Equal(t, int64(11), f.account(1).ExhaustionHeight)
}
