package app_test

import (
	"testing"

	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	escrowtypes "github.com/crucible-network/crucible/x/escrow/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
)

// marketGas is the gas used by each of the market's hot transactions and by
// a plain bank send, delivered through the full ante chain.
type marketGas struct {
	Send, Order, Bid, Lease, Deposit, Withdraw, CloseLease int64
}

// measureMarketGas delivers a bank send, then create-order, create-bid,
// create-lease, deposit, withdraw and close-lease on a fresh market chain,
// one transaction per block, and returns the gas each used. Gas is
// deterministic: TestMarketTxGasVersusBankSend asserts on it and
// BenchmarkMarketTxGas (make bench) reports it.
func measureMarketGas(tb testing.TB) marketGas {
	tb.Helper()
	c := newMarketChain(tb)
	send := c.Deliver("t0", banktypes.NewMsgSend(c.Addr("t0"), c.Addr("t1"), sdk.NewCoins(coin(1))))
	requireOK(tb, send, "send")
	order := c.Deliver("t0", orderMsg(c.Addr("t0"), 2_000_000, 100, 50))
	requireOK(tb, order, "order")
	id := eventUint(tb, order, "crucible.market.v1.EventOrderCreated", "order_id")
	bid := c.Deliver("p0", &markettypes.MsgCreateBid{Provider: c.Addr("p0").String(), OrderId: id,
		Price: coin(90), Deposit: coin(500_000), GpuUuids: []string{"GPU-p0-0"}})
	requireOK(tb, bid, "bid")
	bidID := eventUint(tb, bid, "crucible.market.v1.EventBidCreated", "bid_id")
	lease := c.Deliver("t0", &markettypes.MsgCreateLease{Tenant: c.Addr("t0").String(), BidId: bidID})
	requireOK(tb, lease, "lease")
	deposit := c.Deliver("t0", &escrowtypes.MsgDeposit{Depositor: c.Addr("t0").String(), Id: id, Amount: coin(10_000)})
	requireOK(tb, deposit, "deposit")
	withdraw := c.Deliver("p0", &escrowtypes.MsgWithdraw{Provider: c.Addr("p0").String(), Id: id})
	requireOK(tb, withdraw, "withdraw")
	closeLease := c.Deliver("t0", &markettypes.MsgCloseLease{Sender: c.Addr("t0").String(), LeaseId: id})
	requireOK(tb, closeLease, "close lease")
	return marketGas{Send: send.GasUsed, Order: order.GasUsed, Bid: bid.GasUsed, Lease: lease.GasUsed,
		Deposit: deposit.GasUsed, Withdraw: withdraw.GasUsed, CloseLease: closeLease.GasUsed}
}

// TestMarketTxGasVersusBankSend measures the gas of the market's hot
// transactions against a plain bank send through the full ante chain. Gas is
// deterministic, so the target (a bid or a lease costs at most 1.5x a
// bank send) is asserted here; bench reports the same figures.
func TestMarketTxGasVersusBankSend(t *testing.T) {
	g := measureMarketGas(t)
	t.Logf("gas used: bank send %d, create-order %d, create-bid %d (%.2fx), create-lease %d (%.2fx)",
		g.Send, g.Order, g.Bid, float64(g.Bid)/float64(g.Send),
		g.Lease, float64(g.Lease)/float64(g.Send))
	t.Logf("gas used: deposit %d, withdraw %d, close-lease %d", g.Deposit, g.Withdraw, g.CloseLease)
	for name, gas := range map[string]int64{"bid": g.Bid, "lease": g.Lease} {
		if 2*gas > 3*g.Send {
			t.Errorf("%s used %d gas, more than 1.5x a bank send (%d)", name, gas, g.Send)
		}
	}
}
