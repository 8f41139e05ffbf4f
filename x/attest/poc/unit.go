package poc

import "fmt"

// unitBuf holds the scratch memory of one unit computation: A_u and B_u
// (N*K bytes each) and C_u (N*N int32). One per worker; reused across units.
type unitBuf struct {
	a, b []int8
	c    []int32
}

func newUnitBuf(p Params) *unitBuf {
	nk := uint64(p.N) * uint64(p.K)
	return &unitBuf{a: make([]int8, nk), b: make([]int8, nk), c: make([]int32, uint64(p.N)*uint64(p.N))}
}

// compute fills buf.c with C_u. p is valid.
func (buf *unitBuf) compute(p Params, seed [32]byte, u uint32) {
	fillWords(StreamKey(seed, TagA, u), 0, buf.a)
	fillWords(StreamKey(seed, TagB, u), 0, buf.b)
	MatMulABt(buf.a, buf.b, int(p.N), int(p.K), buf.c)
}

// ComputeUnit returns C_u = A_u * B_u^T, N x N int32, row-major, computed
// single-threaded by the CPU reference. It needs 2*N*K + 4*N*N bytes.
func ComputeUnit(p Params, seed [32]byte, u uint32) ([]int32, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if u >= p.M {
		return nil, fmt.Errorf("%w: unit %d of %d", ErrWrongPosition, u, p.M)
	}
	buf := newUnitBuf(p)
	buf.compute(p, seed, u)
	return buf.c, nil
}

// UnitLeafHashes returns the N*N/64 leaf hashes of a unit's C (row-major
// N x N): leaf l hashes c[64*l : 64*l+64].
func UnitLeafHashes(p Params, c []int32) ([]Hash, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	nn := uint64(p.N) * uint64(p.N)
	if uint64(len(c)) != nn {
		return nil, fmt.Errorf("%w: unit has %d entries, want %d", ErrMalformed, len(c), nn)
	}
	out := make([]Hash, p.UnitLeaves())
	for l := range out {
		out[l] = leafHashSlice(c[LeafValues*l:])
	}
	return out, nil
}

// UnitRoot returns the Merkle root of a unit's C (row-major N x N).
func UnitRoot(p Params, c []int32) (Hash, error) {
	leaves, err := UnitLeafHashes(p, c)
	if err != nil {
		return Hash{}, err
	}
	return reduceInPlace(leaves), nil
}

// InstanceRoot returns the root of the instance tree over the M unit roots.
func InstanceRoot(p Params, unitRoots []Hash) (Hash, error) {
	if err := p.Validate(); err != nil {
		return Hash{}, err
	}
	if len(unitRoots) != int(p.M) {
		return Hash{}, fmt.Errorf("%w: %d unit roots, want %d", ErrMalformed, len(unitRoots), p.M)
	}
	return MerkleRoot(unitRoots), nil
}

// OpenUnit builds the opening of pos from the whole C of unit pos.Unit
// (row-major N x N, e.g. recomputed on a GPU after sampling) and the M unit
// roots that were committed. It does not check c against unitRoots; a
// mismatch yields an opening that fails with ErrBadPath.
func OpenUnit(p Params, pos Position, c []int32, unitRoots []Hash) (Opening, error) {
	leaves, err := UnitLeafHashes(p, c)
	if err != nil {
		return Opening{}, err
	}
	if len(unitRoots) != int(p.M) {
		return Opening{}, fmt.Errorf("%w: %d unit roots, want %d", ErrMalformed, len(unitRoots), p.M)
	}
	if !pos.InRange(p) {
		return Opening{}, fmt.Errorf("%w: %v outside the instance", ErrWrongPosition, pos)
	}
	return openFromTrees(p, pos, c, newMerkleTree(leaves), newMerkleTree(unitRoots)), nil
}

// openFromTrees assembles an opening; everything is already checked.
func openFromTrees(p Params, pos Position, c []int32, unit, inst *merkleTree) Opening {
	li := pos.LeafIndex(p)
	var o Opening
	o.Pos = pos
	copy(o.Leaf[:], c[LeafValues*li:])
	o.UnitPath = unit.path(li)
	o.InstancePath = inst.path(uint64(pos.Unit))
	return o
}
