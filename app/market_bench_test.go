package app_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/crucible-network/crucible/app"
	"github.com/crucible-network/crucible/testutil/apptest"
	"github.com/crucible-network/crucible/testutil/network"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	providerkeeper "github.com/crucible-network/crucible/x/provider/keeper"
	providertypes "github.com/crucible-network/crucible/x/provider/types"

	markettypes "github.com/crucible-network/crucible/x/market/types"
)

// BenchmarkMarketTxGas reports the gas of the market's hot transactions
// (the same deliveries as TestMarketTxGasVersusBankSend) as metrics, with
// the bid and lease as multiples of a bank send. Gas is deterministic, so
// -benchtime 1x is enough.
func BenchmarkMarketTxGas(b *testing.B) {
	var g marketGas
	for i := 0; i < b.N; i++ {
		g = measureMarketGas(b)
	}
	for _, m := range []struct {
		name string
		gas  int64
	}{{"send", g.Send}, {"order", g.Order}, {"bid", g.Bid}, {"lease", g.Lease},
		{"deposit", g.Deposit}, {"withdraw", g.Withdraw}, {"close", g.CloseLease}} {
		b.ReportMetric(float64(m.gas), "gas/"+m.name)
	}
	b.ReportMetric(float64(g.Bid)/float64(g.Send), "bid/send")
	b.ReportMetric(float64(g.Lease)/float64(g.Send), "lease/send")
}

// throughputTxs is the number of transactions in each measured block.
const throughputTxs = 200

