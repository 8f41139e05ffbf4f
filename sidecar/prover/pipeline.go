package prover

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// GPUOptions tune a device prover. The zero value is valid.
type GPUOptions struct {
	// MaxBatch bounds the units multiplied by one GEMM call (a power of two
	// dividing M is used; 0 means 2). Larger batches fill the GPU better and
	// need more memory (see MemPlan).
	MaxBatch uint32
	// MemoryBudget bounds the device memory of one proof in bytes (0: what
	// the device has free, less a reserve). A proof that does not fit fails
	// with ErrDeviceMemory.
	MemoryBudget uint64
	// Tune times cuBLASLt's candidate algorithms on the real shape when a
	// session starts and keeps the fastest (a few GEMMs, ~1 s at production
	// size); otherwise the heuristic's first choice is used.
	Tune bool
}

// ringLen is how many batches may be queued on the device ahead of the
// host (the host waits for batch i-ringLen before queueing batch i), which
// bounds the latency of a cancellation.
const ringLen = 4

// Event numbers of the commit pipeline.
const (
	evGen   = 0 // +slot: A/B of the slot generated
	evGemm  = 2 // +slot: C of the slot computed (A/B slot free again)
	evHash  = 4 // +slot: C of the slot hashed (C slot free again)
	evRing  = 6 // +i%ringLen: batch i fully done
	evCount = evRing + ringLen
)

// GPU proves challenges on one accelerator with everything on the device:
// per batch of units, crc_gen writes A and B, the int8 GEMM computes C, and
// crc_leaf_reduce/crc_node_reduce hash C up to the unit roots; only the
// 32-byte roots come back. Generation, GEMM and hashing run on three
// streams over two buffer slots, so consecutive batches overlap. After
// sampling, each sampled unit is recomputed and its whole tree built on the
// device, and crc_gather returns the opened leaves and paths.
//
// A GPU runs one session at a time (Prove waits for the previous session to
// close): a device proves its own challenge; several GPUs prove
// concurrently (see Fleet).
type GPU struct {
	backend string
	dev     device
	opts    GPUOptions
	busy    chan struct{}
}

var _ Prover = (*GPU)(nil)

func newGPU(backend string, dev device, opts GPUOptions) *GPU {
	if opts.MaxBatch == 0 {
		opts.MaxBatch = 2
	}
	return &GPU{backend: backend, dev: dev, opts: opts, busy: make(chan struct{}, 1)}
}

// Name implements Prover.
func (g *GPU) Name() string { return g.backend }

// Device describes the device.
func (g *GPU) Device() string { return g.dev.describe() }

// Close releases the device.
func (g *GPU) Close() error { return g.dev.close() }

// Plan returns the memory plan a proof of p would use now.
func (g *GPU) Plan(p poc.Params) (MemPlan, error) {
	free, _, err := g.dev.memInfo()
	if err != nil {
		return MemPlan{}, err
	}
	return planMemory(p, g.opts.MaxBatch, g.opts.MemoryBudget, free)
}

// Prove implements Prover: it waits until the device is free (or ctx is
// done), plans and allocates the session's device memory and prepares the
// GEMM. It fails with ErrDeviceMemory when the proof does not fit.
func (g *GPU) Prove(ctx context.Context, p poc.Params, seed [32]byte) (Session, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	select {
	case g.busy <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("prover: waiting for %s: %w", g.dev.describe(), ctx.Err())
	}
	s, err := g.newSession(p, seed)
	if err != nil {
		<-g.busy
		return nil, err
	}
	return s, nil
}

func (g *GPU) newSession(p poc.Params, seed [32]byte) (*gpuSession, error) {
	plan, err := g.Plan(p)
	if err != nil {
		return nil, err
	}
	s := &gpuSession{gpu: g, dev: g.dev, p: p, seed: seed, plan: plan}
	if err := s.allocate(); err != nil {
		s.freeAll()
		return nil, err
	}
	return s, nil
}

