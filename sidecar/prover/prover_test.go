package prover

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/x/attest/poc"
)

func checkAllGolden(t *testing.T, p Prover) {
	t.Helper()
	cases, err := LoadGolden("")
	if err != nil {
		t.Fatal(err)
	}
	results, err := CheckGolden(context.Background(), p, cases)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(cases) {
		t.Fatalf("%d results for %d cases", len(results), len(cases))
	}
	for _, r := range results {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Name, r.Err)
		}
	}
}

func TestCPUGolden(t *testing.T) { checkAllGolden(t, NewCPU(0)) }

func TestTwinGPUGolden(t *testing.T) {
	for _, batch := range []uint32{1, 2, 4} {
		checkAllGolden(t, NewTwin(GPUOptions{MaxBatch: batch}))
	}
}

func TestEmbeddedGoldenIsPocGolden(t *testing.T) {
	b, err := os.ReadFile("../../x/attest/poc/testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, goldenJSON) {
		t.Fatal("sidecar/prover/testdata/golden.json differs from x/attest/poc/testdata/golden.json; copy it over")
	}
	if _, err := LoadGolden("../../x/attest/poc/testdata/golden.json"); err != nil {
		t.Fatal(err)
	}
}

// corruptTwin is a twin GPU whose GEMM flips one entry of every product.
func corruptTwin() *GPU {
	g := NewTwin(GPUOptions{})
	g.dev.(*twinDevice).corruptC = true
	return g
}

func TestGoldenDetectsWrongAnswers(t *testing.T) {
	cases, _ := LoadGolden("")
	results, err := CheckGolden(context.Background(), corruptTwin(), cases)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err == nil || !strings.Contains(r.Err.Error(), "first differing unit 0") {
			t.Fatalf("%s: corrupted products passed: %v", r.Name, r.Err)
		}
	}
	if err := KnownAnswer(context.Background(), corruptTwin()); !errors.Is(err, ErrKnownAnswer) {
		t.Fatalf("KnownAnswer: %v", err)
	}
	if err := KnownAnswer(context.Background(), NewTwin(GPUOptions{})); err != nil {
		t.Fatalf("KnownAnswer of the twin: %v", err)
	}
}

func TestSessionErrorsAndCancel(t *testing.T) {
	p := poc.Params{N: 64, K: 64, M: 16, Samples: 4}
	seed := [32]byte{1}
	ctx := context.Background()

	// Out of device memory while allocating: a clean ErrDeviceMemory, and
	// the device is free again for the next proof.
	g := NewTwin(GPUOptions{})
	dev := g.dev.(*twinDevice)
	dev.failAlloc.Store(3)
	if _, err := g.Prove(ctx, p, seed); !errors.Is(err, ErrDeviceMemory) || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "out of memory") {
		t.Fatalf("Prove with a failing cuMemAlloc: %v", err)
	}
	if free, total, _ := dev.memInfo(); free != total {
		t.Fatalf("a failed Prove leaked %d bytes", total-free)
	}
	s, err := g.Prove(ctx, p, seed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reveal(ctx, seed); !errors.Is(err, poc.ErrNotCommitted) {
		t.Fatalf("Reveal before Commit: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx); !errors.Is(err, errSessionClosed) {
		t.Fatalf("Commit after Close: %v", err)
	}
	if free, total, _ := dev.memInfo(); free != total {
		t.Fatalf("Close leaked %d bytes", total-free)
	}

	// A busy device makes the next Prove wait, until its context ends.
	s, err = g.Prove(ctx, p, seed)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := g.Prove(cctx, p, seed); !errors.Is(err, context.Canceled) {
		t.Fatalf("Prove on a busy device with a cancelled context: %v", err)
	}
	if _, err := s.Commit(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit with a cancelled context: %v", err)
	}
	_ = s.Close()
	if _, err := g.Prove(ctx, poc.Params{N: 65}, seed); !errors.Is(err, poc.ErrBadParams) {
		t.Fatalf("bad params: %v", err)
	}
	if _, err := NewCPU(1).Prove(ctx, poc.Params{N: 65}, seed); !errors.Is(err, poc.ErrBadParams) {
		t.Fatalf("cpu bad params: %v", err)
	}
}

// cudaHere reports whether the CUDA prover opens on this machine.
func cudaHere() bool {
	p, err := NewCUDA(CUDAOptions{})
	if err == nil {
		_ = p.Close()
	}
	return err == nil
}

func TestCUDA(t *testing.T) {
	p, err := NewCUDA(CUDAOptions{})
	if err != nil {
		// No GPU, driver or cuBLASLt here: a clean ErrUnavailable with the reason.
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("NewCUDA: %v, want ErrUnavailable", err)
		}
		t.Logf("cuda unavailable here, as expected without a GPU: %v", err)
		return
	}
	t.Logf("%s", p.Device())
	checkAllGolden(t, p)
	if err := KnownAnswer(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if _, err := NewCUDA(CUDAOptions{Device: "GPU-00000000-0000-0000-0000-000000000000"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("unknown device: %v", err)
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	p, err := Open(ctx, config.ProverConfig{Backend: config.ProverBackendCPU}, logger)
	if err != nil || p.Name() != "cpu" {
		t.Fatalf("cpu: %v %v", p, err)
	}
	p, err = Open(ctx, config.ProverConfig{Backend: config.ProverBackendAuto}, logger)
	if err != nil {
		t.Fatal(err)
	}
	cuda := cudaHere()
	if cuda && p.Name() != "cuda" || !cuda && p.Name() != "cpu" {
		t.Fatalf("auto chose %s (cuda here: %v)", p.Name(), cuda)
	}
	if !cuda && !strings.Contains(logs.String(), "cuda prover not usable") {
		t.Fatalf("auto did not log why: %s", logs.String())
	}
	_, err = Open(ctx, config.ProverConfig{Backend: config.ProverBackendCUDA}, logger)
	if cuda && err != nil || !cuda && !errors.Is(err, ErrUnavailable) {
		t.Fatalf("cuda: %v", err)
	}
	if _, err := Open(ctx, config.ProverConfig{Backend: "tpu"}, logger); err == nil {
		t.Fatal("unknown backend accepted")
	}
}

func TestMeasure(t *testing.T) {
	p := poc.Params{N: 64, K: 128, M: 4, Samples: 8}
	th, err := Measure(context.Background(), NewCPU(0), p, [32]byte{9})
	if err != nil {
		t.Fatal(err)
	}
	if th.MACs != p.MACs() || th.TOPS <= 0 || th.MACPerSec <= 0 || th.Total < th.Commit {
		t.Fatalf("%+v", th)
	}
	g, err := Measure(context.Background(), NewTwin(GPUOptions{}), p, [32]byte{9})
	if err != nil || g.Root != th.Root {
		t.Fatalf("pipeline root %x, cpu %x (%v)", g.Root, th.Root, err)
	}
}
