package nodebench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"

	"github.com/crucible-network/crucible/sidecar/chain"
	"github.com/crucible-network/crucible/sidecar/chain/chaintest"
	"github.com/crucible-network/crucible/testutil/apptest"
	"github.com/crucible-network/crucible/testutil/network"
	"github.com/crucible-network/crucible/testutil/procnet"
	markettypes "github.com/crucible-network/crucible/x/market/types"
)

// Environment knobs of BenchmarkNodePeakRSS.
const (
	// envLoad is the length of each load window (a Go duration; default
	// defaultLoad).
	envLoad = "NODEBENCH_LOAD"
	// envPprofDir, when set, makes crucibled serve pprof on a loopback port
	// (CometBFT's rpc.pprof_laddr) and the benchmark save heap profiles
	// there: after the import, after the restart and after the load.
	envPprofDir = "NODEBENCH_PPROF_DIR"
)

const (
	defaultLoad = 45 * time.Second
	// sampleEvery is how often /proc is read.
	sampleEvery = 200 * time.Millisecond
	// startTimeout bounds a start of crucibled up to a block (the genesis
	// import takes minutes at 100k leases on two shared cores).
	startTimeout = 20 * time.Minute
)

// BenchmarkNodePeakRSS measures the resident memory of the real binaries
// with n ACTIVE leases in state, under transaction load:
//
//  1. a genesis holding n ACTIVE leases is built in this process through
//     the msg servers (apptest.Chain.AddActiveLeases: n/64 keyless
//     providers of 64 GPUs, x/attest's challenge rate 0, balances
//     reconciled) and exported, as `crucibled export` does, into the home
//     of a one-validator network on 127.0.0.1;
//  2. crucibled starts from that home as a child process, imports the
//     genesis, commits a block or two and is stopped;
//  3. crucibled restarts from its data, with the genesis it keeps swapped
//     for the launch genesis (useLaunchGenesis: as if the leases had come
//     in blocks); a provider is registered with `crucible-sidecar register`
//     (8 simulated H100s) and `crucible-sidecar start` runs as a second
//     child;
//  4. the load runs for NODEBENCH_LOAD (45 s by default) per b.N: 4
//     senders of bank sends (signed here, broadcast over gRPC, up to 250
//     each not yet in a block) and 4 tenants cycling order -> the
//     sidecar's bid -> lease -> close through the signer the sidecar uses.
//
// /proc/<pid>/status of the processes is read every 200 ms; a peak is the
// kernel's VmHWM, or the largest VmRSS sampled where that is larger.
// Reported: crucibled-import-peak-RSS-MiB (the importing process of step
// 2), crucibled-peak-RSS-MiB (the restarted node of steps 3-4, its startup
// included), crucibled-steady-peak-RSS-MiB (the largest VmRSS of the
// restarted node after its first block: what it holds while it runs under
// load), sidecar-peak-RSS-MiB, tx/s (transactions in the blocks committed
// during the load, per second of block time), lease-cycles (cycles
// completed), genesis-MiB and import-s (start to first block in step 2).
// Issue #7's targets: crucibled under 2 GiB with 100k leases, the sidecar
// under 200 MiB.
//
// Run one size at a time with -benchtime 1x, e.g.
//
//	go test -run '^$' -bench 'BenchmarkNodePeakRSS/leases=100000' -benchtime 1x -timeout 60m ./bench/nodebench
func BenchmarkNodePeakRSS(b *testing.B) {
	if testing.Short() {
		b.Skip("builds and runs crucibled and crucible-sidecar")
	}
	window := defaultLoad
	if v := os.Getenv(envLoad); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			b.Fatalf("%s=%q: want a positive Go duration", envLoad, v)
		}
		window = d
	}
	bins := b.TempDir()
	crucibled := procnet.BuildBinary(b, bins, "crucibled")
	sidecar := procnet.BuildBinary(b, bins, "crucible-sidecar")
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("leases=%d", n), func(b *testing.B) { benchNode(b, n, crucibled, sidecar, window) })
	}
}

