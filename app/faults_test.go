package app_test

import (
	"crypto/sha256"
	"encoding/json"
	"testing"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/x/authz"

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
	opts.Accounts = []network.Account{{Name: "t0", Coins: tokens}, {Name: "p0", Coins: tokens}, {Name: "hot", Coins: tokens}}
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

// A provider that stops answering challenges misses them GPU by GPU: every
// miss refunds the tenant what it paid for the GPU since the GPU last proved
// itself (here: never, so since the lease began), and at max_missed misses
// in a row the GPU's claim is dropped and the lease closed with the winning
// bid's deposit paid to the tenant. The tenant ends up having paid only the
// community pool's take and holding the provider's bid deposit; the
// provider keeps nothing for the unproven blocks; the bond is untouched
// (the unwithdrawn earnings covered the refunds).
func TestSilentProviderLosesTheGPUAndTenantIsMadeWhole(t *testing.T) {
	c, id := leaseFixture(t, 10_000, 100, 2_000_000)
	params, err := c.App.AttestKeeper.GetParams(c.Ctx())
	if err != nil {
		t.Fatal(err)
	}
	tenantBefore := c.App.BankKeeper.GetBalance(c.Ctx(), c.Addr("t0"), app.BondDenom).Amount
	bondBefore := providerBond(t, c)
	deposit := sdkmath.NewInt(2_000_000)
	// Windows of 15 s at 1 s blocks: max_missed windows and some.
	limit := int64(params.MaxMissed+2) * int64(params.WindowMs/1000)
	for i := int64(0); i < limit && lease(t, c, id).State == markettypes.LeaseStateActive; i++ {
		c.NextBlock()
		checkReconciles(t, c)
	}
	l := lease(t, c, id)
	if l.State != markettypes.LeaseStateClosed || l.CloseReason != markettypes.LeaseCloseReasonGPUFailed {
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
	if p.Status != providertypes.ProviderStatusActive || len(p.Gpus) != 0 || rec.Misses != uint64(params.MaxMissed) || rec.GpusDropped != 1 {
		t.Fatalf("provider %s with %d GPUs, record %+v", p.Status, len(p.Gpus), rec)
	}
	acct, _ := c.App.EscrowKeeper.GetAccount(c.Ctx(), id)
	if acct.State != escrowtypes.AccountStateClosed || !acct.Balance.IsZero() {
		t.Fatalf("escrow not refunded: %+v", acct)
	}
	// The tenant paid for unproven blocks only, all refunded but the take:
	// it gets its deposit back less the take, plus the provider's 500,000
	// bid deposit.
	tenantAfter := c.App.BankKeeper.GetBalance(c.Ctx(), c.Addr("t0"), app.BondDenom).Amount
	if want := tenantBefore.Add(deposit).Sub(acct.TotalTaken.Amount).Add(sdkmath.NewInt(500_000)); !tenantAfter.Equal(want) {
		t.Fatalf("tenant %s -> %s, want %s (paid %s in all, %s taken)", tenantBefore, tenantAfter, want, acct.TotalPaid, acct.TotalTaken)
	}
	if !acct.TotalPaid.IsPositive() {
		t.Fatal("the lease never paid: the test shows nothing")
	}
	if after := providerBond(t, c); !after.Equal(bondBefore) {
		t.Fatalf("bond %s -> %s: the unwithdrawn earnings covered the refunds", bondBefore, after)
	}
}

// The hot-key attack: a sidecar key granted only MsgCommitProof (x/authz)
// commits a junk root for its owner and never reveals. Nothing is proven
// wrong, so it is a missed challenge of that GPU: the owner's bond is not
// burned, the provider not jailed, its GPU not dropped (one miss), and the
// tenant refunded for the unproven blocks.
func TestJunkCommitByHotKeyBurnsNoBond(t *testing.T) {
	c, id := leaseFixture(t, 10_000, 100, 2_000_000)
	grant, err := authz.NewGrant(c.Time, authz.NewGenericAuthorization(sdk.MsgTypeURL(&attesttypes.MsgCommitProof{})), nil)
	if err != nil {
		t.Fatal(err)
	}
	requireOK(t, c.Deliver("p0", &authz.MsgGrant{Granter: c.Addr("p0").String(), Grantee: c.Addr("hot").String(), Grant: grant}), "grant")
	var ch attesttypes.Challenge
	for i := 0; i < 40 && ch.Id == 0; i++ {
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
	exec := authz.NewMsgExec(c.Addr("hot"), []sdk.Msg{&attesttypes.MsgCommitProof{Provider: c.Addr("p0").String(), ChallengeId: ch.Id, Root: root[:]}})
	requireOK(t, c.Deliver("hot", &exec), "junk commit through the hot key")
	bondBefore := providerBond(t, c)
	for i := 0; i < 40; i++ {
		c.NextBlock()
		checkReconciles(t, c)
		got, err := c.App.AttestKeeper.GetChallenge(c.Ctx(), ch.Id)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != attesttypes.ChallengeStateCommitted {
			break
		}
	}
	got, err := c.App.AttestKeeper.GetChallenge(c.Ctx(), ch.Id)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != attesttypes.ChallengeStateMissedReveal {
		t.Fatalf("challenge state %s, want missed reveal", got.State)
	}
	p, _ := c.App.ProviderKeeper.GetProvider(c.Ctx(), c.Addr("p0"))
	if p.Status != providertypes.ProviderStatusActive || len(p.Gpus) != 1 {
		t.Fatalf("provider %s with %d GPUs after one junk commit", p.Status, len(p.Gpus))
	}
	// Nothing was burned (the unwithdrawn earnings covered the refund).
	if after := providerBond(t, c); !after.Equal(bondBefore) {
		t.Fatalf("bond %s -> %s after a junk commit", bondBefore, after)
	}
	rec, _ := c.App.AttestKeeper.GetRecord(c.Ctx(), c.Addr("p0"))
	if rec.Frauds != 0 || rec.Misses != 1 {
		t.Fatalf("record %+v", rec)
	}
	if l := lease(t, c, id); l.State != markettypes.LeaseStateActive {
		t.Fatalf("lease %s after one miss", l.State)
	}
}

func providerBond(t testing.TB, c *apptest.Chain) sdkmath.Int {
	t.Helper()
	p, err := c.App.ProviderKeeper.GetProvider(c.Ctx(), c.Addr("p0"))
	if err != nil {
		t.Fatal(err)
	}
	return p.Bond.Amount
}
