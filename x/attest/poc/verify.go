package poc

import "fmt"

// The verifier: pure, deterministic, single-threaded, integer-only. Its cost
// is independent of N and M: per opening one leaf hash, UnitDepth +
// InstanceDepth node hashes, K/4 generator words and K multiply-adds.

// VerifyOpening checks one opening against the committed instance root:
//
//  1. p is valid (ErrBadParams) and o is not nil (ErrMalformed);
//  2. pos lies in the instance and o.Pos == pos (ErrWrongPosition);
//  3. the paths have depths p.UnitDepth and p.InstanceDepth and fold, from
//     the hash of o.Leaf at pos's leaf index, to instanceRoot (ErrBadPath);
//  4. o.Value() equals the dot product of row pos.Row of A_u and row pos.Col
//     of B_u, regenerated from seed (ErrWrongValue).
//
// It returns nil when all hold. A failure at step 4 after steps 1-3 passed is
// objective proof of a wrong commitment.
func VerifyOpening(p Params, seed, instanceRoot [32]byte, pos Position, o *Opening) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := checkPath(p, instanceRoot, pos, o); err != nil {
		return err
	}
	return checkValue(p, seed, o)
}

// VerifyReveal checks a whole reveal: p is valid; it holds exactly p.Samples
// openings (ErrCountMismatch); opening t is at SamplePositions(p,
// sampleSeed)[t] (ErrWrongPosition); then every Merkle path
// (ErrBadPath), then every value (ErrWrongValue). Cheap checks run over all
// openings before any dot product, so a reveal with a bad path costs hashes
// only. The first failure is returned, wrapped with the opening's index.
func VerifyReveal(p Params, seed, instanceRoot, sampleSeed [32]byte, r *Reveal) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("%w: nil reveal", ErrMalformed)
	}
	if len(r.Openings) != int(p.Samples) {
		return fmt.Errorf("%w: %d openings, want %d", ErrCountMismatch, len(r.Openings), p.Samples)
	}
	positions, err := SamplePositions(p, sampleSeed)
	if err != nil {
		return err
	}
	for t := range r.Openings {
		if got := r.Openings[t].Pos; got != positions[t] {
			return fmt.Errorf("%w: opening %d is at %v, sampled %v", ErrWrongPosition, t, got, positions[t])
		}
	}
	for t := range r.Openings {
		if err := checkPath(p, instanceRoot, positions[t], &r.Openings[t]); err != nil {
			return fmt.Errorf("opening %d: %w", t, err)
		}
	}
	for t := range r.Openings {
		if err := checkValue(p, seed, &r.Openings[t]); err != nil {
			return fmt.Errorf("opening %d: %w", t, err)
		}
	}
	return nil
}

// checkPath runs steps 2-3 of VerifyOpening; p is valid.
func checkPath(p Params, instanceRoot [32]byte, pos Position, o *Opening) error {
	if o == nil {
		return fmt.Errorf("%w: nil opening", ErrMalformed)
	}
	if !pos.InRange(p) {
		return fmt.Errorf("%w: %v outside the instance", ErrWrongPosition, pos)
	}
	if o.Pos != pos {
		return fmt.Errorf("%w: opening is at %v, want %v", ErrWrongPosition, o.Pos, pos)
	}
	if len(o.UnitPath) != p.UnitDepth() || len(o.InstancePath) != p.InstanceDepth() {
		return fmt.Errorf("%w: path depths %d, %d, want %d, %d", ErrBadPath,
			len(o.UnitPath), len(o.InstancePath), p.UnitDepth(), p.InstanceDepth())
	}
	unitRoot := RootFromPath(LeafHash(&o.Leaf), pos.LeafIndex(p), o.UnitPath)
	if RootFromPath(unitRoot, uint64(pos.Unit), o.InstancePath) != instanceRoot {
		return fmt.Errorf("%w: opening at %v does not lead to the instance root", ErrBadPath, pos)
	}
	return nil
}

// checkValue runs step 4 of VerifyOpening; p is valid, o.Pos in range.
func checkValue(p Params, seed [32]byte, o *Opening) error {
	want := Entry(p, seed, o.Pos)
	if got := o.Value(); got != want {
		return fmt.Errorf("%w: C_%d[%d][%d] opened as %d, recomputed %d",
			ErrWrongValue, o.Pos.Unit, o.Pos.Row, o.Pos.Col, got, want)
	}
	return nil
}

// Entry recomputes one entry C_u[row][col] = sum_t A_u[row][t]*B_u[col][t]
// straight from the generator, without materializing the rows. p must be
// valid and pos in range (it panics on K not a multiple of 8).
func Entry(p Params, seed [32]byte, pos Position) int32 {
	if p.K%8 != 0 {
		panic("poc: Entry: K must be a multiple of 8")
	}
	ka := StreamKey(seed, TagA, pos.Unit)
	kb := StreamKey(seed, TagB, pos.Unit)
	words := uint64(p.K / 8)
	return dotStreams(ka+(uint64(pos.Row)*words+1)*golden64, kb+(uint64(pos.Col)*words+1)*golden64, words)
}

// dotStreams returns the int32 (wrapping) dot product of the int8 bytes of
// Mix64(sa + w*gamma) and Mix64(sb + w*gamma) for w < words: byte-for-byte
// what GenRow would produce for the two rows.
func dotStreams(sa, sb, words uint64) int32 {
	var s0, s1 int32
	for ; words > 0; words-- {
		x := Mix64(sa)
		y := Mix64(sb)
		sa += golden64
		sb += golden64
		s0 += int32(int8(x))*int32(int8(y)) +
			int32(int8(x>>16))*int32(int8(y>>16)) +
			int32(int8(x>>32))*int32(int8(y>>32)) +
			int32(int8(x>>48))*int32(int8(y>>48))
		s1 += int32(int8(x>>8))*int32(int8(y>>8)) +
			int32(int8(x>>24))*int32(int8(y>>24)) +
			int32(int8(x>>40))*int32(int8(y>>40)) +
			int32(int8(x>>56))*int32(int8(y>>56))
	}
	return s0 + s1
}
