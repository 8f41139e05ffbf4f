package chain_test

import (
	"context"
	"errors"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/crucible-network/crucible/sidecar/chain"
	"github.com/crucible-network/crucible/sidecar/chain/chaintest"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

func TestMain(m *testing.M) { chaintest.Main(m) }

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func bankBalance(t *testing.T, c *chain.Client, addr sdk.AccAddress) int64 {
	t.Helper()
	res, err := banktypes.NewQueryClient(c.Conn()).Balance(context.Background(), &banktypes.QueryBalanceRequest{Address: addr.String(), Denom: chaintest.Denom})
	if err != nil {
		t.Fatal(err)
	}
	return res.Balance.Amount.Int64()
}

func TestSignerDeliversAndRecoversFromWrongSequence(t *testing.T) {
	n := chaintest.Require(t)
	ctx := ctxT(t, 2*time.Minute)
	c := chaintest.Dial(t, n)
	alice := chaintest.Signer(t, c, n, "alice", "")
	bob := chaintest.Address(t, c, n, "bob")

	before := bankBalance(t, c, bob)
	send := func(amount int64) *sdk.TxResponse {
		t.Helper()
		res, err := alice.Submit(ctx, banktypes.NewMsgSend(alice.Address(), bob, sdk.NewCoins(sdk.NewInt64Coin(chaintest.Denom, amount))))
		if err != nil {
			t.Fatalf("send %d: %v", amount, err)
		}
		if res.Code != 0 || res.Height == 0 {
			t.Fatalf("send %d: %+v", amount, res)
		}
		return res
	}
	res := send(1000)
	t.Logf("send included at height %d, gas wanted %d used %d", res.Height, res.GasWanted, res.GasUsed)
	if res.GasWanted <= res.GasUsed {
		t.Errorf("gas wanted %d should exceed gas used %d (adjustment 1.5)", res.GasWanted, res.GasUsed)
	}

	_, chainSeq, err := c.Account(ctx, alice.Address())
	if err != nil {
		t.Fatal(err)
	}
	if alice.Sequence() != chainSeq {
		t.Fatalf("signer sequence %d, chain %d", alice.Sequence(), chainSeq)
	}

	// Ahead of the chain (a tx it thought it sent never landed) and behind
	// it (another process used the key): both recover with one re-sign.
	for _, wrong := range []uint64{chainSeq + 7, chainSeq - 1} {
		alice.SetSequence(wrong)
		send(10)
		_, chainSeq, err = c.Account(ctx, alice.Address())
		if err != nil {
			t.Fatal(err)
		}
		if alice.Sequence() != chainSeq {
			t.Fatalf("after recovery: signer sequence %d, chain %d", alice.Sequence(), chainSeq)
		}
	}
	if got, want := bankBalance(t, c, bob)-before, int64(1020); got != want {
		t.Fatalf("bob received %d, want %d", got, want)
	}

	// Concurrent submits from one signer each get their own sequence.
	errc := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := alice.Submit(ctx, banktypes.NewMsgSend(alice.Address(), bob, sdk.NewCoins(sdk.NewInt64Coin(chaintest.Denom, 1))))
			errc <- err
		}()
	}
	for range 3 {
		if err := <-errc; err != nil {
			t.Fatalf("concurrent submit: %v", err)
		}
	}

	// A refused message is a typed error.
	_, err = alice.Submit(ctx, &markettypes.MsgCancelOrder{Tenant: alice.Actor(), OrderId: 999_999})
	var txErr *chain.TxError
	if !errors.As(err, &txErr) || txErr.Stage != chain.StageSimulate {
		t.Fatalf("cancel of a missing order: want a simulate *TxError, got %v", err)
	}
}

