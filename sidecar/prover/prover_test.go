package prover

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/x/attest/poc"
)

// goEngine is an engine in Go memory whose matmul is the CPU reference
// kernel: it tests the pipeline the CUDA prover uses, without a GPU.
type goEngine struct {
	n, k    int
	a, b    [][]int8
	c       [][]int32
	calls   atomic.Int64
	failAt  int64 // matmul call that fails (1-based); 0: never
	corrupt bool  // flip one entry of every product
	closed  bool
}

func newGoEngine(p poc.Params, slots int) *goEngine {
	e := &goEngine{n: int(p.N), k: int(p.K)}
	for range slots {
		e.a = append(e.a, make([]int8, e.n*e.k))
		e.b = append(e.b, make([]int8, e.n*e.k))
		e.c = append(e.c, make([]int32, e.n*e.n))
	}
	return e
}

func (e *goEngine) slots() int { return len(e.a) }
func (e *goEngine) host(s int) ([]int8, []int8, []int32) {
	return e.a[s], e.b[s], e.c[s]
}
func (e *goEngine) matmul(s int) error {
	if n := e.calls.Add(1); n == e.failAt {
		return errors.New("injected device failure")
	}
	poc.MatMulABt(e.a[s], e.b[s], e.n, e.k, e.c[s])
	if e.corrupt {
		e.c[s][len(e.c[s])-1]++
	}
	return nil
}
func (e *goEngine) close() error { e.closed = true; return nil }

// goProver is a Prover over goEngine.
type goProver struct {
	slots   int
	failAt  int64
	corrupt bool
	last    *goEngine
}

func (*goProver) Name() string { return "go-engine" }
func (g *goProver) Prove(_ context.Context, p poc.Params, seed [32]byte) (Session, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	e := newGoEngine(p, g.slots)
	e.failAt, e.corrupt = g.failAt, g.corrupt
	g.last = e
	return newEngineSession(p, seed, e), nil
}

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

func TestEnginePipelineGolden(t *testing.T) {
	for _, slots := range []int{2, 3, 8} {
		checkAllGolden(t, &goProver{slots: slots})
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

func TestGoldenDetectsWrongAnswers(t *testing.T) {
	cases, _ := LoadGolden("")
	results, err := CheckGolden(context.Background(), &goProver{slots: 3, corrupt: true}, cases)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err == nil || !strings.Contains(r.Err.Error(), "first differing unit 0") {
			t.Fatalf("%s: corrupted products passed: %v", r.Name, r.Err)
		}
	}
	if err := KnownAnswer(context.Background(), &goProver{slots: 2, corrupt: true}); !errors.Is(err, ErrKnownAnswer) {
		t.Fatalf("KnownAnswer: %v", err)
	}
	if err := KnownAnswer(context.Background(), &goProver{slots: 2}); err != nil {
		t.Fatalf("KnownAnswer of a correct engine: %v", err)
	}
}

func TestEngineErrorsAndCancel(t *testing.T) {
	p := poc.Params{N: 64, K: 64, M: 16, Samples: 4}
	seed := [32]byte{1}
	g := &goProver{slots: 3, failAt: 5}
	s, err := g.Prove(context.Background(), p, seed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(context.Background()); err == nil || !strings.Contains(err.Error(), "injected device failure") {
		t.Fatalf("Commit with a failing device: %v", err)
	}
	if _, err := s.Reveal(context.Background(), seed); !errors.Is(err, poc.ErrNotCommitted) {
		t.Fatalf("Reveal before a successful Commit: %v", err)
	}
	if err := s.Close(); err != nil || !g.last.closed {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.Commit(context.Background()); !errors.Is(err, errSessionClosed) {
		t.Fatalf("Commit after Close: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, _ = (&goProver{slots: 2}).Prove(ctx, p, seed)
	if _, err := s.Commit(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit with a cancelled context: %v", err)
	}
	if _, err := (&goProver{slots: 2}).Prove(ctx, poc.Params{N: 65}, seed); !errors.Is(err, poc.ErrBadParams) {
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
	g, err := Measure(context.Background(), &goProver{slots: 3}, p, [32]byte{9})
	if err != nil || g.Root != th.Root {
		t.Fatalf("pipeline root %x, cpu %x (%v)", g.Root, th.Root, err)
	}
}
