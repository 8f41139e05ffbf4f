package prover

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// twinDevice is a device whose kernels are the Go twins of kernels.cu and
// whose GEMM is the CPU reference (poc.MatMulABt): the GPU pipeline, its
// buffer layout, reduction schedule and stream program, run on the CPU. It
// executes each call when it is made, which is one valid order of the
// stream program (every wait follows its record). For tests and for
// `prover selftest --backend twin`; far too slow for production sizes.
type twinDevice struct {
	name     string
	capacity uint64 // bytes the device pretends to have

	mu      sync.Mutex
	regions map[uint64][]uint64 // base address -> memory
	used    uint64
	next    uint64
	gemms   map[[3]uint64]bool

	// Fault injection for tests.
	failAlloc  atomic.Int64 // alloc call (1-based) that fails with out of memory; 0: never
	allocCalls atomic.Int64
	corruptC   bool // flip one entry of every product
	launches   atomic.Int64
	closed     bool

	// sched, when set, defers every stream operation and runs the queued
	// operations in a random order that respects only stream order and
	// event waits (see run): a missing dependency in the pipeline's stream
	// program then shows up as a wrong result.
	sched *twinScheduler
}

// twinScheduler holds the deferred stream program of a twinDevice.
type twinScheduler struct {
	rng    *rand.Rand
	queues [numStreams][]*twinOp
	latest map[int]*twinOp // event -> its most recent record operation
	ran    int
}

type twinOp struct {
	run  func()
	wait *twinOp // for a wait: the record it waits for
	done bool
}

const twinRegionShift = 40

func newTwinDevice(name string, capacity uint64) *twinDevice {
	return &twinDevice{name: name, capacity: capacity, regions: map[uint64][]uint64{}, next: 1, gemms: map[[3]uint64]bool{}}
}

// NewTwin returns a prover that runs the GPU pipeline on the Go twins of the
// CUDA kernels (bit-identical to them and to x/attest/poc, and slow): the
// CPU stand-in for the cuda backend in tests and selftests.
func NewTwin(opts GPUOptions) *GPU {
	return newGPU("twin", newTwinDevice("twin (Go twins of the CUDA kernels)", 8<<30), opts)
}

// newScheduledTwin is a twin whose streams run out of order, as far as
// the events allow (see twinScheduler), with the given random seed.
func newScheduledTwin(opts GPUOptions, seed uint64) *GPU {
	d := newTwinDevice("twin (out-of-order streams)", 8<<30)
	d.sched = &twinScheduler{rng: rand.New(rand.NewPCG(seed, seed^0x9e37)), latest: map[int]*twinOp{}}
	return newGPU("twin", d, opts)
}

func (d *twinDevice) describe() string { return d.name }

func (d *twinDevice) memInfo() (uint64, uint64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.capacity - d.used, d.capacity, nil
}

func (d *twinDevice) alloc(n uint64) (uint64, error) {
	if c := d.allocCalls.Add(1); c == d.failAlloc.Load() {
		return 0, cuError("cuMemAlloc", cudaErrorOutOfMemory, "out of memory")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.used+n > d.capacity {
		return 0, cuError("cuMemAlloc", cudaErrorOutOfMemory, "out of memory")
	}
	base := d.next << twinRegionShift
	d.next++
	d.regions[base] = make([]uint64, ceilDiv(n, 8))
	d.used += 8 * ceilDiv(n, 8)
	return base, nil
}

func (d *twinDevice) free(ptr uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.regions[ptr]; ok {
		d.used -= 8 * uint64(len(r))
		delete(d.regions, ptr)
	}
}

// bytes returns n bytes of device memory at addr; it panics outside an
// allocation, as a kernel would fault.
func (d *twinDevice) bytes(addr, n uint64) []byte {
	d.mu.Lock()
	r, ok := d.regions[addr>>twinRegionShift<<twinRegionShift]
	d.mu.Unlock()
	off := addr & (1<<twinRegionShift - 1)
	if !ok || off+n > 8*uint64(len(r)) {
		panic(fmt.Sprintf("twin device: access of %d bytes at %#x outside an allocation", n, addr))
	}
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&r[0])), 8*len(r))[off : off+n]
}

// rest returns the memory from addr to the end of its allocation.
func (d *twinDevice) rest(addr uint64) []byte {
	d.mu.Lock()
	r := d.regions[addr>>twinRegionShift<<twinRegionShift]
	d.mu.Unlock()
	off := addr & (1<<twinRegionShift - 1)
	return d.bytes(addr, 8*uint64(len(r))-off)
}

func u32s(b []byte) []uint32 {
	if len(b) < 4 {
		return nil
	}
	return unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), len(b)/4)
}

func u64s(b []byte) []uint64 {
	if len(b) < 8 {
		return nil
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), len(b)/8)
}

func hashes(b []byte) []dhash {
	if len(b) < 32 {
		return nil
	}
	return unsafe.Slice((*dhash)(unsafe.Pointer(&b[0])), len(b)/32)
}

// exec runs op on stream s now, or queues it under a scheduler.
func (d *twinDevice) exec(s devStream, op func()) {
	if d.sched == nil {
		op()
		return
	}
	d.sched.queues[s] = append(d.sched.queues[s], &twinOp{run: op})
}

