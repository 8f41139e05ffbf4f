package app_test

import (
	"crypto/sha256"
	"encoding/json"
	"testing"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/app"
	"github.com/crucible-network/crucible/testutil/apptest"
	"github.com/crucible-network/crucible/testutil/network"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	escrowtypes "github.com/crucible-network/crucible/x/escrow/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// leaseFixture: tenant t0 leases one GPU of provider p0 at price per block
// with deposit; attestRate sets x/attest's challenge rate (0 = none).
func leaseFixture(t *testing.T, attestRate uint32, price, deposit int64) (*apptest.Chain, uint64) {
	t.Helper()
	opts := network.DefaultOptions(t.TempDir())
	tokens := sdk.NewCoins(sdk.NewCoin(app.BondDenom, sdkmath.NewInt(1_000_000_000_000)))
	opts.Accounts = []network.Account{{Name: "t0", Coins: tokens}, {Name: "p0", Coins: tokens}}
	opts.GenesisMutator = func(cdc codec.Codec, state map[string]json.RawMessage) error {
		var g attesttypes.GenesisState
		if err := cdc.UnmarshalJSON(state[attesttypes.ModuleName], &g); err != nil {
			return err
		}
		g.Params.ChallengeRateBps = attestRate
		bz, err := cdc.MarshalJSON(&g)
		state[attesttypes.ModuleName] = bz
		return err
	}
	c := apptest.New(t, opts)
	requireOK(t, c.Deliver("p0", &providertypes.MsgRegisterProvider{
		Owner: c.Addr("p0").String(), HostUri: "https://p0.example:8443", Region: "eu-west",
		Gpus: []providertypes.GPU{{Uuid: "GPU-p0-0", Model: "NVIDIA H100 80GB HBM3", Class: "h100", MemoryMib: 81559}},
		Bond: coin(1_000_000_000),
	}), "register")
	h := sha256.Sum256([]byte("job"))
	order := c.Deliver("t0", &markettypes.MsgCreateOrder{Tenant: c.Addr("t0").String(),
		Spec:             markettypes.OrderSpec{Gpu: markettypes.GPUSpec{Class: "h100", Count: 1}, ManifestHash: h[:]},
		MaxPricePerBlock: coin(price), DurationBlocks: 10_000, Deposit: coin(deposit)})
	requireOK(t, order, "order")
	id := eventUint(t, order, "crucible.market.v1.EventOrderCreated", "order_id")
	bid := c.Deliver("p0", &markettypes.MsgCreateBid{Provider: c.Addr("p0").String(), OrderId: id,
		Price: coin(price), Deposit: coin(500_000), GpuUuids: []string{"GPU-p0-0"}})
	requireOK(t, bid, "bid")
	requireOK(t, c.Deliver("t0", &markettypes.MsgCreateLease{Tenant: c.Addr("t0").String(),
		BidId: eventUint(t, bid, "crucible.market.v1.EventBidCreated", "bid_id")}), "lease")
	return c, id
}

func lease(t *testing.T, c *apptest.Chain, id uint64) markettypes.Lease {
	t.Helper()
	l, err := c.App.MarketKeeper.GetLease(c.Ctx(), id)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// A tenant whose escrow runs dry sees the lease close by itself with reason
// INSUFFICIENT_FUNDS; the provider is paid exactly what the deposit covered
// and the remainder (less than one block) returns to the tenant.
func TestEscrowRunningDryClosesTheLease(t *testing.T) {
	const price, deposit = 100_000, 1_050_000 // 10 blocks and a 50,000 remainder
	c, id := leaseFixture(t, 0, price, deposit)
	t0Before := c.App.BankKeeper.GetBalance(c.Ctx(), c.Addr("t0"), app.BondDenom).Amount
	for i := 0; i < 15 && lease(t, c, id).State == markettypes.LeaseStateActive; i++ {
		c.NextBlock()
		checkReconciles(t, c)
	}
	l := lease(t, c, id)
	if l.State != markettypes.LeaseStateClosed || l.CloseReason != markettypes.LeaseCloseReasonInsufficientFunds {
		t.Fatalf("lease after the deposit ran out: state %s, reason %s", l.State, l.CloseReason)
	}
	acct, err := c.App.EscrowKeeper.GetAccount(c.Ctx(), id)
	if err != nil {
		t.Fatal(err)
	}
	if acct.State != escrowtypes.AccountStateClosed || !acct.TotalPaid.Amount.Equal(sdkmath.NewInt(10*price)) {
		t.Fatalf("escrow account: %+v", acct)
	}
	refund := c.App.BankKeeper.GetBalance(c.Ctx(), c.Addr("t0"), app.BondDenom).Amount.Sub(t0Before)
	if !refund.Equal(sdkmath.NewInt(deposit - 10*price)) {
		t.Fatalf("tenant got back %s, want the %d remainder", refund, deposit-10*price)
	}
}

// A provider that stops answering challenges misses commits, is jailed
// after max_missed in a row, and its lease closes with a refund.
func TestSilentProviderIsJailedAndTenantRefunded(t *testing.T) {
	c, id := leaseFixture(t, 10_000, 100, 2_000_000)
	params, err := c.App.AttestKeeper.GetParams(c.Ctx())
	if err != nil {
		t.Fatal(err)
	}
	limit := int64(params.MaxMissed+1) * int64(params.WindowBlocks) * 2
	for i := int64(0); i < limit && lease(t, c, id).State == markettypes.LeaseStateActive; i++ {
		c.NextBlock()
		checkReconciles(t, c)
	}
	l := lease(t, c, id)
	if l.State != markettypes.LeaseStateClosed || l.CloseReason != markettypes.LeaseCloseReasonProviderJailed {
		t.Fatalf("lease: state %s, reason %s", l.State, l.CloseReason)
	}
	p, err := c.App.ProviderKeeper.GetProvider(c.Ctx(), c.Addr("p0"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := c.App.AttestKeeper.GetRecord(c.Ctx(), c.Addr("p0"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != providertypes.ProviderStatusJailed || rec.Misses < uint64(params.MaxMissed) {
		t.Fatalf("provider %s, record %+v", p.Status, rec)
	}
	acct, _ := c.App.EscrowKeeper.GetAccount(c.Ctx(), id)
	if acct.State != escrowtypes.AccountStateClosed || !acct.Balance.IsZero() {
		t.Fatalf("escrow not refunded: %+v", acct)
	}
}

// A provider that commits but never reveals commits fraud: its bond is
// slashed by fraud_slash_bps exactly (burned), its GPU claims dropped, and
// its lease closed with a refund to the tenant.
func TestMissedRevealSlashesTheBond(t *testing.T) {
	c, id := leaseFixture(t, 10_000, 100, 2_000_000)
	params, _ := c.App.AttestKeeper.GetParams(c.Ctx())
	var ch attesttypes.Challenge
	for i := 0; i < int(params.WindowBlocks)+2 && ch.Id == 0; i++ {
		c.NextBlock()
		_ = c.App.AttestKeeper.Challenges.Walk(c.Ctx(), nil, func(_ uint64, x attesttypes.Challenge) (bool, error) {
			if x.State == attesttypes.ChallengeStatePendingCommit {
				ch = x
				return true, nil
			}
			return false, nil
		})
	}
	if ch.Id == 0 {
		t.Fatal("no challenge issued")
	}
	root := sha256.Sum256([]byte("a root the provider will never open"))
	requireOK(t, c.Deliver("p0", &attesttypes.MsgCommitProof{Provider: c.Addr("p0").String(), ChallengeId: ch.Id, Root: root[:]}), "commit")
	bondBefore := providerBond(t, c)
	for c.Height <= ch.RevealDeadline+1 {
		c.NextBlock()
		checkReconciles(t, c)
	}
	got, err := c.App.AttestKeeper.GetChallenge(c.Ctx(), ch.Id)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != attesttypes.ChallengeStateMissedReveal {
		t.Fatalf("challenge state %s, want missed reveal", got.State)
	}
	wantSlash := bondBefore.MulRaw(int64(params.FraudSlashBps)).QuoRaw(10_000)
	if after := providerBond(t, c); !after.Equal(bondBefore.Sub(wantSlash)) {
		t.Fatalf("bond %s -> %s, want %s slashed", bondBefore, after, wantSlash)
	}
	p, _ := c.App.ProviderKeeper.GetProvider(c.Ctx(), c.Addr("p0"))
	if len(p.Gpus) != 0 {
		t.Fatalf("GPU claims not dropped: %+v", p.Gpus)
	}
	l := lease(t, c, id)
	if l.State != markettypes.LeaseStateClosed || l.CloseReason != markettypes.LeaseCloseReasonProviderSlashed {
		t.Fatalf("lease: state %s, reason %s", l.State, l.CloseReason)
	}
	acct, _ := c.App.EscrowKeeper.GetAccount(c.Ctx(), id)
	if acct.State != escrowtypes.AccountStateClosed || !acct.Balance.IsZero() {
		t.Fatalf("escrow not refunded: %+v", acct)
	}
}

func providerBond(t *testing.T, c *apptest.Chain) sdkmath.Int {
	t.Helper()
	p, err := c.App.ProviderKeeper.GetProvider(c.Ctx(), c.Addr("p0"))
	if err != nil {
		t.Fatal(err)
	}
	return p.Bond.Amount
}
