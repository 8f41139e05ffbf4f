package app_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/crucible-network/crucible/app"
	"github.com/crucible-network/crucible/testutil/apptest"
	"github.com/crucible-network/crucible/testutil/network"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	escrowtypes "github.com/crucible-network/crucible/x/escrow/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

var (
	tenants   = []string{"t0", "t1", "t2"}
	providers = []string{"p0", "p1", "p2"}
)

func newMarketChain(t testing.TB) *apptest.Chain {
	opts := network.DefaultOptions(t.TempDir())
	opts.Accounts = nil
	// No proof-of-compute challenges here (x/attest has its own tests): the
	// random walk's providers never answer and would be jailed.
	opts.GenesisMutator = func(cdc codec.Codec, state map[string]json.RawMessage) error {
		var g attesttypes.GenesisState
		if err := cdc.UnmarshalJSON(state[attesttypes.ModuleName], &g); err != nil {
			return err
		}
		g.Params.ChallengeRateBps = 0
		bz, err := cdc.MarshalJSON(&g)
		if err != nil {
			return err
		}
		state[attesttypes.ModuleName] = bz
		// Finished orders are pruned 20 blocks after they end, so the walk
		// also deletes orders, bids, leases and escrow accounts.
		var m markettypes.GenesisState
		if err := cdc.UnmarshalJSON(state[markettypes.ModuleName], &m); err != nil {
			return err
		}
		m.Params.ClosedRetentionBlocks = 20
		state[markettypes.ModuleName], err = cdc.MarshalJSON(&m)
		return err
	}
	tokens := sdk.NewCoins(sdk.NewCoin(app.BondDenom, sdkmath.NewInt(1_000_000_000_000)))
	for _, n := range append(append([]string{}, tenants...), providers...) {
		opts.Accounts = append(opts.Accounts, network.Account{Name: n, Coins: tokens})
	}
	c := apptest.New(t, opts)
	for _, p := range providers {
		addr := c.Addr(p).String()
		res := c.Deliver(p, &providertypes.MsgRegisterProvider{
			Owner: addr, HostUri: "https://" + p + ".example:8443", Region: "eu-west", Tier: "datacenter",
			Gpus: []providertypes.GPU{
				{Uuid: "GPU-" + p + "-0", Model: "NVIDIA H100 80GB HBM3", Class: "h100", MemoryMib: 81559},
				{Uuid: "GPU-" + p + "-1", Model: "NVIDIA H100 80GB HBM3", Class: "h100", MemoryMib: 81559},
			},
			Bond: sdk.NewInt64Coin(app.BondDenom, 1_000_000_000),
		})
		requireOK(t, res, "register "+p)
	}
	return c
}

func requireOK(t testing.TB, res *abci.ExecTxResult, what string) {
	t.Helper()
	if res.Code != 0 {
		t.Fatalf("%s: code %d (%s): %s", what, res.Code, res.Codespace, res.Log)
	}
}

