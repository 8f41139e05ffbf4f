package poc

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// ProverOptions tune the CPU prover. The zero value is valid.
type ProverOptions struct {
	// Workers is the number of goroutines computing units in parallel;
	// <= 0 means runtime.GOMAXPROCS(0). Results do not depend on it. Each
	// worker holds 2*N*K + 4*N*N bytes of scratch (plus N*N/2 while opening).
	Workers int
	// Progress, when set, is called after each unit with the number of
	// units done and the total, serialized, from worker goroutines.
	Progress func(done, total uint32)
}

// Prover is the CPU reference prover of one instance (Params, seed). It is
// meant for tests, golden vectors and small sizes: production sizes need a
// GPU. It keeps only the M unit roots between Commit and Open and
// recomputes the sampled units when opening.
//
// A Prover is not safe for concurrent use.
type Prover struct {
	p         Params
	seed      [32]byte
	opts      ProverOptions
	unitRoots []Hash
	inst      *merkleTree
	committed bool

	// corrupt, for tests, rewrites C_u after it is computed (in Commit and
	// in Open alike), simulating a dishonest prover.
	corrupt func(u uint32, c []int32)
}

// NewProver returns a prover for (p, seed). It fails with ErrBadParams.
func NewProver(p Params, seed [32]byte, opts ProverOptions) (*Prover, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Prover{p: p, seed: seed, opts: opts}, nil
}

func (pr *Prover) workers(jobs int) int {
	w := pr.opts.Workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return max(1, min(w, jobs))
}

// forEachUnit runs fn(buf, u) for every u in units on the worker pool, each
// after buf.c holds C_u. It stops early, returning ctx's error, when ctx is
// done. fn must be safe to call concurrently for distinct units.
func (pr *Prover) forEachUnit(ctx context.Context, units []uint32, fn func(buf *unitBuf, u uint32)) error {
	var (
		next   atomic.Int64
		done   atomic.Uint32
		progMu sync.Mutex
		wg     sync.WaitGroup
	)
	total := uint32(len(units))
	for range pr.workers(len(units)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := newUnitBuf(pr.p)
			for {
				t := next.Add(1) - 1
				if t >= int64(len(units)) || ctx.Err() != nil {
					return
				}
				u := units[t]
				buf.compute(pr.p, pr.seed, u)
				if pr.corrupt != nil {
					pr.corrupt(u, buf.c)
				}
				fn(buf, u)
				if pr.opts.Progress != nil {
					progMu.Lock()
					pr.opts.Progress(done.Add(1), total)
					progMu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("poc: prover stopped: %w", err)
	}
	return nil
}

// Commit computes every unit, keeps the unit roots and returns the instance
// root. Calling it again returns the same root without recomputing. It
// returns ctx's error (wrapped) if ctx is done before the end.
func (pr *Prover) Commit(ctx context.Context) (Hash, error) {
	if pr.committed {
		return pr.inst.root(), nil
	}
	roots := make([]Hash, pr.p.M)
	units := make([]uint32, pr.p.M)
	for u := range units {
		units[u] = uint32(u)
	}
	err := pr.forEachUnit(ctx, units, func(buf *unitBuf, u uint32) {
		roots[u], _ = UnitRoot(pr.p, buf.c) // p valid, len(c) = N*N
	})
	if err != nil {
		return Hash{}, err
	}
	pr.unitRoots = roots
	pr.inst = newMerkleTree(roots)
	pr.committed = true
	return pr.inst.root(), nil
}

// UnitRoots returns a copy of the committed unit roots (nil before Commit).
func (pr *Prover) UnitRoots() []Hash { return slices.Clone(pr.unitRoots) }

// Open returns the openings of positions, in the given order, recomputing
// each distinct unit once. Commit must have been called (ErrNotCommitted
// otherwise); positions outside the instance fail with ErrWrongPosition.
func (pr *Prover) Open(ctx context.Context, positions []Position) (*Reveal, error) {
	if !pr.committed {
		return nil, fmt.Errorf("%w: Open before Commit", ErrNotCommitted)
	}
	byUnit := map[uint32][]int{}
	var units []uint32
	for t, q := range positions {
		if !q.InRange(pr.p) {
			return nil, fmt.Errorf("%w: %v outside the instance", ErrWrongPosition, q)
		}
		if _, ok := byUnit[q.Unit]; !ok {
			units = append(units, q.Unit)
		}
		byUnit[q.Unit] = append(byUnit[q.Unit], t)
	}
	slices.Sort(units)
	out := make([]Opening, len(positions))
	err := pr.forEachUnit(ctx, units, func(buf *unitBuf, u uint32) {
		leaves, _ := UnitLeafHashes(pr.p, buf.c)
		tree := newMerkleTree(leaves)
		for _, t := range byUnit[u] {
			out[t] = openFromTrees(pr.p, positions[t], buf.c, tree, pr.inst)
		}
	})
	if err != nil {
		return nil, err
	}
	return &Reveal{Openings: out}, nil
}

// Reveal samples the positions from sampleSeed (see SamplePositions) and
// opens them: the reveal to send after the commit.
func (pr *Prover) Reveal(ctx context.Context, sampleSeed [32]byte) (*Reveal, error) {
	positions, err := SamplePositions(pr.p, sampleSeed)
	if err != nil {
		return nil, err
	}
	return pr.Open(ctx, positions)
}
