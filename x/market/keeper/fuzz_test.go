package keeper_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/big"
	"os"
	"strings"
	"sync"
	"testing"

	"cosmossdk.io/core/address"
	"cosmossdk.io/math"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"

	"github.com/crucible-network/crucible/testutil/fuzzcorpus"
	escrowkeeper "github.com/crucible-network/crucible/x/escrow/keeper"
	escrowtypes "github.com/crucible-network/crucible/x/escrow/types"
	"github.com/crucible-network/crucible/x/market/keeper"
	"github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
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

// escrowBank adds GetBalance to the market fake bank for the real x/escrow.
type escrowBank struct{ *fakeBank }

func (b escrowBank) GetBalance(_ context.Context, addr sdk.AccAddress, d string) sdk.Coin {
	return sdk.NewCoin(d, b.balance(addr).AmountOf(d))
}

// fuzzDistr sends the escrow take to the distribution module account.
type fuzzDistr struct{ bank *fakeBank }

func (d fuzzDistr) FundCommunityPool(_ context.Context, amount sdk.Coins, sender sdk.AccAddress) error {
	return d.bank.send(sender, moduleAddr(distrtypes.ModuleName), amount)
}

// e2e is x/market wired to the real x/escrow keeper (both on one in-memory
// multistore), the fake bank and the fake x/provider.
type e2e struct {
	ctx       sdk.Context
	k         keeper.Keeper
	msg       types.MsgServer
	ek        escrowkeeper.Keeper
	emsg      escrowtypes.MsgServer
	bank      *fakeBank
	providers *fakeProviders
	ac        address.Codec
	authority string
}

var fuzzEncoding = sync.OnceValue(func() moduletestutil.TestEncodingConfig { return moduletestutil.MakeTestEncodingConfig() })

const fuzzOtherDenom = "uatom"

var fuzzActors = []sdk.AccAddress{tenantA, tenantB, provA, provB, provC, stranger}

func newE2E(t *testing.T) *e2e {
	mkey, ekey := storetypes.NewKVStoreKey(types.StoreKey), storetypes.NewKVStoreKey(escrowtypes.StoreKey)
	ctx := testutil.DefaultContextWithKeys(
		map[string]*storetypes.KVStoreKey{types.StoreKey: mkey, escrowtypes.StoreKey: ekey},
		map[string]*storetypes.TransientStoreKey{"transient_test": storetypes.NewTransientStoreKey("transient_test")}, nil,
	).WithBlockHeight(startH)
	cdc := fuzzEncoding().Codec
	ac := addresscodec.NewBech32Codec("cru")
	authority, err := ac.BytesToString(moduleAddr("gov"))
	if err != nil {
		t.Fatal(err)
	}
	bank := newFakeBank()
	prov := newFakeProviders()
	prov.bank = bank
	ek := escrowkeeper.NewKeeper(cdc, runtime.NewKVStoreService(ekey), ac, escrowBank{bank}, fuzzDistr{bank}, authority)
	mk := keeper.NewKeeper(cdc, runtime.NewKVStoreService(mkey), ac, bank, prov, ek, authority)
	e := &e2e{ctx: ctx, k: mk, msg: keeper.NewMsgServerImpl(mk), ek: ek, emsg: escrowkeeper.NewMsgServerImpl(ek),
		bank: bank, providers: prov, ac: ac, authority: authority}
	eparams := escrowtypes.DefaultGenesisState()
	eparams.Params.TakeRateBps = 250
	if err := ek.InitGenesis(ctx, eparams); err != nil {
		t.Fatal(err)
	}
	if err := mk.InitGenesis(ctx, types.DefaultGenesisState()); err != nil {
		t.Fatal(err)
	}
	for _, a := range fuzzActors {
		bank.fund(a, initial.Add(sdk.NewInt64Coin(fuzzOtherDenom, 10_000_000)))
	}
	for i, p := range []struct {
		owner      sdk.AccAddress
		prefix     string
		class      string
		reputation int64
	}{{provA, "A", h100, 5000}, {provB, "B", h100, 8000}, {provC, "C", "a100", 500}} {
		model := h100Name
		if p.class != h100 {
			model = "NVIDIA A100-SXM4-80GB"
		}
		prov.set(p.owner, providertypes.Provider{
			Owner: e.s(p.owner), Region: []string{"eu-west", "eu-west", "us-east"}[i], Tier: "datacenter",
			Attributes: []providertypes.Attribute{{Key: "cc", Value: "on"}},
			Gpus:       gpus(p.prefix, 4, p.class, model, 81559),
			Status:     providertypes.ProviderStatusActive, Reputation: p.reputation,
		})
	}
	return e
}

