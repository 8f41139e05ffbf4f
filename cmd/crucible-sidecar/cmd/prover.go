package cmd

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/sidecar/prover"
	"github.com/crucible-network/crucible/x/attest/poc"
)

func newProverCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "prover",
		Short: "Check and measure the proof-of-compute prover",
	}
	c.AddCommand(newProverSelftestCmd(), newProverBenchCmd())
	return c
}

// errGoldenFailed is returned when the prover misses a reference vector.
var errGoldenFailed = errors.New("the prover does not reproduce the golden vectors")

func newProverSelftestCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "selftest",
		Short: "Run the golden vectors through the prover and measure its throughput",
		Long: `Run the proof-of-compute golden vectors (x/attest/poc/testdata/golden.json,
embedded in the binary; --golden reads another file) through the selected
prover backend, which must reproduce every instance root and reveal bit for
bit, then time one whole challenge (generation, products, hashing, commitment
and reveal) and print its int8 throughput (a multiply-add counts as two
operations).

--backend overrides the config file's prover.backend. With cuda the command
fails when the CUDA driver, cuBLASLt or NVRTC cannot be loaded, the GPU is
too old or the kernels do not compile or load (the library's own error
string is printed); auto falls back to the CPU. twin runs the GPU pipeline
on the Go twins of the CUDA kernels (bit-identical, slow): the CPU check of
everything but the hardware.
The throughput challenge defaults to N=256 K=256 M=4 on the CPU and
N=4096 K=65536 M=64 on CUDA; --n, --k, --m and --samples change it, and
--m 0 skips it.`,
		Args: cobra.NoArgs,
		RunE: runProverSelftest,
	}
	c.Flags().String("backend", config.ProverBackendAuto, "prover backend: cpu, cuda, auto or twin (default: the config file's)")
	c.Flags().String("golden", "", "golden vector file (default: the embedded copy)")
	addDeviceFlags(c)
	c.Flags().Uint32("n", 0, "throughput challenge: rows and columns of each product (multiple of 64)")
	c.Flags().Uint32("k", 0, "throughput challenge: inner dimension (multiple of 8, at most 65536)")
	c.Flags().Int64("m", -1, "throughput challenge: units (0 skips the measurement)")
	c.Flags().Uint32("samples", 0, "throughput challenge: sampled openings (default 16 on the CPU, 32 on CUDA)")
	return c
}

func runProverSelftest(cmd *cobra.Command, _ []string) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	cfg, err := loadConfig(cmd, true)
	if err != nil {
		return err
	}
	backend := cfg.Prover.Backend
	if cmd.Flags().Changed("backend") {
		backend, _ = cmd.Flags().GetString("backend")
	}
	goldenPath, _ := cmd.Flags().GetString("golden")
	p, closer, err := openBackend(cmd, out, backend)
	if err != nil {
		return err
	}
	defer closer()

	cases, err := prover.LoadGolden(goldenPath)
	if err != nil {
		return err
	}
	results, err := prover.CheckGolden(ctx, p, cases)
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range results {
		status := "ok"
		if r.Err != nil {
			status, failed = "FAIL: "+r.Err.Error(), failed+1
		}
		fmt.Fprintf(out, "golden %-18s N=%d K=%d M=%d: %s (%s)\n", r.Name, r.Params.N, r.Params.K, r.Params.M, status, r.Elapsed.Round(1e5))
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d of %d cases failed", errGoldenFailed, failed, len(results))
	}

	params := poc.TestParams()
	if p.Name() == config.ProverBackendCUDA {
		params = poc.Params{N: 4096, K: 65536, M: 64, Samples: 32}
	}
	if v, _ := cmd.Flags().GetUint32("n"); v != 0 {
		params.N = v
	}
	if v, _ := cmd.Flags().GetUint32("k"); v != 0 {
		params.K = v
	}
	if v, _ := cmd.Flags().GetInt64("m"); v == 0 {
		return nil
	} else if v > 0 {
		if v > poc.MaxM {
			return fmt.Errorf("--m %d is more than %d", v, poc.MaxM)
		}
		params.M = uint32(v)
	}
	if v, _ := cmd.Flags().GetUint32("samples"); v != 0 {
		params.Samples = v
	}
	if err := params.Validate(); err != nil {
		return err
	}
	return measure(cmd, out, p, params)
}

