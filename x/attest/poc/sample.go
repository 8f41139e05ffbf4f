package poc

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Position is one entry of the instance: C_Unit[Row][Col].
type Position struct {
	Unit, Row, Col uint32
}

// String formats the position as (unit,row,col).
func (q Position) String() string { return fmt.Sprintf("(%d,%d,%d)", q.Unit, q.Row, q.Col) }

// InRange reports whether the position lies inside an instance of p.
func (q Position) InRange(p Params) bool {
	return q.Unit < p.M && q.Row < p.N && q.Col < p.N
}

// LeafIndex is the index of the leaf holding the position in its unit tree:
// Row*(N/64) + Col/64.
func (q Position) LeafIndex(p Params) uint64 {
	return uint64(q.Row)*p.leavesPerRow() + uint64(q.Col)/LeafValues
}

// positionAt converts a flat index x < M*N*N (unit-major, then row-major).
func positionAt(p Params, x uint64) Position {
	nn := uint64(p.N) * uint64(p.N)
	u := x / nn
	r := x % nn
	return Position{Unit: uint32(u), Row: uint32(r / uint64(p.N)), Col: uint32(r % uint64(p.N))}
}

// maxSampleWords bounds the candidate draws of SamplePositions. Each draw is
// accepted with probability >= 1/2 * (1 - MaxSamples/4096) > 0.46, so needing
// more than 64*k+256 draws for k samples has probability far below 2^-1000.
func maxSampleWords(k uint32) uint64 { return 64*uint64(k) + 256 }

// SamplePositions draws p.Samples distinct positions, uniformly at random
// without replacement, from the M*N*N entries of the instance, in draw order:
//
//	for c = 0, 1, 2, ...:  block_c = SHA256(sampleSeed || u64be(c))
//	candidates are the 4 big-endian uint64 words of each block, in order;
//	x = word & (2^b - 1) with b = bitlen(M*N*N - 1);
//	reject x >= M*N*N (rejection sampling: unbiased) and x already drawn;
//	position x = (x / (N*N), (x % (N*N)) / N, x % N).
//
// Only uint64 arithmetic and SHA256; the draw count is bounded
// (maxSampleWords), beyond which it returns ErrSampling.
func SamplePositions(p Params, sampleSeed [32]byte) ([]Position, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	total := p.Positions()
	mask := uint64(1)<<bits.Len64(total-1) - 1
	k := int(p.Samples)
	drawn := make([]uint64, 0, k)
	out := make([]Position, 0, k)
	var in [40]byte
	copy(in[:32], sampleSeed[:])
	limit := maxSampleWords(p.Samples)
	for w := uint64(0); w < limit; w += 4 {
		binary.BigEndian.PutUint64(in[32:], w/4)
		blk := sha256.Sum256(in[:])
		for t := 0; t < 4 && len(out) < k; t++ {
			x := binary.BigEndian.Uint64(blk[8*t:]) & mask
			if x >= total || contains(drawn, x) {
				continue
			}
			drawn = append(drawn, x)
			out = append(out, positionAt(p, x))
		}
		if len(out) == k {
			return out, nil
		}
	}
	return nil, fmt.Errorf("%w: %d of %d positions after %d draws", ErrSampling, len(out), k, limit)
}

func contains(s []uint64, x uint64) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
