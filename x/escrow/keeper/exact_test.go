package keeper_test

import (
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/escrow/keeper"
	"github.com/crucible-network/crucible/x/escrow/types"
)

// openLease opens account id at the current height and activates it at rate
// per block for a lease of duration blocks (end_height = now + duration).
func (f *fixture) openLease(id uint64, deposit, rate, duration int64) {
	f.open(id, tenant, deposit)
	end := f.ctx.BlockHeight() + duration
	require.NoError(f.t, f.k.ActivateAccount(f.ctx, id, provider, coin(rate), end))
}

// TestLeaseClosedLatePaysOnlyToEnd reproduces issue 15 item 3: a 10-block
// lease at 1,000/block whose close came one block late (more leases ended at
// its height than x/market closes per block) cost its tenant 11,000. Settled
// to min(now, end_height), it costs 10,000 however late the close.
func TestLeaseClosedLatePaysOnlyToEnd(t *testing.T) {
	f := newFixture(t)
	f.setHeight(100)
	f.openLease(1, 50_000, 1_000, 10) // ends at 110
	require.Equal(t, int64(110), f.account(1).EndHeight)

	f.setHeight(111) // closed a block late
	refund, err := f.k.CloseAccount(f.ctx, 1, "lease_expired")
	require.NoError(t, err)
	acc := f.account(1)
	require.Equal(t, "10000ucru", acc.TotalPaid.String(), "old code: 11000")
	require.Equal(t, "40000ucru", refund.String())
	require.Equal(t, int64(110), acc.SettledHeight)
	f.checkInvariants()
}

// TestEverySettlementPathStopsAtEnd: withdraw, deposit, ProcessDue, Clawback
// and the projection all stop at end_height.
func TestEverySettlementPathStopsAtEnd(t *testing.T) {
	f := newFixture(t)
	f.setHeight(10)
	f.openLease(1, 100_000, 100, 20) // ends at 30, exhausts at 1010

	f.setHeight(50)
	acc, err := f.k.ProjectedAccount(f.ctx, f.account(1), 50)
	require.NoError(t, err)
	require.Equal(t, "2000ucru", acc.TotalPaid.String(), "projection capped")

	got, err := f.k.Withdraw(f.ctx, 1, provider)
	require.NoError(t, err)
	require.Equal(t, "1960ucru", got.String()) // 2000 less the 2% take
	f.advance(10)
	_, err = f.k.Withdraw(f.ctx, 1, provider)
	require.ErrorIs(t, err, types.ErrNothingToWithdraw, "nothing accrues past the end")

	f.bank.mint(tenant, coin(500))
	_, err = f.k.Deposit(f.ctx, 1, tenant, coin(500))
	require.NoError(t, err)
	_, _, err = f.k.Clawback(f.ctx, 1, coin(0))
	require.NoError(t, err)
	acc = f.account(1)
	require.Equal(t, "2000ucru", acc.TotalPaid.String())
	require.Equal(t, int64(30), acc.SettledHeight)
	f.checkInvariants()

	// The account reaches its exhaustion height still funded (its lease
	// ended, x/market's lease-end queue closes it): ProcessDue settles nothing,
	// reports nothing and drops the entry instead of re-queueing it forever.
	f.setHeight(acc.ExhaustionHeight)
	ids, err := f.k.ProcessDue(f.ctx, 0)
	require.NoError(t, err)
	require.Empty(t, ids)
	require.Empty(t, f.queue())
	require.Equal(t, "2000ucru", f.account(1).TotalPaid.String())
	f.checkInvariants()

	_, err = f.k.CloseAccount(f.ctx, 1, "lease_expired")
	require.NoError(t, err)
	require.Equal(t, "2000ucru", f.account(1).TotalPaid.String())
	f.checkInvariants()
}

func TestActivateAccountEndHeight(t *testing.T) {
	f := newFixture(t)
	f.setHeight(10)
	f.open(1, tenant, 100)
	require.ErrorIs(t, f.k.ActivateAccount(f.ctx, 1, provider, coin(1), 10), types.ErrInvalidEndHeight)
	require.ErrorIs(t, f.k.ActivateAccount(f.ctx, 1, provider, coin(1), -1), types.ErrInvalidEndHeight)
	require.NoError(t, f.k.ActivateAccount(f.ctx, 1, provider, coin(1), 11))
	f.checkInvariants()
}