func measure(cmd *cobra.Command, out io.Writer, p prover.Prover, params poc.Params) error {
	seed := poc.DeriveSeed(poc.SeedInput{ChainID: "crucible/selftest", Height: 1, Provider: []byte("selftest")})
	fmt.Fprintf(out, "throughput challenge N=%d K=%d M=%d samples=%d: %.3g int8 multiply-adds...\n",
		params.N, params.K, params.M, params.Samples, float64(params.MACs()))
	if g, ok := p.(interface {
		Plan(poc.Params) (prover.MemPlan, error)
	}); ok {
		if pl, err := g.Plan(params); err == nil {
			fmt.Fprintf(out, "device memory: %s\n", pl)
		} else {
			fmt.Fprintf(out, "device memory: %v\n", err)
		}
	}
	t, err := prover.Measure(cmd.Context(), p, params, seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "commit %s, reveal %s, total %s\n", t.Commit.Round(1e6), t.Reveal.Round(1e6), t.Total.Round(1e6))
	fmt.Fprintf(out, "throughput: %.4g MAC/s = %.4g int8 TOPS (whole challenge, hashing and commitment included)\n", t.MACPerSec, t.TOPS)
	return nil
}

// backendTwin is the selftest and bench backend that runs the GPU pipeline
// on the Go twins of the CUDA kernels.
const backendTwin = "twin"

func addDeviceFlags(c *cobra.Command) {
	c.Flags().String("device", "", "cuda device: ordinal or GPU UUID (default 0)")
	c.Flags().Uint32("batch", 2, "cuda: units per GEMM call, at most (a power of two dividing M; more memory, fuller GPU)")
	c.Flags().Bool("tune", false, "cuda: time cuBLASLt's candidate algorithms at the start of each proof and keep the fastest")
	c.Flags().Uint64("max-device-memory", 0, "cuda: device memory a proof may use, in MiB (0: what is free, less a reserve)")
}

// openBackend opens the prover named by backend (cpu, cuda, auto or twin)
// with the device flags, printing which one it is.
func openBackend(cmd *cobra.Command, out io.Writer, backend string) (prover.Prover, func(), error) {
	device, _ := cmd.Flags().GetString("device")
	batch, _ := cmd.Flags().GetUint32("batch")
	tune, _ := cmd.Flags().GetBool("tune")
	mem, _ := cmd.Flags().GetUint64("max-device-memory")
	gopts := prover.GPUOptions{MaxBatch: batch, Tune: tune, MemoryBudget: mem << 20}
	nop := func() {}
	switch backend {
	case backendTwin:
		fmt.Fprintln(out, "backend: twin (the GPU pipeline on the Go twins of the CUDA kernels)")
		return prover.NewTwin(gopts), nop, nil
	case config.ProverBackendCPU:
		fmt.Fprintln(out, "backend: cpu (pure-Go reference)")
		return prover.NewCPU(0), nop, nil
	case config.ProverBackendCUDA, config.ProverBackendAuto:
		cp, err := prover.NewCUDA(prover.CUDAOptions{Device: device, GPU: gopts})
		switch {
		case err == nil:
			fmt.Fprintf(out, "backend: cuda, %s\n", cp.Device())
			return cp, func() { _ = cp.Close() }, nil
		case backend == config.ProverBackendCUDA:
			return nil, nop, err
		default:
			fmt.Fprintf(out, "backend: cpu (auto: %v)\n", err)
			return prover.NewCPU(0), nop, nil
		}
	}
	if err := (config.ProverConfig{Backend: backend}).ValidateBasic(); err != nil {
		return nil, nop, fmt.Errorf("--backend: prover.%w (or %s)", err, backendTwin)
	}
	return nil, nop, fmt.Errorf("--backend %q: want cpu, cuda, auto or %s", backend, backendTwin)
}
