package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	"github.com/cosmos/go-bip39"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/app"
	"github.com/crucible-network/crucible/testutil/apptest"
	"github.com/crucible-network/crucible/testutil/network"
	"github.com/crucible-network/crucible/x/attest/poc"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	escrowkeeper "github.com/crucible-network/crucible/x/escrow/keeper"
	escrowtypes "github.com/crucible-network/crucible/x/escrow/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// The soundness simulation drives the whole app (signed transactions, real
// keepers, default x/attest timing: 10-minute windows, 25% of providers drawn
// per window, commit deadline 1.3 x reference + 6 s, 30 s to reveal, 3 misses
// in a row drop a GPU) with provider strategies that each have a capacity
// model: a proof takes reference_proof_ms * 100 / speed_pct on one real GPU,
// a GPU proves one challenge at a time, and every message crosses the
// network with the strategy's latency. The chain's class "h100" keeps its
// production reference time (21 s) while its proof size is the test size,
// so that the CPU computes real proofs the chain really verifies; only the
// GPU's time is modelled.
//
// Timing model (conservative for the provider): a challenge issued in a
// block with header time T is seen at T + block interval + latency (the
// block must be committed and fetched); a message sent at time s arrives at
// s + latency and lands in the first block whose header time is at least
// the arrival; a reveal is computed once the block after the commit is
// committed.

// strategy is one provider behaviour.
type strategy struct {
	name      string
	blockMs   int64 // the chain's block interval
	claimed   int   // GPUs registered, each leased to its own tenant
	real      int   // GPUs that compute
	speedPct  int64 // throughput against the class's reference GPU
	latencyMs int64 // one-way network latency
	junk      bool  // commits junk roots for the GPUs it cannot prove, never reveals them
}

// outcome is what one run of a strategy measured.
type outcome struct {
	caughtWindow  int // windows started until the first missed challenge (0: never)
	droppedWindow int // windows started until every fake claim was dropped (0: never)
	windows       int // windows started in the run
	misses        uint64
	frauds        uint64
	passes        uint64
	slashedOrBurn bool  // the bond lost more than the take on refunded blocks
	provNet       int64 // provider's net position change: wallet + bond + unwithdrawn + locked bid deposits
	fakeTenants   int64 // net change of the fake GPUs' tenants: wallet + escrow balance
	lateRefused   int   // commits the chain refused as late
}

const (
	simPrice   = 100 // ucru per block per GPU
	simDeposit = 100_000_000
)

// simChain lays out a chain with default x/attest timing and a
// test-size "h100" class that keeps the H100 reference time.
func simChain(t testing.TB, st strategy, seed int) *apptest.Chain {
	t.Helper()
	opts := network.DefaultOptions(t.TempDir())
	// A fixed genesis time: windows fall on the same heights in every run,
	// so a seed (the block hash salt) reproduces its draws exactly.
	opts.GenesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tokens := sdk.NewCoins(sdk.NewCoin(app.BondDenom, sdkmath.NewInt(1_000_000_000_000)))
	// The provider's address takes part in its draws: a mnemonic derived
	// from the seed makes a run reproducible.
	entropy := sha256.Sum256([]byte(fmt.Sprintf("soundness provider %d", seed)))
	mnemonic, err := bip39.NewMnemonic(entropy[:])
	if err != nil {
		t.Fatal(err)
	}
	opts.Accounts = []network.Account{{Name: "p0", Mnemonic: mnemonic, Coins: tokens}, {Name: "p1", Coins: tokens}}
	for i := 0; i < st.claimed; i++ {
		opts.Accounts = append(opts.Accounts, network.Account{Name: fmt.Sprintf("t%d", i), Coins: tokens})
	}
	opts.GenesisMutator = func(cdc codec.Codec, state map[string]json.RawMessage) error {
		var g attesttypes.GenesisState
		if err := cdc.UnmarshalJSON(state[attesttypes.ModuleName], &g); err != nil {
			return err
		}
		d := attesttypes.DefaultParams()
		p := &g.Params
		p.WindowMs, p.ChallengeRateBps = d.WindowMs, d.ChallengeRateBps
		p.CommitDeadlineBps, p.CommitSlackMs, p.RevealWindowMs = d.CommitDeadlineBps, d.CommitSlackMs, d.RevealWindowMs
		p.MaxMissed, p.FraudSlashBps = d.MaxMissed, d.FraudSlashBps
		test := attesttypes.NewProofSize(poc.TestParams())
		p.ClassSizes = []attesttypes.ClassSize{
			{Class: attesttypes.ClassH100, ProofSize: test, ReferenceProofMs: attesttypes.H100ReferenceProofMs},
			attesttypes.TestClassSize(),
		}
		bz, err := cdc.MarshalJSON(&g)
		state[attesttypes.ModuleName] = bz
		return err
	}
	c := apptest.New(t, opts)
	c.Step = time.Duration(st.blockMs) * time.Millisecond
	c.Salt = []byte(fmt.Sprintf("soundness-%d", seed))
	return c
}