// TestTakeNotRoundedAwayBySettlingEachBlock reproduces issue 15 item 4: at
// 49/block and 2% each block's take is 0.98, rounded down to 0, so a provider
// withdrawing every block paid no take at all. With the remainder carried the
// takes sum to floor(total_paid * bps / 10000) whatever the pattern.
func TestTakeNotRoundedAwayBySettlingEachBlock(t *testing.T) {
	const blocks = 100
	everyBlock := newFixture(t)
	once := newFixture(t)
	for _, f := range []*fixture{everyBlock, once} {
		f.setHeight(1)
		f.openActive(1, tenant, provider, 1_000_000, 49)
	}
	for i := 0; i < blocks; i++ {
		everyBlock.advance(1)
		_, err := everyBlock.k.Withdraw(everyBlock.ctx, 1, provider)
		require.NoError(t, err)
	}
	once.advance(blocks)
	_, err := once.k.Withdraw(once.ctx, 1, provider)
	require.NoError(t, err)

	want := types.Take(sdkmath.NewInt(49*blocks), types.DefaultTakeRateBps) // 98
	for name, f := range map[string]*fixture{"every block": everyBlock, "once": once} {
		acc := f.account(1)
		require.Equal(t, want.String(), acc.TotalTaken.Amount.String(), "%s (old code every block: 0)", name)
		require.Equal(t, want.String(), f.balance(communityPool).String(), name)
		f.checkInvariants()
	}
}

// TestTakeRateChangeNotRetroactive reproduces issue 15 item 4's second half:
// a take-rate change applied to every block not yet settled, including those
// before the change. Now each block pays the rate of its own time.
func TestTakeRateChangeNotRetroactive(t *testing.T) {
	f := newFixture(t)
	f.setHeight(1)
	f.openActive(1, tenant, provider, 1_000_000, 1_000) // 2%
	f.setHeight(11)
	f.setTakeRate(5_000) // 50% from block 12
	f.setTakeRate(4_000) // a second change in the same block: blocks <= 11 still at 2%
	f.setHeight(21)
	f.setTakeRate(0) // from block 22
	f.setHeight(31)
	acc, err := f.k.SettleAccount(f.ctx, 1)
	require.NoError(t, err)
	// blocks 2..11 at 2%: 200; 12..21 at 40%: 4000; 22..31 at 0%.
	require.Equal(t, "4200ucru", acc.TotalTaken.String(), "old code: 0 (the rate at settlement, retroactively)")
	require.Equal(t, "30000ucru", acc.TotalPaid.String())

	// The same through a projection, and settling in between gives the same.
	g := newFixture(t)
	g.setHeight(1)
	g.openActive(1, tenant, provider, 1_000_000, 1_000)
	for h := int64(2); h <= 31; h++ {
		g.setHeight(h)
		switch h {
		case 11:
			g.setTakeRate(5_000)
			g.setTakeRate(4_000)
		case 21:
			g.setTakeRate(0)
		}
		if h%7 == 0 {
			_, err := g.k.SettleAccount(g.ctx, 1)
			require.NoError(t, err)
		}
	}
	proj, err := g.k.ProjectedAccount(g.ctx, g.account(1), 31)
	require.NoError(t, err)
	require.Equal(t, "4200ucru", proj.TotalTaken.String())
	f.checkInvariants()
	g.checkInvariants()

	hist, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)
	require.Equal(t, []types.TakeRateChange{{Height: 11, TakeRateBps: 200}, {Height: 21, TakeRateBps: 4_000}}, hist.TakeRateHistory)
}

// TestTakeRateHistoryBounded: the history keeps the newest
// MaxTakeRateHistory changes, survives a genesis round trip and rejects
// malformed imports.
func TestTakeRateHistoryBounded(t *testing.T) {
	f := newFixture(t)
	em := f.freshEvents()
	for i := 0; i < types.MaxTakeRateHistory+10; i++ {
		f.advance(1)
		f.setTakeRate(uint32(i % 2))
	}
	require.Contains(t, eventTypes(em), "crucible.escrow.v1.EventTakeRateChanged")
	gs, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)
	require.Len(t, gs.TakeRateHistory, types.MaxTakeRateHistory)
	require.NoError(t, gs.Validate())
	require.Equal(t, f.ctx.BlockHeight(), gs.TakeRateHistory[len(gs.TakeRateHistory)-1].Height)

	g := newFixture(t)
	require.NoError(t, g.k.InitGenesis(g.ctx, gs))
	again, err := g.k.ExportGenesis(g.ctx)
	require.NoError(t, err)
	require.Equal(t, gs, again)

	bad := *gs
	bad.TakeRateHistory = append([]types.TakeRateChange{}, gs.TakeRateHistory...)
	bad.TakeRateHistory[1].Height = bad.TakeRateHistory[0].Height
	require.ErrorIs(t, bad.Validate(), types.ErrInvalidGenesis)
	bad.TakeRateHistory = []types.TakeRateChange{{Height: 1, TakeRateBps: types.MaxTakeRateBps + 1}}
	require.ErrorIs(t, bad.Validate(), types.ErrInvalidGenesis)
	bad.TakeRateHistory = append(gs.TakeRateHistory, types.TakeRateChange{Height: 1 << 40})
	require.ErrorIs(t, bad.Validate(), types.ErrInvalidGenesis)
}