// gpuSession is one challenge on one device.
type gpuSession struct {
	gpu  *GPU
	dev  device
	p    poc.Params
	seed [32]byte
	plan MemPlan

	allocs      []uint64
	ab, c       [2]uint64 // A at ab[s], B at ab[s] + Batch*N*K
	scratch     [2]uint64
	roots, tree uint64
	instScratch [2]uint64
	instRoot    uint64
	idx, gout   uint64
	unitRoots   []poc.Hash
	root        poc.Hash
	committed   bool
	closed      bool
}

func (s *gpuSession) alloc(n uint64) (uint64, error) {
	ptr, err := s.dev.alloc(max(n, 256))
	if err != nil {
		return 0, err
	}
	s.allocs = append(s.allocs, ptr)
	return ptr, nil
}

func (s *gpuSession) allocate() error {
	pl := s.plan
	var err error
	for i := range 2 {
		if s.ab[i], err = s.alloc(pl.ABSlot); err != nil {
			return err
		}
		if s.c[i], err = s.alloc(pl.CSlot); err != nil {
			return err
		}
		if s.scratch[i], err = s.alloc(pl.Scratch[i]); err != nil {
			return err
		}
	}
	m := uint64(s.p.M)
	if s.roots, err = s.alloc(pl.Roots); err != nil {
		return err
	}
	s.instScratch[0] = s.roots + 32*m
	s.instScratch[1] = s.instScratch[0] + 32*ceilDiv(m, nodeBlock)
	s.instRoot = s.instScratch[1] + 32*ceilDiv(m, nodeBlock)
	if s.tree, err = s.alloc(pl.Tree); err != nil {
		return err
	}
	if s.idx, err = s.alloc(pl.Gather); err != nil {
		return err
	}
	s.gout = s.idx + 8*poc.MaxSamples
	if err := s.dev.events(evCount); err != nil {
		return err
	}
	n, k := uint64(s.p.N), uint64(s.p.K)
	if pl.Batch != 1 {
		// A batched GEMM cuBLASLt has no algorithm for (small or odd
		// shapes) falls back to one unit per call in the same buffers.
		if err := s.dev.prepareGemm(n, k, pl.Batch, s.gpu.opts.Tune, s.ab[0], s.ab[0]+uint64(pl.Batch)*n*k, s.c[0]); err != nil {
			s.plan.Batch = 1
		}
	}
	return s.dev.prepareGemm(n, k, 1, s.gpu.opts.Tune, s.ab[0], s.ab[0]+n*k, s.c[0])
}

func (s *gpuSession) freeAll() {
	for _, p := range s.allocs {
		s.dev.free(p)
	}
	s.allocs = nil
}

// Close implements Session: it frees the device memory and the device.
func (s *gpuSession) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.dev.syncAll()
	s.freeAll()
	<-s.gpu.busy
	return err
}

// UnitRoots implements UnitRooter.
func (s *gpuSession) UnitRoots() [][32]byte { return slices.Clone(s.unitRoots) }

// hashUnits enqueues, on stream st, the reduction of `g` units' C (at c) to
// their roots at out (one hash per unit).
func (s *gpuSession) hashUnits(st devStream, c uint64, g uint32, out uint64) error {
	nn := uint64(s.p.N) * uint64(s.p.N)
	steps := reduceSchedule(s.p.UnitLeaves(), true)
	in := c
	for i, step := range steps {
		dst, stride := s.scratch[i%2], step.out()
		if i == len(steps)-1 {
			dst, stride = out, 1
		}
		var err error
		if step.leaf {
			err = s.dev.launchLeafReduce(st, step.grid(g), in, step.count, nn, step.levels, dst, stride)
		} else {
			err = s.dev.launchNodeReduce(st, step.grid(g), in, step.count, step.count, step.levels, dst, stride)
		}
		if err != nil {
			return err
		}
		in = dst
	}
	return nil
}