// simProof is one challenge proved with the CPU at the chain's (test) size.
type simProof struct {
	pr   *poc.Prover
	root poc.Hash
}

func simProve(t testing.TB, ch attesttypes.Challenge) *simProof {
	t.Helper()
	var seed [32]byte
	copy(seed[:], ch.Seed)
	pr, err := poc.NewProver(ch.ProofSize.PocParams(), seed, poc.ProverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	root, err := pr.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &simProof{pr: pr, root: root}
}

type pendingMsg struct {
	arrive int64 // ms: lands in the first block with header time >= arrive
	msg    sdk.Msg
	commit uint64 // challenge id of a commit (to track late refusals)
}

// projected settles acc to the last block in memory (escrow settles
// lazily): the provider's unwithdrawn earnings and the balance left.
func projected(t testing.TB, c *apptest.Chain, acc escrowtypes.Account) (unwithdrawn, balance sdkmath.Int) {
	t.Helper()
	params, err := c.App.EscrowKeeper.Params.Get(c.Ctx())
	if err != nil {
		t.Fatal(err)
	}
	acc, err = escrowkeeper.Projected(acc, c.Height, escrowkeeper.ConstantTakeRate(params.TakeRateBps))
	if err != nil {
		t.Fatal(err)
	}
	return acc.Unwithdrawn.Amount, acc.Balance.Amount
}

// position is the provider's net worth in ucru that the run can move.
func position(t testing.TB, c *apptest.Chain, owner sdk.AccAddress, leases []uint64) sdkmath.Int {
	t.Helper()
	ctx := c.Ctx()
	v := c.App.BankKeeper.GetBalance(ctx, owner, app.BondDenom).Amount
	if p, err := c.App.ProviderKeeper.GetProvider(ctx, owner); err == nil {
		v = v.Add(p.Bond.Amount)
	}
	for _, id := range leases {
		acc, err := c.App.EscrowKeeper.GetAccount(ctx, id)
		if err == nil {
			u, _ := projected(t, c, acc)
			v = v.Add(u)
		}
		l, err := c.App.MarketKeeper.GetLease(ctx, id)
		if err == nil && l.State == markettypes.LeaseStateActive {
			b, err := c.App.MarketKeeper.GetBid(ctx, l.BidId)
			if err == nil {
				v = v.Add(b.Deposit.Amount)
			}
		}
	}
	return v
}

// tenantsWorth is the fake GPUs' tenants' wallets plus their escrow balances.
func tenantsWorth(t testing.TB, c *apptest.Chain, names []string, leases []uint64) sdkmath.Int {
	t.Helper()
	ctx := c.Ctx()
	v := sdkmath.ZeroInt()
	for i, n := range names {
		v = v.Add(c.App.BankKeeper.GetBalance(ctx, c.Addr(n), app.BondDenom).Amount)
		if acc, err := c.App.EscrowKeeper.GetAccount(ctx, leases[i]); err == nil && acc.State != escrowtypes.AccountStateClosed {
			_, bal := projected(t, c, acc)
			v = v.Add(bal)
		}
	}
	return v
}

// runStrategy plays st for up to maxWindows windows on a fresh chain whose
// block hashes are salted with seed. Cheaters stop once every fake claim is
// dropped.
func runStrategy(t testing.TB, st strategy, seed, maxWindows int) outcome {
	t.Helper()
	c := simChain(t, st, seed)
	ctx := c.Ctx()
	params, err := c.App.AttestKeeper.GetParams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	owner := c.Addr("p0")
	gpus := make([]providertypes.GPU, st.claimed)
	for i := range gpus {
		gpus[i] = providertypes.GPU{Uuid: fmt.Sprintf("GPU-%d", i), Model: "NVIDIA H100 80GB HBM3", Class: attesttypes.ClassH100, MemoryMib: 81559}
	}
	requireOK(t, c.Deliver("p0", &providertypes.MsgRegisterProvider{Owner: owner.String(), HostUri: "https://p0.example:8443",
		Gpus: gpus, Bond: coin(1_000_000_000)}), "register")
	var leases []uint64
	var tenants []string
	h := sha256.Sum256([]byte("job"))
	for i := range gpus {
		tn := fmt.Sprintf("t%d", i)
		order := c.Deliver(tn, &markettypes.MsgCreateOrder{Tenant: c.Addr(tn).String(),
			Spec:             markettypes.OrderSpec{Gpu: markettypes.GPUSpec{Class: attesttypes.ClassH100, Count: 1}, ManifestHash: h[:]},
			MaxPricePerBlock: coin(simPrice), DurationBlocks: 10_000_000, Deposit: coin(simDeposit)})
		requireOK(t, order, "order")
		id := eventUint(t, order, "crucible.market.v1.EventOrderCreated", "order_id")
		bid := c.Deliver("p0", &markettypes.MsgCreateBid{Provider: owner.String(), OrderId: id,
			Price: coin(simPrice), Deposit: coin(500_000), GpuUuids: []string{gpus[i].Uuid}})
		requireOK(t, bid, "bid")
		requireOK(t, c.Deliver(tn, &markettypes.MsgCreateLease{Tenant: c.Addr(tn).String(),
			BidId: eventUint(t, bid, "crucible.market.v1.EventBidCreated", "bid_id")}), "lease")
		leases = append(leases, id)
		tenants = append(tenants, tn)
	}
	// The fake claims: those beyond the real GPUs, or every claim of a GPU
	// slower than its class.
	proving := st.real
	if st.speedPct < 100 {
		proving = 0
	}
	fakes := st.claimed - proving
	fakeLeases, fakeTenants := leases[proving:], tenants[proving:]
	provStart := position(t, c, owner, leases)
	tenantsStart := tenantsWorth(t, c, fakeTenants, fakeLeases)
	bondStart := providerBond(t, c)

	proofMs := int64(attesttypes.H100ReferenceProofMs) * 100 / st.speedPct
	var (
		out      outcome
		pending  []pendingMsg
		seen     = map[uint64]bool{}
		provers  = map[uint64]*simProof{}
		window   int64
		maxBlock = int64(maxWindows+1) * int64(params.WindowMs) / st.blockMs
	)
	ms := func() int64 { return c.Time.UnixMilli() }
	for b := int64(0); b < maxBlock; b++ {
		next := ms() + st.blockMs
		var txs [][]byte
		var sent []pendingMsg
		keep := pending[:0]
		for _, p := range pending {
			if p.arrive <= next {
				sent = append(sent, p)
			} else {
				keep = append(keep, p)
			}
		}
		pending = keep
		// One tx per message, so that one refusal does not sink the others.
		for _, p := range sent {
			txs = append(txs, c.Tx("p0", 2_000_000, 0, p.msg))
		}
		res := c.NextBlock(txs...)
		for i, r := range res {
			if r.Code != 0 && sent[i].commit != 0 {
				out.lateRefused++
			} else if r.Code != 0 {
				t.Fatalf("%s: tx refused: %s", st.name, r.Log)
			}
		}
		cur, _ := c.App.AttestKeeper.Cursor.Get(c.Ctx())
		if cur.WindowHeight > 0 && cur.WindowIndex != window {
			window = cur.WindowIndex
			out.windows++
			if out.windows > maxWindows {
				break
			}
		}
		// New challenges: schedule the answers the capacity allows.
		var fresh []attesttypes.Challenge
		_ = c.App.AttestKeeper.Challenges.Walk(c.Ctx(), nil, func(id uint64, ch attesttypes.Challenge) (bool, error) {
			if !seen[id] && ch.State == attesttypes.ChallengeStatePendingCommit {
				fresh = append(fresh, ch)
			}
			return false, nil
		})
		slices.SortFunc(fresh, func(a, b attesttypes.Challenge) int { return int(a.GpuIndex) - int(b.GpuIndex) })
		learn := ms() + st.blockMs + st.latencyMs
		for k, ch := range fresh {
			seen[ch.Id] = true
			// The real GPUs prove the challenges of the GPUs they back, one
			// at a time; the fake claims' challenges come after.
			slot := int64(k / max(st.real, 1))
			done := learn + (slot+1)*proofMs + st.latencyMs
			canProve := st.real > 0 && done <= ch.CommitDeadlineMs+st.blockMs // worth trying
			switch {
			case canProve:
				provers[ch.Id] = simProve(t, ch)
				root := provers[ch.Id].root
				pending = append(pending, pendingMsg{arrive: done, commit: ch.Id,
					msg: &attesttypes.MsgCommitProof{Provider: owner.String(), ChallengeId: ch.Id, Root: root[:]}})
			case st.junk:
				junk := sha256.Sum256([]byte(fmt.Sprintf("junk %d", ch.Id)))
				pending = append(pending, pendingMsg{arrive: learn + st.latencyMs, commit: ch.Id,
					msg: &attesttypes.MsgCommitProof{Provider: owner.String(), ChallengeId: ch.Id, Root: junk[:]}})
			}
		}
		// Committed challenges whose sample block is now committed: reveal.
		_ = c.App.AttestKeeper.Challenges.Walk(c.Ctx(), nil, func(id uint64, ch attesttypes.Challenge) (bool, error) {
			pr := provers[id]
			if ch.State != attesttypes.ChallengeStateCommitted || pr == nil || c.Height < ch.CommitHeight+1 {
				return false, nil
			}
			hash, err := c.App.AttestKeeper.BlockHashes.Get(c.Ctx(), ch.CommitHeight+1)
			if err != nil {
				return false, nil
			}
			r, err := pr.pr.Reveal(context.Background(), poc.SampleSeed(pr.root, hash))
			if err != nil {
				t.Fatal(err)
			}
			enc, err := r.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			delete(provers, id)
			pending = append(pending, pendingMsg{arrive: ms() + st.blockMs + 2*st.latencyMs,
				msg: &attesttypes.MsgRevealProof{Provider: owner.String(), ChallengeId: id, Reveal: enc}})
			return false, nil
		})
		rec, _ := c.App.AttestKeeper.GetRecord(c.Ctx(), owner)
		if rec.Misses > 0 && out.caughtWindow == 0 {
			out.caughtWindow = out.windows
		}
		if fakes > 0 && rec.GpusDropped >= uint64(fakes) && out.droppedWindow == 0 {
			out.droppedWindow = out.windows
			break
		}
	}
	checkReconciles(t, c)
	rec, _ := c.App.AttestKeeper.GetRecord(c.Ctx(), owner)
	out.misses, out.frauds, out.passes = rec.Misses, rec.Frauds, rec.Passes
	out.provNet = position(t, c, owner, leases).Sub(provStart).Int64()
	out.fakeTenants = tenantsWorth(t, c, fakeTenants, fakeLeases).Sub(tenantsStart).Int64()
	var taken sdkmath.Int = sdkmath.ZeroInt()
	for _, id := range leases {
		if acc, err := c.App.EscrowKeeper.GetAccount(c.Ctx(), id); err == nil {
			taken = taken.Add(acc.TotalTaken.Amount)
		}
	}
	out.slashedOrBurn = bondStart.Sub(providerBond(t, c)).GT(taken)
	return out
}

// percentile returns the p-th percentile (0-100) of xs by nearest rank.
func percentile(xs []int, p int) int {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	i := (p*len(s) + 99) / 100
	return s[max(i, 1)-1]
}

// analyticWindows is the number of windows within which a strategy caught at
// its first draw is caught with probability q: ceil(ln(1-q) / ln(1-r)).
func analyticWindows(rateBps uint32, q float64) int {
	r := float64(rateBps) / 10_000
	return int(math.Ceil(math.Log(1-q) / math.Log(1-r)))
}

type soundnessRow struct {
	st      strategy
	outs    []outcome
	horizon int
}

func soundnessStrategies() []strategy {
	return []strategy{
		{name: "honest, 1 s blocks, 2.5 s latency", blockMs: 1_000, claimed: 2, real: 2, speedPct: 100, latencyMs: 2_500},
		{name: "honest, 5 s blocks, 1 s latency", blockMs: 5_000, claimed: 2, real: 2, speedPct: 100, latencyMs: 1_000},
		{name: "count inflation: 2 claimed, 1 real", blockMs: 5_000, claimed: 2, real: 1, speedPct: 100, latencyMs: 100},
		{name: "count inflation: 8 claimed, 7 real", blockMs: 5_000, claimed: 8, real: 7, speedPct: 100, latencyMs: 100},
		{name: "slower class: 50% of the reference", blockMs: 5_000, claimed: 1, real: 1, speedPct: 50, latencyMs: 100},
		{name: "junk commits for the fake GPU, never revealed", blockMs: 5_000, claimed: 2, real: 1, speedPct: 100, latencyMs: 100, junk: true},
	}
}

// TestSoundness runs every strategy for a few seeds through the whole app:
// honest providers are never penalized; every cheater is caught at its
// first draw, loses the fake claims after max_missed draws, earns nothing
// on them, and its fake GPUs' tenants lose nothing; junk commits burn no
// bond. `make bench` runs more seeds and the table (BenchmarkSoundness).
func TestSoundness(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the whole app for many windows")
	}
	for _, st := range soundnessStrategies() {
		t.Run(st.name, func(t *testing.T) {
			// A cheater needs max_missed = 3 draws to lose its fake claims:
			// within 40 windows with probability 1 - P(Bin(40, 0.25) < 3) =
			// 99.99% (the seed is fixed, so the run is deterministic).
			horizon := 40
			if st.real == st.claimed && st.speedPct >= 100 {
				// Long enough to be drawn (0.75^n of never being drawn): 6
				// windows at 1 s blocks, 16 at 5 s blocks (cheaper blocks).
				horizon = 6
				if st.blockMs >= 5_000 {
					horizon = 16
				}
			}
			out := runStrategy(t, st, 1, horizon)
			t.Logf("%+v", out)
			if st.real == st.claimed && st.speedPct >= 100 {
				if out.passes == 0 || out.misses != 0 || out.frauds != 0 || out.lateRefused != 0 || out.slashedOrBurn || out.provNet <= 0 {
					t.Fatalf("honest provider penalized: %+v", out)
				}
				return
			}
			if out.caughtWindow == 0 || out.droppedWindow == 0 {
				t.Fatalf("cheater not caught within %d windows: %+v", horizon, out)
			}
			if out.frauds != 0 || out.slashedOrBurn {
				t.Fatalf("a liveness fault burned the bond: %+v", out)
			}
			if out.fakeTenants < 0 {
				t.Fatalf("the fake GPUs' tenants lost %d", -out.fakeTenants)
			}
		})
	}
}

