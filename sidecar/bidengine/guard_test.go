package bidengine_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/sidecar/bidengine"
	"github.com/crucible-network/crucible/sidecar/chain"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

const guardProvider = "cru1ekwssejqkk5ep34vd4nxfxa7typfk4s2rcvpmg"

// guardWorld is a provider with n simulated H100s on a fake chain at height
// 10 with the given open orders and bids.
func guardWorld(t *testing.T, prefix string, n int, orders []markettypes.Order, bids []markettypes.Bid) (*fakeChain, providertypes.Provider) {
	t.Helper()
	prov := providertypes.Provider{Owner: guardProvider, Status: providertypes.ProviderStatusActive, Reputation: 5000}
	for i := range n {
		prov.Gpus = append(prov.Gpus, providertypes.GPU{Uuid: fmt.Sprintf("GPU-sim-%s-%d", prefix, i), Model: h100, Class: "h100", MemoryMib: 81559})
	}
	return &fakeChain{events: make(chan chain.Event, 64), state: chain.State{
		Height: 10, Provider: prov, Registered: true, OpenOrders: orders, OpenBids: bids,
	}}, prov
}

func tenantOrder(id uint64, tenant string) markettypes.Order {
	return markettypes.Order{Id: id, Tenant: tenant, Spec: markettypes.OrderSpec{Gpu: markettypes.GPUSpec{Class: "h100", Count: 1}},
		MaxPricePerBlock: sdk.NewInt64Coin("ucru", 2000), State: markettypes.OrderStateOpen, ExpiresHeight: 1000}
}

// runEngine starts e and returns a function that feeds one block (events,
// then BlockDone) and waits until the engine has processed it.
func runEngine(t *testing.T, e *bidengine.Engine, fc *fakeChain) func(h int64, evs ...chain.Event) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	waitFor(t, 5*time.Second, "catch-up", func() bool { return e.LastHeight() == 10 })
	return func(h int64, evs ...chain.Event) {
		t.Helper()
		for _, ev := range evs {
			fc.events <- ev
		}
		fc.events <- chain.BlockDone{Height: chain.Height(h)}
		waitFor(t, 5*time.Second, fmt.Sprintf("block %d processed", h), func() bool { return e.LastHeight() == h })
		time.Sleep(50 * time.Millisecond) // let the tx goroutines report
	}
}

func bidsSent(tx interface{ sent() []sdk.Msg }) []*markettypes.MsgCreateBid {
	var out []*markettypes.MsgCreateBid
	for _, m := range tx.sent() {
		if b, ok := m.(*markettypes.MsgCreateBid); ok {
			out = append(out, b)
		}
	}
	return out
}

