package keeper_test

import (
	"fmt"
	"math/rand"
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/crucible-network/crucible/x/escrow/types"
)

// model is what the test expects of one account, kept independently of the
// keeper.
type model struct {
	owner       sdk.AccAddress
	provider    sdk.AccAddress
	state       types.AccountState
	activatedAt int64
	end         int64 // end_height; 0: none
	rate        int64
	deposited   sdkmath.Int // everything ever put in
	refunded    sdkmath.Int // returned to the owner on close
	withdrawn   sdkmath.Int // paid to the provider (withdraw + close)
}

// closedFormPaid is what an account that streamed from activatedAt to height
// with cumulative deposits d must have paid in total: payment goes block by
// block in order, as far as the money allows and never past its end, however
// the settlements fell.
func closedFormPaid(m *model, height int64, d sdkmath.Int) sdkmath.Int {
	if m.end > 0 && height > m.end {
		height = m.end
	}
	rate := sdkmath.NewInt(m.rate)
	blocks := sdkmath.MinInt(sdkmath.NewInt(height-m.activatedAt), d.Quo(rate))
	return blocks.Mul(rate)
}

func TestRandomizedOperations(t *testing.T) {
	for _, bps := range []uint32{0, 1, 200, 3333, types.MaxTakeRateBps} {
		t.Run(fmt.Sprintf("take_%d", bps), func(t *testing.T) {
			runRandomized(t, int64(1000+bps), bps, 1200)
		})
	}
}

