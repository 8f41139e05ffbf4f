package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/crucible-network/crucible/testutil/apptest"
	"github.com/crucible-network/crucible/testutil/network"
)

// newScaleChain builds a chain holding n ACTIVE leases (see
// apptest.Chain.AddActiveLeases: n/64 providers of 64 GPUs, one tenant,
// escrow funded far beyond the benchmark, challenge rate 0). Per-block work
// then measures what the chain does for n leases that are simply running.
func newScaleChain(tb testing.TB, n int) *apptest.Chain {
	tb.Helper()
	c := apptest.New(tb, network.DefaultOptions(tb.TempDir()))
	c.AddActiveLeases(n)
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

// TestScaleChainHoldsActiveLeases keeps the benchmarks' setup honest: the
// leases exist, are active, a block runs with them, and the state survives
// an export and an import into a fresh app (what the node benchmark in
// bench/nodebench starts crucibled from) with its balances reconciled.
func TestScaleChainHoldsActiveLeases(t *testing.T) {
	c := newScaleChain(t, 1200)
	if active := c.CountActiveLeases(); active != 1200 {
		t.Fatalf("%d active leases, want 1200", active)
	}
	c.NextBlock()
	if err := c.App.EscrowKeeper.CheckBalances(c.Ctx()); err != nil {
		t.Fatal(err)
	}

	exported, err := c.App.ExportAppStateAndValidators(false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	imported := apptest.FromExport(t, c, exported)
	if active := imported.CountActiveLeases(); active != 1200 {
		t.Fatalf("after export and import: %d active leases, want 1200", active)
	}
	if err := imported.App.EscrowKeeper.CheckBalances(imported.Ctx()); err != nil {
		t.Fatalf("after export and import: %v", err)
	}
}
