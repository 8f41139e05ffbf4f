package poc

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// Merkle trees of this package.
//
//	leaf hash:  SHA256(0x00 || 64 int32 values, little-endian)   (257 bytes in)
//	node hash:  SHA256(0x01 || left || right)                   (65 bytes in)
//
// A tree over count >= 1 hashes has depth d = ceil(log2(count)) (0 for a single
// hash, which is then the root). It is the complete binary tree over 2^d
// leaf slots; slots count..2^d-1 are empty, and the hash of a subtree whose
// slots are all empty is the all-zero hash [32]byte{} (at every level, not
// just at the leaves). Every other internal node is NodeHash(left, right).
// Equivalently, level by level: pair up the hashes, and when a level has an
// odd count its last hash is paired with the zero hash. The zero hash is the
// output of no known SHA256 input, so an empty slot can never be opened as
// data; when count is a power of two there is no padding at all.
//
// Unit tree: leaf index i*(N/64) + j/64 covers C_u[i][64*(j/64) ..+63]; there
// are N*N/64 leaves. Instance tree: its leaves are the M unit roots, used as
// they are (not re-hashed); the depths are fixed by Params, so a unit root
// cannot be confused with a leaf hash.

// Hash is a SHA256 digest.
type Hash = [32]byte

const (
	leafPrefix = 0x00
	nodePrefix = 0x01
	// LeafBytes is the size of a leaf's contents: 64 int32 values.
	LeafBytes = LeafValues * 4
)

// LeafHash returns SHA256(0x00 || leaf values as little-endian int32).
func LeafHash(leaf *[LeafValues]int32) Hash {
	var buf [1 + LeafBytes]byte
	buf[0] = leafPrefix
	for t, v := range leaf {
		binary.LittleEndian.PutUint32(buf[1+4*t:], uint32(v))
	}
	return sha256.Sum256(buf[:])
}

// leafHashSlice is LeafHash over vals[:64].
func leafHashSlice(vals []int32) Hash {
	return LeafHash((*[LeafValues]int32)(vals[:LeafValues]))
}

// NodeHash returns SHA256(0x01 || left || right).
func NodeHash(left, right Hash) Hash {
	var buf [1 + 64]byte
	buf[0] = nodePrefix
	copy(buf[1:33], left[:])
	copy(buf[33:], right[:])
	return sha256.Sum256(buf[:])
}

// TreeDepth returns ceil(log2(count)) for count >= 1, and 0 for count <= 1:
// the number of sibling hashes in a Merkle path of a tree over count leaves.
func TreeDepth(count uint64) int {
	if count <= 1 {
		return 0
	}
	return bits.Len64(count - 1)
}

// MerkleRoot returns the root of the tree over leaves, padded as described in
// the package documentation (an empty subtree hashes to the zero hash).
// leaves is not modified. It returns the zero hash for no leaves.
func MerkleRoot(leaves []Hash) Hash {
	if len(leaves) == 0 {
		return Hash{}
	}
	level := append([]Hash(nil), leaves...)
	return reduceInPlace(level)
}

// reduceInPlace computes the root of level, overwriting it.
func reduceInPlace(level []Hash) Hash {
	for len(level) > 1 {
		half := (len(level) + 1) / 2
		for i := 0; i < half; i++ {
			var r Hash
			if 2*i+1 < len(level) {
				r = level[2*i+1]
			}
			level[i] = NodeHash(level[2*i], r)
		}
		level = level[:half]
	}
	return level[0]
}

// merkleTree keeps every level of a tree, leaves first, to extract paths.
type merkleTree struct{ levels [][]Hash }

// newMerkleTree builds all levels over leaves (which it keeps, unmodified).
func newMerkleTree(leaves []Hash) *merkleTree {
	t := &merkleTree{levels: [][]Hash{leaves}}
	level := leaves
	for len(level) > 1 {
		next := make([]Hash, (len(level)+1)/2)
		for i := range next {
			var r Hash
			if 2*i+1 < len(level) {
				r = level[2*i+1]
			}
			next[i] = NodeHash(level[2*i], r)
		}
		t.levels = append(t.levels, next)
		level = next
	}
	return t
}

// root returns the tree's root.
func (t *merkleTree) root() Hash { return t.levels[len(t.levels)-1][0] }

// path returns the sibling hashes of leaf index, bottom-up.
func (t *merkleTree) path(index uint64) []Hash {
	out := make([]Hash, 0, len(t.levels)-1)
	for _, level := range t.levels[:len(t.levels)-1] {
		sib := index ^ 1
		var h Hash
		if sib < uint64(len(level)) {
			h = level[sib]
		}
		out = append(out, h)
		index >>= 1
	}
	return out
}

// MerklePath returns the sibling hashes, bottom-up, of leaves[index] in the
// tree over leaves: TreeDepth(len(leaves)) hashes. It panics if index is out
// of range.
func MerklePath(leaves []Hash, index uint64) []Hash {
	if index >= uint64(len(leaves)) {
		panic("poc: MerklePath: index out of range")
	}
	return newMerkleTree(leaves).path(index)
}

// RootFromPath folds a bottom-up sibling path onto leaf at index: at level l
// the running hash is the left child when bit l of index is 0. The caller
// checks the path length and index range.
func RootFromPath(leaf Hash, index uint64, path []Hash) Hash {
	h := leaf
	for _, sib := range path {
		if index&1 == 0 {
			h = NodeHash(h, sib)
		} else {
			h = NodeHash(sib, h)
		}
		index >>= 1
	}
	return h
}