func (e *e2e) s(a sdk.AccAddress) string {
	s, err := e.ac.BytesToString(a)
	if err != nil {
		panic(err)
	}
	return s
}

const (
	mOpCreateOrder = iota
	mOpCancelOrder
	mOpCreateBid
	mOpCloseBid
	mOpCreateLease
	mOpCloseLease
	mOpSubmitResult
	mOpUpdateParams
	mOpAdvance
	mOpEscrowDeposit
	mOpEscrowWithdraw
	mOpEscrowParams
	mNumOps
)

// FuzzMarketMsgServer drives x/market's msg server, wired to the real
// x/escrow keeper, with a sequence of messages decoded from the input (plus
// block advances that run the EndBlocker, and x/escrow's own messages). Each
// message runs in a cached context written only on success, like a
// transaction. After each step: no panic; a refused message moved no coin; the
// sum of all balances of every denom is unchanged; x/escrow's CheckBalances
// and CheckQueue hold; the market module account holds exactly the deposits
// of the OPEN bids and of the WON bids of ACTIVE leases; every provider's
// active lease count equals its ACTIVE leases.
func FuzzMarketMsgServer(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		runMarketProgram(t, data)
	})
}

func runMarketProgram(t *testing.T, data []byte) {
	e := newE2E(t)
	r := &fuzzBytes{b: data}
	denoms := []string{denom, fuzzOtherDenom}
	totals := map[string]math.Int{}
	for _, d := range denoms {
		totals[d] = totalSupply(e.bank, d)
	}

	pickAddr := func() string {
		switch v := r.u8(); {
		case v < 240:
			return e.s(fuzzActors[int(v)%len(fuzzActors)])
		case v < 243:
			return ""
		case v < 246:
			return "cosmos1w3jhxapdv9jkgh6lta047h6lta047h6ljn32fp"
		case v < 252:
			return strings.ToUpper(e.s(fuzzActors[int(v)%len(fuzzActors)]))
		default:
			return e.s(tenantA)[:20]
		}
	}
	pickDenom := func() string {
		switch v := r.u8(); {
		case v < 224:
			return denom
		case v < 248:
			return fuzzOtherDenom
		default:
			return "1bad"
		}
	}
	pickCoin := func(base int64) sdk.Coin {
		d := pickDenom()
		switch v := r.u8(); v % 8 {
		case 0:
			return sdk.Coin{Denom: d, Amount: math.ZeroInt()}
		case 1:
			return sdk.Coin{Denom: d, Amount: math.NewInt(base - 1)}
		case 2:
			return sdk.Coin{Denom: d, Amount: math.NewIntFromBigInt(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)))}
		case 3:
			return sdk.Coin{Denom: d, Amount: math.NewInt(-int64(v))}
		default:
			return sdk.Coin{Denom: d, Amount: math.NewInt(base + int64(r.u16()))}
		}
	}
	pickID := func() uint64 { return uint64(r.u8() % 12) }
	pickUUID := func() string { return fmt.Sprintf("GPU-%c%d", "ABCX"[r.u8()%4], r.u8()%5) }
	hash := func() []byte {
		switch v := r.u8(); v % 8 {
		case 0:
			return make([]byte, 32)
		case 1:
			return []byte{v}
		default:
			h := sha256.Sum256([]byte{v})
			return h[:]
		}
	}

	for step := 0; step < 64 && len(r.b) > 0; step++ {
		op := int(r.u8()) % mNumOps
		before := e.bank.snapshot()
		counts := map[string]uint64{}
		for k, p := range e.providers.byOwner {
			counts[k] = p.ActiveLeases
		}
		ctx, write := e.ctx.CacheContext()
		var err error
		var what string
		switch op {
		case mOpCreateOrder:
			tenant := pickAddr()
			spec := types.OrderSpec{
				Gpu: types.GPUSpec{
					Class:        []string{h100, "a100", "", h100}[r.u8()%4],
					Model:        []string{"", "", h100Name, "x"}[r.u8()%4],
					Count:        uint32(r.u8() % 5),
					MinMemoryMib: uint64(r.u8()) * 1000,
				},
				Region:        []string{"", "eu-west", "us-east", strings.Repeat("r", 300)}[r.u8()%4],
				Tier:          []string{"", "datacenter"}[r.u8()%2],
				MinReputation: []int64{0, 1000, 6000, -1}[r.u8()%4],
				ManifestHash:  hash(),
			}
			switch r.u8() % 4 {
			case 1:
				spec.Attributes = []providertypes.Attribute{{Key: "cc", Value: "on"}}
			case 2:
				spec.Attributes = []providertypes.Attribute{{Key: "cc", Value: "off"}}
			case 3:
				spec.Attributes = []providertypes.Attribute{{Key: "cc", Value: "on"}, {Key: "cc", Value: "on"}}
			}
			duration := uint64(r.u8() % 40)
			if duration == 39 {
				duration = uint64(r.u32())
			}
			msg := &types.MsgCreateOrder{Tenant: tenant, Spec: spec, MaxPricePerBlock: pickCoin(1), DurationBlocks: duration, Deposit: pickCoin(1_000_000)}
			what = fmt.Sprintf("create order %+v", msg)
			_, err = e.msg.CreateOrder(ctx, msg)
		case mOpCancelOrder:
			msg := &types.MsgCancelOrder{Tenant: pickAddr(), OrderId: pickID()}
			what = fmt.Sprintf("cancel order %+v", msg)
			_, err = e.msg.CancelOrder(ctx, msg)
		case mOpCreateBid:
			msg := &types.MsgCreateBid{Provider: pickAddr(), OrderId: pickID(), Price: pickCoin(1), Deposit: pickCoin(500_000)}
			for range r.u8() % 4 {
				msg.GpuUuids = append(msg.GpuUuids, pickUUID())
			}
			what = fmt.Sprintf("create bid %+v", msg)
			_, err = e.msg.CreateBid(ctx, msg)
		case mOpCloseBid:
			msg := &types.MsgCloseBid{Provider: pickAddr(), BidId: pickID()}
			what = fmt.Sprintf("close bid %+v", msg)
			_, err = e.msg.CloseBid(ctx, msg)
		case mOpCreateLease:
			msg := &types.MsgCreateLease{Tenant: pickAddr(), BidId: pickID()}
			what = fmt.Sprintf("create lease %+v", msg)
			_, err = e.msg.CreateLease(ctx, msg)
		case mOpCloseLease:
			msg := &types.MsgCloseLease{Sender: pickAddr(), LeaseId: pickID()}
			what = fmt.Sprintf("close lease %+v", msg)
			_, err = e.msg.CloseLease(ctx, msg)
		case mOpSubmitResult:
			msg := &types.MsgSubmitResult{Provider: pickAddr(), LeaseId: pickID(), ResultHash: hash(),
				Location: []string{"", "s3://out", strings.Repeat("l", 257)}[r.u8()%3], ManifestHash: [][]byte{nil, manifest[:], hash()}[r.u8()%3]}
			what = fmt.Sprintf("submit result %+v", msg)
			_, err = e.msg.SubmitResult(ctx, msg)
		case mOpUpdateParams:
			p, perr := e.k.Params.Get(e.ctx)
			if perr != nil {
				t.Fatal(perr)
			}
			v := r.u8()
			switch v % 5 {
			case 0:
				p.OrderTtlBlocks = uint64(r.u8() % 50)
			case 1:
				p.MaxLeaseBlocks = uint64(r.u8() % 50)
			case 2:
				p.MaxExpiriesPerBlock = uint32(r.u8() % 4)
			case 3:
				p.MaxBidsPerOrder = uint32(r.u8() % 4)
			case 4:
				p.MinBidDeposit = pickCoin(1)
			}
			authority := e.authority
			if v >= 200 {
				authority = pickAddr()
			}
			msg := &types.MsgUpdateParams{Authority: authority, Params: p}
			what = fmt.Sprintf("update params %+v", msg)
			_, err = e.msg.UpdateParams(ctx, msg)
		case mOpAdvance:
			n := int64(r.u8()%16) + 1
			if n == 16 {
				n = 700 // past the default order TTL
			}
			what = fmt.Sprintf("advance %d and EndBlock", n)
			e.ctx = e.ctx.WithBlockHeight(e.ctx.BlockHeight() + n).WithEventManager(sdk.NewEventManager())
			if err := e.k.EndBlocker(e.ctx); err != nil {
				t.Fatalf("step %d: EndBlocker at %d: %v", step, e.ctx.BlockHeight(), err)
			}
			write = func() {}
		case mOpEscrowDeposit:
			msg := &escrowtypes.MsgDeposit{Depositor: pickAddr(), Id: pickID(), Amount: pickCoin(1)}
			what = fmt.Sprintf("escrow deposit %+v", msg)
			_, err = e.emsg.Deposit(ctx, msg)
		case mOpEscrowWithdraw:
			msg := &escrowtypes.MsgWithdraw{Provider: pickAddr(), Id: pickID()}
			what = fmt.Sprintf("escrow withdraw %+v", msg)
			_, err = e.emsg.Withdraw(ctx, msg)
		case mOpEscrowParams:
			p := escrowtypes.DefaultParams()
			p.TakeRateBps = uint32(r.u16()) % 6000
			p.MaxSettlementsPerBlock = uint32(r.u8() % 4)
			msg := &escrowtypes.MsgUpdateParams{Authority: e.authority, Params: p}
			what = fmt.Sprintf("escrow params %+v", msg)
			_, err = e.emsg.UpdateParams(ctx, msg)
		}
		if testing.Verbose() {
			t.Logf("step %d @%d: %s: %v", step, e.ctx.BlockHeight(), what, err)
		}
		if err != nil {
			if !sameCoins(before, e.bank.snapshot()) {
				t.Fatalf("step %d: refused %s (%v) moved coins", step, what, err)
			}
			for k, p := range e.providers.byOwner { // the provider store would roll back
				p.ActiveLeases = counts[k]
			}
		} else {
			write()
		}
		e.checkInvariants(t, step, what, totals)
	}
}

