package app_test

import (
	"testing"

	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	escrowtypes "github.com/crucible-network/crucible/x/escrow/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
)

// TestMarketTxGasVersusBankSend measures the gas of the market's hot
// transactions against a plain bank send through the full ante chain. Gas is
// deterministic, so the target (a bid or a lease costs at most 1.5x a
// bank send) is asserted here; bench reports the same figures.
func TestMarketTxGasVersusBankSend(t *testing.T) {
	c := newMarketChain(t)
	send := c.Deliver("t0", banktypes.NewMsgSend(c.Addr("t0"), c.Addr("t1"), sdk.NewCoins(coin(1))))
	requireOK(t, send, "send")
	order := c.Deliver("t0", orderMsg(c.Addr("t0"), 2_000_000, 100, 50))
	requireOK(t, order, "order")
	id := eventUint(t, order, "crucible.market.v1.EventOrderCreated", "order_id")
	bid := c.Deliver("p0", &markettypes.MsgCreateBid{Provider: c.Addr("p0").String(), OrderId: id,
		Price: coin(90), Deposit: coin(500_000), GpuUuids: []string{"GPU-p0-0"}})
	requireOK(t, bid, "bid")
	bidID := eventUint(t, bid, "crucible.market.v1.EventBidCreated", "bid_id")
	lease := c.Deliver("t0", &markettypes.MsgCreateLease{Tenant: c.Addr("t0").String(), BidId: bidID})
	requireOK(t, lease, "lease")
	deposit := c.Deliver("t0", &escrowtypes.MsgDeposit{Depositor: c.Addr("t0").String(), Id: id, Amount: coin(10_000)})
	requireOK(t, deposit, "deposit")
	withdraw := c.Deliver("p0", &escrowtypes.MsgWithdraw{Provider: c.Addr("p0").String(), Id: id})
	requireOK(t, withdraw, "withdraw")
	closeLease := c.Deliver("t0", &markettypes.MsgCloseLease{Sender: c.Addr("t0").String(), LeaseId: id})
	requireOK(t, closeLease, "close lease")

	t.Logf("gas used: bank send %d, create-order %d, create-bid %d (%.2fx), create-lease %d (%.2fx)",
		send.GasUsed, order.GasUsed, bid.GasUsed, float64(bid.GasUsed)/float64(send.GasUsed),
		lease.GasUsed, float64(lease.GasUsed)/float64(send.GasUsed))
	t.Logf("gas used: deposit %d, withdraw %d, close-lease %d", deposit.GasUsed, withdraw.GasUsed, closeLease.GasUsed)
	for name, g := range map[string]int64{"bid": bid.GasUsed, "lease": lease.GasUsed} {
		if 2*g > 3*send.GasUsed {
			t.Errorf("%s used %d gas, more than 1.5x a bank send (%d)", name, g, send.GasUsed)
		}
	}
}
