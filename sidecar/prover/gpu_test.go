package prover

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// The GPU pipeline's stream program, with streams running out of order as
// far as its events allow: every golden vector still comes out bit for bit.
func TestOutOfOrderStreamsGolden(t *testing.T) {
	for seed := range uint64(4) {
		for _, batch := range []uint32{1, 2} {
			g := newScheduledTwin(GPUOptions{MaxBatch: batch}, seed)
			checkAllGolden(t, g)
			if ran := g.dev.(*twinDevice).sched.ran; ran == 0 {
				t.Fatal("the scheduler ran nothing")
			}
		}
	}
}

// Longer challenges reuse both buffer slots and the event ring several
// times (batches beyond ringLen), in any order the events allow.
func TestOutOfOrderStreamsLongChallenge(t *testing.T) {
	for _, tc := range []struct {
		p     poc.Params
		batch uint32
	}{
		{poc.Params{N: 64, K: 64, M: 9, Samples: 8}, 1},
		{poc.Params{N: 128, K: 72, M: 12, Samples: 8}, 2},
		{poc.Params{N: 64, K: 64, M: 16, Samples: 8}, 4},
	} {
		seed := [32]byte{byte(tc.p.M)}
		want, err := answer(context.Background(), NewCPU(1), tc.p, seed)
		if err != nil {
			t.Fatal(err)
		}
		for rs := range uint64(3) {
			got, err := answer(context.Background(), newScheduledTwin(GPUOptions{MaxBatch: tc.batch}, rs), tc.p, seed)
			if err != nil || got.root != want.root || string(got.reveal) != string(want.reveal) {
				t.Fatalf("%+v batch %d, schedule %d: differs from the cpu (%v)", tc.p, tc.batch, rs, err)
			}
		}
	}
}

// dropWait is a device that forgets the waits on one event: the stream
// program then has a race, which the out-of-order twin must expose.
type dropWait struct {
	device
	event int
}

func (d dropWait) wait(s devStream, e int) error {
	if e == d.event {
		return nil
	}
	return d.device.wait(s, e)
}

func TestOutOfOrderStreamsCatchAMissingWait(t *testing.T) {
	p := poc.Params{N: 64, K: 64, M: 8, Samples: 4}
	seed := [32]byte{3}
	want, err := answer(context.Background(), NewCPU(1), p, seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []int{evGen, evGemm, evHash} {
		caught := false
		for rs := range uint64(8) {
			g := newScheduledTwin(GPUOptions{MaxBatch: 1}, rs)
			g.dev = dropWait{device: g.dev, event: ev}
			got, err := answer(context.Background(), g, p, seed)
			if err != nil || got.root != want.root {
				caught = true
				break
			}
		}
		if !caught {
			t.Fatalf("dropping the waits on event %d went unnoticed", ev)
		}
	}
}

func TestMemoryPlan(t *testing.T) {
	prod := poc.ProductionParams()
	one := planFor(prod, 1)
	// 2 slots of A and B (2 x 512 MiB), 2 of C (2 x 64 MiB), a unit tree
	// (~16 MiB), the workspace (32 MiB), and small change.
	if one.ABSlot != 512<<20 || one.CSlot != 64<<20 || one.Total < 1200<<20 || one.Total > 1240<<20 {
		t.Fatalf("production plan, batch 1: %+v", one)
	}
	two := planFor(prod, 2)
	if two.Total < 2*one.Total-one.Tree-one.Roots-one.Workspace-one.Gather {
		t.Fatalf("batch 2 plan %s is smaller than twice batch 1 %s", two, one)
	}
	h100 := uint64(79) << 30
	if pl, err := planMemory(prod, 4, 0, h100); err != nil || pl.Batch != 4 {
		t.Fatalf("an idle H100: %v %v", pl, err)
	}
	if pl, err := planMemory(prod, 4, 2<<30, h100); err != nil || pl.Batch != 1 || pl.Total > 2<<30 {
		t.Fatalf("a 2 GiB budget: %v %v", pl, err)
	}
	if pl, err := planMemory(prod, 4, 0, 2<<30+reserveBytes); err != nil || pl.Batch != 1 {
		t.Fatalf("2 GiB free: %v %v", pl, err)
	}
	_, err := planMemory(prod, 4, 0, 1<<30)
	if !errors.Is(err, ErrDeviceMemory) || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "N=4096 K=65536 needs 1.1") {
		t.Fatalf("1 GiB free: %v", err)
	}
	odd := poc.Params{N: 64, K: 64, M: 3, Samples: 4}
	if pl, err := planMemory(odd, 4, 0, h100); err != nil || pl.Batch != 1 {
		t.Fatalf("M=3 must use batch 1: %v %v", pl, err)
	}
	if _, err := planMemory(poc.Params{N: 65}, 1, 0, h100); !errors.Is(err, poc.ErrBadParams) {
		t.Fatalf("bad params: %v", err)
	}
	// A twin device with too little memory refuses the proof cleanly.
	g := newGPU("twin", newTwinDevice("small twin", 1<<20), GPUOptions{})
	if _, err := g.Prove(context.Background(), poc.TestParams(), [32]byte{}); !errors.Is(err, ErrDeviceMemory) {
		t.Fatalf("small device: %v", err)
	}
}