func benchNode(b *testing.B, n int, crucibledBin, sidecarBin string, window time.Duration) {
	began := time.Now()
	dir := b.TempDir()
	ctx := context.Background()
	phase := func(format string, args ...any) {
		b.Logf("[%5.0fs] %s", time.Since(began).Seconds(), fmt.Sprintf(format, args...))
	}

	layout, launchState, initialHeight := buildGenesis(b, n, filepath.Join(dir, "net"))
	debug.FreeOSMemory() // hand the builder chain's memory back before crucibled starts
	genesis, err := os.Stat(genesisPath(layout))
	if err != nil {
		b.Fatal(err)
	}
	phase("genesis with %d active leases: %.0f MiB", n, mib(genesis.Size()))
	pprofAddr := enablePprof(b, layout)
	client, err := chain.Dial(chaintest.LayoutChainConfig(layout, providerKey, ""))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = client.Close() })
	sampler := newMemSampler(b, sampleEvery)
	nodes := procnet.Attach(b, crucibledBin, dir, procnet.LayoutOf(layout))

	// 1. crucibled imports the genesis; stopped after its first block.
	importing := time.Now()
	nodes.Start(0)
	sampler.track("crucibled-import", nodes.Pid(0))
	waitBlock(b, nodes, initialHeight)
	importTime := time.Since(importing)
	checkActiveLeases(b, ctx, client, n)
	saveHeapProfile(b, pprofAddr, fmt.Sprintf("crucibled-leases=%d-imported.pb.gz", n))
	last := waitBlock(b, nodes, initialHeight+1)
	imported := sampler.final(b, "crucibled-import")
	nodes.Stop(0)
	phase("crucibled imported the genesis in %s (first block %d), peak RSS %.0f MiB; stopped at height %d",
		importTime.Round(time.Second), initialHeight, imported.Peak, last)

	// 2. crucibled restarts from its data with the launch genesis, the
	// sidecar joins, and the load runs.
	useLaunchGenesis(b, layout, launchState)
	nodes.Start(0)
	sampler.track("crucibled", nodes.Pid(0))
	waitBlock(b, nodes, last+1)
	sampler.markSteady("crucibled")
	checkActiveLeases(b, ctx, client, n)
	saveHeapProfile(b, pprofAddr, fmt.Sprintf("crucibled-leases=%d-restarted.pb.gz", n))
	phase("crucibled restarted")

	rpc, err := rpchttp.New(layout.Nodes[0].RPCAddress(), "/websocket")
	if err != nil {
		b.Fatal(err)
	}
	kr := memKeyring(b, client.Encoding().Codec, layout, append(loadKeys(), apptest.ScaleTenant)...)
	sc := startSidecar(b, ctx, sidecarBin, filepath.Join(dir, "sidecar"), layout, client, kr)
	sampler.track("crucible-sidecar", sc.pid())
	ld := &load{client: client, rpc: rpc, kr: kr, chainID: layout.ChainID,
		provider: keyAddr(b, kr, providerKey).String(), sendTo: keyAddr(b, kr, apptest.ScaleTenant)}
	phase("sidecar up; load for %s x %d", window, b.N)

	var st loadStats
	b.ResetTimer()
	for range b.N {
		st.add(ld.run(b, window))
	}
	b.StopTimer()

	if st.Txs == 0 || st.Cycles == 0 {
		b.Fatalf("the load delivered nothing: %+v", st)
	}
	checkActiveLeases(b, ctx, client, n) // every cycle closed its lease; the genesis leases run on
	saveHeapProfile(b, pprofAddr, fmt.Sprintf("crucibled-leases=%d-loaded.pb.gz", n))
	node, side := sampler.final(b, "crucibled"), sampler.final(b, "crucible-sidecar")
	sc.stop()
	nodes.Stop(0)

	phase("load: %d blocks in %s, %d txs (%.0f tx/s), %d bank sends taken, %d lease cycles",
		st.Blocks, st.Elapsed.Round(time.Millisecond), st.Txs, st.TxPerSec(), st.Sends, st.Cycles)
	phase("crucibled: import peak %.0f MiB; restarted: peak %.0f MiB, steady peak %.0f MiB (%d samples); sidecar: peak %.0f MiB (%d samples)",
		imported.Peak, node.Peak, node.MaxSteadyRSS, node.SteadySamples, side.Peak, side.Samples)
	b.ReportMetric(imported.Peak, "crucibled-import-peak-RSS-MiB")
	b.ReportMetric(node.Peak, "crucibled-peak-RSS-MiB")
	b.ReportMetric(node.MaxSteadyRSS, "crucibled-steady-peak-RSS-MiB")
	b.ReportMetric(side.Peak, "sidecar-peak-RSS-MiB")
	b.ReportMetric(st.TxPerSec(), "tx/s")
	b.ReportMetric(float64(st.Cycles), "lease-cycles")
	b.ReportMetric(mib(genesis.Size()), "genesis-MiB")
	b.ReportMetric(importTime.Seconds(), "import-s")
}

// buildGenesis lays out a one-validator network under dir whose genesis
// holds n ACTIVE leases and funds the keys of the load. It returns the
// layout, the launch genesis's app state (before the leases) and the
// initial height of the n-lease genesis. The in-memory chain that built the
// state is garbage once it returns.
func buildGenesis(tb testing.TB, n int, dir string) (*network.Layout, json.RawMessage, int64) {
	tb.Helper()
	opts := network.DefaultOptions(dir)
	for _, k := range loadKeys() {
		opts.Accounts = append(opts.Accounts, network.Account{Name: k, Coins: opts.Accounts[0].Coins})
	}
	c := apptest.New(tb, opts)
	launch, err := genutiltypes.AppGenesisFromFile(genesisPath(c.Layout))
	if err != nil {
		tb.Fatal(err)
	}
	c.AddActiveLeases(n)
	return c.Layout, launch.AppState, c.ExportGenesis(genesisPath(c.Layout))
}

