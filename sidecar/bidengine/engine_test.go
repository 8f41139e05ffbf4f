package bidengine_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/crucible-network/crucible/sidecar/bidengine"
	"github.com/crucible-network/crucible/sidecar/chain"
	"github.com/crucible-network/crucible/sidecar/chain/chaintest"
	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/sidecar/inventory"
	"github.com/crucible-network/crucible/sidecar/metrics"
	"github.com/crucible-network/crucible/testutil/network"
	markettypes "github.com/crucible-network/crucible/x/market/types"
)

func TestMain(m *testing.M) { chaintest.Main(m) }

const h100 = "NVIDIA H100 80GB HBM3"

func bidConfig() config.BidConfig {
	return config.BidConfig{
		Denom:   chaintest.Denom,
		Deposit: 500_000,                                                                  // the chain's minimum bid deposit
		Pricing: []config.PriceRule{{Model: "H100", PricePerBlock: 1000, MarkupBps: 500}}, // 1050 per GPU per block
		// No per-tenant cap: these tests' orders share one tenant
		// (TestEngineCapsOneTenantsShare tests the cap).
		MaxTenantGPUPercent: 100,
	}
}

// simInventory is a simulated host with count H100s named GPU-sim-<prefix>-<n>.
func simInventory(t *testing.T, prefix string, count uint32) *inventory.Sim {
	t.Helper()
	inv, err := inventory.NewSim(config.InventoryConfig{
		Backend: config.InventoryBackendSim,
		SimGPUs: []config.SimGPU{{Model: h100, MemoryMiB: 81559, Count: count, UUIDPrefix: prefix}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// leaseLog records what the engine hands to the lease runner.
type leaseLog struct {
	mu     sync.Mutex
	active map[uint64]markettypes.Lease
	closed map[uint64]markettypes.LeaseCloseReason
}

func newLeaseLog() *leaseLog {
	return &leaseLog{active: map[uint64]markettypes.Lease{}, closed: map[uint64]markettypes.LeaseCloseReason{}}
}

func (l *leaseLog) LeaseActive(lease markettypes.Lease, _ bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.active[lease.Id] = lease
}

func (l *leaseLog) LeaseClosed(id uint64, reason markettypes.LeaseCloseReason, _ int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed[id] = reason
}

func (l *leaseLog) get(id uint64) (markettypes.Lease, bool, markettypes.LeaseCloseReason, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, okA := l.active[id]
	r, okC := l.closed[id]
	return a, okA, r, okC
}

// running is one engine instance.
type running struct {
	engine *bidengine.Engine
	stop   func()
}

func startEngine(t *testing.T, c *chain.Client, tx bidengine.Submitter, provider string, inv inventory.Backend, m *metrics.Metrics, leases bidengine.LeaseHandler) *running {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e, err := bidengine.New(bidengine.Config{Provider: provider, Bid: bidConfig(), RetryBlocks: 3,
		TxTimeoutBlocks: int64(config.TestChainConfig().TxTimeoutBlocks)}, c, tx, inv, m, leases, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	var once sync.Once
	r := &running{engine: e, stop: func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("engine: %v", err)
			}
		})
	}}
	t.Cleanup(r.stop)
	// Ready: caught up and past the restart hold (the tx timeout).
	waitFor(t, 60*time.Second, "engine ready", func() bool { return e.LastHeight() > 0 })
	start := e.LastHeight()
	waitFor(t, 60*time.Second, "engine past the restart hold", func() bool {
		return e.LastHeight() >= start+int64(config.TestChainConfig().TxTimeoutBlocks)
	})
	return r
}

func counter(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitBlocks waits until n more blocks are committed.
func waitBlocks(t *testing.T, n *network.Network, blocks int64) {
	t.Helper()
	h, err := n.LatestHeight()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.WaitForHeight(h+blocks, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

func bidsOf(t *testing.T, c *chain.Client, orderID uint64, provider string, state markettypes.BidState) []markettypes.Bid {
	t.Helper()
	bids, err := c.Bids(context.Background(), 0, orderID, provider, state)
	if err != nil {
		t.Fatal(err)
	}
	return bids
}

// waitBid waits for the provider's OPEN bid on an order and returns it.
func waitBid(t *testing.T, c *chain.Client, order markettypes.Order, provider string) markettypes.Bid {
	t.Helper()
	var bid markettypes.Bid
	waitFor(t, 30*time.Second, "bid on order", func() bool {
		bids := bidsOf(t, c, order.Id, provider, markettypes.BidStateOpen)
		if len(bids) > 0 {
			bid = bids[0]
			return true
		}
		return false
	})
	return bid
}

// assertOneGPUOneBid checks that the provider has at most one OPEN bid in
// all and none on the given orders.
func assertOpenBids(t *testing.T, c *chain.Client, provider string, want int, none ...uint64) {
	t.Helper()
	open := bidsOf(t, c, 0, provider, markettypes.BidStateOpen)
	if len(open) != want {
		t.Fatalf("provider has %d open bids, want %d: %+v", len(open), want, open)
	}
	seen := map[string]uint64{}
	for _, b := range open {
		for _, u := range b.GpuUuids {
			if o, dup := seen[u]; dup {
				t.Fatalf("gpu %s offered in open bids on orders %d and %d", u, o, b.OrderId)
			}
			seen[u] = b.OrderId
		}
	}
	for _, id := range none {
		if bids := bidsOf(t, c, id, provider, markettypes.BidStateUnspecified); len(bids) != 0 {
			t.Fatalf("provider bid on order %d: %+v", id, bids)
		}
	}
}

func TestEngineBidsOnceRestartsAndHandsOverLeases(t *testing.T) {
	n := chaintest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := chaintest.Dial(t, n)
	tenant := chaintest.Signer(t, c, n, "alice", "")

	// A provider with one simulated H100, registered from its inventory.
	ownerAddr := chaintest.AddKey(t, c, n, "engine-owner", 5_000_000_000)
	owner := chaintest.Signer(t, c, n, "engine-owner", "")
	provider := ownerAddr.String()
	inv := simInventory(t, "engine", 1)
	snap, err := inv.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chaintest.RegisterProvider(ctx, owner, "us", bidengine.RegistrationGPUs(snap)); err != nil {
		t.Fatal(err)
	}
	gpu := snap.GPUs[0].UUID

	m := metrics.New()
	leases := newLeaseLog()
	e1 := startEngine(t, c, owner, provider, inv, m, leases)

	// No bid on a non-matching order nor on one whose max price is below ours.
	a100, err := chaintest.CreateOrder(ctx, tenant, chaintest.Spec("a100", 1), 5000)
	if err != nil {
		t.Fatal(err)
	}
	cheap, err := chaintest.CreateOrder(ctx, tenant, chaintest.Spec("h100", 1), 1049)
	if err != nil {
		t.Fatal(err)
	}
	twoGPUs, err := chaintest.CreateOrder(ctx, tenant, chaintest.Spec("h100", 2), 5000)
	if err != nil {
		t.Fatal(err)
	}
	waitBlocks(t, n, 4)
	assertOpenBids(t, c, provider, 0, a100.Id, cheap.Id, twoGPUs.Id)

	// A matching order gets a bid within a couple of blocks.
	first, err := chaintest.CreateOrder(ctx, tenant, chaintest.Spec("h100", 1), 2000)
	if err != nil {
		t.Fatal(err)
	}
	bid := waitBid(t, c, first, provider)
	latency := bid.CreatedHeight - first.CreatedHeight
	t.Logf("bid latency: order %d created at height %d, bid %d at height %d: %d block(s)",
		first.Id, first.CreatedHeight, bid.Id, bid.CreatedHeight, latency)
	if latency > 3 {
		t.Errorf("bid took %d blocks, want at most 3", latency)
	}
	if bid.Price.Amount.Int64() != 1050 || len(bid.GpuUuids) != 1 || bid.GpuUuids[0] != gpu || bid.Deposit.Amount.Int64() != 500_000 {
		t.Fatalf("bid %+v", bid)
	}
	waitFor(t, 30*time.Second, "bids placed metric", func() bool { return counter(t, m.BidsPlaced) == 1 })

	// Its only GPU is in that bid: a second matching order gets none.
	second, err := chaintest.CreateOrder(ctx, tenant, chaintest.Spec("h100", 1), 2000)
	if err != nil {
		t.Fatal(err)
	}
	waitBlocks(t, n, 4)
	assertOpenBids(t, c, provider, 1, second.Id)

	// Restart: a new engine rebuilds from the chain and does not bid again.
	e1.stop()
	e2 := startEngine(t, c, owner, provider, inv, m, leases)
	waitBlocks(t, n, 4)
	assertOpenBids(t, c, provider, 1, second.Id)
	if bids := bidsOf(t, c, first.Id, provider, markettypes.BidStateUnspecified); len(bids) != 1 {
		t.Fatalf("bids on order %d after restart: %+v", first.Id, bids)
	}

	// The tenant cancels the first order: the bid is LOST, the GPU free,
	// and the engine bids on the second order (not the cheap or A100 ones).
	if _, err := tenant.Submit(ctx, &markettypes.MsgCancelOrder{Tenant: tenant.Actor(), OrderId: first.Id}); err != nil {
		t.Fatal(err)
	}
	bid2 := waitBid(t, c, second, provider)
	assertOpenBids(t, c, provider, 1, a100.Id, cheap.Id, twoGPUs.Id)
	if lost := bidsOf(t, c, first.Id, provider, markettypes.BidStateLost); len(lost) != 1 {
		t.Fatalf("bid on the cancelled order: %+v", lost)
	}

	// The tenant accepts: the lease reaches the lease handler, the GPU is leased.
	if _, err := tenant.Submit(ctx, &markettypes.MsgCreateLease{Tenant: tenant.Actor(), BidId: bid2.Id}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "lease handed over", func() bool { _, ok, _, _ := leases.get(second.Id); return ok })
	lease, _, _, _ := leases.get(second.Id)
	if lease.Provider != provider || len(lease.GpuUuids) != 1 || lease.GpuUuids[0] != gpu || lease.Tenant != tenant.Actor() {
		t.Fatalf("lease %+v", lease)
	}
	if got := counter(t, m.BidsWon); got != 1 {
		t.Fatalf("bids won metric = %v, want 1", got)
	}
	third, err := chaintest.CreateOrder(ctx, tenant, chaintest.Spec("h100", 1), 2000)
	if err != nil {
		t.Fatal(err)
	}
	waitBlocks(t, n, 4)
	assertOpenBids(t, c, provider, 0, third.Id)

	// The lease closes: the handler hears of it and the GPU is bid again.
	if _, err := tenant.Submit(ctx, &markettypes.MsgCloseLease{Sender: tenant.Actor(), LeaseId: second.Id}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "lease close handed over", func() bool { _, _, _, ok := leases.get(second.Id); return ok })
	if _, _, reason, _ := leases.get(second.Id); reason != markettypes.LeaseCloseReasonTenant {
		t.Fatalf("close reason %s", reason)
	}
	waitBid(t, c, third, provider)
	assertOpenBids(t, c, provider, 1, a100.Id, cheap.Id, twoGPUs.Id)
	e2.stop()
	if err := chaintest.CancelOpenOrders(ctx, c, tenant); err != nil {
		t.Fatal(err)
	}
}

func TestEngineBidsThroughAuthzGrant(t *testing.T) {
	n := chaintest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := chaintest.Dial(t, n)
	tenant := chaintest.Signer(t, c, n, "alice", "")

	ownerAddr := chaintest.AddKey(t, c, n, "authz-owner", 5_000_000_000)
	owner := chaintest.Signer(t, c, n, "authz-owner", "")
	hotAddr := chaintest.AddKey(t, c, n, "authz-hot", 10_000_000) // fees only
	provider := ownerAddr.String()
	inv := simInventory(t, "authz", 2)
	snap, err := inv.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chaintest.RegisterProvider(ctx, owner, "authz-land", bidengine.RegistrationGPUs(snap)); err != nil {
		t.Fatal(err)
	}
	if err := chaintest.Grant(ctx, owner, hotAddr, chaintest.ProviderMsgTypes...); err != nil {
		t.Fatal(err)
	}
	hot := chaintest.Signer(t, c, n, "authz-hot", provider)
	if !hot.UsesAuthz() || hot.Actor() != provider {
		t.Fatalf("hot signer acts for %s (authz %v)", hot.Actor(), hot.UsesAuthz())
	}

	// Without the grant the engine refuses a signer acting for someone else.
	if _, err := bidengine.New(bidengine.Config{Provider: provider, Bid: bidConfig()}, c, chaintest.Signer(t, c, n, "authz-hot", ""), inv, nil, nil, nil); err == nil {
		t.Fatal("engine accepted a signer that does not act for the provider")
	}

	e := startEngine(t, c, hot, provider, inv, nil, nil)
	spec := chaintest.Spec("h100", 2)
	spec.Region = "authz-land"
	order, err := chaintest.CreateOrder(ctx, tenant, spec, 3000)
	if err != nil {
		t.Fatal(err)
	}
	bid := waitBid(t, c, order, provider)
	t.Logf("authz bid latency: %d block(s)", bid.CreatedHeight-order.CreatedHeight)
	if bid.Provider != provider || len(bid.GpuUuids) != 2 || bid.Price.Amount.Int64() != 2100 {
		t.Fatalf("bid %+v", bid)
	}
	e.stop()
}