func totalSupply(b *fakeBank, d string) math.Int {
	sum := math.ZeroInt()
	for _, c := range b.balances {
		sum = sum.Add(c.AmountOf(d))
	}
	return sum
}

func sameCoins(a, b map[string]sdk.Coins) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !v.Equal(b[k]) {
			return false
		}
	}
	return true
}

func (e *e2e) checkInvariants(t *testing.T, step int, what string, totals map[string]math.Int) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("step %d (%s): %s", step, what, fmt.Sprintf(format, args...))
	}
	for d, want := range totals {
		if got := totalSupply(e.bank, d); !got.Equal(want) {
			fail("total %s changed from %s to %s", d, want, got)
		}
	}
	if err := e.ek.CheckBalances(e.ctx); err != nil {
		fail("%v", err)
	}
	if err := e.ek.CheckQueue(e.ctx); err != nil {
		fail("%v", err)
	}
	// Bid deposits held by the market module account.
	activeLeases := map[uint64]types.Lease{}
	leasesByProvider := map[string]uint64{}
	if err := e.k.Leases.Walk(e.ctx, nil, func(id uint64, l types.Lease) (bool, error) {
		if l.State == types.LeaseStateActive {
			activeLeases[l.BidId] = l
			p, err := e.ac.StringToBytes(l.Provider)
			if err != nil {
				return true, err
			}
			leasesByProvider[string(p)]++
			acc, err := e.ek.GetAccount(e.ctx, id)
			if err != nil || acc.State != escrowtypes.AccountStateActive {
				return true, fmt.Errorf("active lease %d has escrow account %v (%v)", id, acc.State, err)
			}
		}
		return false, nil
	}); err != nil {
		fail("%v", err)
	}
	held := sdk.NewCoins()
	if err := e.k.Bids.Walk(e.ctx, nil, func(id uint64, b types.Bid) (bool, error) {
		_, won := activeLeases[id]
		if b.State == types.BidStateOpen || (b.State == types.BidStateWon && won) {
			held = held.Add(b.Deposit)
		}
		return false, nil
	}); err != nil {
		fail("%v", err)
	}
	if got := e.bank.balance(moduleAddr(types.ModuleName)); !got.Equal(held) {
		fail("market module holds %s, open and won bids %s", got, held)
	}
	for k, p := range e.providers.byOwner {
		if p.ActiveLeases != leasesByProvider[k] {
			fail("provider %s counts %d active leases, has %d", p.Owner, p.ActiveLeases, leasesByProvider[k])
		}
	}
	// Every OPEN order has a PENDING escrow account.
	if err := e.k.Orders.Walk(e.ctx, nil, func(id uint64, o types.Order) (bool, error) {
		if o.State != types.OrderStateOpen {
			return false, nil
		}
		acc, err := e.ek.GetAccount(e.ctx, id)
		if err != nil || acc.State != escrowtypes.AccountStatePending {
			return true, fmt.Errorf("open order %d has escrow account %v (%v)", id, acc.State, err)
		}
		return false, nil
	}); err != nil {
		fail("%v", err)
	}
}