func TestCatchUpIsPinnedToOneHeight(t *testing.T) {
	n := chaintest.Require(t)
	ctx := ctxT(t, 2*time.Minute)
	c := chaintest.Dial(t, n)
	alice := chaintest.Signer(t, c, n, "alice", "")

	first, err := chaintest.CreateOrder(ctx, alice, chaintest.Spec("h100", 1), 5000)
	if err != nil {
		t.Fatal(err)
	}
	second, err := chaintest.CreateOrder(ctx, alice, chaintest.Spec("a100", 2), 5000)
	if err != nil {
		t.Fatal(err)
	}
	if second.CreatedHeight <= first.CreatedHeight {
		t.Fatalf("orders in heights %d and %d", first.CreatedHeight, second.CreatedHeight)
	}
	owner := chaintest.Address(t, c, n, "bob").String()

	at, err := c.CatchUpAt(ctx, first.CreatedHeight, owner)
	if err != nil {
		t.Fatal(err)
	}
	if !hasOrder(at.OpenOrders, first.Id) || hasOrder(at.OpenOrders, second.Id) {
		t.Fatalf("state at %d: open orders %v; want %d and not %d", at.Height, orderIDs(at.OpenOrders), first.Id, second.Id)
	}
	now, err := c.CatchUp(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	if now.Height < second.CreatedHeight || !hasOrder(now.OpenOrders, first.Id) || !hasOrder(now.OpenOrders, second.Id) {
		t.Fatalf("latest state at %d: open orders %v", now.Height, orderIDs(now.OpenOrders))
	}
	for _, o := range now.OpenOrders {
		if o.Id == second.Id && (o.Spec.Gpu.Class != "a100" || o.Spec.Gpu.Count != 2) {
			t.Fatalf("order %d spec %+v", o.Id, o.Spec)
		}
	}
}

func TestFollowDeliversTypedEvents(t *testing.T) {
	n := chaintest.Require(t)
	ctx := ctxT(t, 2*time.Minute)
	c := chaintest.Dial(t, n)
	alice := chaintest.Signer(t, c, n, "alice", "")
	ownerAddr := chaintest.AddKey(t, c, n, "follow-owner", 2_000_000_000)
	owner := chaintest.Signer(t, c, n, "follow-owner", "")

	start, err := c.LatestHeight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan chain.Event, 64)
	fctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Follow(fctx, start+1, events) }()

	order, err := chaintest.CreateOrder(ctx, alice, chaintest.Spec("h100", 1), 5000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Submit(ctx, &markettypes.MsgCancelOrder{Tenant: alice.Actor(), OrderId: order.Id}); err != nil {
		t.Fatal(err)
	}
	gpus := []providertypes.GPU{{Uuid: "GPU-follow-0", Model: "NVIDIA H100 80GB HBM3", Class: "h100", MemoryMib: 81559}}
	if _, err := chaintest.RegisterProvider(ctx, owner, "eu", gpus); err != nil {
		t.Fatal(err)
	}

	var created, cancelled, registered bool
	last := start
	for !(created && cancelled && registered) {
		select {
		case e := <-events:
			if e.EventHeight() < last {
				t.Fatalf("event %T at height %d after height %d", e, e.EventHeight(), last)
			}
			last = e.EventHeight()
			switch e := e.(type) {
			case chain.OrderCreated:
				if e.Order.Id == order.Id {
					created = e.Order.Spec.Gpu.Class == "h100" && e.Height.EventHeight() == order.CreatedHeight && e.Order.MaxPricePerBlock.Amount.Int64() == 5000
				}
			case chain.OrderCancelled:
				cancelled = cancelled || e.OrderID == order.Id
			case chain.ProviderChanged:
				registered = registered || e.Owner == ownerAddr.String()
			}
		case <-ctx.Done():
			t.Fatalf("events: created %v cancelled %v registered %v", created, cancelled, registered)
		}
	}
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("follow returned %v", err)
	}
}

func hasOrder(orders []markettypes.Order, id uint64) bool {
	for _, o := range orders {
		if o.Id == id {
			return true
		}
	}
	return false
}

func orderIDs(orders []markettypes.Order) []uint64 {
	ids := make([]uint64, len(orders))
	for i, o := range orders {
		ids[i] = o.Id
	}
	return ids
}

// Each height LatestHeight names is readable at once: its block results
// and its state (a pinned query). The check runs the moment a new height
// shows up, when a block the node has stored but not yet executed would be
// caught.
func TestLatestHeightIsReadable(t *testing.T) {
	n := chaintest.Require(t)
	ctx := ctxT(t, time.Minute)
	c := chaintest.Dial(t, n)
	start, err := c.LatestHeight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for last := start; last < start+6; time.Sleep(time.Millisecond) {
		h, err := c.LatestHeight(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h == last {
			continue
		}
		if _, err := c.BlockEvents(ctx, h); err != nil {
			t.Fatalf("latest height %d: %v", h, err)
		}
		if _, err := c.Orders(ctx, h, markettypes.OrderStateOpen); err != nil {
			t.Fatalf("latest height %d: %v", h, err)
		}
		last = h
	}
}

// A refused transaction leaves the signer's sequence alone, and a wrong
// sequence is corrected to the one the node expects, both while the
// signer's own transactions wait in the mempool (the account's committed
// sequence is behind them).
func TestSignerSequenceWithTxsInMempool(t *testing.T) {
	n := chaintest.Require(t)
	ctx := ctxT(t, time.Minute)
	c := chaintest.Dial(t, n)
	alice := chaintest.Signer(t, c, n, "alice", "")
	bob := chaintest.Address(t, c, n, "bob")
	send := banktypes.NewMsgSend(alice.Address(), bob, sdk.NewCoins(sdk.NewInt64Coin(chaintest.Denom, 1)))

	var hashes []string
	broadcast := func(what string) {
		t.Helper()
		h, err := alice.Broadcast(ctx, send)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		hashes = append(hashes, h)
	}
	broadcast("first send")
	seq := alice.Sequence()
	_, err := alice.Broadcast(ctx, &markettypes.MsgCancelOrder{Tenant: alice.Actor(), OrderId: 999_999})
	var txErr *chain.TxError
	if !errors.As(err, &txErr) || txErr.Stage != chain.StageSimulate {
		t.Fatalf("cancel of a missing order: want a simulate *TxError, got %v", err)
	}
	if alice.Sequence() != seq {
		t.Fatalf("sequence %d after a refused tx, want %d", alice.Sequence(), seq)
	}
	broadcast("send after a refused tx")
	alice.SetSequence(alice.Sequence() - 2)
	broadcast("send with a sequence behind the mempool")
	for _, h := range hashes {
		if _, err := alice.WaitForTx(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExpectedSequence(t *testing.T) {
	for msg, want := range map[string]uint64{
		"account sequence mismatch, expected 52, got 51: incorrect account sequence":                                                                                   52,
		"rpc error: code = Unknown desc = account sequence mismatch, expected 7, got 12: incorrect account sequence [x/auth/ante/sigverify.go:370] with gas used: '1'": 7,
		"incorrect account sequence": 0,
	} {
		got, ok := chain.ExpectedSequence(msg)
		if got != want || ok != (want != 0) {
			t.Errorf("%q: got %d %v, want %d", msg, got, ok, want)
		}
	}
}