// Commit implements Session.
func (s *gpuSession) Commit(ctx context.Context) ([32]byte, error) {
	if s.closed {
		return [32]byte{}, errSessionClosed
	}
	if s.committed {
		return s.root, nil
	}
	d, p, g := s.dev, s.p, s.plan.Batch
	n, k := uint64(p.N), uint64(p.K)
	words := n * k / 8
	sw := seedWords(s.seed)
	for i, u0 := 0, uint32(0); u0 < p.M; i, u0 = i+1, u0+g {
		slot := i % 2
		a, b := s.ab[slot], s.ab[slot]+uint64(g)*n*k
		steps := []func() error{
			func() error { return s.waitIf(i >= 2, streamGen, evGemm+slot) },
			func() error { return d.launchGen(streamGen, genGrid(words, g), sw, u0, words, a, b) },
			func() error { return d.record(streamGen, evGen+slot) },
			func() error { return d.wait(streamGemm, evGen+slot) },
			func() error { return s.waitIf(i >= 2, streamGemm, evHash+slot) },
			func() error { return d.gemm(streamGemm, n, k, g, a, b, s.c[slot]) },
			func() error { return d.record(streamGemm, evGemm+slot) },
			func() error { return d.wait(streamHash, evGemm+slot) },
			func() error { return s.hashUnits(streamHash, s.c[slot], g, s.roots+32*uint64(u0)) },
			func() error { return d.record(streamHash, evHash+slot) },
		}
		for _, f := range steps {
			if err := f(); err != nil {
				_ = d.syncAll()
				return [32]byte{}, fmt.Errorf("prover: %s: units %d..%d: %w", d.describe(), u0, u0+g-1, err)
			}
		}
		ring := evRing + i%ringLen
		if i >= ringLen {
			if err := d.syncEvent(ring); err != nil {
				return [32]byte{}, fmt.Errorf("prover: %s: %w", d.describe(), err)
			}
		}
		if err := d.record(streamHash, ring); err != nil {
			return [32]byte{}, err
		}
		if err := ctx.Err(); err != nil {
			_ = d.syncAll()
			return [32]byte{}, fmt.Errorf("prover: stopped: %w", err)
		}
	}
	// Instance root on the device, then the unit roots and it come back.
	in := s.roots
	steps := reduceSchedule(uint64(p.M), false)
	for i, step := range steps {
		dst := s.instScratch[i%2]
		if i == len(steps)-1 {
			dst = s.instRoot
		}
		if err := d.launchNodeReduce(streamHash, step.grid(1), in, step.count, step.count, step.levels, dst, step.out()); err != nil {
			return [32]byte{}, err
		}
		in = dst
	}
	if len(steps) == 0 {
		in = s.roots // M = 1: the unit root is the instance root
	}
	rootsBytes := make([]byte, 32*uint64(p.M))
	rootBytes := make([]byte, 32)
	if err := d.dtoh(streamHash, rootsBytes, s.roots); err != nil {
		return [32]byte{}, err
	}
	if err := d.dtoh(streamHash, rootBytes, in); err != nil {
		return [32]byte{}, err
	}
	roots := make([]poc.Hash, p.M)
	for u := range roots {
		roots[u] = hashFromDevice(rootsBytes[32*u:])
	}
	devRoot := hashFromDevice(rootBytes)
	hostRoot, err := poc.InstanceRoot(p, roots)
	if err != nil {
		return [32]byte{}, err
	}
	if devRoot != hostRoot {
		return [32]byte{}, fmt.Errorf("%w: %s: device instance root %x, host %x from the same unit roots", errDeviceFault, d.describe(), devRoot, hostRoot)
	}
	s.unitRoots, s.root, s.committed = roots, hostRoot, true
	return hostRoot, nil
}

func (s *gpuSession) waitIf(cond bool, st devStream, e int) error {
	if !cond {
		return nil
	}
	return s.dev.wait(st, e)
}

