package keeper_test

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"os"
	"strings"
	"testing"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/testutil/fuzzcorpus"
	"github.com/crucible-network/crucible/x/escrow/keeper"
	"github.com/crucible-network/crucible/x/escrow/types"
)

// fuzzBytes hands out fuzz input a few bytes at a time; an exhausted input
// reads as zeros.
type fuzzBytes struct{ b []byte }

func (r *fuzzBytes) u8() uint8 {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *fuzzBytes) u16() uint16 { return uint16(r.u8())<<8 | uint16(r.u8()) }

func (r *fuzzBytes) u32() uint32 { return uint32(r.u16())<<16 | uint32(r.u16()) }

const (
	fuzzOpDeposit = iota
	fuzzOpWithdraw
	fuzzOpUpdateParams
	fuzzOpOpen
	fuzzOpActivate
	fuzzOpClose
	fuzzOpAdvance
	fuzzNumOps
)

// fuzzOp is one operation with its argument bytes, for seeds.
func fuzzOp(op int, args ...byte) []byte { return append([]byte{byte(op)}, args...) }

func fuzzProgram(ops ...[]byte) []byte {
	var out []byte
	for _, o := range ops {
		out = append(out, o...)
	}
	return out
}

// FuzzEscrowMsgServer drives the escrow keeper with a sequence of operations
// decoded from the input: the user messages (MsgDeposit, MsgWithdraw,
// MsgUpdateParams) through the msg server, and the calls x/market makes
// (OpenAccount, ActivateAccount, CloseAccount, ProcessDue with block
// advances). Each operation runs in a cached context that is written only on
// success, like a transaction. After each one: no panic, a refused operation
// moved no coin, the sum of all balances of every denom is unchanged, and
// CheckBalances / CheckQueue hold.
func FuzzEscrowMsgServer(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		runEscrowProgram(t, data)
	})
}

var (
	fuzzTenants   = []sdk.AccAddress{addr("t0"), addr("t1"), addr("whale")}
	fuzzProviders = []sdk.AccAddress{addr("p0"), addr("p1")}
	fuzzFunder    = addr("funder")
	// whaleFunds is large enough to overflow an account balance in two
	// deposits, small enough that the sum of all balances fits in 256 bits.
	whaleFunds = sdkmath.NewIntFromBigInt(new(big.Int).Lsh(big.NewInt(1), 254))
)

