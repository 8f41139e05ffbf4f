package cmd

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/sidecar/prover"
	"github.com/crucible-network/crucible/x/attest/poc"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
)

// Bench sizes.
const (
	sizeProduction = "production"
	sizeTest       = "test"
	sizeCustom     = "custom"
)

// errMissesDeadline is returned by prover bench when the challenge does not
// fit its deadline with the required margin.
var errMissesDeadline = errors.New("the prover misses the class deadline")

func newProverBenchCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "bench",
		Short: "Time a whole challenge of a GPU class against its commit deadline and against the GEMM alone",
		Long: `Time one whole challenge (generation, int8 products, leaf hashing, Merkle
trees, instance root, sampling and reveal) on the selected backend and print
its int8 throughput against the class's commit deadline (with the required
1.2x margin), the GEMM alone on the same device, and the H100 dense int8
peak (1,979 TOPS).

--size production takes the class's proof size from the x/attest default
params (--class, default h100: N=4096 K=65536 M=8192); the deadline is the
class's commit deadline in the default params (reference_proof_ms x
commit_deadline_bps + commit_slack_ms: 33.3 s for h100), or --deadline.
--size test uses N=K=256 M=4; --size custom takes --n --k --m --samples.
--units proves only that many units and extrapolates the commit linearly
(the reveal is measured); --gemm-units sets how many units the GEMM-alone
run multiplies (extrapolated to M).

The command exits non-zero when the challenge misses the deadline margin.`,
		Args: cobra.NoArgs,
		RunE: runProverBench,
	}
	c.Flags().String("backend", config.ProverBackendCUDA, "prover backend: cuda, twin or cpu")
	c.Flags().String("size", sizeProduction, "challenge size: production, test or custom")
	c.Flags().String("class", attesttypes.ClassH100, "gpu class whose proof size --size production uses")
	c.Flags().Duration("deadline", 0, "commit deadline (overrides the class's deadline in the default params)")
	c.Flags().Uint32("units", 0, "prove only this many units and extrapolate (0: all M)")
	c.Flags().Uint32("gemm-units", 64, "units of the GEMM-alone measurement (0 skips it)")
	c.Flags().Uint32("n", 0, "custom size: rows and columns of each product")
	c.Flags().Uint32("k", 0, "custom size: inner dimension")
	c.Flags().Uint32("m", 0, "custom size: units")
	c.Flags().Uint32("samples", 32, "custom size: sampled openings")
	addDeviceFlags(c)
	return c
}

// benchParams returns the challenge size and the commit deadline.
func benchParams(cmd *cobra.Command) (poc.Params, time.Duration, string, error) {
	size, _ := cmd.Flags().GetString("size")
	class, _ := cmd.Flags().GetString("class")
	ap := attesttypes.DefaultParams()
	cs, ok := ap.Class(class)
	if !ok {
		cs = attesttypes.TestClassSize()
		if class != attesttypes.ClassTest {
			return poc.Params{}, 0, "", fmt.Errorf("--class %q: the default params define no such class", class)
		}
	}
	deadline := time.Duration(ap.CommitDeadlineMs(cs)) * time.Millisecond
	what := fmt.Sprintf("class %s commit deadline: %d ms x %d/10000 + %d ms slack", cs.Class, cs.ReferenceProofMs, ap.CommitDeadlineBps, ap.CommitSlackMs)
	var p poc.Params
	switch size {
	case sizeProduction:
		p = cs.ProofSize.PocParams()
	case sizeTest:
		p = poc.TestParams()
	case sizeCustom:
		n, _ := cmd.Flags().GetUint32("n")
		k, _ := cmd.Flags().GetUint32("k")
		m, _ := cmd.Flags().GetUint32("m")
		s, _ := cmd.Flags().GetUint32("samples")
		p = poc.Params{N: n, K: k, M: m, Samples: s}
	default:
		return p, 0, "", fmt.Errorf("--size %q: want %s, %s or %s", size, sizeProduction, sizeTest, sizeCustom)
	}
	if d, _ := cmd.Flags().GetDuration("deadline"); d > 0 {
		deadline, what = d, "--deadline"
	}
	if err := p.Validate(); err != nil {
		return p, 0, "", err
	}
	return p, deadline, what, nil
}

func runProverBench(cmd *cobra.Command, _ []string) error {
	out := cmd.OutOrStdout()
	params, deadline, what, err := benchParams(cmd)
	if err != nil {
		return err
	}
	backend, _ := cmd.Flags().GetString("backend")
	if backend == config.ProverBackendAuto {
		return fmt.Errorf("--backend auto: name the backend to measure (cuda, twin or cpu)")
	}
	p, closer, err := openBackend(cmd, out, backend)
	if err != nil {
		return err
	}
	defer closer()
	units, _ := cmd.Flags().GetUint32("units")
	gemmUnits, _ := cmd.Flags().GetUint32("gemm-units")
	fmt.Fprintf(out, "challenge N=%d K=%d M=%d samples=%d (%.3g int8 multiply-adds), deadline %s (%s)...\n",
		params.N, params.K, params.M, params.Samples, float64(params.MACs()), deadline, what)
	r, err := prover.Bench(cmd.Context(), p, params, units, gemmUnits, deadline)
	if err != nil {
		return err
	}
	writeBench(out, r)
	margin := float64(deadline) / float64(r.Whole)
	if margin < prover.DeadlineMargin {
		return fmt.Errorf("%w: %s against %s (%.2fx, need %.1fx)", errMissesDeadline, r.Whole.Round(time.Millisecond), deadline, margin, prover.DeadlineMargin)
	}
	return nil
}

func writeBench(out io.Writer, r prover.BenchResult) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	pct := func(t float64) string {
		return fmt.Sprintf("%.3g%% of the H100's %d", 100*t/prover.H100DenseInt8TOPS, prover.H100DenseInt8TOPS)
	}
	if r.Plan != "" {
		fmt.Fprintf(w, "device memory\t%s\n", r.Plan)
	}
	run := "all units"
	if r.Units != r.Params.M {
		run = fmt.Sprintf("%d of %d units, commit extrapolated", r.Units, r.Params.M)
	}
	fmt.Fprintf(w, "commit\t%s (%s)\n", r.Commit.Round(time.Millisecond), run)
	fmt.Fprintf(w, "reveal\t%s\n", r.Reveal.Round(time.Millisecond))
	fmt.Fprintf(w, "whole challenge\t%s\t%.4g int8 TOPS\t%s\n", r.Whole.Round(time.Millisecond), r.WholeTOPS, pct(r.WholeTOPS))
	if r.GEMMUnits > 0 {
		fmt.Fprintf(w, "gemm alone\t%s\t%.4g int8 TOPS\t%s (from %d units; whole/gemm %.2f)\n",
			r.GEMM.Round(time.Millisecond), r.GEMMTOPS, pct(r.GEMMTOPS), r.GEMMUnits, r.Whole.Seconds()/r.GEMM.Seconds())
	}
	margin := float64(r.Deadline) / float64(r.Whole)
	verdict := "PASS"
	if margin < prover.DeadlineMargin {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "deadline\t%s\t%.2fx margin\t%s (need %.1fx)\n", r.Deadline, margin, verdict, prover.DeadlineMargin)
	bid := "no"
	if r.Decision.Bid() {
		bid = "yes, " + r.Decision.Backend
	}
	fmt.Fprintf(w, "bid this class\t%s\t%s\n", bid, r.Decision.Reason)
	_ = w.Flush()
}