// marketFuzzSeeds are the committed seeds, as programs of operation bytes.
func marketFuzzSeeds() map[string][]byte {
	// Actor bytes: 0 tenantA, 1 tenantB, 2 provA, 3 provB, 4 provC, 5 stranger.
	// create order: tenant, class, model, count, minmem, region, tier, minrep,
	// hash, attrs, duration, price (denom, kind[, u16]), deposit (denom, kind[, u16]).
	order := []byte{mOpCreateOrder, 0, 0, 0, 2, 80, 1, 1, 1, 7, 1, 30, 0, 4, 0, 99, 0, 4, 0, 0}
	// create bid on order 1 by provA with GPU-A0, GPU-A1.
	bid := []byte{mOpCreateBid, 2, 1, 0, 4, 0, 89, 0, 4, 0, 0, 2, 0, 0, 0, 1}
	lease := []byte{mOpCreateLease, 0, 1}
	result := []byte{mOpSubmitResult, 2, 1, 7, 1, 20}
	advance := []byte{mOpAdvance, 4}
	deposit := []byte{mOpEscrowDeposit, 0, 1, 0, 4, 0x10, 0x00}
	withdraw := []byte{mOpEscrowWithdraw, 2, 1}
	closeLease := []byte{mOpCloseLease, 0, 1}
	cat := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	// a second bid by provB on order 1 (loses when provA's wins), and a bid
	// by provC (a100, wrong class and reputation: refused).
	bidB := []byte{mOpCreateBid, 3, 1, 0, 4, 0, 80, 0, 4, 0, 0, 2, 1, 0, 1, 1}
	bidC := []byte{mOpCreateBid, 4, 1, 0, 4, 0, 80, 0, 4, 0, 0, 2, 2, 0, 2, 1}
	return map[string][]byte{
		"lease_lifecycle": cat(order, bid, bidB, bidC, lease, advance, result, deposit, advance, withdraw, closeLease, withdraw),
		"lease_expires":   cat(order, bid, lease, []byte{mOpAdvance, 15, mOpAdvance, 15}, withdraw),
		"order_expires":   cat(order, bid, []byte{mOpAdvance, 15, mOpCloseBid, 2, 1}),
		"cancel":          cat(order, bid, bidB, []byte{mOpCancelOrder, 0, 1, mOpCancelOrder, 0, 1}),
		"run_dry": cat([]byte{mOpEscrowParams, 0x01, 0xf4, 1},
			[]byte{mOpCreateOrder, 1, 0, 0, 1, 80, 1, 1, 1, 7, 1, 30, 0, 4, 0xff, 0xff, 0, 4, 0, 0},
			[]byte{mOpCreateBid, 2, 1, 0, 4, 0xff, 0xff, 0, 4, 0, 0, 1, 0, 3},
			[]byte{mOpCreateLease, 1, 1}, advance, advance, advance, advance, withdraw),
		"refusals": cat(order,
			[]byte{mOpCreateOrder, 250, 0, 0, 2, 80, 1, 1, 1, 7, 1, 30, 0, 4, 0, 99, 0, 4, 0, 0}, // uppercase tenant
			[]byte{mOpCreateOrder, 0, 0, 0, 2, 80, 1, 1, 1, 0, 1, 30, 0, 4, 0, 99, 0, 4, 0, 0},   // zero manifest hash
			[]byte{mOpCreateOrder, 0, 0, 0, 2, 80, 1, 1, 1, 7, 3, 30, 0, 4, 0, 99, 0, 4, 0, 0},   // duplicate attribute
			[]byte{mOpCreateOrder, 0, 0, 0, 2, 80, 1, 1, 1, 7, 1, 30, 0, 4, 0, 99, 0, 2},         // 2^256-1 deposit
			[]byte{mOpCreateOrder, 0, 0, 0, 2, 80, 1, 1, 1, 7, 1, 30, 230, 4, 0, 99, 0, 4, 0, 0}, // price denom
			[]byte{mOpCreateBid, 2, 1, 0, 4, 0, 89, 0, 1, 2, 0, 0, 0, 0},                         // low deposit, dup uuid
			[]byte{mOpCreateBid, 5, 1, 0, 4, 0, 89, 0, 4, 0, 0, 2, 0, 0, 0, 1},                   // not a provider
			[]byte{mOpCreateLease, 1, 1, mOpCloseLease, 0, 1, mOpCloseBid, 3, 1},
			[]byte{mOpUpdateParams, 200, 245, mOpUpdateParams, 0, 0, mOpEscrowWithdraw, 0, 1}),
		"empty": {},
	}
}

func TestMarketFuzzSeeds(t *testing.T) {
	for name, data := range marketFuzzSeeds() {
		t.Run(name, func(t *testing.T) { runMarketProgram(t, data) })
	}
}

// TestWriteFuzzCorpus writes testdata/fuzz/FuzzMarketMsgServer from
// marketFuzzSeeds: CRUCIBLE_WRITE_FUZZ_CORPUS=1 go test -run TestWriteFuzzCorpus ./x/market/keeper/
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("CRUCIBLE_WRITE_FUZZ_CORPUS") == "" {
		t.Skip("set CRUCIBLE_WRITE_FUZZ_CORPUS=1 to rewrite testdata/fuzz/FuzzMarketMsgServer")
	}
	seeds := map[string][]any{}
	for name, data := range marketFuzzSeeds() {
		seeds[name] = []any{data}
	}
	fuzzcorpus.Write(t, "FuzzMarketMsgServer", seeds)
}