// hashFromDevice reads a crc_hash (eight little-endian state words).
func hashFromDevice(b []byte) poc.Hash {
	var h dhash
	for i := range h {
		h[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return h.digest()
}

// Reveal implements Session: each sampled unit is recomputed on the device,
// its whole tree built, and the sampled leaves and paths gathered; the host
// adds the instance paths and checks every unit path against the committed
// unit root.
func (s *gpuSession) Reveal(ctx context.Context, sampleSeed [32]byte) ([]byte, error) {
	if s.closed {
		return nil, errSessionClosed
	}
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
	for _, u := range units {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("prover: stopped: %w", err)
		}
		if err := s.openUnit(u, positions, byUnit[u], openings); err != nil {
			return nil, fmt.Errorf("prover: %s: reveal unit %d: %w", s.dev.describe(), u, err)
		}
	}
	r := poc.Reveal{Openings: openings}
	return r.MarshalBinary()
}

// openUnit fills openings[t] for the positions ts of unit u.
func (s *gpuSession) openUnit(u uint32, positions []poc.Position, ts []int, openings []poc.Opening) error {
	d, p := s.dev, s.p
	n, k := uint64(p.N), uint64(p.K)
	words := n * k / 8
	st := streamGemm
	a, b, c := s.ab[0], s.ab[0]+n*k, s.c[0]
	if err := d.launchGen(st, genGrid(words, 1), seedWords(s.seed), u, words, a, b); err != nil {
		return err
	}
	if err := d.gemm(st, n, k, 1, a, b, c); err != nil {
		return err
	}
	leaves := p.UnitLeaves()
	counts, offs := treeLevels(leaves)
	if err := d.launchLeafReduce(st, dim3{x: uint32(ceilDiv(leaves, leafBlock)), y: 1}, c, leaves, 0, 0, s.tree, 0); err != nil {
		return err
	}
	for l := 1; l < len(counts); l++ {
		grid := dim3{x: uint32(ceilDiv(counts[l-1], nodeBlock)), y: 1}
		if err := d.launchNodeReduce(st, grid, s.tree+32*offs[l-1], counts[l-1], 0, 1, s.tree+32*offs[l], 0); err != nil {
			return err
		}
	}
	depth := uint32(len(counts) - 1)
	idx := make([]byte, 8*len(ts))
	for i, t := range ts {
		binary.LittleEndian.PutUint64(idx[8*i:], positions[t].LeafIndex(p))
	}
	if err := d.htod(st, s.idx, idx); err != nil {
		return err
	}
	grid := dim3{x: uint32(ceilDiv(uint64(len(ts)), gatherBlock)), y: 1}
	if err := d.launchGather(st, grid, c, s.tree, leaves, depth, s.idx, uint32(len(ts)), s.gout); err != nil {
		return err
	}
	per := 4 * (64 + 8*int(depth))
	out := make([]byte, per*len(ts))
	if err := d.dtoh(st, out, s.gout); err != nil {
		return err
	}
	top := make([]byte, 32)
	if err := d.dtoh(st, top, s.tree+32*offs[depth]); err != nil {
		return err
	}
	if got := hashFromDevice(top); got != s.unitRoots[u] {
		return fmt.Errorf("%w: recomputed unit root %x, committed %x", errDeviceFault, got, s.unitRoots[u])
	}
	instPath := poc.MerklePath(s.unitRoots, uint64(u))
	for i, t := range ts {
		rec := out[per*i:]
		o := poc.Opening{Pos: positions[t], UnitPath: make([]poc.Hash, depth), InstancePath: slices.Clone(instPath)}
		for j := range o.Leaf {
			o.Leaf[j] = int32(binary.LittleEndian.Uint32(rec[4*j:]))
		}
		for l := range o.UnitPath {
			o.UnitPath[l] = hashFromDevice(rec[4*(64+8*l):])
		}
		li := positions[t].LeafIndex(p)
		if poc.RootFromPath(poc.LeafHash(&o.Leaf), li, o.UnitPath) != s.unitRoots[u] {
			return fmt.Errorf("%w: opening at %v does not lead to its unit root", errDeviceFault, positions[t])
		}
		openings[t] = o
	}
	return nil
}
