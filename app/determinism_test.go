package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"math/rand"
	"testing"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/app"
	"github.com/crucible-network/crucible/testutil/apptest"
	"github.com/crucible-network/crucible/testutil/network"
	"github.com/crucible-network/crucible/x/attest/poc"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	escrowtypes "github.com/crucible-network/crucible/x/escrow/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// TestSameBlocksSameAppHash replays the same signed blocks on two apps with
// separate databases and requires the same app hash after every block:
// providers, orders, bids, leases, deposits, withdrawals, closes, and the
// begin/end blockers (challenge scheduling on every GPU, commits, reveals
// from an honest prover, missed deadlines, settlement, expiry).
func TestSameBlocksSameAppHash(t *testing.T) {
	opts := network.DefaultOptions(t.TempDir())
	tokens := sdk.NewCoins(sdk.NewCoin(app.BondDenom, sdkmath.NewInt(1_000_000_000_000)))
	opts.Accounts = []network.Account{{Name: "t0", Coins: tokens}, {Name: "t1", Coins: tokens},
		{Name: "p0", Coins: tokens}, {Name: "p1", Coins: tokens}}
	opts.GenesisMutator = func(cdc codec.Codec, state map[string]json.RawMessage) error {
		var g attesttypes.GenesisState
		if err := cdc.UnmarshalJSON(state[attesttypes.ModuleName], &g); err != nil {
			return err
		}
		// 12 s windows at the test chain's 1 s blocks; a 4 s reveal window.
		g.Params.WindowMs, g.Params.RevealWindowMs, g.Params.CommitSlackMs = 12_000, 4_000, 2_000
		bz, err := cdc.MarshalJSON(&g)
		state[attesttypes.ModuleName] = bz
		return err
	}
	a, b := apptest.NewTwins(t, opts)
	if !bytes.Equal(a.AppHash(), b.AppHash()) {
		t.Fatal("app hashes differ after genesis")
	}
	rng := rand.New(rand.NewSource(11))
	block := func(txs ...[]byte) {
		t.Helper()
		ra, rb := a.NextBlock(txs...), b.NextBlock(txs...)
		for i := range ra {
			if ra[i].Code != rb[i].Code || ra[i].GasUsed != rb[i].GasUsed {
				t.Fatalf("height %d tx %d: results differ: %d/%d gas %d/%d", a.Height, i, ra[i].Code, rb[i].Code, ra[i].GasUsed, rb[i].GasUsed)
			}
		}
		if !bytes.Equal(a.AppHash(), b.AppHash()) {
			t.Fatalf("height %d: app hash %X != %X", a.Height, a.AppHash(), b.AppHash())
		}
	}
	tx := func(name string, msgs ...sdk.Msg) []byte {
		bz := a.Tx(name, 2_000_000, 0, msgs...)
		b.Tx(name, 2_000_000, 0, msgs...) // keep b's local sequence in step
		return bz
	}
	for i, p := range []string{"p0", "p1"} {
		block(tx(p, &providertypes.MsgRegisterProvider{Owner: a.Addr(p).String(), HostUri: "https://p.example:8443",
			Gpus: []providertypes.GPU{
				{Uuid: "GPU-" + p + "-0", Model: "NVIDIA H100 80GB HBM3", Class: "h100", MemoryMib: 81559},
				{Uuid: "GPU-" + p + "-1", Model: "NVIDIA H100 80GB HBM3", Class: "h100", MemoryMib: 81559},
			}, Bond: coin(1_000_000_000 + int64(i))}))
	}
	h := sha256.Sum256([]byte("job"))
	answered := map[uint64]bool{}
	for step := 0; step < 120; step++ {
		var txs [][]byte
		ctx := a.Ctx()
		// p0 answers its challenges honestly; p1 never does (misses, jail).
		_ = a.App.AttestKeeper.Challenges.Walk(ctx, nil, func(id uint64, c attesttypes.Challenge) (bool, error) {
			if c.Provider != a.Addr("p0").String() {
				return false, nil
			}
			var seed [32]byte
			copy(seed[:], c.Seed)
			pp := poc.Params{N: c.ProofSize.N, K: c.ProofSize.K, M: c.ProofSize.M, Samples: c.ProofSize.Samples}
			switch {
			case c.State == attesttypes.ChallengeStatePendingCommit && !answered[id]:
				pr, err := poc.NewProver(pp, seed, poc.ProverOptions{Workers: 1})
				if err != nil {
					t.Fatal(err)
				}
				root, err := pr.Commit(ctx)
				if err != nil {
					t.Fatal(err)
				}
				answered[id] = true
				txs = append(txs, tx("p0", &attesttypes.MsgCommitProof{Provider: c.Provider, ChallengeId: id, Root: root[:]}))
			case c.State == attesttypes.ChallengeStateCommitted && a.Height > c.CommitHeight+1:
				hash, err := a.App.AttestKeeper.BlockHashes.Get(ctx, c.CommitHeight+1)
				if err != nil {
					return false, nil
				}
				pr, _ := poc.NewProver(pp, seed, poc.ProverOptions{Workers: 1})
				root, _ := pr.Commit(ctx)
				rv, err := pr.Reveal(ctx, poc.SampleSeed(root, hash))
				if err != nil {
					t.Fatal(err)
				}
				enc, _ := rv.MarshalBinary()
				txs = append(txs, tx("p0", &attesttypes.MsgRevealProof{Provider: c.Provider, ChallengeId: id, Reveal: enc}))
			}
			return false, nil
		})
		switch rng.Intn(6) {
		case 0:
			tn := []string{"t0", "t1"}[rng.Intn(2)]
			txs = append(txs, tx(tn, &markettypes.MsgCreateOrder{Tenant: a.Addr(tn).String(),
				Spec:             markettypes.OrderSpec{Gpu: markettypes.GPUSpec{Class: "h100", Count: 1}, ManifestHash: h[:]},
				MaxPricePerBlock: coin(100), DurationBlocks: uint64(5 + rng.Intn(30)), Deposit: coin(1_000_000 + rng.Int63n(5000))}))
		case 1, 2:
			for _, o := range openOrders(t, a) {
				p := []string{"p0", "p1"}[rng.Intn(2)]
				txs = append(txs, tx(p, &markettypes.MsgCreateBid{Provider: a.Addr(p).String(), OrderId: o.Id,
					Price: coin(50 + rng.Int63n(50)), Deposit: coin(500_000), GpuUuids: []string{"GPU-" + p + "-" + string(rune('0'+rng.Intn(2)))}}))
				break
			}
		case 3:
			_ = a.App.MarketKeeper.Bids.Walk(ctx, nil, func(id uint64, bid markettypes.Bid) (bool, error) {
				if bid.State != markettypes.BidStateOpen {
					return false, nil
				}
				o, err := a.App.MarketKeeper.GetOrder(ctx, bid.OrderId)
				if err != nil {
					return true, nil
				}
				txs = append(txs, tx(nameOfAny(a, o.Tenant), &markettypes.MsgCreateLease{Tenant: o.Tenant, BidId: id}))
				return true, nil
			})
		case 4:
			for _, l := range collectLeases(t, a) {
				if rng.Intn(2) == 0 {
					txs = append(txs, tx(nameOfAny(a, l.Provider), &escrowtypes.MsgWithdraw{Provider: l.Provider, Id: l.Id}))
				} else {
					txs = append(txs, tx("t0", &escrowtypes.MsgDeposit{Depositor: a.Addr("t0").String(), Id: l.Id, Amount: coin(1 + rng.Int63n(10_000))}))
				}
				break
			}
		case 5:
			for _, l := range collectLeases(t, a) {
				txs = append(txs, tx(nameOfAny(a, l.Tenant), &markettypes.MsgCloseLease{Sender: l.Tenant, LeaseId: l.Id}))
				break
			}
		}
		block(txs...)
	}
	rec, err := a.App.AttestKeeper.GetRecord(a.Ctx(), a.Addr("p0"))
	if err != nil {
		t.Fatal(err)
	}
	rec1, _ := a.App.AttestKeeper.GetRecord(a.Ctx(), a.Addr("p1"))
	t.Logf("height %d, same app hash %X; p0 record %+v; p1 record %+v", a.Height, a.AppHash(), rec, rec1)
	if rec.Passes == 0 || rec1.Misses == 0 {
		t.Fatalf("the replay did not exercise challenges: p0 %+v, p1 %+v", rec, rec1)
	}
}

func nameOfAny(c *apptest.Chain, addr string) string {
	for _, n := range []string{"t0", "t1", "p0", "p1"} {
		if c.Addr(n).String() == addr {
			return n
		}
	}
	return "t0"
}
