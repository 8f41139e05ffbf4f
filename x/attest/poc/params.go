package poc

import (
	"fmt"
)

// LeafValues is the number of int32 entries of C in one Merkle leaf. A leaf is
// a run of 64 consecutive entries of one row of C (row-major order).
const LeafValues = 64

// Bounds enforced by Params.Validate.
const (
	// MaxN bounds the rows and columns of C per unit.
	MaxN = 16384
	// MaxK bounds the inner dimension: 128*128*65536 = 2^30 keeps int32 exact.
	MaxK = 65536
	// MaxM bounds the units per instance.
	MaxM = 1 << 20
	// MaxSamples bounds the sampled openings per instance (and per reveal).
	MaxSamples = 256
)

// Params sizes one proof-of-compute instance. They are chain params per GPU
// class; every party (chain, sidecar, GPU kernel) must use the same values.
type Params struct {
	// N is the number of rows and columns of C_u = A_u * B_u^T; A_u and B_u
	// are N x K int8. A positive multiple of 64 (one leaf = 64 entries of a row).
	N uint32
	// K is the inner dimension, a positive multiple of 8, at most 65536.
	K uint32
	// M is the number of units u = 0..M-1.
	M uint32
	// Samples is the number k of positions opened in a reveal.
	Samples uint32
}

// TestParams are the tiny parameters used in tests (N = K = 256, M = 4, k = 16).
func TestParams() Params { return Params{N: 256, K: 256, M: 4, Samples: 16} }

// ProductionParams are the H100-class parameters (N = 4096, K = 65536,
// M = 8192, k = 32): about 9.0e15 int8 multiply-adds, ~20 s on an H100 with
// cuBLASLt. Far beyond the CPU prover; the verifier cost is independent of M
// and N (k dot products of length K plus k Merkle paths).
func ProductionParams() Params { return Params{N: 4096, K: 65536, M: 8192, Samples: 32} }

// Validate checks the parameters. It returns an error wrapping ErrBadParams.
func (p Params) Validate() error {
	switch {
	case p.N == 0 || p.N%LeafValues != 0:
		return fmt.Errorf("%w: N=%d must be a positive multiple of %d", ErrBadParams, p.N, LeafValues)
	case p.N > MaxN:
		return fmt.Errorf("%w: N=%d exceeds %d", ErrBadParams, p.N, MaxN)
	case p.K == 0 || p.K%8 != 0:
		return fmt.Errorf("%w: K=%d must be a positive multiple of 8", ErrBadParams, p.K)
	case p.K > MaxK:
		return fmt.Errorf("%w: K=%d exceeds %d (int32 accumulation would not be exact)", ErrBadParams, p.K, MaxK)
	case p.M == 0 || p.M > MaxM:
		return fmt.Errorf("%w: M=%d must be in [1, %d]", ErrBadParams, p.M, MaxM)
	case p.Samples == 0 || p.Samples > MaxSamples:
		return fmt.Errorf("%w: Samples=%d must be in [1, %d]", ErrBadParams, p.Samples, MaxSamples)
	}
	// N >= 64 so every unit has >= 4096 positions > MaxSamples: distinct
	// sampling always terminates.
	return nil
}

// UnitDepth is the length of a Merkle path in a unit tree:
// ceil(log2(N*N/64)).
func (p Params) UnitDepth() int { return TreeDepth(p.UnitLeaves()) }

// InstanceDepth is the length of a Merkle path in the instance tree:
// ceil(log2(M)).
func (p Params) InstanceDepth() int { return TreeDepth(uint64(p.M)) }

// leavesPerRow is the number of leaves covering one row of C.
func (p Params) leavesPerRow() uint64 { return uint64(p.N) / LeafValues }

// UnitLeaves is the number of leaves of one unit tree: N*N/64.
func (p Params) UnitLeaves() uint64 { return uint64(p.N) * p.leavesPerRow() }

// Positions is the number of entries of C over all units: M*N*N (<= 2^48).
func (p Params) Positions() uint64 { return uint64(p.M) * uint64(p.N) * uint64(p.N) }

// MACs is the number of int8 multiply-adds of an honest instance, M*N*N*K,
// saturating at the uint64 maximum (reachable only at the extreme bounds).
func (p Params) MACs() uint64 {
	x := p.Positions()
	k := uint64(p.K)
	if k != 0 && x > ^uint64(0)/k {
		return ^uint64(0)
	}
	return x * k
}
