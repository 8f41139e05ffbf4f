package prover

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// CUresult codes the loader treats specially (cuda.h).
const (
	cudaErrorOutOfMemory           = 2
	cudaErrorNotInitialized        = 3
	cudaErrorInsufficientDriver    = 35
	cudaErrorNoDevice              = 100
	cudaErrorInvalidPTX            = 218
	cudaErrorNoBinaryForGPU        = 209
	cudaErrorUnsupportedPTXVersion = 222
)

// cuError is the error of a failed driver call, with the driver's own error
// string: out of memory wraps ErrDeviceMemory; no device, no or an old
// driver, and code the driver cannot load wrap ErrUnavailable (with a hint);
// anything else is a plain device error.
func cuError(what string, code int, msg string) error {
	text := fmt.Sprintf("%s failed with CUresult %d", what, code)
	if msg != "" {
		text += ": " + msg
	}
	switch code {
	case cudaErrorOutOfMemory:
		return fmt.Errorf("%w: %s", ErrDeviceMemory, text)
	case cudaErrorNoDevice, cudaErrorNotInitialized, cudaErrorInsufficientDriver:
		return fmt.Errorf("%w: %s", ErrUnavailable, text)
	case cudaErrorUnsupportedPTXVersion, cudaErrorInvalidPTX, cudaErrorNoBinaryForGPU:
		return fmt.Errorf("%w: %s (the NVRTC library is newer than the driver or does not know this GPU: use a libnvrtc no newer than the driver's CUDA version, NVRTC_LIBRARY selects one)", ErrUnavailable, text)
	}
	return fmt.Errorf("prover: cuda: %s", text)
}

// minComputeCapability is the oldest GPU the prover runs on: 7.5 (Turing),
// the first with int8 tensor-core GEMMs in cuBLASLt.
const minComputeCapability = 75

// chooseArch picks the virtual architecture NVRTC compiles for on a device
// of compute capability cc (major*10+minor): the newest one NVRTC supports
// that is not newer than the device (the driver JIT-compiles that PTX for
// the device). It fails, wrapping ErrUnavailable, for a device older than
// minComputeCapability or one that NVRTC cannot target at all.
func chooseArch(cc int, supported []int) (int, error) {
	if cc < minComputeCapability {
		return 0, fmt.Errorf("%w: compute capability %d.%d is below %d.%d (int8 tensor cores)", ErrUnavailable,
			cc/10, cc%10, minComputeCapability/10, minComputeCapability%10)
	}
	best := 0
	for _, a := range supported {
		if a <= cc && a > best {
			best = a
		}
	}
	if best == 0 {
		return 0, fmt.Errorf("%w: NVRTC supports no architecture at or below compute capability %d.%d (it supports %v)",
			ErrUnavailable, cc/10, cc%10, supported)
	}
	return best, nil
}

// DeadlineMargin is the safety factor a backend must meet: its estimated
// proof time times DeadlineMargin must fit the class's commit deadline.
const DeadlineMargin = 1.2

// Decision says whether and how to bid for a GPU class.
type Decision struct {
	// Backend is "cuda" or "cpu"; empty when the class must not be bid.
	Backend string
	// Estimate is the backend's proof time (zero when unknown).
	Estimate time.Duration
	// Deadline is the class's commit deadline it was weighed against.
	Deadline time.Duration
	// Reason explains the choice, including why the GPU is not used.
	Reason string
}

// Bid reports whether the class may be bid.
func (d Decision) Bid() bool { return d.Backend != "" }

// Decide weighs the backends for a class of size p and commit deadline:
// the GPU when it is usable (gpuErr nil) and its estimate (zero: not
// measured, trusted) times DeadlineMargin fits; else the CPU prover when
// MACs / cpuMACPerSec times DeadlineMargin fits; else no bid. A provider
// must not bid a class it cannot prove in time: a missed commit is a
// liveness fault.
func Decide(p poc.Params, deadline time.Duration, gpuErr error, gpuEstimate time.Duration, cpuMACPerSec float64) Decision {
	d := Decision{Deadline: deadline}
	fits := func(est time.Duration) bool { return float64(est)*DeadlineMargin <= float64(deadline) }
	var why string
	switch {
	case gpuErr != nil:
		why = fmt.Sprintf("gpu unusable: %v", gpuErr)
	case gpuEstimate == 0 || fits(gpuEstimate):
		d.Backend, d.Estimate = "cuda", gpuEstimate
		d.Reason = fmt.Sprintf("gpu estimate %s within deadline %s / %.1f", gpuEstimate.Round(time.Millisecond), deadline, DeadlineMargin)
		if gpuEstimate == 0 {
			d.Reason = "gpu usable (proof time not measured: run prover bench)"
		}
		return d
	default:
		why = fmt.Sprintf("gpu estimate %s exceeds deadline %s / %.1f", gpuEstimate.Round(time.Millisecond), deadline, DeadlineMargin)
	}
	if cpuMACPerSec > 0 {
		est := time.Duration(float64(p.MACs()) / cpuMACPerSec * float64(time.Second))
		if float64(p.MACs())/cpuMACPerSec > 1e9 { // beyond time.Duration's range: no
			est = time.Duration(1<<63 - 1)
		}
		if fits(est) {
			d.Backend, d.Estimate = "cpu", est
			d.Reason = fmt.Sprintf("%s; cpu estimate %s within deadline", why, est.Round(time.Millisecond))
			return d
		}
		d.Estimate = est
		d.Reason = fmt.Sprintf("%s; cpu estimate %.3g s exceeds deadline %s / %.1f: do not bid this class", why, float64(p.MACs())/cpuMACPerSec, deadline, DeadlineMargin)
		return d
	}
	d.Reason = why + "; cpu rate unknown: do not bid this class"
	return d
}