// TestInvariantCoversNewFields: a take remainder of a whole unit or more, or
// an active account settled past its end, breaks the invariant.
func TestInvariantCoversNewFields(t *testing.T) {
	f := newFixture(t)
	f.setHeight(5)
	f.openLease(1, 1_000, 7, 10)
	f.checkInvariants()

	acc := f.account(1)
	acc.TakeRemainder = types.BasisPoints
	require.NoError(t, f.k.Accounts.Set(f.ctx, 1, acc))
	msg, broken := keeper.AccountsInvariant(f.k)(f.ctx)
	require.True(t, broken, msg)
	require.Contains(t, msg, "take_remainder")

	acc.TakeRemainder = 0
	acc.SettledHeight = acc.EndHeight + 1
	acc.ExhaustionHeight = types.ExhaustionHeight(acc.SettledHeight, acc.Balance.Amount, acc.Rate.Amount)
	require.NoError(t, f.k.Accounts.Set(f.ctx, 1, acc))
	msg, broken = keeper.AccountsInvariant(f.k)(f.ctx)
	require.True(t, broken, msg)
	require.Contains(t, msg, "past end_height")
}

// TestSimulationSettlesAsOfNextBlock reproduces issue 15 item 9 at keeper
// level: a transaction simulated in the block of the lease's start settled
// zero blocks (so paid no gas for the take's transfer, the event and the
// writes) while its delivery, in a later block, settles at least one. In
// simulation settlement now runs as of height + 1, so it does the same work.
func TestSimulationSettlesAsOfNextBlock(t *testing.T) {
	f := newFixture(t)
	f.setHeight(10)
	f.openActive(1, tenant, provider, 10_000, 100)

	sim, _ := f.ctx.CacheContext() // simulated state is discarded
	sim = sim.WithExecMode(sdk.ExecModeSimulate).WithEventManager(sdk.NewEventManager()).
		WithGasMeter(storetypes.NewInfiniteGasMeter())
	_, err := f.k.SettleAccount(sim, 1)
	require.NoError(t, err)
	require.Contains(t, eventTypes(sim.EventManager()), "crucible.escrow.v1.EventSettled")

	// Delivery in the next block does the same work: same gas.
	f.setHeight(11)
	deliver := f.ctx.WithEventManager(sdk.NewEventManager()).WithGasMeter(storetypes.NewInfiniteGasMeter())
	_, err = f.k.SettleAccount(deliver, 1)
	require.NoError(t, err)
	require.Equal(t, deliver.GasMeter().GasConsumed(), sim.GasMeter().GasConsumed())
	require.Equal(t, eventTypes(deliver.EventManager()), eventTypes(sim.EventManager()))
}

// TestQueryAccountProjects: the Account query returns the stored account and
// its projection to the query's height, capped at end_height and at the take
// rate of each block, without writing.
func TestQueryAccountProjects(t *testing.T) {
	f := newFixture(t)
	f.setHeight(10)
	f.openLease(1, 100_000, 49, 20) // ends at 30
	f.setHeight(20)
	f.setTakeRate(1_000) // 10% from block 21
	f.setHeight(45)
	res, err := f.query.Account(f.ctx, &types.QueryAccountRequest{Id: 1})
	require.NoError(t, err)
	require.Equal(t, f.account(1), res.Account, "stored, untouched")
	require.Equal(t, int64(10), res.Account.SettledHeight)
	p := res.Projected
	require.Equal(t, int64(30), p.SettledHeight)
	require.Equal(t, "980ucru", p.TotalPaid.String())
	// 10 blocks at 2% (9.8) + 10 at 10% (49): floor(58.8) = 58.
	require.Equal(t, "58ucru", p.TotalTaken.String())
	require.Equal(t, uint32(8000), p.TakeRemainder)

	acc, err := f.k.SettleAccount(f.ctx, 1)
	require.NoError(t, err)
	require.Equal(t, p, acc, "the projection is what settling does")
	f.checkInvariants()
}