// TestSoundnessShortcuts covers the two strategies that are refused outright
// rather than caught: registering a class the chain does not define (the
// test-class shortcut of a production chain), and washing a bad record by
// registering a new identity.
func TestSoundnessShortcuts(t *testing.T) {
	opts := network.DefaultOptions(t.TempDir())
	tokens := sdk.NewCoins(sdk.NewCoin(app.BondDenom, sdkmath.NewInt(1_000_000_000_000)))
	opts.Accounts = []network.Account{{Name: "p0", Coins: tokens}, {Name: "p1", Coins: tokens}, {Name: "t0", Coins: tokens}}
	opts.Localnet = false // production genesis: DefaultParams, no "test" class
	c := apptest.New(t, opts)
	reg := func(name, class string) uint32 {
		return c.Deliver(name, &providertypes.MsgRegisterProvider{Owner: c.Addr(name).String(), HostUri: "https://x.example:8443",
			Gpus: []providertypes.GPU{{Uuid: "GPU-" + name, Model: "NVIDIA H100 80GB HBM3", Class: class, MemoryMib: 81559}},
			Bond: coin(1_000_000_000)}).Code
	}
	if code := reg("p0", attesttypes.ClassTest); code != attesttypes.ErrUnknownClass.ABCICode() {
		t.Fatalf("test class on a production chain: code %d, want %d", code, attesttypes.ErrUnknownClass.ABCICode())
	}
	if code := reg("p0", "toy"); code != attesttypes.ErrUnknownClass.ABCICode() {
		t.Fatalf("undefined class: code %d", code)
	}
	// A fresh identity (the washed one) starts unverified: reputation 0 and
	// GPUs never verified, so orders asking for reputation or recent
	// verification refuse its bids.
	requireOK(t, c.Deliver("p1", &providertypes.MsgRegisterProvider{Owner: c.Addr("p1").String(), HostUri: "https://x.example:8443",
		Gpus: []providertypes.GPU{{Uuid: "GPU-p1", Model: "NVIDIA H100 80GB HBM3", Class: attesttypes.ClassH100, MemoryMib: 81559}},
		Bond: coin(1_000_000_000)}), "register p1")
	p, err := c.App.ProviderKeeper.GetProvider(c.Ctx(), c.Addr("p1"))
	if err != nil || p.Reputation != 0 || p.Gpus[0].VerifiedHeight != 0 {
		t.Fatalf("new identity: %+v %v", p, err)
	}
	h := sha256.Sum256([]byte("job"))
	for _, spec := range []markettypes.OrderSpec{
		{Gpu: markettypes.GPUSpec{Class: attesttypes.ClassH100, Count: 1}, ManifestHash: h[:], MinReputation: 1},
		{Gpu: markettypes.GPUSpec{Class: attesttypes.ClassH100, Count: 1}, ManifestHash: h[:], VerifiedWithinBlocks: 86_400},
	} {
		order := c.Deliver("t0", &markettypes.MsgCreateOrder{Tenant: c.Addr("t0").String(), Spec: spec,
			MaxPricePerBlock: coin(100), DurationBlocks: 100, Deposit: coin(1_000_000)})
		requireOK(t, order, "order")
		bid := c.Deliver("p1", &markettypes.MsgCreateBid{Provider: c.Addr("p1").String(),
			OrderId: eventUint(t, order, "crucible.market.v1.EventOrderCreated", "order_id"),
			Price:   coin(100), Deposit: coin(500_000), GpuUuids: []string{"GPU-p1"}})
		want := markettypes.ErrReputationTooLow.ABCICode()
		if spec.VerifiedWithinBlocks > 0 {
			want = markettypes.ErrGPUNotVerified.ABCICode()
		}
		if bid.Code != want {
			t.Fatalf("washed identity's bid on %+v: code %d, want %d", spec, bid.Code, want)
		}
	}
}