func TestFleetProvesConcurrentlyOnEachGPU(t *testing.T) {
	p := poc.Params{N: 64, K: 128, M: 4, Samples: 4}
	var members []Prover
	var devs []*twinDevice
	for range 3 {
		g := NewTwin(GPUOptions{})
		members = append(members, g)
		devs = append(devs, g.dev.(*twinDevice))
	}
	f, err := NewFleet(members...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// All three challenges arrive at once; each holds its GPU until both
	// commits are in (a barrier), so they can only succeed concurrently.
	var wg sync.WaitGroup
	var committed sync.WaitGroup
	committed.Add(3)
	results := make([]answerResult, 3)
	errs := make([]error, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seed := [32]byte{byte(i)}
			s, err := f.Prove(ctx, p, seed)
			if err != nil {
				errs[i] = err
				committed.Done()
				return
			}
			defer s.Close()
			root, err := s.Commit(ctx)
			committed.Done()
			committed.Wait()
			if err != nil {
				errs[i] = err
				return
			}
			rev, err := s.Reveal(ctx, poc.SampleSeed(root, []byte("known-answer")))
			results[i], errs[i] = answerResult{root: root, reveal: rev}, err
		}()
	}
	wg.Wait()
	for i := range 3 {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		want, _ := answer(ctx, NewCPU(1), p, [32]byte{byte(i)})
		if results[i].root != want.root || string(results[i].reveal) != string(want.reveal) {
			t.Fatalf("challenge %d differs from the cpu", i)
		}
		if devs[i].launches.Load() == 0 {
			t.Fatalf("gpu %d did not prove", i)
		}
	}
	// With every GPU busy, the next challenge waits for one (here: until its
	// deadline); ProveOn names its GPU.
	var held []Session
	for i := range 3 {
		s, err := f.ProveOn(ctx, i, p, [32]byte{})
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, s)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := f.Members()[1].Prove(short, p, [32]byte{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("busy gpu: %v", err)
	}
	for _, s := range held {
		_ = s.Close()
	}
	if _, err := f.ProveOn(ctx, 3, p, [32]byte{}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("no such gpu: %v", err)
	}
	if _, err := NewFleet(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("empty fleet: %v", err)
	}
}

func TestDecide(t *testing.T) {
	prod := poc.ProductionParams()
	test := poc.TestParams()
	minute := time.Minute
	cpu := 6e9 // multiply-adds per second
	for _, tc := range []struct {
		name    string
		p       poc.Params
		gpuErr  error
		gpuEst  time.Duration
		backend string
		reason  string
	}{
		{"h100 in time", prod, nil, 20 * time.Second, "cuda", "within deadline"},
		{"h100 not measured", prod, nil, 0, "cuda", "not measured"},
		{"too slow a gpu, cpu hopeless", prod, nil, 55 * time.Second, "", "do not bid"},
		{"no gpu, production", prod, ErrUnavailable, 0, "", "do not bid"},
		{"no gpu, test class", test, ErrUnavailable, 0, "cpu", "gpu unusable"},
		{"out of device memory, test class", test, ErrDeviceMemory, 0, "cpu", "not enough device memory"},
	} {
		d := Decide(tc.p, minute, tc.gpuErr, tc.gpuEst, cpu)
		if d.Backend != tc.backend || d.Bid() != (tc.backend != "") || !strings.Contains(d.Reason, tc.reason) {
			t.Errorf("%s: %+v", tc.name, d)
		}
	}
	if d := Decide(test, minute, ErrUnavailable, 0, 0); d.Bid() || !strings.Contains(d.Reason, "cpu rate unknown") {
		t.Errorf("unknown cpu rate: %+v", d)
	}
	// The margin: an estimate of deadline/1.2 passes, a little more fails.
	if d := Decide(prod, minute, nil, 50*time.Second, 0); !d.Bid() {
		t.Errorf("50 s against 60 s: %+v", d)
	}
	if d := Decide(prod, minute, nil, 51*time.Second, 0); d.Bid() {
		t.Errorf("51 s against 60 s: %+v", d)
	}
	if r := CPURate(context.Background()); r <= 0 {
		t.Fatalf("cpu rate %v", r)
	}
}

func TestChooseArchAndDriverErrors(t *testing.T) {
	nvrtc118 := []int{35, 37, 50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90}
	for _, tc := range []struct {
		cc, want int
		err      string
	}{
		{90, 90, ""},
		{89, 89, ""},
		{100, 90, ""}, // a newer GPU: its driver JIT-compiles compute_90 PTX
		{120, 90, ""},
		{70, 0, "compute capability 7.0 is below 7.5"},
		{61, 0, "below 7.5"},
	} {
		got, err := chooseArch(tc.cc, nvrtc118)
		if tc.err == "" && (err != nil || got != tc.want) || tc.err != "" && (!errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("chooseArch(%d) = %d, %v", tc.cc, got, err)
		}
	}
	if _, err := chooseArch(90, []int{100, 120}); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "supports no architecture") {
		t.Errorf("nvrtc too new for the gpu: %v", err)
	}
	for _, tc := range []struct {
		code   int
		is     error
		substr string
	}{
		{cudaErrorOutOfMemory, ErrDeviceMemory, "CUresult 2: out of memory"},
		{cudaErrorNoDevice, ErrUnavailable, "CUresult 100"},
		{cudaErrorInsufficientDriver, ErrUnavailable, "CUresult 35"},
		{cudaErrorUnsupportedPTXVersion, ErrUnavailable, "newer than the driver"},
		{cudaErrorNoBinaryForGPU, ErrUnavailable, "NVRTC_LIBRARY"},
	} {
		err := cuError("cuX", tc.code, map[int]string{2: "out of memory"}[tc.code])
		if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.substr) {
			t.Errorf("code %d: %v", tc.code, err)
		}
	}
	if err := cuError("cuLaunchKernel", 700, "an illegal memory access was encountered"); errors.Is(err, ErrUnavailable) ||
		!strings.Contains(err.Error(), "cuLaunchKernel failed with CUresult 700: an illegal memory access") {
		t.Errorf("a kernel fault: %v", err)
	}
}