func runRandomized(t *testing.T, seed int64, bps uint32, steps int) {
	r := rand.New(rand.NewSource(seed))
	f := newFixture(t)
	f.setTakeRate(bps)
	f.setHeight(1)

	var tenants, providers, actors []sdk.AccAddress
	for i := range 4 {
		tenants = append(tenants, addr(fmt.Sprintf("t%d", i)))
		providers = append(providers, addr(fmt.Sprintf("p%d", i)))
	}
	actors = append(append(append(actors, tenants...), providers...), addr("funder"))
	for _, a := range actors {
		f.bank.mint(a, coin(1_000_000_000))
	}
	initial := f.bank.total(denom)

	models := map[uint64]*model{}
	var nextID uint64 = 1
	pickID := func() uint64 { // mostly existing ids, sometimes unknown
		if nextID == 1 || r.Intn(20) == 0 {
			return nextID + uint64(r.Intn(3))
		}
		return 1 + uint64(r.Int63n(int64(nextID-1)))
	}
	randAmount := func() int64 {
		switch r.Intn(10) {
		case 0:
			return 1 + r.Int63n(10)
		case 1:
			return 1 + r.Int63n(1_000_000)
		default:
			return 1 + r.Int63n(5_000)
		}
	}
	// expectUnchanged runs op, which must fail, and checks that no coin and no
	// account moved.
	expectUnchanged := func(id uint64, op func() error) error {
		t.Helper()
		bank := f.bank.snapshot()
		before, beforeErr := f.k.GetAccount(f.ctx, id)
		err := op()
		require.Error(t, err)
		require.Equal(t, bank, f.bank.snapshot())
		after, afterErr := f.k.GetAccount(f.ctx, id)
		require.Equal(t, before, after)
		require.Equal(t, beforeErr == nil, afterErr == nil)
		return err
	}
	closeAndRecord := func(id uint64) {
		m := models[id]
		pBefore := sdkmath.ZeroInt()
		if m.provider != nil {
			pBefore = f.balance(m.provider)
		}
		refund, err := f.k.CloseAccount(f.ctx, id, "test")
		require.NoError(t, err)
		m.refunded = m.refunded.Add(refund.Amount)
		if m.provider != nil {
			m.withdrawn = m.withdrawn.Add(f.balance(m.provider).Sub(pBefore))
			acc := f.account(id)
			require.True(t, acc.TotalPaid.Amount.Equal(closedFormPaid(m, f.ctx.BlockHeight(), m.deposited)),
				"account %d closed-form payment at close", id)
		}
		m.state = types.AccountStateClosed
	}

	counts := map[string]int{}
	for step := range steps {
		var op string
		switch x := r.Intn(100); {
		case x < 14:
			op = "open"
			owner := tenants[r.Intn(len(tenants))]
			dep := randAmount() - 1 // zero allowed
			id := nextID
			if r.Intn(15) == 0 && nextID > 1 {
				id = 1 + uint64(r.Int63n(int64(nextID-1)))
				err := expectUnchanged(id, func() error { return f.k.OpenAccount(f.ctx, id, owner, coin(dep)) })
				require.ErrorIs(t, err, types.ErrAccountExists)
				break
			}
			if r.Intn(30) == 0 {
				err := expectUnchanged(id, func() error { return f.k.OpenAccount(f.ctx, id, owner, coin(2_000_000_000)) })
				require.ErrorIs(t, err, sdkerrors.ErrInsufficientFunds)
				break
			}
			require.NoError(t, f.k.OpenAccount(f.ctx, id, owner, coin(dep)))
			models[id] = &model{owner: owner, state: types.AccountStatePending,
				deposited: sdkmath.NewInt(dep), refunded: sdkmath.ZeroInt(), withdrawn: sdkmath.ZeroInt()}
			nextID++
		case x < 28:
			op = "activate"
			id := pickID()
			prov := providers[r.Intn(len(providers))]
			rate := 1 + r.Int63n(200)
			var end int64 // half the accounts end (a lease's end_height)
			if r.Intn(2) == 0 {
				end = f.ctx.BlockHeight() + 1 + r.Int63n(60)
			}
			m := models[id]
			if m == nil || m.state != types.AccountStatePending {
				expectUnchanged(id, func() error { return f.k.ActivateAccount(f.ctx, id, prov, coin(rate), end) })
				break
			}
			if r.Intn(20) == 0 {
				err := expectUnchanged(id, func() error { return f.k.ActivateAccount(f.ctx, id, prov, coin(rate), f.ctx.BlockHeight()) })
				require.ErrorIs(t, err, types.ErrInvalidEndHeight)
				break
			}
			require.NoError(t, f.k.ActivateAccount(f.ctx, id, prov, coin(rate), end))
			m.provider, m.rate, m.activatedAt, m.end, m.state = prov, rate, f.ctx.BlockHeight(), end, types.AccountStateActive
		case x < 44:
			op = "deposit"
			id := pickID()
			from := actors[r.Intn(len(actors))]
			amt := coin(randAmount())
			switch r.Intn(12) {
			case 0:
				amt = coin(0)
			case 1:
				amt = sdk.NewInt64Coin("uother", 5)
			}
			m := models[id]
			if m == nil || m.state == types.AccountStateClosed || !amt.IsPositive() || amt.Denom != denom {
				expectUnchanged(id, func() error {
					_, err := f.msgs.Deposit(f.ctx, &types.MsgDeposit{Depositor: f.str(from), Id: id, Amount: amt})
					return err
				})
				break
			}
			_, err := f.msgs.Deposit(f.ctx, &types.MsgDeposit{Depositor: f.str(from), Id: id, Amount: amt})
			require.NoError(t, err)
			m.deposited = m.deposited.Add(amt.Amount)
		case x < 62:
			op = "advance"
			f.advance(1 + r.Int63n(12))
		case x < 72:
			op = "withdraw"
			id := pickID()
			m := models[id]
			signer := providers[r.Intn(len(providers))]
			if m != nil && m.provider != nil && r.Intn(2) == 0 {
				signer = m.provider
			}
			msg := &types.MsgWithdraw{Provider: f.str(signer), Id: id}
			if m == nil || m.provider == nil || !m.provider.Equals(signer) {
				expectUnchanged(id, func() error { _, err := f.msgs.Withdraw(f.ctx, msg); return err })
				break
			}
			res, err := f.msgs.Withdraw(f.ctx, msg)
			if err != nil {
				require.ErrorIs(t, err, types.ErrNothingToWithdraw)
				break
			}
			m.withdrawn = m.withdrawn.Add(res.Amount.Amount)
		case x < 80:
			op = "close"
			id := pickID()
			m := models[id]
			if m == nil || m.state == types.AccountStateClosed {
				expectUnchanged(id, func() error { _, err := f.k.CloseAccount(f.ctx, id, "test"); return err })
				break
			}
			closeAndRecord(id)
		default:
			op = "process_due"
			due, err := f.k.ProcessDue(f.ctx, uint32(1+r.Intn(4)))
			require.NoError(t, err)
			for _, id := range due {
				acc := f.account(id)
				require.Equal(t, types.AccountStateActive, acc.State)
				require.True(t, acc.Balance.Amount.LT(acc.Rate.Amount), "reported account %d can still pay", id)
				require.LessOrEqual(t, acc.ExhaustionHeight, f.ctx.BlockHeight())
				if r.Intn(10) != 0 { // x/market closes it; sometimes it lingers
					closeAndRecord(id)
				}
			}
		}
		counts[op]++

		// After every step: invariants, conservation, per-account books.
		f.checkInvariants()
		require.True(t, f.bank.total(denom).Equal(initial), "step %d (%s): coins created or destroyed", step, op)
		taken := sdkmath.ZeroInt()
		for id, m := range models {
			acc := f.account(id)
			require.Equal(t, m.state, acc.State, "account %d", id)
			taken = taken.Add(acc.TotalTaken.Amount)
			// deposits = balance + paid + refunded
			require.True(t, m.deposited.Equal(acc.Balance.Amount.Add(acc.TotalPaid.Amount).Add(m.refunded)),
				"step %d account %d: deposits %s != balance %s + paid %s + refunded %s",
				step, id, m.deposited, acc.Balance, acc.TotalPaid, m.refunded)
			// paid - taken = unwithdrawn + withdrawn
			require.True(t, acc.TotalPaid.Amount.Sub(acc.TotalTaken.Amount).Equal(acc.Unwithdrawn.Amount.Add(m.withdrawn)),
				"step %d account %d: earnings", step, id)
			// take is exactly floor(paid * bps / 10000) however the
			// settlements fell (the remainder is carried)
			require.True(t, acc.TotalTaken.Amount.Equal(types.Take(acc.TotalPaid.Amount, bps)), "account %d take %s of %s", id, acc.TotalTaken, acc.TotalPaid)
		}
		require.True(t, f.balance(communityPool).Equal(taken), "community pool holds exactly the take")

		// Settling every active account now (on a throwaway branch) gives the
		// closed-form payment, whatever settlements happened before.
		if step%10 == 0 {
			bank, pool := f.bank.snapshot(), f.distr.pool
			cctx, _ := f.ctx.CacheContext()
			for id, m := range models {
				if m.state != types.AccountStateActive {
					continue
				}
				acc, err := f.k.SettleAccount(cctx, id)
				require.NoError(t, err)
				require.True(t, acc.TotalPaid.Amount.Equal(closedFormPaid(m, f.ctx.BlockHeight(), m.deposited)),
					"step %d account %d: paid %s, want %s", step, id, acc.TotalPaid, closedFormPaid(m, f.ctx.BlockHeight(), m.deposited))
			}
			f.bank.balances, f.distr.pool = bank, pool
		}
	}
	t.Logf("ops: %v, accounts: %d, height: %d", counts, len(models), f.ctx.BlockHeight())
	for _, op := range []string{"open", "activate", "deposit", "advance", "withdraw", "close", "process_due"} {
		require.Greater(t, counts[op], 40, op)
	}
}
