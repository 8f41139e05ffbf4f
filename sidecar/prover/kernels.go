package prover

import (
	_ "embed"
	"encoding/binary"
	"math/bits"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// kernelSource is the CUDA C source of the GPU prover's kernels, compiled at
// run time with NVRTC (see cuda.go). Each kernel has a Go twin below that
// runs the same thread/block decomposition as loops, in the same order of
// barriers, over Go memory; kernels_test.go checks the twins bit for bit
// against x/attest/poc and its golden vectors, and twinDevice (twin.go) runs
// the whole GPU pipeline of pipeline.go on them. Change both together.
//
//go:embed kernels.cu
var kernelSource string

// Kernel names in kernelSource (extern "C").
const (
	kernGen        = "crc_gen"
	kernLeafReduce = "crc_leaf_reduce"
	kernNodeReduce = "crc_node_reduce"
	kernGather     = "crc_gather"
)

// Launch shapes; kernels.cu has the same numbers (CRC_*).
const (
	genBlock    = 256 // threads of a crc_gen block
	genMaxGridX = 4096
	leafBlock   = 128 // CRC_LEAF_BLOCK: leaves per crc_leaf_reduce block
	leafLog     = 7
	leafPad     = 65  // CRC_LEAF_PAD: shared-memory row pitch of a staged leaf (words)
	nodeBlock   = 256 // CRC_NODE_BLOCK: nodes per crc_node_reduce block
	nodeLog     = 8
	gatherBlock = 64
)

// dim3 is a launch grid (z is always 1).
type dim3 struct{ x, y uint32 }

// dhash is a hash as the device keeps it: the eight SHA-256 state words;
// the digest is the words big-endian. The zero hash is all zero words.
type dhash [8]uint32

func (h *dhash) digest() poc.Hash {
	var out poc.Hash
	for i, w := range h {
		binary.BigEndian.PutUint32(out[4*i:], w)
	}
	return out
}

func dhashOf(d poc.Hash) dhash {
	var h dhash
	for i := range h {
		h[i] = binary.BigEndian.Uint32(d[4*i:])
	}
	return h
}

// seedWords is the seed as the four little-endian words crc_gen takes.
func seedWords(seed [32]byte) [4]uint64 {
	var s [4]uint64
	for i := range s {
		s[i] = binary.LittleEndian.Uint64(seed[8*i:])
	}
	return s
}

func ceilDiv(a, b uint64) uint64 { return (a + b - 1) / b }

// genGrid is crc_gen's grid for g units of `words` stream words per matrix.
func genGrid(words uint64, g uint32) dim3 {
	return dim3{x: uint32(min(ceilDiv(words, genBlock), genMaxGridX)), y: 2 * g}
}

// reduceStep is one launch of a tree reduction: crc_leaf_reduce (leaf) or
// crc_node_reduce over a level of count nodes, reducing levels levels, which
// leaves ceil(count/2^levels) nodes.
type reduceStep struct {
	leaf   bool
	count  uint64
	levels uint32
}

func (s reduceStep) out() uint64 { return (s.count + 1<<s.levels - 1) >> s.levels }

func (s reduceStep) grid(g uint32) dim3 {
	if s.leaf {
		return dim3{x: uint32(ceilDiv(s.count, leafBlock)), y: g}
	}
	return dim3{x: uint32(ceilDiv(s.count, nodeBlock)), y: g}
}

// reduceSchedule is the sequence of launches that takes `count` leaves
// (leaf: C values, 64 per leaf) or hashes to their root: as many levels per
// launch as a block holds, and never more than the tree's depth (a level of
// one node is the root and is not hashed again).
func reduceSchedule(count uint64, leaf bool) []reduceStep {
	var out []reduceStep
	if leaf {
		s := reduceStep{leaf: true, count: count, levels: uint32(min(leafLog, poc.TreeDepth(count)))}
		out = append(out, s)
		count = s.out()
	}
	for count > 1 {
		s := reduceStep{count: count, levels: uint32(min(nodeLog, poc.TreeDepth(count)))}
		out = append(out, s)
		count = s.out()
	}
	return out
}

// treeLevels returns the node count of each level of a tree over count
// leaves, leaves first, root last, and the offset of each level when stored
// level after level (crc_gather's layout).
func treeLevels(count uint64) (counts, offsets []uint64) {
	off := uint64(0)
	for {
		counts = append(counts, count)
		offsets = append(offsets, off)
		if count <= 1 {
			return counts, offsets
		}
		off += count
		count = (count + 1) / 2
	}
}

// ---- Go twins of the kernels ----

const (
	twinGolden = 0x9E3779B97F4A7C15
	twinMul1   = 0xBF58476D1CE4E5B9
	twinMul2   = 0x94D049BB133111EB
)

func twinMix64(z uint64) uint64 {
	z ^= z >> 30
	z *= twinMul1
	z ^= z >> 27
	z *= twinMul2
	z ^= z >> 31
	return z
}

func twinStreamKey(s [4]uint64, tag, unit uint32) uint64 {
	h := twinMix64(s[0] ^ twinGolden)
	h = twinMix64(h ^ s[1])
	h = twinMix64(h ^ s[2])
	h = twinMix64(h ^ s[3])
	return twinMix64(h ^ (uint64(tag)<<32 | uint64(unit)))
}

// twinGen is crc_gen over grid x block genBlock; a and b hold g matrices of
// `words` words each.
func twinGen(grid dim3, s [4]uint64, u0 uint32, words uint64, a, b []uint64) {
	stride := uint64(grid.x) * genBlock
	for by := range grid.y {
		j, tag := by>>1, by&1
		key := twinStreamKey(s, tag, u0+j)
		dst := a
		if tag == 1 {
			dst = b
		}
		dst = dst[uint64(j)*words:]
		for bx := range grid.x {
			for t := range uint32(genBlock) {
				for w := uint64(bx)*genBlock + uint64(t); w < words; w += stride {
					dst[w] = twinMix64(key + (w+1)*twinGolden)
				}
			}
		}
	}
}

var twinK = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

var twinIV = [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

// twinSHA256Block is crc_sha256_block (16-word rolling schedule; m is
// overwritten).
func twinSHA256Block(st *[8]uint32, m *[16]uint32) {
	a, b, c, d, e, f, g, h := st[0], st[1], st[2], st[3], st[4], st[5], st[6], st[7]
	for i := range 64 {
		var wi uint32
		if i < 16 {
			wi = m[i]
		} else {
			w15, w2 := m[(i-15)&15], m[(i-2)&15]
			s0 := bits.RotateLeft32(w15, -7) ^ bits.RotateLeft32(w15, -18) ^ (w15 >> 3)
			s1 := bits.RotateLeft32(w2, -17) ^ bits.RotateLeft32(w2, -19) ^ (w2 >> 10)
			wi = m[i&15] + s0 + m[(i-7)&15] + s1
			m[i&15] = wi
		}
		t1 := h + (bits.RotateLeft32(e, -6) ^ bits.RotateLeft32(e, -11) ^ bits.RotateLeft32(e, -25)) + ((e & f) ^ (^e & g)) + twinK[i] + wi
		t2 := (bits.RotateLeft32(a, -2) ^ bits.RotateLeft32(a, -13) ^ bits.RotateLeft32(a, -22)) + ((a & b) ^ (a & c) ^ (b & c))
		h, g, f, e, d, c, b, a = g, f, e, d+t1, c, b, a, t1+t2
	}
	st[0] += a
	st[1] += b
	st[2] += c
	st[3] += d
	st[4] += e
	st[5] += f
	st[6] += g
	st[7] += h
}

// twinLeafHash is crc_leaf_hash over v[0..63].
func twinLeafHash(v []uint32) dhash {
	st := twinIV
	var m [16]uint32
	prev := uint32(0x00)
	for blk := range 4 {
		for i := range 16 {
			x := v[16*blk+i]
			m[i] = prev<<24 | (x&0xff)<<16 | x&0xff00 | (x>>16)&0xff
			prev = x >> 24
		}
		twinSHA256Block(&st, &m)
	}
	m = [16]uint32{}
	m[0] = prev<<24 | 0x00800000
	m[15] = 257 * 8
	twinSHA256Block(&st, &m)
	return st
}

// twinNodeHash is crc_node_hash.
func twinNodeHash(l, r *dhash) dhash {
	st := twinIV
	var m [16]uint32
	prev := uint32(0x01)
	for i := range 8 {
		m[i] = prev<<24 | l[i]>>8
		prev = l[i] & 0xff
	}
	for i := range 8 {
		m[8+i] = prev<<24 | r[i]>>8
		prev = r[i] & 0xff
	}
	twinSHA256Block(&st, &m)
	m = [16]uint32{}
	m[0] = prev<<24 | 0x00800000
	m[15] = 65 * 8
	twinSHA256Block(&st, &m)
	return st
}

// twinBlockReduce is crc_block_reduce for one block of len(h) threads; each
// __syncthreads is the end of a loop over all threads.
func twinBlockReduce(h []dhash, first, count uint64, levels uint32, out []dhash) {
	blockDim := uint32(len(h))
	r := make([]dhash, blockDim)
	for l := uint32(1); l <= levels; l++ {
		width := blockDim >> l
		below := (count + 1<<(l-1) - 1) >> (l - 1)
		here := (count + 1<<l - 1) >> l
		for t := range blockDim {
			r[t] = dhash{}
			if t < width {
				gi := first>>l + uint64(t)
				if gi < here {
					var z dhash
					right := &z
					if 2*gi+1 < below {
						right = &h[2*t+1]
					}
					r[t] = twinNodeHash(&h[2*t], right)
				}
			}
		}
		for t := range blockDim {
			if t < width {
				h[t] = r[t]
			}
		}
	}
	width := blockDim >> levels
	here := (count + 1<<levels - 1) >> levels
	for t := range blockDim {
		if t < width {
			if gi := first>>levels + uint64(t); gi < here {
				out[gi] = h[t]
			}
		}
	}
}

// twinLeafReduce is crc_leaf_reduce.
func twinLeafReduce(grid dim3, c []uint32, leaves, cStride uint64, levels uint32, out []dhash, outStride uint64) {
	vals := make([]uint32, leafBlock*leafPad)
	h := make([]dhash, leafBlock)
	for by := range grid.y {
		cu := c[uint64(by)*cStride:]
		for bx := range grid.x {
			first := uint64(bx) * leafBlock
			for t := range uint32(leafBlock) {
				for i := t; i < leafBlock*64; i += leafBlock {
					leaf := first + uint64(i/64)
					var v uint32
					if leaf < leaves {
						v = cu[first*64+uint64(i)]
					}
					vals[(i/64)*leafPad+i%64] = v
				}
			}
			for t := range uint32(leafBlock) {
				if first+uint64(t) < leaves {
					h[t] = twinLeafHash(vals[t*leafPad : t*leafPad+64])
				} else {
					h[t] = dhash{}
				}
			}
			twinBlockReduce(h, first, leaves, levels, out[uint64(by)*outStride:])
		}
	}
}

// twinNodeReduce is crc_node_reduce.
func twinNodeReduce(grid dim3, in []dhash, count, inStride uint64, levels uint32, out []dhash, outStride uint64) {
	h := make([]dhash, nodeBlock)
	for by := range grid.y {
		iu := in[uint64(by)*inStride:]
		for bx := range grid.x {
			first := uint64(bx) * nodeBlock
			for t := range uint32(nodeBlock) {
				if g := first + uint64(t); g < count {
					h[t] = iu[g]
				} else {
					h[t] = dhash{}
				}
			}
			twinBlockReduce(h, first, count, levels, out[uint64(by)*outStride:])
		}
	}
}

// twinGather is crc_gather.
func twinGather(grid dim3, c []uint32, tree []dhash, leaves uint64, depth uint32, idx []uint64, n uint32, out []uint32) {
	for bx := range grid.x {
		for t := range uint32(gatherBlock) {
			s := bx*gatherBlock + t
			if s >= n {
				continue
			}
			li := idx[s]
			o := out[uint64(s)*uint64(64+8*depth):]
			for j := range uint64(64) {
				o[j] = c[li*64+j]
			}
			off, cnt, i := uint64(0), leaves, li
			for l := range depth {
				sib := i ^ 1
				for w := range uint32(8) {
					var v uint32
					if sib < cnt {
						v = tree[off+sib][w]
					}
					o[64+8*l+w] = v
				}
				off += cnt
				cnt = (cnt + 1) >> 1
				i >>= 1
			}
		}
	}
}