func runEscrowProgram(t *testing.T, data []byte) {
	f := newFixture(t)
	r := &fuzzBytes{b: data}
	const other = "uatom"
	actors := append(append(append([]sdk.AccAddress{}, fuzzTenants...), fuzzProviders...), fuzzFunder)
	for _, a := range actors {
		f.bank.mint(a, coin(1_000_000_000))
		f.bank.mint(a, sdk.NewInt64Coin(other, 1_000_000))
	}
	f.bank.mint(fuzzTenants[2], sdk.NewCoin(denom, whaleFunds))
	denoms := []string{denom, other}
	totals := map[string]sdkmath.Int{}
	for _, d := range denoms {
		totals[d] = f.bank.total(d)
	}

	pickAddr := func() sdk.AccAddress { return actors[int(r.u8())%len(actors)] }
	pickAddrStr := func() string {
		switch v := r.u8(); {
		case v < 240:
			return f.str(actors[int(v)%len(actors)])
		case v < 244:
			return ""
		case v < 248:
			return "cosmos1w3jhxapdv9jkgh6lta047h6lta047h6ljn32fp"
		case v < 252:
			return strings.ToUpper(f.str(actors[int(v)%len(actors)]))
		default:
			return f.str(actors[0])[:20]
		}
	}
	pickID := func() uint64 { return uint64(r.u8() % 6) } // 0 is never opened by x/market, but may be here
	pickAmount := func() sdkmath.Int {
		switch v := r.u8(); v % 8 {
		case 0:
			return sdkmath.ZeroInt()
		case 1:
			return sdkmath.NewInt(int64(1 + v/8))
		case 2:
			return whaleFunds
		case 3:
			return sdkmath.NewIntFromBigInt(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)))
		case 4:
			return sdkmath.NewInt(int64(r.u32()))
		default:
			return sdkmath.NewInt(int64(r.u16()) + 1)
		}
	}
	pickDenom := func() string {
		switch v := r.u8(); {
		case v < 224:
			return denom
		case v < 248:
			return other
		default:
			return "1bad"
		}
	}

	for step := 0; step < 64 && len(r.b) > 0; step++ {
		op := int(r.u8()) % fuzzNumOps
		before := f.bank.snapshot()
		pool := f.distr.pool
		cctx, write := f.ctx.CacheContext()
		var err error
		what := ""
		switch op {
		case fuzzOpDeposit:
			msg := &types.MsgDeposit{Depositor: pickAddrStr(), Id: pickID(), Amount: sdk.Coin{Denom: pickDenom(), Amount: pickAmount()}}
			what = fmt.Sprintf("deposit %+v", msg)
			_, err = f.msgs.Deposit(cctx, msg)
		case fuzzOpWithdraw:
			msg := &types.MsgWithdraw{Provider: pickAddrStr(), Id: pickID()}
			what = fmt.Sprintf("withdraw %+v", msg)
			_, err = f.msgs.Withdraw(cctx, msg)
		case fuzzOpUpdateParams:
			p := types.DefaultParams()
			p.TakeRateBps = uint32(r.u16()) % (types.MaxTakeRateBps + 500)
			p.MaxSettlementsPerBlock = uint32(r.u8() % 8)
			authority := f.authority
			if r.u8()%4 == 0 {
				authority = pickAddrStr()
			}
			msg := &types.MsgUpdateParams{Authority: authority, Params: p}
			what = fmt.Sprintf("update params %+v", msg)
			_, err = f.msgs.UpdateParams(cctx, msg)
		case fuzzOpOpen:
			id, owner, dep := pickID(), pickAddr(), sdk.Coin{Denom: pickDenom(), Amount: pickAmount()}
			what = fmt.Sprintf("open %d %s %s", id, owner, dep)
			err = f.k.OpenAccount(cctx, id, owner, dep)
		case fuzzOpActivate:
			id, prov, rate := pickID(), pickAddr(), sdk.Coin{Denom: pickDenom(), Amount: pickAmount()}
			end := int64(0) // no end, a lease end ahead, or an invalid one (now, past, negative)
			switch r.u8() % 4 {
			case 1:
				end = f.ctx.BlockHeight() + int64(r.u8()%32) + 1
			case 2:
				end = f.ctx.BlockHeight() - int64(r.u8()%4)
			case 3:
				end = -int64(r.u8())
			}
			what = fmt.Sprintf("activate %d %s %s end %d", id, prov, rate, end)
			err = f.k.ActivateAccount(cctx, id, prov, rate, end)
		case fuzzOpClose:
			id := pickID()
			what = fmt.Sprintf("close %d", id)
			_, err = f.k.CloseAccount(cctx, id, "fuzz")
		case fuzzOpAdvance:
			// x/market's EndBlocker: ProcessDue, then close what it reports.
			n := int64(r.u8()%16) + 1
			if r.u8() == 255 {
				n = 1_000_000
			}
			f.advance(n)
			cctx, write = f.ctx.CacheContext()
			what = fmt.Sprintf("advance %d", n)
			var exhausted []uint64
			exhausted, err = f.k.ProcessDue(cctx, 0)
			if err != nil {
				t.Fatalf("ProcessDue at %d: %v", f.ctx.BlockHeight(), err)
			}
			for _, id := range exhausted {
				if _, err = f.k.CloseAccount(cctx, id, "INSUFFICIENT_FUNDS"); err != nil {
					t.Fatalf("close exhausted account %d: %v", id, err)
				}
			}
		}
		if testing.Verbose() {
			t.Logf("step %d @%d: %s: %v", step, f.ctx.BlockHeight(), what, err)
		}
		if err != nil {
			if !sameBalances(before, f.bank.snapshot()) || !pool.Equal(f.distr.pool) {
				t.Fatalf("step %d: refused %s (%v) moved coins", step, what, err)
			}
		} else {
			write()
		}
		for _, d := range denoms {
			if got := f.bank.total(d); !got.Equal(totals[d]) {
				t.Fatalf("step %d: %s: total %s changed from %s to %s", step, what, d, totals[d], got)
			}
		}
		if err := f.k.CheckBalances(f.ctx); err != nil {
			t.Fatalf("step %d: %s: %v", step, what, err)
		}
		if err := f.k.CheckQueue(f.ctx); err != nil {
			t.Fatalf("step %d: %s: %v", step, what, err)
		}
		if msg, broken := keeper.AccountsInvariant(f.k)(f.ctx); broken {
			t.Fatalf("step %d: %s: %s", step, what, msg)
		}
	}
}

