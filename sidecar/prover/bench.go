package prover

import (
	"context"
	"fmt"
	"time"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// H100DenseInt8TOPS is the dense int8 tensor-core peak of an H100 SXM
// (10^12 operations per second, a multiply-add counting two).
const H100DenseInt8TOPS = 1979

// GEMMAlone times the int8 GEMM of p alone on the device: units products
// (rounded up to whole batches) on one stream over generated A and B, with
// no generation or hashing in between. It is the ceiling the whole
// pipeline is measured against.
func (g *GPU) GEMMAlone(ctx context.Context, p poc.Params, units uint32) (time.Duration, uint32, error) {
	if err := p.Validate(); err != nil {
		return 0, 0, err
	}
	sess, err := g.Prove(ctx, p, [32]byte{})
	if err != nil {
		return 0, 0, err
	}
	s := sess.(*gpuSession)
	defer s.Close()
	d, bt := s.dev, s.plan.Batch
	n, k := uint64(p.N), uint64(p.K)
	words := n * k / 8
	a, b := s.ab[0], s.ab[0]+uint64(bt)*n*k
	if err := d.launchGen(streamGemm, genGrid(words, bt), seedWords(s.seed), 0, words, a, b); err != nil {
		return 0, 0, err
	}
	// One untimed product warms the GEMM up.
	if err := d.gemm(streamGemm, n, k, bt, a, b, s.c[0]); err != nil {
		return 0, 0, err
	}
	if err := d.syncAll(); err != nil {
		return 0, 0, err
	}
	batches := max(1, (units+bt-1)/bt)
	start := time.Now()
	for i := range batches {
		if err := d.gemm(streamGemm, n, k, bt, a, b, s.c[i%2]); err != nil {
			return 0, 0, err
		}
		if i%16 == 15 {
			if err := ctx.Err(); err != nil {
				_ = d.syncAll()
				return 0, 0, err
			}
		}
	}
	if err := d.syncAll(); err != nil {
		return 0, 0, err
	}
	return time.Since(start), batches * bt, nil
}

// BenchResult is a timed challenge against its deadline.
type BenchResult struct {
	Params poc.Params
	// Units is the number of units actually proven (Params.M, or fewer for
	// a partial run whose commit time is extrapolated to Params.M).
	Units uint32
	Plan  string
	// Commit and Reveal are measured; Whole is the extrapolated commit plus
	// the reveal.
	Commit, Reveal, Whole time.Duration
	WholeTOPS             float64
	// GEMM is the GEMM alone for Params.M units (extrapolated from
	// GEMMUnits); zero when not measured.
	GEMM      time.Duration
	GEMMUnits uint32
	GEMMTOPS  float64
	Deadline  time.Duration
	Decision  Decision
}

// tops converts multiply-adds over a duration to int8 TOPS.
func tops(macs uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return 2 * float64(macs) / d.Seconds() / 1e12
}

// Bench proves one challenge of p with p.M reduced to units (0: all; the
// commit is then extrapolated linearly to p.M, the reveal measured), times
// the GEMM alone over gemmUnits units when p is a GPU (0: skip), and weighs
// the result against deadline with Decide.
func Bench(ctx context.Context, pr Prover, p poc.Params, units, gemmUnits uint32, deadline time.Duration) (BenchResult, error) {
	r := BenchResult{Params: p, Units: p.M, Deadline: deadline}
	if err := p.Validate(); err != nil {
		return r, err
	}
	run := p
	if units != 0 && units < p.M {
		run.M, r.Units = units, units
	}
	gpu := asGPU(pr)
	if gpu != nil {
		if pl, err := gpu.Plan(run); err == nil {
			r.Plan = pl.String()
		}
	}
	seed := poc.DeriveSeed(poc.SeedInput{ChainID: "crucible/bench", Height: 1, Provider: []byte("bench")})
	t, err := Measure(ctx, pr, run, seed)
	if err != nil {
		return r, err
	}
	r.Commit, r.Reveal = t.Commit, t.Reveal
	r.Whole = time.Duration(float64(t.Commit)*float64(p.M)/float64(run.M)) + t.Reveal
	r.WholeTOPS = tops(p.MACs(), r.Whole)
	if gpu != nil && gemmUnits > 0 {
		d, done, err := gpu.GEMMAlone(ctx, p, gemmUnits)
		if err != nil {
			return r, fmt.Errorf("gemm alone: %w", err)
		}
		r.GEMMUnits = done
		r.GEMM = time.Duration(float64(d) * float64(p.M) / float64(done))
		r.GEMMTOPS = tops(p.MACs(), r.GEMM)
	}
	var gpuEst time.Duration
	var gpuErr error
	if gpu != nil {
		gpuEst = r.Whole
	} else {
		gpuErr = fmt.Errorf("%w: the %s backend is not a gpu", ErrUnavailable, pr.Name())
	}
	r.Decision = Decide(p, deadline, gpuErr, gpuEst, CPURate(ctx))
	if gpu != nil && r.Decision.Backend == "cuda" {
		r.Decision.Backend = pr.Name() // "twin" for the CPU stand-in
	}
	return r, nil
}

// asGPU returns the device prover behind p, if any.
func asGPU(p Prover) *GPU {
	switch v := p.(type) {
	case *GPU:
		return v
	case *CUDA:
		if v != nil {
			return v.GPU
		}
	}
	return nil
}