// noBatchedGemm is a device whose GEMM library has no batched algorithm.
type noBatchedGemm struct{ device }

func (d noBatchedGemm) prepareGemm(n, k uint64, batch uint32, tune bool, a, b, c uint64) error {
	if batch > 1 {
		return errors.New("cuBLASLt has no int8 algorithm for this batch")
	}
	return d.device.prepareGemm(n, k, batch, tune, a, b, c)
}

func TestBatchedGemmFallsBackToOneUnit(t *testing.T) {
	g := NewTwin(GPUOptions{MaxBatch: 4})
	g.dev = noBatchedGemm{g.dev}
	checkAllGolden(t, g)
	s, err := g.Prove(context.Background(), poc.Params{N: 64, K: 64, M: 4, Samples: 4}, [32]byte{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if b := s.(*gpuSession).plan.Batch; b != 1 {
		t.Fatalf("batch %d after the batched GEMM failed", b)
	}
}

// A device whose instance reduction disagrees with the host is refused.
type badRoot struct{ device }

func (d badRoot) launchNodeReduce(s devStream, grid dim3, in, count, inStride uint64, levels uint32, out, outStride uint64) error {
	if count == 4 && grid.y == 1 && inStride == count { // the instance reduction of M=4
		levels = 1
	}
	return d.device.launchNodeReduce(s, grid, in, count, inStride, levels, out, outStride)
}

func TestDeviceFaultIsRefused(t *testing.T) {
	g := NewTwin(GPUOptions{})
	g.dev = badRoot{g.dev}
	s, err := g.Prove(context.Background(), poc.Params{N: 64, K: 64, M: 4, Samples: 4}, [32]byte{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Commit(context.Background()); !errors.Is(err, errDeviceFault) {
		t.Fatalf("wrong device instance root: %v", err)
	}
}
