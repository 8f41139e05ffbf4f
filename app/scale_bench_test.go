package app_test

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	"github.com/crucible-network/crucible/app"
	"github.com/crucible-network/crucible/testutil/apptest"
	"github.com/crucible-network/crucible/testutil/network"
	escrowkeeper "github.com/crucible-network/crucible/x/escrow/keeper"
	marketkeeper "github.com/crucible-network/crucible/x/market/keeper"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providerkeeper "github.com/crucible-network/crucible/x/provider/keeper"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// scaleGPUs is the inventory of each provider in the scale setup.
const scaleGPUs = 64

// newScaleChain builds a chain holding n ACTIVE leases, created through the
// msg servers (the same keeper paths transactions take, without the ante
// handler): ceil(n/64) providers with 64 GPUs each, one tenant, one
// order + bid + lease per GPU, escrow funded for ~1e6 blocks so that no
// account runs dry during the benchmark and every lease ends far in the
// future. Per-block work then measures what the chain does for n leases
// that are simply running.
func newScaleChain(tb testing.TB, n int) *apptest.Chain {
	tb.Helper()
	opts := network.DefaultOptions(tb.TempDir())
	c := apptest.New(tb, opts)
	base := c.App.NewUncachedContext(false, cmtproto.Header{ChainID: c.ChainID, Height: c.Height + 1, Time: c.Time})
	ctx, write := base.CacheContext()

	pp, err := c.App.ProviderKeeper.GetParams(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	pp.MaxGpus = scaleGPUs
	if err := c.App.ProviderKeeper.SetParams(ctx, pp); err != nil {
		tb.Fatal(err)
	}
	// Settlement alone: no proof-of-compute challenges (their cost follows
	// the number of GPUs, bounded per block by x/attest's caps, and is
	// measured by x/attest's own benchmarks).
	ap, err := c.App.AttestKeeper.GetParams(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	ap.ChallengeRateBps = 0
	if err := c.App.AttestKeeper.SetParams(ctx, ap); err != nil {
		tb.Fatal(err)
	}
	mp, err := c.App.MarketKeeper.GetParams(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	mp.MaxLeaseBlocks = 10_000_000
	if err := c.App.MarketKeeper.Params.Set(ctx, mp); err != nil {
		tb.Fatal(err)
	}

	const price, deposit = 1, 1_000_000 // a million blocks of runway
	tenant := c.Addr("alice")
	nProv := (n + scaleGPUs - 1) / scaleGPUs
	fund := func(addr sdk.AccAddress, amt sdkmath.Int) {
		coins := sdk.NewCoins(sdk.NewCoin(app.BondDenom, amt))
		if err := c.App.BankKeeper.MintCoins(ctx, minttypes.ModuleName, coins); err != nil {
			tb.Fatal(err)
		}
		if err := c.App.BankKeeper.SendCoinsFromModuleToAccount(ctx, minttypes.ModuleName, addr, coins); err != nil {
			tb.Fatal(err)
		}
	}
	fund(tenant, sdkmath.NewInt(int64(n)*(deposit+1000)))

	psrv := providerkeeper.NewMsgServerImpl(c.App.ProviderKeeper)
	msrv := marketkeeper.NewMsgServerImpl(c.App.MarketKeeper)
	hash := sha256.Sum256([]byte("scale"))
	made := 0
	for p := 0; p < nProv; p++ {
		owner := sdk.AccAddress(sha256.New().Sum([]byte(fmt.Sprintf("provider-%d", p)))[:20])
		fund(owner, sdkmath.NewInt(2_000_000_000+int64(scaleGPUs)*1_000_000))
		gpus := make([]providertypes.GPU, scaleGPUs)
		for g := range gpus {
			gpus[g] = providertypes.GPU{Uuid: fmt.Sprintf("GPU-%d-%d", p, g), Model: "NVIDIA H100 80GB HBM3", Class: "h100", MemoryMib: 81559}
		}
		if _, err := psrv.RegisterProvider(ctx, &providertypes.MsgRegisterProvider{Owner: owner.String(),
			HostUri: "https://p.example:8443", Region: "eu-west", Gpus: gpus, Bond: pp.MinBond}); err != nil {
			tb.Fatal(err)
		}
		for g := 0; g < scaleGPUs && made < n; g++ {
			or, err := msrv.CreateOrder(ctx, &markettypes.MsgCreateOrder{Tenant: tenant.String(),
				Spec:             markettypes.OrderSpec{Gpu: markettypes.GPUSpec{Class: "h100", Count: 1}, ManifestHash: hash[:]},
				MaxPricePerBlock: coin(price), DurationBlocks: 9_000_000, Deposit: coin(deposit)})
			if err != nil {
				tb.Fatal(err)
			}
			br, err := msrv.CreateBid(ctx, &markettypes.MsgCreateBid{Provider: owner.String(), OrderId: or.OrderId,
				Price: coin(price), Deposit: mp.MinBidDeposit, GpuUuids: []string{gpus[g].Uuid}})
			if err != nil {
				tb.Fatal(err)
			}
			if _, err := msrv.CreateLease(ctx, &markettypes.MsgCreateLease{Tenant: tenant.String(), BidId: br.BidId}); err != nil {
				tb.Fatal(err)
			}
			made++
		}
	}
	write()
	c.NextBlock() // commits the setup
	if err := c.App.EscrowKeeper.CheckBalances(c.Ctx()); err != nil {
		tb.Fatal(err)
	}
	return c
}

// BenchmarkBlockWithActiveLeases measures one empty block (FinalizeBlock:
// begin/end blockers of every module, then Commit) with n active leases in
// state. Escrow settles lazily and the market's queues are height-keyed, so
// the figure should not grow with n (IAVL's log n aside).
func BenchmarkBlockWithActiveLeases(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("leases=%d", n), func(b *testing.B) {
			start := time.Now()
			c := newScaleChain(b, n)
			b.Logf("setup of %d leases: %s", n, time.Since(start).Round(time.Millisecond))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.NextBlock()
			}
		})
	}
}

// TestScaleChainHoldsActiveLeases keeps the benchmark's setup honest: the
// leases exist, are active, and a block runs with them.
func TestScaleChainHoldsActiveLeases(t *testing.T) {
	c := newScaleChain(t, 1200)
	active := 0
	if err := c.App.MarketKeeper.Leases.Walk(c.Ctx(), nil, func(_ uint64, l markettypes.Lease) (bool, error) {
		if l.State == markettypes.LeaseStateActive {
			active++
		}
		return false, nil
	}); err != nil {
		t.Fatal(err)
	}
	if active != 1200 {
		t.Fatalf("%d active leases, want 1200", active)
	}
	c.NextBlock()
	if err := c.App.EscrowKeeper.CheckBalances(c.Ctx()); err != nil {
		t.Fatal(err)
	}
	_ = escrowkeeper.AccountsInvariant
}
