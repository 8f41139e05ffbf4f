package app_test

import (
	"encoding/json"
	"testing"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/app"
	"github.com/crucible-network/crucible/testutil/apptest"
	"github.com/crucible-network/crucible/testutil/network"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// newBookChain is newMarketChain with max_bids_per_order set to maxBids.
func newBookChain(t testing.TB, maxBids uint32) *apptest.Chain {
	opts := network.DefaultOptions(t.TempDir())
	opts.Accounts = nil
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
		var m markettypes.GenesisState
		if err := cdc.UnmarshalJSON(state[markettypes.ModuleName], &m); err != nil {
			return err
		}
		m.Params.MaxBidsPerOrder = maxBids
		state[markettypes.ModuleName], err = cdc.MarshalJSON(&m)
		return err
	}
	tokens := sdk.NewCoins(sdk.NewCoin(app.BondDenom, sdkmath.NewInt(1_000_000_000_000)))
	for _, n := range append(append([]string{}, tenants...), providers...) {
		opts.Accounts = append(opts.Accounts, network.Account{Name: n, Coins: tokens})
	}
	c := apptest.New(t, opts)
	for _, p := range providers {
		res := c.Deliver(p, &providertypes.MsgRegisterProvider{
			Owner: c.Addr(p).String(), HostUri: "https://" + p + ".example:8443", Region: "eu-west", Tier: "datacenter",
			Gpus: []providertypes.GPU{{Uuid: "GPU-" + p + "-0", Model: "NVIDIA H100 80GB HBM3", Class: "h100", MemoryMib: 81559}},
			Bond: sdk.NewInt64Coin(app.BondDenom, 1_000_000_000),
		})
		requireOK(t, res, "register "+p)
	}
	return c
}

// TestBidBookThroughTheApp runs issue 15 items 1 and 2 through the whole
// app (ante handler, gas): one tx of 300 create/close bid cycles on an order
// with max_bids_per_order 2 succeeds but leaves no bid record (it left 300),
// and on a full book a cheaper bid displaces the worst open bid. It logs
// the gas of a create-bid on a book with room, one that displaces, and the
// 300-cycle tx.
func TestBidBookThroughTheApp(t *testing.T) {
	c := newBookChain(t, 2)
	order := c.Deliver("t0", orderMsg(c.Addr("t0"), 2_000_000, 100, 50))
	requireOK(t, order, "order")
	id := eventUint(t, order, "crucible.market.v1.EventOrderCreated", "order_id")
	bidMsg := func(p string, price int64) *markettypes.MsgCreateBid {
		return &markettypes.MsgCreateBid{Provider: c.Addr(p).String(), OrderId: id, Price: coin(price), Deposit: coin(500_000),
			GpuUuids: []string{"GPU-" + p + "-0"}}
	}

	// 300 cycles in one tx: bid ids are drawn in sequence.
	next, err := c.App.MarketKeeper.NextBidID.Peek(c.Ctx())
	if err != nil {
		t.Fatal(err)
	}
	next = max(next, 1)
	var msgs []sdk.Msg
	for i := range uint64(300) {
		msgs = append(msgs, bidMsg("p0", 90), &markettypes.MsgCloseBid{Provider: c.Addr("p0").String(), BidId: next + i})
	}
	cycles := c.NextBlock(c.Tx("p0", 100_000_000, 0, msgs...))[0]
	requireOK(t, cycles, "300 create/close cycles")
	records := 0
	if err := c.App.MarketKeeper.Bids.Walk(c.Ctx(), nil, func(uint64, markettypes.Bid) (bool, error) {
		records++
		return false, nil
	}); err != nil {
		t.Fatal(err)
	}
	if records != 0 {
		t.Fatalf("%d bid records left by 300 create/close cycles, want 0", records)
	}

	first := c.Deliver("p0", bidMsg("p0", 100))
	requireOK(t, first, "bid p0")
	second := c.Deliver("p1", bidMsg("p1", 100))
	requireOK(t, second, "bid p1")
	displacing := c.Deliver("p2", bidMsg("p2", 99))
	requireOK(t, displacing, "displacing bid p2")
	if got := eventUint(t, displacing, "crucible.market.v1.EventBidClosed", "displaced_by"); got != eventUint(t, displacing, "crucible.market.v1.EventBidCreated", "bid_id") {
		t.Fatalf("displaced_by %d", got)
	}
	if got := eventUint(t, displacing, "crucible.market.v1.EventBidClosed", "bid_id"); got != eventUint(t, second, "crucible.market.v1.EventBidCreated", "bid_id") {
		t.Fatalf("displaced bid %d, want p1's (the newest at the worst price)", got)
	}
	refused := c.Deliver("p1", bidMsg("p1", 100))
	if refused.Code != markettypes.ErrTooManyBids.ABCICode() {
		t.Fatalf("a bid that does not outrank the worst: code %d (%s)", refused.Code, refused.Log)
	}
	t.Logf("gas used: create-bid %d (book with room), %d (displacing on a full book of 2); 300 create/close cycles in one tx %d",
		second.GasUsed, displacing.GasUsed, cycles.GasUsed)
}
