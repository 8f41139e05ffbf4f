package poc

import "encoding/binary"

// Matrix tags of the generator.
const (
	// TagA selects the A_u matrices.
	TagA uint32 = 0
	// TagB selects the B_u matrices (C_u = A_u * B_u^T, so row j of B_u is
	// column j of B_u^T).
	TagB uint32 = 1
)

// Constants of the SplitMix64 generator (Steele, Lea, Flood 2014).
const (
	golden64 = 0x9E3779B97F4A7C15 // increment ("gamma")
	mixMul1  = 0xBF58476D1CE4E5B9
	mixMul2  = 0x94D049BB133111EB
)

// Mix64 is the SplitMix64 finalizer (uint64 arithmetic, wrapping):
//
//	z ^= z >> 30; z *= 0xBF58476D1CE4E5B9
//	z ^= z >> 27; z *= 0x94D049BB133111EB
//	z ^= z >> 31
func Mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= mixMul1
	z ^= z >> 27
	z *= mixMul2
	z ^= z >> 31
	return z
}

// StreamKey is the 64-bit key of the stream of matrix (tag, unit). With the
// seed read as four little-endian uint64 words s0..s3:
//
//	h = Mix64(s0 ^ 0x9E3779B97F4A7C15)
//	h = Mix64(h ^ s1)
//	h = Mix64(h ^ s2)
//	h = Mix64(h ^ s3)
//	key = Mix64(h ^ (uint64(tag)<<32 | uint64(unit)))
func StreamKey(seed [32]byte, tag, unit uint32) uint64 {
	h := Mix64(binary.LittleEndian.Uint64(seed[0:8]) ^ golden64)
	h = Mix64(h ^ binary.LittleEndian.Uint64(seed[8:16]))
	h = Mix64(h ^ binary.LittleEndian.Uint64(seed[16:24]))
	h = Mix64(h ^ binary.LittleEndian.Uint64(seed[24:32]))
	return Mix64(h ^ (uint64(tag)<<32 | uint64(unit)))
}

// StreamWord is word w of the stream with the given key: the (w+1)-th output
// of SplitMix64 started at state key, i.e.
//
//	word(w) = Mix64(key + (w+1)*0x9E3779B97F4A7C15)   (mod 2^64)
//
// Element e (row-major, e = row*K + col) of the N x K int8 matrix is byte
// e%8 (little-endian) of word e/8, read as a two's-complement int8: the full
// range -128..127, uniform.
func StreamWord(key, w uint64) uint64 {
	return Mix64(key + (w+1)*golden64)
}

// GenRow writes row `row` of matrix (tag, unit), which has k columns, into
// dst[:k], without generating the rest of the matrix. k must be a positive
// multiple of 8 and len(dst) >= k; otherwise GenRow panics (callers validate
// Params first).
func GenRow(seed [32]byte, tag, unit, row, k uint32, dst []int8) {
	genRowKey(StreamKey(seed, tag, unit), row, k, dst)
}

func genRowKey(key uint64, row, k uint32, dst []int8) {
	if k%8 != 0 {
		panic("poc: GenRow: k must be a multiple of 8")
	}
	fillWords(key, uint64(row)*uint64(k/8), dst[:k])
}

// fillWords fills dst (len a multiple of 8) with stream words w0, w0+1, ...
func fillWords(key, w0 uint64, dst []int8) {
	s := key + (w0+1)*golden64
	for len(dst) >= 8 {
		x := Mix64(s)
		s += golden64
		d := dst[:8:8]
		d[0] = int8(x)
		d[1] = int8(x >> 8)
		d[2] = int8(x >> 16)
		d[3] = int8(x >> 24)
		d[4] = int8(x >> 32)
		d[5] = int8(x >> 40)
		d[6] = int8(x >> 48)
		d[7] = int8(x >> 56)
		dst = dst[8:]
	}
}

// GenMatrix returns the whole n x k matrix (tag, unit), row-major.
// k must be a positive multiple of 8.
func GenMatrix(seed [32]byte, tag, unit, n, k uint32) []int8 {
	if k%8 != 0 {
		panic("poc: GenMatrix: k must be a multiple of 8")
	}
	m := make([]int8, uint64(n)*uint64(k))
	fillWords(StreamKey(seed, tag, unit), 0, m)
	return m
}