// TestEngineCapsOneTenantsShare reproduces the sidecar half of issue 15
// item 2: a tenant who posts orders and never accepts held every GPU of
// every sidecar in open bids (the engine bids the oldest orders first and
// counts GPUs in open bids as busy). With bid.max_tenant_gpu_percent 50 the
// griefer's four older orders get two of the four GPUs, an honest tenant's
// later order still gets a bid, and when one of the griefer's orders ends,
// the griefer gets the freed share back, never more.
func TestEngineCapsOneTenantsShare(t *testing.T) {
	const griefer, honest = "cru1griefer", "cru1honest"
	var orders []markettypes.Order
	for id := uint64(1); id <= 4; id++ {
		orders = append(orders, tenantOrder(id, griefer))
	}
	fc, _ := guardWorld(t, "cap", 4, orders, nil)
	tx := &fakeTx{actor: guardProvider}
	cfg := bidConfig()
	cfg.MaxTenantGPUPercent = 50
	e, err := bidengine.New(bidengine.Config{Provider: guardProvider, Bid: cfg, TxTimeoutBlocks: 1}, fc, tx, simInventory(t, "cap", 4), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	block := runEngine(t, e, fc)

	block(11, chain.OrderCreated{Height: 11, Order: tenantOrder(5, honest)})
	block(12)
	perTenant := func() map[string][]uint64 {
		out := map[string][]uint64{}
		for _, b := range bidsSent(tx) {
			tenant := griefer
			if b.OrderId == 5 {
				tenant = honest
			}
			out[tenant] = append(out[tenant], b.OrderId)
		}
		for _, ids := range out {
			slices.Sort(ids) // each tx goes out on its own goroutine
		}
		return out
	}
	got := perTenant()
	if len(got[griefer]) != 2 || got[griefer][0] != 1 || got[griefer][1] != 2 {
		t.Fatalf("griefer's orders got bids %v, want orders 1 and 2 only (half of 4 GPUs)", got[griefer])
	}
	if len(got[honest]) != 1 {
		t.Fatalf("the honest tenant's order got bids %v, want one", got[honest])
	}

	// The griefer cancels order 1: its GPU goes back to the griefer's share
	// (order 3), still two GPUs in all; order 4 waits.
	block(13, chain.OrderCancelled{Height: 13, OrderID: 1})
	block(14)
	got = perTenant()
	if len(got[griefer]) != 3 || got[griefer][2] != 3 {
		t.Fatalf("griefer's orders got bids %v, want 1, 2 then 3", got[griefer])
	}
}

// TestEngineServesOneOrderLargerThanTheCap: the cap bounds what a tenant's
// further orders hold, not its first open bid, so an order for every GPU
// (more than max_tenant_gpu_percent of them) still gets a bid, and the same
// tenant's next order waits until that bid ends.
func TestEngineServesOneOrderLargerThanTheCap(t *testing.T) {
	big := tenantOrder(1, "cru1big")
	big.Spec.Gpu.Count = 4
	big.MaxPricePerBlock = sdk.NewInt64Coin("ucru", 10_000)
	fc, _ := guardWorld(t, "big", 4, []markettypes.Order{big}, nil)
	tx := &fakeTx{actor: guardProvider}
	cfg := bidConfig()
	cfg.MaxTenantGPUPercent = 50
	e, err := bidengine.New(bidengine.Config{Provider: guardProvider, Bid: cfg, TxTimeoutBlocks: 1}, fc, tx, simInventory(t, "big", 4), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	block := runEngine(t, e, fc)
	block(11, chain.OrderCreated{Height: 11, Order: tenantOrder(2, "cru1big")})
	block(12)
	bids := bidsSent(tx)
	if len(bids) != 1 || bids[0].OrderId != 1 || len(bids[0].GpuUuids) != 4 {
		t.Fatalf("bids %v, want one bid of 4 GPUs on order 1", bids)
	}
}

// TestEngineRestartHoldsUntilTxTimeout reproduces issue 15 item 10's engine
// half: a restarted engine waited a fixed grace (2 blocks, 0 as wired) for
// the bids its previous instance left in a mempool, so a bid stuck longer
// could put a GPU in two open bids. Every bid tx now carries a timeout
// height of at most the catch-up height + tx_timeout_blocks, and the engine
// bids nothing until the chain has passed it: the previous instance's bid,
// landing late (block 14 of 15), takes its GPU, and the engine's first bid
// uses another GPU.
func TestEngineRestartHoldsUntilTxTimeout(t *testing.T) {
	fc, prov := guardWorld(t, "hold", 2, []markettypes.Order{tenantOrder(1, "cru1a"), tenantOrder(2, "cru1b")}, nil)
	gpu0 := prov.Gpus[0].Uuid
	tx := &fakeTx{actor: guardProvider}
	e, err := bidengine.New(bidengine.Config{Provider: guardProvider, Bid: bidConfig(), TxTimeoutBlocks: 5}, fc, tx, simInventory(t, "hold", 2), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	block := runEngine(t, e, fc)
	for h := int64(11); h <= 13; h++ {
		block(h)
	}
	block(14, chain.BidCreated{Height: 14, Bid: markettypes.Bid{Id: 9, OrderId: 1, Provider: guardProvider, GpuUuids: []string{gpu0},
		State: markettypes.BidStateOpen}})
	if msgs := tx.sent(); len(msgs) != 0 {
		t.Fatalf("bid before the chain passed the previous instance's tx timeout (15): %v", msgs)
	}
	block(15)
	bids := bidsSent(tx)
	if len(bids) != 1 || bids[0].OrderId != 2 || bids[0].GpuUuids[0] == gpu0 {
		t.Fatalf("bids %v, want one on order 2 without %s (in the previous instance's bid 9)", bids, gpu0)
	}
}

// timeoutTx answers the first bid with a confirmation timeout whose tx has
// timeout height 14, and every later message like fakeTx.
type timeoutTx struct {
	fakeTx
	once sync.Once
}

func (f *timeoutTx) Submit(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
	res, err := f.fakeTx.Submit(ctx, msgs...)
	timedOut := false
	f.once.Do(func() { timedOut = true })
	if timedOut {
		return nil, &chain.TimeoutError{TxHash: "AB", After: time.Second, TimeoutHeight: 14}
	}
	return res, err
}

// TestEngineFreesAnExpiredUnconfirmedBid: a bid whose confirmation timed out
// keeps its GPU until the chain has passed the tx's timeout height without
// it (it could still land until then), and not for the order's whole life
// as before.
func TestEngineFreesAnExpiredUnconfirmedBid(t *testing.T) {
	fc, prov := guardWorld(t, "exp", 1, []markettypes.Order{tenantOrder(1, "cru1a"), tenantOrder(2, "cru1b")}, nil)
	tx := &timeoutTx{fakeTx: fakeTx{actor: guardProvider}}
	e, err := bidengine.New(bidengine.Config{Provider: guardProvider, Bid: bidConfig(), TxTimeoutBlocks: 1}, fc, tx, simInventory(t, "exp", 1), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	block := runEngine(t, e, fc)
	block(11)
	if bids := bidsSent(tx); len(bids) != 1 || bids[0].OrderId != 1 {
		t.Fatalf("bids %v, want one on order 1", bids)
	}
	for h := int64(12); h <= 13; h++ {
		block(h)
		if bids := bidsSent(tx); len(bids) != 1 {
			t.Fatalf("block %d: the unconfirmed bid's GPU was bid again before its timeout height: %v", h, bids)
		}
	}
	block(14)
	bids := bidsSent(tx)
	if len(bids) != 2 || bids[1].GpuUuids[0] != prov.Gpus[0].Uuid {
		t.Fatalf("bids %v, want the GPU bid again once the chain passed height 14", bids)
	}
}