// BenchmarkSoundness prints the soundness table (strategies x seeds through
// the whole app) and writes it to bench/tmp/soundness.md for make bench.
func BenchmarkSoundness(b *testing.B) {
	seeds := 10
	if v := os.Getenv("SOUNDNESS_SEEDS"); v != "" {
		fmt.Sscan(v, &seeds)
	}
	for i := 0; i < b.N; i++ {
		var rows []soundnessRow
		for _, st := range soundnessStrategies() {
			row := soundnessRow{st: st, horizon: 30}
			n := seeds
			if st.real == st.claimed && st.speedPct >= 100 {
				// One day of windows at 5 s blocks; four hours at 1 s blocks.
				row.horizon, n = 144, 1
				if st.blockMs < 5_000 {
					row.horizon = 24
				}
			}
			for s := 0; s < n; s++ {
				row.outs = append(row.outs, runStrategy(b, st, s, row.horizon))
			}
			rows = append(rows, row)
		}
		table := soundnessTable(rows)
		fmt.Println(table)
		_ = os.MkdirAll(filepath.Join("..", "bench", "tmp"), 0o755)
		if err := os.WriteFile(filepath.Join("..", "bench", "tmp", "soundness.md"), []byte(table), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

func soundnessTable(rows []soundnessRow) string {
	p := attesttypes.DefaultParams()
	h100, _ := p.Class(attesttypes.ClassH100)
	var sb strings.Builder
	fmt.Fprintf(&sb, "Default params: windows of %d s, %d%% of providers drawn per window, commit deadline %.1f s (1.3 x %d s + %d s), %d misses in a row drop a GPU.\n",
		p.WindowMs/1000, p.ChallengeRateBps/100, float64(p.CommitDeadlineMs(h100))/1000, h100.ReferenceProofMs/1000, p.CommitSlackMs/1000, p.MaxMissed)
	fmt.Fprintf(&sb, "Analytic: a cheater caught at its first draw is caught within n windows with probability 1 - 0.75^n: p50 %d, p99 %d windows; within a day (144 windows) 1 - 0.75^144 = 1 - 1e-18. Claims dropped after %d draws: p99 %d windows.\n\n",
		analyticWindows(p.ChallengeRateBps, 0.5), analyticWindows(p.ChallengeRateBps, 0.99), p.MaxMissed, negBinomialP99(p.MaxMissed, 0.25))
	sb.WriteString("| strategy | runs | caught: windows p50 / p99 | claims dropped: windows p50 / p99 | provider's net over all its leases, real GPUs' included (ucru, mean) | fake GPUs' tenants' net (ucru, mean) | misses / frauds of honest | bond burned |\n")
	sb.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		var caught, dropped []int
		var prov, ten int64
		var misses, frauds uint64
		burned := false
		never := 0
		for _, o := range r.outs {
			if o.caughtWindow > 0 {
				caught = append(caught, o.caughtWindow)
			} else {
				never++
			}
			if o.droppedWindow > 0 {
				dropped = append(dropped, o.droppedWindow)
			}
			prov += o.provNet
			ten += o.fakeTenants
			misses += o.misses
			frauds += o.frauds
			burned = burned || o.slashedOrBurn
		}
		n := int64(len(r.outs))
		honest := r.st.real == r.st.claimed && r.st.speedPct >= 100
		c, d, h := "n/a", "n/a", "n/a"
		if !honest {
			c = fmt.Sprintf("%d / %d", percentile(caught, 50), percentile(caught, 99))
			if never > 0 {
				c += fmt.Sprintf(" (%d never in %d windows)", never, r.horizon)
			}
			d = fmt.Sprintf("%d / %d", percentile(dropped, 50), percentile(dropped, 99))
			if len(dropped) < len(r.outs) {
				d += fmt.Sprintf(" (%d not within %d)", len(r.outs)-len(dropped), r.horizon)
			}
		} else {
			h = fmt.Sprintf("%d / %d over %d windows (%d passes)", misses, frauds, r.outs[0].windows, r.outs[0].passes)
		}
		tenants := "n/a"
		if !honest {
			tenants = fmt.Sprintf("%+d", ten/n)
		}
		fmt.Fprintf(&sb, "| %s | %d | %s | %s | %+d | %s | %s | %v |\n", r.st.name, len(r.outs), c, d, prov/n, tenants, h, burned)
	}
	sb.WriteString("| test-class shortcut (register class \"test\" on a production chain) | 1 | refused at registration (attest 23) | n/a | 0 | n/a | n/a | false |\n")
	sb.WriteString("| wash the record: register a new identity | 1 | starts at reputation 0, GPUs unverified: bids on orders with --min-reputation or --verified-within refused (market 18 / 30) | n/a | 0 | n/a | n/a | false |\n")
	return sb.String()
}

// negBinomialP99 is the number of windows within which a provider drawn with
// probability r per window has been drawn k times, with probability 0.99.
func negBinomialP99(k uint32, r float64) int {
	for n := int(k); n < 10_000; n++ {
		// P(at least k draws in n windows) = 1 - sum_{i<k} C(n,i) r^i (1-r)^(n-i)
		miss := 0.0
		for i := 0; i < int(k); i++ {
			miss += binom(n, i) * math.Pow(r, float64(i)) * math.Pow(1-r, float64(n-i))
		}
		if 1-miss >= 0.99 {
			return n
		}
	}
	return -1
}

func binom(n, k int) float64 {
	v := 1.0
	for i := 0; i < k; i++ {
		v = v * float64(n-i) / float64(i+1)
	}
	return v
}