// newThroughputChain is a chain with a tenant, a bank sender and receiver,
// and one provider ("prov") registered with n H100s (provider params'
// max_gpus raised to n), so that n leases can be open at once. Challenges
// are off, as in the market tests.
func newThroughputChain(tb testing.TB, n int) *apptest.Chain {
	tb.Helper()
	opts := network.DefaultOptions(tb.TempDir())
	opts.GenesisMutator = func(cdc codec.Codec, state map[string]json.RawMessage) error {
		var g attesttypes.GenesisState
		if err := cdc.UnmarshalJSON(state[attesttypes.ModuleName], &g); err != nil {
			return err
		}
		g.Params.ChallengeRateBps = 0
		bz, err := cdc.MarshalJSON(&g)
		state[attesttypes.ModuleName] = bz
		return err
	}
	tokens := sdk.NewCoins(sdk.NewCoin(app.BondDenom, sdkmath.NewInt(1_000_000_000_000_000)))
	opts.Accounts = nil
	for _, name := range []string{"tenant", "prov", "sender", "recv"} {
		opts.Accounts = append(opts.Accounts, network.Account{Name: name, Coins: tokens})
	}
	c := apptest.New(tb, opts)

	base := c.App.NewUncachedContext(false, cmtproto.Header{ChainID: c.ChainID, Height: c.Height + 1, Time: c.Time})
	ctx, write := base.CacheContext()
	pp, err := c.App.ProviderKeeper.GetParams(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	pp.MaxGpus = uint32(n)
	if err := c.App.ProviderKeeper.SetParams(ctx, pp); err != nil {
		tb.Fatal(err)
	}
	gpus := make([]providertypes.GPU, n)
	for g := range gpus {
		gpus[g] = providertypes.GPU{Uuid: fmt.Sprintf("GPU-%d", g), Model: "NVIDIA H100 80GB HBM3", Class: "h100", MemoryMib: 81559}
	}
	if _, err := providerkeeper.NewMsgServerImpl(c.App.ProviderKeeper).RegisterProvider(ctx, &providertypes.MsgRegisterProvider{
		Owner: c.Addr("prov").String(), HostUri: "https://prov.example:8443", Region: "eu-west", Tier: "datacenter",
		Gpus: gpus, Bond: pp.MinBond}); err != nil {
		tb.Fatal(err)
	}
	write()
	c.NextBlock()
	return c
}

// deliverAll delivers txs in one block and fails unless every one succeeds;
// it returns the time FinalizeBlock + Commit took.
func deliverAll(tb testing.TB, c *apptest.Chain, what string, txs [][]byte) ([]*abci.ExecTxResult, time.Duration) {
	tb.Helper()
	start := time.Now()
	res := c.NextBlock(txs...)
	el := time.Since(start)
	if len(res) != len(txs) {
		tb.Fatalf("%s: %d results for %d txs", what, len(res), len(txs))
	}
	for i, r := range res {
		requireOK(tb, r, fmt.Sprintf("%s %d", what, i))
	}
	return res, el
}

// BenchmarkMarketThroughput delivers, in each round, one block of
// throughputTxs bank sends, one block of as many create-bid (one per open
// order, each on its own GPU) and one block of as many create-lease, all
// real signed transactions through the ante handler, FinalizeBlock and
// Commit. Signing, the orders the bids go to and closing the leases
// afterwards (so the GPUs are free for the next round) are not timed. It
// reports transactions per second for each kind and the ratio to bank sends.
func BenchmarkMarketThroughput(b *testing.B) {
	const n = throughputTxs
	c := newThroughputChain(b, n)
	tenant, prov, sender, recv := c.Addr("tenant"), c.Addr("prov"), c.Addr("sender"), c.Addr("recv")
	mp, err := c.App.MarketKeeper.GetParams(c.Ctx())
	if err != nil {
		b.Fatal(err)
	}
	const gas = 400_000
	sign := func(name string, msgs func(i int) sdk.Msg) [][]byte {
		txs := make([][]byte, n)
		for i := range txs {
			txs[i] = c.Tx(name, gas, 0, msgs(i))
		}
		return txs
	}
	var tSend, tBid, tLease time.Duration
	b.ResetTimer()
	b.StopTimer()
	for round := 0; round < b.N; round++ {
		orders, _ := deliverAll(b, c, "order", sign("tenant", func(int) sdk.Msg {
			return orderMsg(tenant, 2_000_000, 100, 50)
		}))
		orderIDs := make([]uint64, n)
		for i, r := range orders {
			orderIDs[i] = eventUint(b, r, "crucible.market.v1.EventOrderCreated", "order_id")
		}

		sends := sign("sender", func(int) sdk.Msg {
			return banktypes.NewMsgSend(sender, recv, sdk.NewCoins(coin(1)))
		})
		b.StartTimer()
		_, el := deliverAll(b, c, "send", sends)
		b.StopTimer()
		tSend += el

		bids := sign("prov", func(i int) sdk.Msg {
			return &markettypes.MsgCreateBid{Provider: prov.String(), OrderId: orderIDs[i],
				Price: coin(90), Deposit: mp.MinBidDeposit, GpuUuids: []string{fmt.Sprintf("GPU-%d", i)}}
		})
		b.StartTimer()
		bidRes, el := deliverAll(b, c, "bid", bids)
		b.StopTimer()
		tBid += el
		bidIDs := make([]uint64, n)
		for i, r := range bidRes {
			bidIDs[i] = eventUint(b, r, "crucible.market.v1.EventBidCreated", "bid_id")
		}

		leases := sign("tenant", func(i int) sdk.Msg {
			return &markettypes.MsgCreateLease{Tenant: tenant.String(), BidId: bidIDs[i]}
		})
		b.StartTimer()
		_, el = deliverAll(b, c, "lease", leases)
		b.StopTimer()
		tLease += el

		// Lease ids are order ids.
		deliverAll(b, c, "close", sign("tenant", func(i int) sdk.Msg {
			return &markettypes.MsgCloseLease{Sender: tenant.String(), LeaseId: orderIDs[i]}
		}))
	}
	txs := float64(n) * float64(b.N)
	send, bid, lease := txs/tSend.Seconds(), txs/tBid.Seconds(), txs/tLease.Seconds()
	b.ReportMetric(send, "send-tx/s")
	b.ReportMetric(bid, "bid-tx/s")
	b.ReportMetric(lease, "lease-tx/s")
	b.ReportMetric(bid/send, "bid/send")
	b.ReportMetric(lease/send, "lease/send")
	b.ReportMetric(n, "txs/block")
}