// useLaunchGenesis replaces the n-lease genesis node0 of l imported, in its
// genesis.json and in the copy CometBFT keeps in its state database, by the
// same genesis with the launch app state (before the leases). The node then
// holds its leases as a chain that created them in blocks does: in its
// application state only. CometBFT keeps the genesis it was started from in
// memory for the node's whole life (the document and, for the
// /genesis_chunked RPC, its base64 chunks) and rewrites it on compactions of
// its state database: at 100k leases several times the 278 MiB genesis,
// which is what importing the leases costs, not what holding them costs
// (crucibled-import-peak-RSS-MiB reports the import). The node must be
// stopped.
func useLaunchGenesis(tb testing.TB, l *network.Layout, launchState json.RawMessage) {
	tb.Helper()
	path := genesisPath(l)
	g, err := genutiltypes.AppGenesisFromFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	g.AppState = launchState
	doc, err := g.ToGenesisDoc()
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := network.CometConfig(l.Nodes[0].Home)
	if err != nil {
		tb.Fatal(err)
	}
	db, err := cmtcfg.DefaultDBProvider(&cmtcfg.DBContext{ID: "state", Config: cfg})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	key := []byte("genesisDoc") // CometBFT's node.genesisDocKey (unexported)
	if ok, err := db.Has(key); err != nil || !ok {
		tb.Fatalf("CometBFT's state database holds no %q (%v): its layout changed; update useLaunchGenesis", key, err)
	}
	bz, err := cmtjson.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.SetSync(key, bz); err != nil {
		tb.Fatal(err)
	}
	// Drop the replaced version now: goleveldb reads every version of a key
	// in its level-0 tables on a lookup, and would keep rewriting it in
	// compactions until one drops it.
	if err := db.Compact(nil, nil); err != nil {
		tb.Fatal(err)
	}
	if err := g.SaveAs(path); err != nil {
		tb.Fatal(err)
	}
}

func genesisPath(l *network.Layout) string {
	return filepath.Join(l.Nodes[0].Home, "config", "genesis.json")
}

// waitBlock waits until node 0's app has committed height h and returns
// the node's height then, failing at once if the process exits. CometBFT
// stores a block before the app executes it, so the app is done with h
// once the node reports h+1.
func waitBlock(tb testing.TB, nodes *procnet.Net, h int64) int64 {
	tb.Helper()
	logPath := filepath.Join(nodes.Dir, "node0.log")
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if st, err := nodes.Status(0); err == nil && st.Height > h {
			return st.Height
		}
		if _, err := procnet.ReadMem(nodes.Pid(0)); err != nil {
			tb.Fatalf("crucibled exited before committing height %d (%v); log: %s", h, err, logPath)
		}
		time.Sleep(250 * time.Millisecond)
	}
	tb.Fatalf("crucibled did not commit height %d within %s; log: %s", h, startTimeout, logPath)
	return 0
}

// checkActiveLeases checks over gRPC that the node holds n ACTIVE leases.
func checkActiveLeases(tb testing.TB, ctx context.Context, client *chain.Client, n int) {
	tb.Helper()
	res, err := client.Market.Leases(ctx, &markettypes.QueryLeasesRequest{State: markettypes.LeaseStateActive,
		Pagination: &query.PageRequest{Limit: 1, CountTotal: true}})
	if err != nil {
		tb.Fatal(err)
	}
	if res.Pagination.Total != uint64(n) {
		tb.Fatalf("node has %d ACTIVE leases, want %d", res.Pagination.Total, n)
	}
}

// memKeyring holds the keys names of the layout's test keyring, in memory
// (signing from the file keyring decrypts the key on every transaction).
func memKeyring(tb testing.TB, cdc codec.Codec, l *network.Layout, names ...string) keyring.Keyring {
	tb.Helper()
	kr := keyring.NewInMemory(cdc)
	for _, name := range names {
		if _, err := kr.NewAccount(name, l.Mnemonics[name], keyring.DefaultBIP39Passphrase,
			sdk.GetConfig().GetFullBIP44Path(), hd.Secp256k1); err != nil {
			tb.Fatalf("key %s: %v", name, err)
		}
	}
	return kr
}

// enablePprof sets node0's CometBFT pprof listener to a free loopback port
// when envPprofDir is set and returns its address ("" otherwise).
func enablePprof(tb testing.TB, l *network.Layout) string {
	tb.Helper()
	if os.Getenv(envPprofDir) == "" {
		return ""
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	home := l.Nodes[0].Home
	cfg, err := network.CometConfig(home)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.RPC.PprofListenAddress = addr
	cmtcfg.WriteConfigFile(filepath.Join(home, "config", "config.toml"), cfg)
	return addr
}

// saveHeapProfile writes crucibled's heap profile (after a GC) to
// envPprofDir/name when pprof is on.
func saveHeapProfile(tb testing.TB, addr, name string) {
	tb.Helper()
	if addr == "" {
		return
	}
	res, err := http.Get("http://" + addr + "/debug/pprof/heap?gc=1")
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	bz, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		tb.Fatalf("heap profile: %s, %v", res.Status, err)
	}
	dir := os.Getenv(envPprofDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), bz, 0o644); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("heap profile: %s", filepath.Join(dir, name))
}

func mib(bytes int64) float64 { return float64(bytes) / (1 << 20) }
