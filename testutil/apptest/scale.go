package apptest

import (
	"crypto/sha256"
	"fmt"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	"github.com/crucible-network/crucible/app"
	marketkeeper "github.com/crucible-network/crucible/x/market/keeper"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providerkeeper "github.com/crucible-network/crucible/x/provider/keeper"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// ScaleGPUs is the inventory of each provider AddActiveLeases registers.
const ScaleGPUs = 64

// ScaleTenant is the key whose account rents every lease AddActiveLeases
// creates (a funded account of network.DefaultOptions).
const ScaleTenant = "alice"

// AddActiveLeases puts n ACTIVE leases into the chain's state, created
// through the msg servers (the same keeper paths transactions take, without
// the ante handler), and commits them in one block: ceil(n/64) providers
// with 64 GPUs each (keyless accounts, funded by minting), one tenant
// (ScaleTenant, funded by minting), one order + bid + lease per GPU, escrow
// funded for ~1e6 blocks so that no account runs dry and every lease ends
// far in the future. Per-block work then measures what the chain does for
// n leases that are simply running.
//
// It also sets x/attest's challenge rate to 0 (settlement alone: the
// providers have no sidecar to answer challenges, and the cost of
// challenges follows the number of GPUs, bounded per block by x/attest's
// caps and measured by x/attest's own benchmarks), x/provider's max_gpus to
// 64 and x/market's max_lease_blocks to 10,000,000. Escrow and bank
// balances are checked to reconcile afterwards.
func (c *Chain) AddActiveLeases(n int) {
	tb := c.t
	tb.Helper()
	base := c.App.NewUncachedContext(false, cmtproto.Header{ChainID: c.ChainID, Height: c.Height + 1, Time: c.Time})
	ctx, write := base.CacheContext()

	pp, err := c.App.ProviderKeeper.GetParams(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	pp.MaxGpus = ScaleGPUs
	if err := c.App.ProviderKeeper.SetParams(ctx, pp); err != nil {
		tb.Fatal(err)
	}
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
	coin := func(amt int64) sdk.Coin { return sdk.NewInt64Coin(app.BondDenom, amt) }
	fund := func(addr sdk.AccAddress, amt sdkmath.Int) {
		coins := sdk.NewCoins(sdk.NewCoin(app.BondDenom, amt))
		if err := c.App.BankKeeper.MintCoins(ctx, minttypes.ModuleName, coins); err != nil {
			tb.Fatal(err)
		}
		if err := c.App.BankKeeper.SendCoinsFromModuleToAccount(ctx, minttypes.ModuleName, addr, coins); err != nil {
			tb.Fatal(err)
		}
	}
	tenant := c.Addr(ScaleTenant)
	fund(tenant, sdkmath.NewInt(int64(n)*(deposit+1000)))

	psrv := providerkeeper.NewMsgServerImpl(c.App.ProviderKeeper)
	msrv := marketkeeper.NewMsgServerImpl(c.App.MarketKeeper)
	hash := sha256.Sum256([]byte("scale"))
	made := 0
	for p := 0; made < n; p++ {
		owner := sdk.AccAddress(sha256.New().Sum([]byte(fmt.Sprintf("provider-%d", p)))[:20])
		fund(owner, sdkmath.NewInt(2_000_000_000+int64(ScaleGPUs)*1_000_000))
		gpus := make([]providertypes.GPU, ScaleGPUs)
		for g := range gpus {
			gpus[g] = providertypes.GPU{Uuid: fmt.Sprintf("GPU-%d-%d", p, g), Model: "NVIDIA H100 80GB HBM3", Class: "h100", MemoryMib: 81559}
		}
		if _, err := psrv.RegisterProvider(ctx, &providertypes.MsgRegisterProvider{Owner: owner.String(),
			HostUri: "https://p.example:8443", Region: "eu-west", Gpus: gpus, Bond: pp.MinBond}); err != nil {
			tb.Fatal(err)
		}
		for g := 0; g < ScaleGPUs && made < n; g++ {
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
}

// CountActiveLeases returns the number of ACTIVE leases in the last
// committed state.
func (c *Chain) CountActiveLeases() int {
	c.t.Helper()
	n := 0
	if err := c.App.MarketKeeper.Leases.Walk(c.Ctx(), nil, func(_ uint64, l markettypes.Lease) (bool, error) {
		if l.State == markettypes.LeaseStateActive {
			n++
		}
		return false, nil
	}); err != nil {
		c.t.Fatal(err)
	}
	return n
}

// ExportGenesis exports the chain's last committed state and writes it
// over the genesis file at path, as `crucibled export --output-document`
// does: the app state, the consensus params and validators, and an initial
// height of the next block, so that every height in state (lease ends,
// settlement heights, queues) stays valid and a node started from the file
// resumes where this chain stopped. The chain id and genesis time are kept
// from the file (a node home laid out with the chain's own Layout).
//
// It does not export for zero height: x/market and x/escrow keep absolute
// heights that a restart at height 1 would put in the future. It returns
// the initial height written.
func (c *Chain) ExportGenesis(path string) (initialHeight int64) {
	c.t.Helper()
	exported, err := c.App.ExportAppStateAndValidators(false, nil, nil)
	if err != nil {
		c.t.Fatalf("export: %v", err)
	}
	g, err := genutiltypes.AppGenesisFromFile(path)
	if err != nil {
		c.t.Fatal(err)
	}
	g.AppState = exported.AppState
	g.InitialHeight = exported.Height
	g.Consensus = genutiltypes.NewConsensusGenesis(exported.ConsensusParams, exported.Validators)
	if err := g.SaveAs(path); err != nil {
		c.t.Fatal(err)
	}
	return g.InitialHeight
}