// sameBalances compares two bank snapshots, a missing entry reading as zero.
func sameBalances(a, b map[string]map[string]sdkmath.Int) bool {
	for _, pair := range [][2]map[string]map[string]sdkmath.Int{{a, b}, {b, a}} {
		for acc, m := range pair[0] {
			for d, v := range m {
				w, ok := pair[1][acc][d]
				if !ok {
					w = sdkmath.ZeroInt()
				}
				if !v.Equal(w) {
					return false
				}
			}
		}
	}
	return true
}

// escrowFuzzSeeds are the committed seeds: a full lifecycle, an overflow
// attempt and some refusals.
func escrowFuzzSeeds() map[string][]byte {
	be := func(v uint16) []byte { b := make([]byte, 2); binary.BigEndian.PutUint16(b, v); return b }
	return map[string][]byte{
		// open 1 (t0, 5000), activate at rate 100 for p0, advance, deposit, withdraw, close.
		"lifecycle": fuzzProgram(
			fuzzOp(fuzzOpOpen, 1, 0, 0, 5, be(4999)[0], be(4999)[1]),
			fuzzOp(fuzzOpActivate, 1, 3, 0, 5, 0, 99),
			fuzzOp(fuzzOpAdvance, 9, 0),
			fuzzOp(fuzzOpDeposit, 0, 1, 0, 5, 0x10, 0x00),
			fuzzOp(fuzzOpAdvance, 15, 0),
			fuzzOp(fuzzOpWithdraw, 3, 1),
			fuzzOp(fuzzOpClose, 1),
		),
		// run dry: open 2 with 300, rate 100, advance past exhaustion.
		"exhaust": fuzzProgram(
			fuzzOp(fuzzOpUpdateParams, 0x00, 0xc8, 1, 1),
			fuzzOp(fuzzOpOpen, 2, 1, 0, 5, 0x01, 0x2b),
			fuzzOp(fuzzOpActivate, 2, 4, 0, 5, 0, 99),
			fuzzOp(fuzzOpAdvance, 15, 0),
			fuzzOp(fuzzOpWithdraw, 4, 2),
		),
		// whale deposits 2^254 twice into one account, then 2^256-1: overflow refused.
		"overflow": fuzzProgram(
			fuzzOp(fuzzOpOpen, 3, 2, 0, 2),
			fuzzOp(fuzzOpDeposit, 2, 3, 0, 3),
			fuzzOp(fuzzOpActivate, 3, 3, 0, 1),
			fuzzOp(fuzzOpAdvance, 0, 255),
		),
		// refusals: wrong denom, bad addresses, unknown ids, bad authority.
		"refusals": fuzzProgram(
			fuzzOp(fuzzOpOpen, 4, 0, 0, 5, 0, 50),
			fuzzOp(fuzzOpDeposit, 0, 4, 230, 5, 0, 10),
			fuzzOp(fuzzOpDeposit, 245, 4, 0, 5, 0, 10),
			fuzzOp(fuzzOpDeposit, 250, 4, 0, 5, 0, 10),
			fuzzOp(fuzzOpWithdraw, 0, 5),
			fuzzOp(fuzzOpActivate, 4, 3, 250, 5, 0, 1),
			fuzzOp(fuzzOpUpdateParams, 0x17, 0x70, 0, 0, 1),
			fuzzOp(fuzzOpClose, 5),
			fuzzOp(fuzzOpClose, 4),
			fuzzOp(fuzzOpClose, 4),
		),
		"empty": {},
	}
}

func TestEscrowFuzzSeeds(t *testing.T) {
	for name, data := range escrowFuzzSeeds() {
		t.Run(name, func(t *testing.T) { runEscrowProgram(t, data) })
	}
}

// TestWriteFuzzCorpus writes testdata/fuzz/FuzzEscrowMsgServer from
// escrowFuzzSeeds: CRUCIBLE_WRITE_FUZZ_CORPUS=1 go test -run TestWriteFuzzCorpus ./x/escrow/keeper/
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("CRUCIBLE_WRITE_FUZZ_CORPUS") == "" {
		t.Skip("set CRUCIBLE_WRITE_FUZZ_CORPUS=1 to rewrite testdata/fuzz/FuzzEscrowMsgServer")
	}
	seeds := map[string][]any{}
	for name, data := range escrowFuzzSeeds() {
		seeds[name] = []any{data}
	}
	fuzzcorpus.Write(t, "FuzzEscrowMsgServer", seeds)
}
