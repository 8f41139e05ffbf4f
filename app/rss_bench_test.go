package app_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/crucible-network/crucible/testutil/apptest"
	"github.com/crucible-network/crucible/testutil/procnet"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
)

// vmHWM is this process's peak resident set size in MiB (VmHWM in
// /proc/self/status), or -1 where that file is unavailable.
func vmHWM(tb testing.TB) float64 {
	m, err := procnet.ReadMem(os.Getpid())
	if err != nil {
		tb.Logf("no peak RSS: %v", err)
		return -1
	}
	return m.Peak
}

// countActive returns the number of ACTIVE leases and of open (not yet
// revealed or expired) challenges.
func countActive(tb testing.TB, c *apptest.Chain) (leases, challenges int) {
	tb.Helper()
	ctx := c.Ctx()
	if err := c.App.MarketKeeper.Leases.Walk(ctx, nil, func(_ uint64, l markettypes.Lease) (bool, error) {
		if l.State == markettypes.LeaseStateActive {
			leases++
		}
		return false, nil
	}); err != nil {
		tb.Fatal(err)
	}
	if err := c.App.AttestKeeper.Challenges.Walk(ctx, nil, func(_ uint64, ch attesttypes.Challenge) (bool, error) {
		if ch.State == attesttypes.ChallengeStatePendingCommit || ch.State == attesttypes.ChallengeStateCommitted {
			challenges++
		}
		return false, nil
	}); err != nil {
		tb.Fatal(err)
	}
	return leases, challenges
}

// BenchmarkScaleBlockPeakRSS measures what BenchmarkBlockWithActiveLeases
// does (one empty block, FinalizeBlock + Commit, with n ACTIVE leases in
// state, on the same setup, challenge rate 0: settlement alone), written
// with b.Loop so that the setup runs once however many blocks are timed
// (the b.N loop of BenchmarkBlockWithActiveLeases repeats its setup for any
// -benchtime above 1x: minutes at 100k leases). The setup's garbage is
// collected before the timed blocks, so they pay only for the GC their own
// garbage causes, over a heap that holds the whole state (the memory
// database keeps it all on the Go heap).
//
// After the blocks it reports the test process's peak RSS (VmHWM: the whole
// process, Go runtime and test binary included, with the app's state in a
// memory database rather than on disk as a node keeps it) and the Go heap
// in use with the chain alive. Run one size per process (make bench does):
// VmHWM never goes down, so an earlier, larger setup would show through.
func BenchmarkScaleBlockPeakRSS(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("leases=%d", n), func(b *testing.B) {
			start := time.Now()
			c := newScaleChain(b, n)
			b.Logf("setup of %d leases: %s", n, time.Since(start).Round(time.Millisecond))
			if leases, open := countActive(b, c); leases != n || open != 0 {
				b.Fatalf("before timing: %d active leases (want %d), %d open challenges (want 0)", leases, n, open)
			}
			runtime.GC() // the setup's garbage is not collected during the timed blocks
			for b.Loop() {
				c.NextBlock()
			}
			if leases, _ := countActive(b, c); leases != n {
				b.Fatalf("after timing: %d active leases, want %d", leases, n)
			}

			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(vmHWM(b), "peak-RSS-MiB")
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-inuse-MiB")
			runtime.KeepAlive(c)
		})
	}
}