func eventUint(t testing.TB, res *abci.ExecTxResult, typ, key string) uint64 {
	t.Helper()
	for _, e := range res.Events {
		if e.Type != typ {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == key {
				v, err := strconv.ParseUint(strings.Trim(a.Value, `"`), 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
		}
	}
	t.Fatalf("no %s.%s in events", typ, key)
	return 0
}

func coin(n int64) sdk.Coin { return sdk.NewInt64Coin(app.BondDenom, n) }

func orderMsg(tenant sdk.AccAddress, deposit, maxPrice int64, duration uint64) *markettypes.MsgCreateOrder {
	h := sha256.Sum256([]byte("job"))
	return &markettypes.MsgCreateOrder{
		Tenant: tenant.String(),
		Spec: markettypes.OrderSpec{
			Gpu:          markettypes.GPUSpec{Class: "h100", Count: 1, MinMemoryMib: 80000},
			Region:       "eu-west",
			ManifestHash: h[:],
		},
		MaxPricePerBlock: coin(maxPrice), DurationBlocks: duration, Deposit: coin(deposit),
	}
}

// TestRandomizedMarketplaceReconciles runs a long random sequence of
// orders, bids, leases, deposits, withdrawals, closes, cancels and bad
// transactions through the whole app (ante handler included), and after
// every block checks that each module's coins reconcile exactly:
//   - escrow's module balance == sum of account balances + unwithdrawn earnings
//   - market's module balance == deposits of OPEN bids + WON bids of ACTIVE leases
//   - provider's module balance == sum of provider bonds
//
// It ends with a genesis export -> import -> export round trip.
func TestRandomizedMarketplaceReconciles(t *testing.T) {
	c := newMarketChain(t)
	rng := rand.New(rand.NewSource(7))
	pick := func(xs []string) string { return xs[rng.Intn(len(xs))] }
	var failures, successes int

	for step := 0; step < 300; step++ {
		ctx := c.Ctx()
		orders := openOrders(t, c)
		leases := collectLeases(t, c)
		var res *abci.ExecTxResult
		switch op := rng.Intn(10); {
		case op <= 1:
			tn := pick(tenants)
			res = c.Deliver(tn, orderMsg(c.Addr(tn), 1_000_000+rng.Int63n(2_000_000), 50+rng.Int63n(100), uint64(5+rng.Intn(40))))
		case op <= 3 && len(orders) > 0:
			o := orders[rng.Intn(len(orders))]
			p := pick(providers)
			res = c.Deliver(p, &markettypes.MsgCreateBid{Provider: c.Addr(p).String(), OrderId: o.Id,
				Price: coin(20 + rng.Int63n(150)), Deposit: coin(500_000 + rng.Int63n(1000)),
				GpuUuids: []string{fmt.Sprintf("GPU-%s-%d", p, rng.Intn(2))}})
		case op == 4 && len(orders) > 0:
			o := orders[rng.Intn(len(orders))]
			var bids []markettypes.Bid
			_ = c.App.MarketKeeper.Bids.Walk(ctx, nil, func(_ uint64, b markettypes.Bid) (bool, error) {
				if b.OrderId == o.Id && b.State == markettypes.BidStateOpen {
					bids = append(bids, b)
				}
				return false, nil
			})
			if len(bids) == 0 {
				continue
			}
			tn := nameOf(t, c, o.Tenant)
			res = c.Deliver(tn, &markettypes.MsgCreateLease{Tenant: o.Tenant, BidId: bids[rng.Intn(len(bids))].Id})
		case op == 5 && len(leases) > 0:
			l := leases[rng.Intn(len(leases))]
			from := pick(append(append([]string{}, tenants...), providers...))
			res = c.Deliver(from, &escrowtypes.MsgDeposit{Depositor: c.Addr(from).String(), Id: l.Id, Amount: coin(rng.Int63n(50_000))})
		case op == 6 && len(leases) > 0:
			l := leases[rng.Intn(len(leases))]
			p := nameOf(t, c, l.Provider)
			if rng.Intn(4) == 0 { // a stranger's withdrawal must fail
				p = pick(providers)
			}
			res = c.Deliver(p, &escrowtypes.MsgWithdraw{Provider: c.Addr(p).String(), Id: l.Id})
		case op == 7 && len(leases) > 0:
			l := leases[rng.Intn(len(leases))]
			who := []string{nameOf(t, c, l.Tenant), nameOf(t, c, l.Provider), pick(tenants)}[rng.Intn(3)]
			res = c.Deliver(who, &markettypes.MsgCloseLease{Sender: c.Addr(who).String(), LeaseId: l.Id})
		case op == 8 && len(orders) > 0:
			o := orders[rng.Intn(len(orders))]
			who := []string{nameOf(t, c, o.Tenant), pick(tenants)}[rng.Intn(2)]
			res = c.Deliver(who, &markettypes.MsgCancelOrder{Tenant: c.Addr(who).String(), OrderId: o.Id})
		default:
			for i := rng.Intn(8); i >= 0; i-- {
				c.NextBlock()
				checkReconciles(t, c)
			}
			continue
		}
		if res == nil {
			continue
		}
		if res.Code == 0 {
			successes++
		} else {
			failures++
		}
		checkReconciles(t, c)
	}
	t.Logf("%d transactions succeeded, %d were refused; final height %d", successes, failures, c.Height)
	if successes < 50 || failures < 5 {
		t.Fatalf("the random walk did not exercise enough: %d ok, %d refused", successes, failures)
	}
	stored := 0
	if err := c.App.MarketKeeper.Orders.Walk(c.Ctx(), nil, func(uint64, markettypes.Order) (bool, error) {
		stored++
		return false, nil
	}); err != nil {
		t.Fatal(err)
	}
	next, err := c.App.MarketKeeper.NextOrderID.Peek(c.Ctx())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d orders left in state after pruning", stored, next-1)
	if uint64(stored) >= next-1 {
		t.Fatalf("no finished order was pruned: %d of %d in state", stored, next-1)
	}

	// Genesis round trip: export, start a fresh app from it, export again.
	exported, err := c.App.ExportAppStateAndValidators(false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]json.RawMessage
	if err := json.Unmarshal(exported.AppState, &state); err != nil {
		t.Fatal(err)
	}
	c2 := apptest.FromExport(t, c, exported)
	again, err := c2.App.ExportAppStateAndValidators(false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var state2 map[string]json.RawMessage
	if err := json.Unmarshal(again.AppState, &state2); err != nil {
		t.Fatal(err)
	}
	// (bank and distribution move in the block after import: inflation, fees)
	for _, m := range []string{providertypes.ModuleName, markettypes.ModuleName, escrowtypes.ModuleName} {
		if string(state[m]) != string(state2[m]) {
			t.Errorf("module %s genesis differs after export -> import -> export", m)
		}
	}
	checkReconciles(t, c2)
}

func openOrders(t testing.TB, c *apptest.Chain) []markettypes.Order {
	var out []markettypes.Order
	if err := c.App.MarketKeeper.Orders.Walk(c.Ctx(), nil, func(_ uint64, o markettypes.Order) (bool, error) {
		if o.State == markettypes.OrderStateOpen {
			out = append(out, o)
		}
		return false, nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func collectLeases(t testing.TB, c *apptest.Chain) []markettypes.Lease {
	var out []markettypes.Lease
	if err := c.App.MarketKeeper.Leases.Walk(c.Ctx(), nil, func(_ uint64, l markettypes.Lease) (bool, error) {
		if l.State == markettypes.LeaseStateActive {
			out = append(out, l)
		}
		return false, nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func nameOf(t testing.TB, c *apptest.Chain, addr string) string {
	for _, n := range append(append([]string{}, tenants...), providers...) {
		if c.Addr(n).String() == addr {
			return n
		}
	}
	t.Fatalf("no key for %s", addr)
	return ""
}

func checkReconciles(t testing.TB, c *apptest.Chain) {
	t.Helper()
	ctx := c.Ctx()
	if err := c.App.EscrowKeeper.CheckBalances(ctx); err != nil {
		t.Fatalf("height %d: escrow: %v", c.Height, err)
	}
	bal := func(module string) sdkmath.Int {
		return c.App.BankKeeper.GetBalance(ctx, authtypes.NewModuleAddress(module), app.BondDenom).Amount
	}
	active := map[uint64]bool{}
	for _, l := range collectLeases(t, c) {
		active[l.BidId] = true
	}
	held := sdkmath.ZeroInt()
	if err := c.App.MarketKeeper.Bids.Walk(ctx, nil, func(id uint64, b markettypes.Bid) (bool, error) {
		if b.State == markettypes.BidStateOpen || (b.State == markettypes.BidStateWon && active[id]) {
			held = held.Add(b.Deposit.Amount)
		}
		return false, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := bal(markettypes.ModuleName); !got.Equal(held) {
		t.Fatalf("height %d: market module holds %s, bids hold %s", c.Height, got, held)
	}
	bonds := sdkmath.ZeroInt()
	if err := c.App.ProviderKeeper.Providers.Walk(ctx, nil, func(_ sdk.AccAddress, p providertypes.Provider) (bool, error) {
		bonds = bonds.Add(p.Bond.Amount)
		return false, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := bal(providertypes.ModuleName); !got.Equal(bonds) {
		t.Fatalf("height %d: provider module holds %s, bonds sum to %s", c.Height, got, bonds)
	}
}
