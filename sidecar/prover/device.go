package prover

import (
	"errors"
	"fmt"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// device is what the GPU pipeline (pipeline.go) needs from an accelerator:
// memory, the four kernels of kernels.cu, an int8 GEMM, copies, streams and
// events. cudaDevice (cuda.go) implements it with the CUDA driver, NVRTC and
// cuBLASLt; twinDevice (twin.go) with the Go twins, executing every call at
// once (a valid order of a stream program), so the pipeline's schedule is
// tested on the CPU bit for bit.
//
// Addresses are device addresses (uint64); a buffer from alloc may be
// offset into. Stream-ordered calls return when queued; htod and dtoh return
// when the host buffer may be reused or read. One device is driven by one
// goroutine at a time.
type device interface {
	// describe names the device for logs.
	describe() string
	// memInfo returns the free and total device memory in bytes.
	memInfo() (free, total uint64, err error)
	alloc(bytes uint64) (uint64, error)
	free(ptr uint64)
	// events makes sure events 0..n-1 exist.
	events(n int) error
	// prepareGemm readies the int8 GEMM of `batch` strided products
	// C_j = A_j * B_j^T (A_j, B_j: n x k int8 row-major; C_j: n x n int32
	// row-major, strides n*k and n*n). tune times the candidate algorithms
	// on a, b, c (which must be large enough) and keeps the fastest.
	prepareGemm(n, k uint64, batch uint32, tune bool, a, b, c uint64) error
	gemm(s devStream, n, k uint64, batch uint32, a, b, c uint64) error
	launchGen(s devStream, grid dim3, seed [4]uint64, u0 uint32, words uint64, a, b uint64) error
	launchLeafReduce(s devStream, grid dim3, c, leaves, cStride uint64, levels uint32, out, outStride uint64) error
	launchNodeReduce(s devStream, grid dim3, in, count, inStride uint64, levels uint32, out, outStride uint64) error
	launchGather(s devStream, grid dim3, c, tree, leaves uint64, depth uint32, idx uint64, n uint32, out uint64) error
	htod(s devStream, dst uint64, src []byte) error
	dtoh(s devStream, dst []byte, src uint64) error
	record(s devStream, e int) error
	wait(s devStream, e int) error
	syncEvent(e int) error
	syncAll() error
	close() error
}

// devStream selects one of the pipeline's streams.
type devStream int

const (
	streamGen devStream = iota
	streamGemm
	streamHash
	numStreams
)

// ErrDeviceMemory reports that a proof does not fit the device memory the
// prover may use (the free memory or the configured budget). It wraps
// ErrUnavailable: the challenge's class cannot be proven on this GPU now.
var ErrDeviceMemory = fmt.Errorf("%w: not enough device memory", ErrUnavailable)

// gemmWorkspace is the cuBLASLt workspace (bytes), part of every MemPlan.
const gemmWorkspace = 32 << 20

// MemPlan is the device memory of one proof session. Everything is
// allocated when the session starts and freed when it closes, so a proof
// takes at most Total bytes from a leased GPU (a tenant's job keeps the
// rest): two A/B slots and two C slots (generation of batch i+1, the
// product of batch i and the hashing of batch i-1 run at once), hashing
// scratch, the unit roots, one unit's whole tree for the reveal, and the
// cuBLASLt workspace.
type MemPlan struct {
	Batch     uint32 // units per GEMM call
	ABSlot    uint64 // A and B of Batch units: 2*Batch*N*K
	CSlot     uint64 // C of Batch units: 4*Batch*N*N
	Scratch   [2]uint64
	Roots     uint64 // M unit roots and the instance reduction
	Tree      uint64 // one unit's whole tree (reveal)
	Gather    uint64 // sample indices and gathered openings
	Workspace uint64
	Total     uint64
}

func (m MemPlan) String() string {
	return fmt.Sprintf("%.2f GiB (batch %d: 2 x %.1f MiB A/B, 2 x %.1f MiB C, %.1f MiB trees and roots, %d MiB GEMM workspace)",
		float64(m.Total)/(1<<30), m.Batch, float64(m.ABSlot)/(1<<20), float64(m.CSlot)/(1<<20),
		float64(m.Scratch[0]+m.Scratch[1]+m.Roots+m.Tree+m.Gather)/(1<<20), m.Workspace>>20)
}

// planFor sizes the buffers of p with `batch` units per GEMM.
func planFor(p poc.Params, batch uint32) MemPlan {
	n, k, g := uint64(p.N), uint64(p.K), uint64(batch)
	m := MemPlan{Batch: batch, ABSlot: 2 * g * n * k, CSlot: 4 * g * n * n, Workspace: gemmWorkspace}
	// Ping-pong scratch of the commit reductions; the last step writes the
	// unit roots.
	steps := reduceSchedule(p.UnitLeaves(), true)
	for i, s := range steps[:len(steps)-1] {
		m.Scratch[i%2] = max(m.Scratch[i%2], 32*g*s.out())
	}
	// Unit roots, the instance reduction's ping-pong and its root.
	m.Roots = 32 * (uint64(p.M) + 2*ceilDiv(uint64(p.M), nodeBlock) + 1)
	counts, _ := treeLevels(p.UnitLeaves())
	for _, c := range counts {
		m.Tree += 32 * c
	}
	m.Gather = 8*poc.MaxSamples + 4*poc.MaxSamples*uint64(64+8*p.UnitDepth())
	m.Total = 2*m.ABSlot + 2*m.CSlot + m.Scratch[0] + m.Scratch[1] + m.Roots + m.Tree + m.Gather + m.Workspace
	return m
}

// reserveBytes is left free on the device besides the plan (CUDA context,
// module, cuBLASLt's own state, fragmentation).
const reserveBytes = 256 << 20

// planMemory picks the largest batch (a power of two up to maxBatch that
// divides M) whose plan fits both the budget (0: no budget) and the free
// device memory less reserveBytes. It fails with ErrDeviceMemory, saying
// what batch 1 needs, when none does.
func planMemory(p poc.Params, maxBatch uint32, budget, free uint64) (MemPlan, error) {
	if err := p.Validate(); err != nil {
		return MemPlan{}, err
	}
	limit := uint64(0)
	if free > reserveBytes {
		limit = free - reserveBytes
	}
	if budget != 0 {
		limit = min(limit, budget)
	}
	maxBatch = max(1, maxBatch)
	best := MemPlan{}
	for g := uint32(1); g <= maxBatch; g *= 2 {
		if p.M%g != 0 {
			break
		}
		if pl := planFor(p, g); pl.Total <= limit {
			best = pl
		}
	}
	if best.Batch == 0 {
		need := planFor(p, 1)
		return MemPlan{}, fmt.Errorf("%w: N=%d K=%d needs %s, the prover may use %d MiB (free %d MiB less %d MiB reserve, budget %d MiB)",
			ErrDeviceMemory, p.N, p.K, need, limit>>20, free>>20, reserveBytes>>20, budget>>20)
	}
	return best, nil
}

// errDeviceFault reports a device whose results disagree with the host's
// check of them (the device instance root against the host's, a revealed
// path against the committed unit root): nothing it computed may be sent.
var errDeviceFault = errors.New("prover: device result fails the host check")

// errSessionClosed reports use of a session after Close.
var errSessionClosed = errors.New("prover: session closed")
