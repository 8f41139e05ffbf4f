package bidengine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/sidecar/bidengine"
	"github.com/crucible-network/crucible/sidecar/chain"
	"github.com/crucible-network/crucible/sidecar/metrics"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// fakeChain serves a fixed catch-up state and then the events pushed to it.
type fakeChain struct {
	state  chain.State
	events chan chain.Event
}

func (f *fakeChain) CatchUp(context.Context, string) (chain.State, error) { return f.state, nil }
func (f *fakeChain) GetProvider(context.Context, int64, string) (providertypes.Provider, error) {
	return f.state.Provider, nil
}

func (f *fakeChain) Follow(ctx context.Context, _ int64, out chan<- chain.Event) error {
	for {
		select {
		case e := <-f.events:
			select {
			case out <- e:
			case <-ctx.Done():
				return ctx.Err()
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// fakeTx records the messages and answers every submit with a response
// that carries no events.
type fakeTx struct {
	actor string
	mu    sync.Mutex
	msgs  []sdk.Msg
}

func (f *fakeTx) Actor() string { return f.actor }
func (f *fakeTx) Submit(_ context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, msgs...)
	return &sdk.TxResponse{Height: 1}, nil
}

func (f *fakeTx) sent() []sdk.Msg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sdk.Msg(nil), f.msgs...)
}

// TestEngineWithoutChain runs the engine on a fake chain (no node, so it
// also runs with -short): a bid found at catch-up keeps its GPU busy; an
// open bid on an order that is no longer open is withdrawn; a freed GPU goes
// to exactly one of two matching orders.
func TestEngineWithoutChain(t *testing.T) {
	const provider = "cru1ekwssejqkk5ep34vd4nxfxa7typfk4s2rcvpmg"
	inv := simInventory(t, "fake", 2)
	gpu0, gpu1 := "GPU-sim-fake-0", "GPU-sim-fake-1"
	prov := providertypes.Provider{Owner: provider, Status: providertypes.ProviderStatusActive, Reputation: 5000,
		Gpus: []providertypes.GPU{
			{Uuid: gpu0, Model: h100, Class: "h100", MemoryMib: 81559},
			{Uuid: gpu1, Model: h100, Class: "h100", MemoryMib: 81559},
		}}
	order := func(id uint64, max int64) markettypes.Order {
		return markettypes.Order{Id: id, Spec: markettypes.OrderSpec{Gpu: markettypes.GPUSpec{Class: "h100", Count: 1}},
			MaxPricePerBlock: sdk.NewInt64Coin("ucru", max), State: markettypes.OrderStateOpen, ExpiresHeight: 1000}
	}
	fc := &fakeChain{events: make(chan chain.Event, 16), state: chain.State{
		Height: 10, Provider: prov, Registered: true,
		OpenOrders: []markettypes.Order{order(1, 2000)},
		OpenBids: []markettypes.Bid{
			{Id: 7, OrderId: 1, Provider: provider, GpuUuids: []string{gpu0}, State: markettypes.BidStateOpen},
			{Id: 8, OrderId: 99, Provider: provider, GpuUuids: []string{gpu1}, State: markettypes.BidStateOpen}, // order 99 is gone
		},
	}}
	tx := &fakeTx{actor: provider}
	e, err := bidengine.New(bidengine.Config{Provider: provider, Bid: bidConfig(), TxTimeoutBlocks: 1}, fc, tx, inv, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	// Block 11: two new matching orders, no free GPU. Bid 8 (on the
	// vanished order 99) is withdrawn; its GPU stays reserved until the
	// chain says the bid is closed.
	fc.events <- chain.OrderCreated{Height: 11, Order: order(2, 2000)}
	fc.events <- chain.OrderCreated{Height: 11, Order: order(3, 2000)}
	fc.events <- chain.BlockDone{Height: 11}
	waitFor(t, 5*time.Second, "withdrawal", func() bool { return len(tx.sent()) >= 1 })
	time.Sleep(100 * time.Millisecond)
	msgs := tx.sent()
	if len(msgs) != 1 {
		t.Fatalf("sent %v, want only the withdrawal of bid 8", msgs)
	}
	if cb, ok := msgs[0].(*markettypes.MsgCloseBid); !ok || cb.BidId != 8 || cb.Provider != provider {
		t.Fatalf("sent %v", msgs[0])
	}

	// Block 12: the chain confirms the withdrawal; gpu1 is free and goes to
	// the oldest order without a bid (2), and never also to order 3, even
	// though the tx response carried no BidCreated event.
	fc.events <- chain.BidClosed{Height: 12, BidID: 8, OrderID: 99, Provider: provider, State: markettypes.BidStateWithdrawn}
	fc.events <- chain.BlockDone{Height: 12}
	waitFor(t, 5*time.Second, "bid", func() bool { return len(tx.sent()) >= 2 })
	fc.events <- chain.BlockDone{Height: 13}
	fc.events <- chain.BlockDone{Height: 14}
	time.Sleep(200 * time.Millisecond)
	msgs = tx.sent()
	if len(msgs) != 2 {
		t.Fatalf("sent %v, want one bid", msgs)
	}
	bid, ok := msgs[1].(*markettypes.MsgCreateBid)
	if !ok || bid.OrderId != 2 || len(bid.GpuUuids) != 1 || bid.GpuUuids[0] != gpu1 || bid.Price.Amount.Int64() != 1050 {
		t.Fatalf("bid %v", msgs[1])
	}

	// The tenant cancels order 2: the reserved GPU is free for order 3.
	fc.events <- chain.OrderCancelled{Height: 15, OrderID: 2}
	fc.events <- chain.BlockDone{Height: 15}
	waitFor(t, 5*time.Second, "bid on order 3", func() bool { return len(tx.sent()) >= 3 })
	if bid, ok := tx.sent()[2].(*markettypes.MsgCreateBid); !ok || bid.OrderId != 3 || bid.GpuUuids[0] != gpu1 {
		t.Fatalf("third message %v", tx.sent()[2])
	}
}

// lateTx is a fakeTx whose bids are confirmed only once release is closed,
// each with the BidCreated event the chain emits (bid id 5): a bid whose
// Submit returns after the follower has moved past its block.
type lateTx struct {
	fakeTx
	release chan struct{}
}

func (l *lateTx) Submit(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
	res, err := l.fakeTx.Submit(ctx, msgs...)
	for _, m := range msgs {
		b, ok := m.(*markettypes.MsgCreateBid)
		if !ok {
			continue
		}
		select {
		case <-l.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		ev, err := sdk.TypedEventToEvent(&markettypes.EventBidCreated{
			BidId: 5, OrderId: b.OrderId, Provider: b.Provider, Price: b.Price, GpuUuids: b.GpuUuids,
		})
		if err != nil {
			return nil, err
		}
		return &sdk.TxResponse{Height: 12, Events: []abci.Event{abci.Event(ev)}}, nil
	}
	return res, err
}

// A bid confirmed after its order was cancelled (and the chain closed the
// bid) is not taken for an open bid: the engine does not try to withdraw
// it, and its GPU is free for the next order.
func TestEngineDropsBidConfirmedAfterItsOrderClosed(t *testing.T) {
	const provider = "cru1ekwssejqkk5ep34vd4nxfxa7typfk4s2rcvpmg"
	gpu := "GPU-sim-late-0"
	prov := providertypes.Provider{Owner: provider, Status: providertypes.ProviderStatusActive, Reputation: 5000,
		Gpus: []providertypes.GPU{{Uuid: gpu, Model: h100, Class: "h100", MemoryMib: 81559}}}
	order := func(id uint64) markettypes.Order {
		return markettypes.Order{Id: id, Spec: markettypes.OrderSpec{Gpu: markettypes.GPUSpec{Class: "h100", Count: 1}},
			MaxPricePerBlock: sdk.NewInt64Coin("ucru", 2000), State: markettypes.OrderStateOpen, ExpiresHeight: 1000}
	}
	fc := &fakeChain{events: make(chan chain.Event, 16), state: chain.State{
		Height: 10, Provider: prov, Registered: true, OpenOrders: []markettypes.Order{order(1)},
	}}
	tx := &lateTx{fakeTx: fakeTx{actor: provider}, release: make(chan struct{})}
	m := metrics.New()
	e, err := bidengine.New(bidengine.Config{Provider: provider, Bid: bidConfig(), TxTimeoutBlocks: 3}, fc, tx, simInventory(t, "late", 1), m, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	block := func(h int64, evs ...chain.Event) {
		t.Helper()
		for _, ev := range evs {
			fc.events <- ev
		}
		fc.events <- chain.BlockDone{Height: chain.Height(h)}
		waitFor(t, 5*time.Second, fmt.Sprintf("block %d processed", h), func() bool { return e.LastHeight() == h })
	}

	// Past the restart hold (3 blocks) the engine bids on order 1; its tx hangs.
	block(11)
	block(12)
	block(13)
	waitFor(t, 5*time.Second, "the bid on order 1", func() bool { return len(tx.sent()) == 1 })
	// The follower sees the bid land, then the tenant cancel the order
	// (the chain marks the bid LOST), before the bid's Submit returns.
	block(14, chain.BidCreated{Height: 14, Bid: markettypes.Bid{Id: 5, OrderId: 1, Provider: provider, GpuUuids: []string{gpu}}})
	block(15, chain.OrderCancelled{Height: 15, OrderID: 1},
		chain.BidClosed{Height: 15, BidID: 5, OrderID: 1, Provider: provider, State: markettypes.BidStateLost})
	close(tx.release)
	waitFor(t, 5*time.Second, "the bid's result", func() bool { return counter(t, m.BidsPlaced) == 1 })

	// Order 2 gets the GPU; bid 5 is never withdrawn.
	block(16, chain.OrderCreated{Height: 16, Order: order(2)})
	waitFor(t, 5*time.Second, "a second message", func() bool { return len(tx.sent()) >= 2 })
	block(17)
	time.Sleep(100 * time.Millisecond)
	msgs := tx.sent()
	if len(msgs) != 2 {
		t.Fatalf("sent %v, want the bids on orders 1 and 2 only", msgs)
	}
	if b, ok := msgs[1].(*markettypes.MsgCreateBid); !ok || b.OrderId != 2 || len(b.GpuUuids) != 1 || b.GpuUuids[0] != gpu {
		t.Fatalf("second message %v, want a bid on order 2 with %s", msgs[1], gpu)
	}
}

// TestEngineBidsOnlyClassesItCanProve: GPUs of a class the prover cannot
// answer in time (CanBidClass) are never bid, and an order asking for GPUs
// verified recently is bid only with such GPUs.
func TestEngineBidsOnlyClassesItCanProve(t *testing.T) {
	const provider = "cru1ekwssejqkk5ep34vd4nxfxa7typfk4s2rcvpmg"
	inv := simInventory(t, "gate", 2)
	gpu0, gpu1 := "GPU-sim-gate-0", "GPU-sim-gate-1"
	prov := providertypes.Provider{Owner: provider, Status: providertypes.ProviderStatusActive, Reputation: 5000,
		Gpus: []providertypes.GPU{
			{Uuid: gpu0, Model: h100, Class: "h100", MemoryMib: 81559, VerifiedHeight: 5},
			{Uuid: gpu1, Model: h100, Class: "h100", MemoryMib: 81559},
		}}
	order := func(id uint64, within uint64) markettypes.Order {
		return markettypes.Order{Id: id, Spec: markettypes.OrderSpec{Gpu: markettypes.GPUSpec{Class: "h100", Count: 1}, VerifiedWithinBlocks: within},
			MaxPricePerBlock: sdk.NewInt64Coin("ucru", 2000), State: markettypes.OrderStateOpen, ExpiresHeight: 1000}
	}
	run := func(canBid func(string) bool, o markettypes.Order) []sdk.Msg {
		fc := &fakeChain{events: make(chan chain.Event, 16), state: chain.State{Height: 10, Provider: prov, Registered: true}}
		tx := &fakeTx{actor: provider}
		e, err := bidengine.New(bidengine.Config{Provider: provider, Bid: bidConfig(), CanBidClass: canBid, TxTimeoutBlocks: 1}, fc, tx, inv, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		fc.events <- chain.OrderCreated{Height: 11, Order: o}
		fc.events <- chain.BlockDone{Height: 11}
		fc.events <- chain.BlockDone{Height: 12}
		time.Sleep(300 * time.Millisecond)
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		return tx.sent()
	}
	if msgs := run(func(c string) bool { return c != "h100" }, order(1, 0)); len(msgs) != 0 {
		t.Fatalf("bid a class the prover cannot answer in time: %v", msgs)
	}
	msgs := run(nil, order(2, 100))
	if len(msgs) != 1 {
		t.Fatalf("sent %v, want one bid", msgs)
	}
	if bid := msgs[0].(*markettypes.MsgCreateBid); bid.GpuUuids[0] != gpu0 {
		t.Fatalf("bid %v: only %s was verified within 100 blocks", bid, gpu0)
	}
	if msgs := run(nil, order(3, 1)); len(msgs) != 0 {
		t.Fatalf("bid GPUs not verified within 1 block: %v", msgs)
	}
}