// drain runs queued operations, each time the head of a random stream that
// is ready, until until() holds. It panics on a deadlock (a wait for a
// record that can never run), as the device would hang.
func (d *twinDevice) drain(until func() bool) {
	sc := d.sched
	if sc == nil {
		return
	}
	for !until() {
		var ready []int
		for i, q := range sc.queues {
			if len(q) > 0 && (q[0].wait == nil || q[0].wait.done) {
				ready = append(ready, i)
			}
		}
		if len(ready) == 0 {
			panic("twin device: the stream program deadlocks")
		}
		i := ready[sc.rng.IntN(len(ready))]
		op := sc.queues[i][0]
		sc.queues[i] = sc.queues[i][1:]
		if op.run != nil {
			op.run()
		}
		op.done = true
		sc.ran++
	}
}

func (d *twinDevice) streamEmpty(s devStream) func() bool {
	return func() bool { return d.sched == nil || len(d.sched.queues[s]) == 0 }
}

func (d *twinDevice) events(int) error { return nil }

func (d *twinDevice) prepareGemm(n, k uint64, batch uint32, _ bool, _, _, _ uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gemms[[3]uint64{n, k, uint64(batch)}] = true
	return nil
}

func (d *twinDevice) gemm(s devStream, n, k uint64, batch uint32, a, b, c uint64) error {
	d.mu.Lock()
	ok := d.gemms[[3]uint64{n, k, uint64(batch)}]
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("twin device: gemm N=%d K=%d batch %d not prepared", n, k, batch)
	}
	d.launches.Add(1)
	d.exec(s, func() { d.runGemm(n, k, batch, a, b, c) })
	return nil
}

func (d *twinDevice) runGemm(n, k uint64, batch uint32, a, b, c uint64) {
	for j := range uint64(batch) {
		ab := d.bytes(a+j*n*k, n*k)
		bb := d.bytes(b+j*n*k, n*k)
		cb := u32s(d.bytes(c+4*j*n*n, 4*n*n))
		ai := unsafe.Slice((*int8)(unsafe.Pointer(&ab[0])), len(ab))
		bi := unsafe.Slice((*int8)(unsafe.Pointer(&bb[0])), len(bb))
		ci := unsafe.Slice((*int32)(unsafe.Pointer(&cb[0])), len(cb))
		poc.MatMulABt(ai, bi, int(n), int(k), ci)
		if d.corruptC {
			ci[len(ci)-1]++
		}
	}
}

func (d *twinDevice) launchGen(s devStream, grid dim3, seed [4]uint64, u0 uint32, words, a, b uint64) error {
	d.launches.Add(1)
	g := uint64(grid.y / 2)
	d.exec(s, func() { twinGen(grid, seed, u0, words, u64s(d.bytes(a, 8*g*words)), u64s(d.bytes(b, 8*g*words))) })
	return nil
}

func (d *twinDevice) launchLeafReduce(s devStream, grid dim3, c, leaves, cStride uint64, levels uint32, out, outStride uint64) error {
	d.launches.Add(1)
	d.exec(s, func() { twinLeafReduce(grid, u32s(d.rest(c)), leaves, cStride, levels, hashes(d.rest(out)), outStride) })
	return nil
}

func (d *twinDevice) launchNodeReduce(s devStream, grid dim3, in, count, inStride uint64, levels uint32, out, outStride uint64) error {
	d.launches.Add(1)
	d.exec(s, func() {
		twinNodeReduce(grid, hashes(d.rest(in)), count, inStride, levels, hashes(d.rest(out)), outStride)
	})
	return nil
}

func (d *twinDevice) launchGather(s devStream, grid dim3, c, tree, leaves uint64, depth uint32, idx uint64, n uint32, out uint64) error {
	d.launches.Add(1)
	d.exec(s, func() {
		twinGather(grid, u32s(d.rest(c)), hashes(d.rest(tree)), leaves, depth, u64s(d.rest(idx)), n, u32s(d.rest(out)))
	})
	return nil
}

func (d *twinDevice) htod(s devStream, dst uint64, src []byte) error {
	d.exec(s, func() { copy(d.bytes(dst, uint64(len(src))), src) })
	d.drain(d.streamEmpty(s))
	return nil
}

func (d *twinDevice) dtoh(s devStream, dst []byte, src uint64) error {
	d.exec(s, func() { copy(dst, d.bytes(src, uint64(len(dst)))) })
	d.drain(d.streamEmpty(s))
	return nil
}

func (d *twinDevice) record(s devStream, e int) error {
	if d.sched != nil {
		op := &twinOp{}
		d.sched.queues[s] = append(d.sched.queues[s], op)
		d.sched.latest[e] = op
	}
	return nil
}

// wait waits for the event's most recent record at the time of the call
// (cuStreamWaitEvent); an event never recorded is complete.
func (d *twinDevice) wait(s devStream, e int) error {
	if d.sched != nil {
		if rec := d.sched.latest[e]; rec != nil {
			d.sched.queues[s] = append(d.sched.queues[s], &twinOp{wait: rec})
		}
	}
	return nil
}

func (d *twinDevice) syncEvent(e int) error {
	if d.sched != nil {
		if rec := d.sched.latest[e]; rec != nil {
			d.drain(func() bool { return rec.done })
		}
	}
	return nil
}

func (d *twinDevice) syncAll() error {
	d.drain(func() bool {
		for s := range numStreams {
			if !d.streamEmpty(s)() {
				return false
			}
		}
		return true
	})
	return nil
}

func (d *twinDevice) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	return nil
}
