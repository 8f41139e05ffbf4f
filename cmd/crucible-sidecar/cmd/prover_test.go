package cmd

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crucible-network/crucible/sidecar/prover"
)

func TestProverSelftestCPU(t *testing.T) {
	home := t.TempDir()
	out, _, err := run(t, "prover", "selftest", "--home", home, "--backend", "cpu", "--m", "2", "--n", "64", "--k", "64")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"backend: cpu", "golden test-params", "golden tiny", "golden padded-with-lease", ": ok", "int8 TOPS", "N=64 K=64 M=2"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "FAIL") {
		t.Fatalf("a golden case failed:\n%s", out)
	}
}

func TestProverSelftestGoldenFileAndBackends(t *testing.T) {
	home := t.TempDir()
	golden := filepath.Join("..", "..", "..", "x", "attest", "poc", "testdata", "golden.json")
	out, _, err := run(t, "prover", "selftest", "--home", home, "--backend", "auto", "--golden", golden, "--m", "0")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Contains(out, "throughput") {
		t.Fatalf("--m 0 still measured:\n%s", out)
	}
	// Without CUDA here, --backend cuda fails cleanly; with it, it passes.
	out, _, err = run(t, "prover", "selftest", "--home", home, "--backend", "cuda", "--m", "0")
	if err != nil && !strings.Contains(err.Error(), "unavailable") {
		t.Fatalf("cuda: %v\n%s", err, out)
	}
	if _, _, err := run(t, "prover", "selftest", "--home", home, "--backend", "tpu"); err == nil {
		t.Fatal("unknown backend accepted")
	}

	// A vector file the prover does not reproduce fails the command.
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), `"reveal_size": `, `"reveal_size": 1`, 1)
	badPath := filepath.Join(t.TempDir(), "golden.json")
	if err := os.WriteFile(badPath, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = run(t, "prover", "selftest", "--home", home, "--backend", "cpu", "--golden", badPath, "--m", "0")
	if !errors.Is(err, errGoldenFailed) || !strings.Contains(out, "FAIL") {
		t.Fatalf("bad vectors: %v\n%s", err, out)
	}
}

func TestProverSelftestTwin(t *testing.T) {
	out, _, err := run(t, "prover", "selftest", "--home", t.TempDir(), "--backend", "twin", "--m", "2", "--n", "64", "--k", "64")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"backend: twin", "golden test-params", "golden padded-with-lease", ": ok", "int8 TOPS", "device memory: 0.03 GiB (batch 2"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "FAIL") {
		t.Fatalf("a golden case failed:\n%s", out)
	}
}

func TestProverBench(t *testing.T) {
	out, _, err := run(t, "prover", "bench", "--backend", "twin", "--size", "test", "--deadline", "1m", "--gemm-units", "2")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"challenge N=256 K=256 M=4", "device memory", "whole challenge", "gemm alone", "PASS", "yes, twin"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	// A partial run is extrapolated; a deadline too short fails the command.
	out, _, err = run(t, "prover", "bench", "--backend", "cpu", "--size", "custom", "--n", "64", "--k", "64", "--m", "8",
		"--units", "2", "--deadline", "1ns", "--samples", "4")
	if !errors.Is(err, errMissesDeadline) || !strings.Contains(out, "2 of 8 units, commit extrapolated") || !strings.Contains(out, "FAIL") ||
		!strings.Contains(out, "no ") {
		t.Fatalf("missed deadline: %v\n%s", err, out)
	}
	// The production size comes from the x/attest params; without CUDA here
	// the cuda backend fails cleanly before measuring anything.
	out, _, err = run(t, "prover", "bench", "--size", "production")
	if err != nil && !errors.Is(err, prover.ErrUnavailable) {
		t.Fatalf("cuda: %v\n%s", err, out)
	}
	if _, _, err := run(t, "prover", "bench", "--size", "huge"); err == nil {
		t.Fatal("unknown size accepted")
	}
	if _, _, err := run(t, "prover", "bench", "--backend", "tpu", "--size", "test"); err == nil {
		t.Fatal("unknown backend accepted")
	}
}