var cpuRate struct {
	once sync.Once
	rate float64
}

// CPURate measures the CPU prover's multiply-adds per second on this
// machine (all cores, the reference kernel, ~0.1 s; measured once per
// process).
func CPURate(ctx context.Context) float64 {
	cpuRate.once.Do(func() {
		const n, k = 64, 2048
		a := poc.GenMatrix([32]byte{1}, poc.TagA, 0, n, k)
		b := poc.GenMatrix([32]byte{1}, poc.TagB, 0, n, k)
		workers := runtime.GOMAXPROCS(0)
		var wg sync.WaitGroup
		counts := make([]int, workers)
		start := time.Now()
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := make([]int32, n*n)
				for time.Since(start) < 100*time.Millisecond && ctx.Err() == nil {
					poc.MatMulABt(a, b, n, k, c)
					counts[w]++
				}
			}()
		}
		wg.Wait()
		total := 0
		for _, c := range counts {
			total += c
		}
		cpuRate.rate = float64(total) * n * n * k / time.Since(start).Seconds()
	})
	return cpuRate.rate
}

// Fleet proves on several GPUs at once: Prove takes a free member (waiting
// when all are busy), ProveOn a given one. Each member runs one session at
// a time on its own device and context, so the challenges of a provider's
// GPUs, which all arrive in one block, are proven concurrently, each on its
// own GPU.
type Fleet struct {
	members []Prover
	free    chan int
}

var _ Prover = (*Fleet)(nil)

// NewFleet returns a fleet over members (at least one).
func NewFleet(members ...Prover) (*Fleet, error) {
	if len(members) == 0 {
		return nil, fmt.Errorf("%w: a fleet needs at least one prover", ErrUnavailable)
	}
	f := &Fleet{members: slices.Clone(members), free: make(chan int, len(members))}
	for i := range members {
		f.free <- i
	}
	return f, nil
}

// Name implements Prover.
func (f *Fleet) Name() string { return f.members[0].Name() }

// Members returns the fleet's provers, by index.
func (f *Fleet) Members() []Prover { return slices.Clone(f.members) }

// Prove implements Prover on the first free member.
func (f *Fleet) Prove(ctx context.Context, p poc.Params, seed [32]byte) (Session, error) {
	select {
	case i := <-f.free:
		s, err := f.members[i].Prove(ctx, p, seed)
		if err != nil {
			f.free <- i
			return nil, err
		}
		return &fleetSession{Session: s, release: func() { f.free <- i }}, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("prover: waiting for a free gpu: %w", ctx.Err())
	}
}

// ProveOn proves on member i (for example the challenged GPU's index in the
// provider's inventory), waiting until it is free.
func (f *Fleet) ProveOn(ctx context.Context, i int, p poc.Params, seed [32]byte) (Session, error) {
	if i < 0 || i >= len(f.members) {
		return nil, fmt.Errorf("%w: no gpu %d (fleet of %d)", ErrUnavailable, i, len(f.members))
	}
	return f.members[i].Prove(ctx, p, seed)
}

// Close closes members that are io.Closers.
func (f *Fleet) Close() error {
	var first error
	for _, m := range f.members {
		if c, ok := m.(interface{ Close() error }); ok {
			if err := c.Close(); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

type fleetSession struct {
	Session
	once    sync.Once
	release func()
}

func (s *fleetSession) Close() error {
	err := s.Session.Close()
	s.once.Do(s.release)
	return err
}

// UnitRoots implements UnitRooter when the member's session does.
func (s *fleetSession) UnitRoots() [][32]byte {
	if r, ok := s.Session.(UnitRooter); ok {
		return r.UnitRoots()
	}
	return nil
}
