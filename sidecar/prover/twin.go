package prover

import (
	"fmt"
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

func (d *twinDevice) events(int) error { return nil }

func (d *twinDevice) prepareGemm(n, k uint64, batch uint32, _ bool, _, _, _ uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gemms[[3]uint64{n, k, uint64(batch)}] = true
	return nil
}

func (d *twinDevice) gemm(_ devStream, n, k uint64, batch uint32, a, b, c uint64) error {
	d.mu.Lock()
	ok := d.gemms[[3]uint64{n, k, uint64(batch)}]
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("twin device: gemm N=%d K=%d batch %d not prepared", n, k, batch)
	}
	d.launches.Add(1)
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
	return nil
}

func (d *twinDevice) launchGen(_ devStream, grid dim3, seed [4]uint64, u0 uint32, words, a, b uint64) error {
	d.launches.Add(1)
	g := uint64(grid.y / 2)
	twinGen(grid, seed, u0, words, u64s(d.bytes(a, 8*g*words)), u64s(d.bytes(b, 8*g*words)))
	return nil
}

func (d *twinDevice) launchLeafReduce(_ devStream, grid dim3, c, leaves, cStride uint64, levels uint32, out, outStride uint64) error {
	d.launches.Add(1)
	twinLeafReduce(grid, u32s(d.rest(c)), leaves, cStride, levels, hashes(d.rest(out)), outStride)
	return nil
}

func (d *twinDevice) launchNodeReduce(_ devStream, grid dim3, in, count, inStride uint64, levels uint32, out, outStride uint64) error {
	d.launches.Add(1)
	twinNodeReduce(grid, hashes(d.rest(in)), count, inStride, levels, hashes(d.rest(out)), outStride)
	return nil
}

func (d *twinDevice) launchGather(_ devStream, grid dim3, c, tree, leaves uint64, depth uint32, idx uint64, n uint32, out uint64) error {
	d.launches.Add(1)
	twinGather(grid, u32s(d.rest(c)), hashes(d.rest(tree)), leaves, depth, u64s(d.rest(idx)), n, u32s(d.rest(out)))
	return nil
}

func (d *twinDevice) htod(_ devStream, dst uint64, src []byte) error {
	copy(d.bytes(dst, uint64(len(src))), src)
	return nil
}

func (d *twinDevice) dtoh(_ devStream, dst []byte, src uint64) error {
	copy(dst, d.bytes(src, uint64(len(dst))))
	return nil
}

func (d *twinDevice) record(devStream, int) error { return nil }
func (d *twinDevice) wait(devStream, int) error   { return nil }
func (d *twinDevice) syncEvent(int) error         { return nil }
func (d *twinDevice) syncAll() error              { return nil }

func (d *twinDevice) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	return nil
}
