package prover

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// engine computes C = A * B^T for one unit size (N, K) on a device. It owns
// slots() host buffer sets; the pipeline fills a slot's A and B, calls
// matmul(slot) (never concurrently), then reads the slot's C.
type engine interface {
	slots() int
	// host returns slot's buffers: A and B (N*K int8, row-major) and C
	// (N*N int32, row-major).
	host(slot int) (a, b []int8, c []int32)
	// matmul sets slot's C to A * B^T.
	matmul(slot int) error
	close() error
}

// engineSession answers a challenge with an engine: a three-stage pipeline
// per unit (generate A_u and B_u on CPU workers, multiply on the device,
// hash C_u on CPU workers), with the stages of different units overlapping.
type engineSession struct {
	p         poc.Params
	seed      [32]byte
	eng       engine
	unitRoots []poc.Hash
	root      poc.Hash
	committed bool
}

func newEngineSession(p poc.Params, seed [32]byte, eng engine) *engineSession {
	return &engineSession{p: p, seed: seed, eng: eng}
}

// Commit implements Session.
func (s *engineSession) Commit(ctx context.Context) ([32]byte, error) {
	if s.committed {
		return s.root, nil
	}
	roots := make([]poc.Hash, s.p.M)
	units := make([]uint32, s.p.M)
	for u := range units {
		units[u] = uint32(u)
	}
	err := s.run(ctx, units, func(u uint32, c []int32) error {
		r, err := poc.UnitRoot(s.p, c)
		roots[u] = r
		return err
	})
	if err != nil {
		return [32]byte{}, err
	}
	root, err := poc.InstanceRoot(s.p, roots)
	if err != nil {
		return [32]byte{}, err
	}
	s.unitRoots, s.root, s.committed = roots, root, true
	return root, nil
}

// Reveal implements Session: it recomputes each sampled unit once.
func (s *engineSession) Reveal(ctx context.Context, sampleSeed [32]byte) ([]byte, error) {
	if !s.committed {
		return nil, fmt.Errorf("%w: Reveal before Commit", poc.ErrNotCommitted)
	}
	positions, err := poc.SamplePositions(s.p, sampleSeed)
	if err != nil {
		return nil, err
	}
	byUnit := map[uint32][]int{}
	var units []uint32
	for t, q := range positions {
		if _, ok := byUnit[q.Unit]; !ok {
			units = append(units, q.Unit)
		}
		byUnit[q.Unit] = append(byUnit[q.Unit], t)
	}
	slices.Sort(units)
	openings := make([]poc.Opening, len(positions))
	err = s.run(ctx, units, func(u uint32, c []int32) error {
		for _, t := range byUnit[u] {
			o, err := poc.OpenUnit(s.p, positions[t], c, s.unitRoots)
			if err != nil {
				return err
			}
			openings[t] = o
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r := poc.Reveal{Openings: openings}
	return r.MarshalBinary()
}

// UnitRoots implements UnitRooter.
func (s *engineSession) UnitRoots() [][32]byte { return slices.Clone(s.unitRoots) }

// Close implements Session.
func (s *engineSession) Close() error {
	if s.eng == nil {
		return nil
	}
	err := s.eng.close()
	s.eng = nil
	return err
}

// errSessionClosed reports use after Close.
var errSessionClosed = errors.New("prover: session closed")

type pipeItem struct {
	u    uint32
	slot int
}

// run computes C_u for every u in units and calls consume(u, C_u) on a
// hashing worker; consume runs concurrently for different units. It stops
// at the first error (or when ctx is done) and returns it.
func (s *engineSession) run(ctx context.Context, units []uint32, consume func(u uint32, c []int32) error) error {
	if s.eng == nil {
		return errSessionClosed
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	nslots := s.eng.slots()
	workers := max(1, min(runtime.GOMAXPROCS(0), nslots-1))
	free := make(chan int, nslots)
	for i := range nslots {
		free <- i
	}
	jobs := make(chan uint32)
	toDevice := make(chan pipeItem, nslots)
	toHash := make(chan pipeItem, nslots)
	n, k := s.p.N, s.p.K

	go func() {
		defer close(jobs)
		for _, u := range units {
			select {
			case jobs <- u:
			case <-ctx.Done():
				return
			}
		}
	}()

	var gen sync.WaitGroup
	for range workers {
		gen.Add(1)
		go func() {
			defer gen.Done()
			for u := range jobs {
				var slot int
				select {
				case slot = <-free:
				case <-ctx.Done():
					return
				}
				a, b, _ := s.eng.host(slot)
				for row := range n {
					off := uint64(row) * uint64(k)
					poc.GenRow(s.seed, poc.TagA, u, row, k, a[off:off+uint64(k)])
					poc.GenRow(s.seed, poc.TagB, u, row, k, b[off:off+uint64(k)])
				}
				toDevice <- pipeItem{u: u, slot: slot} // capacity nslots: never blocks
			}
		}()
	}
	go func() {
		gen.Wait()
		close(toDevice)
	}()

	// The device stage: one goroutine, in the order units arrive.
	go func() {
		defer close(toHash)
		for it := range toDevice {
			if ctx.Err() == nil {
				if err := s.eng.matmul(it.slot); err != nil {
					cancel(fmt.Errorf("unit %d: %w", it.u, err))
				}
			}
			toHash <- it
		}
	}()

	var hash sync.WaitGroup
	for range workers {
		hash.Add(1)
		go func() {
			defer hash.Done()
			for it := range toHash {
				if ctx.Err() == nil {
					_, _, c := s.eng.host(it.slot)
					if err := consume(it.u, c); err != nil {
						cancel(fmt.Errorf("unit %d: %w", it.u, err))
					}
				}
				free <- it.slot
			}
		}()
	}
	hash.Wait()
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("prover: %w", err)
	}
	return nil
}
