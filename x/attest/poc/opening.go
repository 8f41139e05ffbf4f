package poc

import (
	"encoding/binary"
	"fmt"
)

// Encoding versions.
const (
	// OpeningVersion is the first byte of an encoded Opening.
	OpeningVersion = 1
	// RevealVersion is the first byte of an encoded Reveal.
	RevealVersion = 1
)

// Hard bounds of the encoding, independent of Params.
const (
	// MaxPathDepth bounds each Merkle path of an encoded opening. Valid
	// params need at most 22 (unit tree, N = 16384) and 20 (instance, M = 2^20).
	MaxPathDepth = 32
	// openingFixed is the size of an opening without its path hashes:
	// version, 3 x u32 coordinates, 64 x i32 leaf values, 2 path lengths.
	openingFixed = 1 + 12 + LeafBytes + 1 + 1
	// MaxOpeningSize is the largest encoded opening accepted.
	MaxOpeningSize = openingFixed + 2*MaxPathDepth*32
	// revealFixed is the size of a reveal header: version and u16 count.
	revealFixed = 1 + 2
	// MaxRevealSize is the largest encoded reveal accepted.
	MaxRevealSize = revealFixed + MaxSamples*MaxOpeningSize
)

// Opening opens one entry of the instance: the 64-value leaf holding it and
// the Merkle paths from that leaf to the unit root and from the unit root to
// the instance root.
//
// The opened value is Leaf[Pos.Col%64] (see Value); it is not carried twice.
//
// Encoding (OpeningSize bytes, all integers fixed-size):
//
//	u8     version (= 1)
//	u32be  Pos.Unit, Pos.Row, Pos.Col
//	64 x i32le  Leaf                     (exactly the bytes hashed by the leaf hash)
//	u8     len(UnitPath)     (<= 32), then the hashes, bottom-up
//	u8     len(InstancePath) (<= 32), then the hashes, bottom-up
type Opening struct {
	// Pos is the opened position.
	Pos Position
	// Leaf is the leaf holding the position: C_u[row][64*(col/64) ..+63].
	Leaf [LeafValues]int32
	// UnitPath holds the sibling hashes from the leaf to the unit root,
	// bottom-up (Params.UnitDepth of them).
	UnitPath []Hash
	// InstancePath holds the sibling hashes from the unit root to the
	// instance root, bottom-up (Params.InstanceDepth of them).
	InstancePath []Hash
}

// Value returns the opened entry C_u[row][col] = Leaf[Pos.Col % 64].
func (o *Opening) Value() int32 { return o.Leaf[o.Pos.Col%LeafValues] }

// EncodedSize returns the length of the opening's encoding.
func (o *Opening) EncodedSize() int {
	return openingFixed + 32*(len(o.UnitPath)+len(o.InstancePath))
}

// OpeningSize returns the encoded size of every valid opening under p.
func OpeningSize(p Params) int {
	return openingFixed + 32*(p.UnitDepth()+p.InstanceDepth())
}

// RevealSize returns the encoded size of every valid reveal under p. The chain
// can reject a message of any other size, and charge gas by size, before
// decoding or verifying anything.
func RevealSize(p Params) int {
	return revealFixed + int(p.Samples)*OpeningSize(p)
}

// AppendBinary appends the encoding of o to b. It fails with ErrTooLarge if a
// path is deeper than MaxPathDepth.
func (o *Opening) AppendBinary(b []byte) ([]byte, error) {
	if len(o.UnitPath) > MaxPathDepth || len(o.InstancePath) > MaxPathDepth {
		return b, fmt.Errorf("%w: path depths %d, %d exceed %d", ErrTooLarge, len(o.UnitPath), len(o.InstancePath), MaxPathDepth)
	}
	b = append(b, OpeningVersion)
	b = binary.BigEndian.AppendUint32(b, o.Pos.Unit)
	b = binary.BigEndian.AppendUint32(b, o.Pos.Row)
	b = binary.BigEndian.AppendUint32(b, o.Pos.Col)
	for _, v := range o.Leaf {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	b = append(b, byte(len(o.UnitPath)))
	for i := range o.UnitPath {
		b = append(b, o.UnitPath[i][:]...)
	}
	b = append(b, byte(len(o.InstancePath)))
	for i := range o.InstancePath {
		b = append(b, o.InstancePath[i][:]...)
	}
	return b, nil
}

// MarshalBinary returns the encoding of o.
func (o *Opening) MarshalBinary() ([]byte, error) {
	return o.AppendBinary(make([]byte, 0, o.EncodedSize()))
}

// UnmarshalBinary decodes exactly one opening from b (no trailing bytes).
// Errors wrap ErrTooLarge or ErrMalformed.
func (o *Opening) UnmarshalBinary(b []byte) error {
	if len(b) > MaxOpeningSize {
		return fmt.Errorf("%w: opening of %d bytes exceeds %d", ErrTooLarge, len(b), MaxOpeningSize)
	}
	rest, err := o.decode(b)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d trailing bytes after opening", ErrMalformed, len(rest))
	}
	return nil
}

// decode reads one opening from the front of b and returns the rest.
func (o *Opening) decode(b []byte) ([]byte, error) {
	if len(b) < 1+12+LeafBytes+1 {
		return nil, fmt.Errorf("%w: opening truncated (%d bytes)", ErrMalformed, len(b))
	}
	if b[0] != OpeningVersion {
		return nil, fmt.Errorf("%w: opening version %d, want %d", ErrMalformed, b[0], OpeningVersion)
	}
	var out Opening
	out.Pos.Unit = binary.BigEndian.Uint32(b[1:])
	out.Pos.Row = binary.BigEndian.Uint32(b[5:])
	out.Pos.Col = binary.BigEndian.Uint32(b[9:])
	b = b[13:]
	for t := range out.Leaf {
		out.Leaf[t] = int32(binary.LittleEndian.Uint32(b[4*t:]))
	}
	b = b[LeafBytes:]
	var err error
	if out.UnitPath, b, err = decodePath(b, "unit"); err != nil {
		return nil, err
	}
	if len(b) < 1 {
		return nil, fmt.Errorf("%w: opening truncated before instance path", ErrMalformed)
	}
	if out.InstancePath, b, err = decodePath(b, "instance"); err != nil {
		return nil, err
	}
	*o = out
	return b, nil
}

// decodePath reads a u8 length and that many hashes; len(b) >= 1.
func decodePath(b []byte, what string) ([]Hash, []byte, error) {
	d := int(b[0])
	b = b[1:]
	if d > MaxPathDepth {
		return nil, nil, fmt.Errorf("%w: %s path depth %d exceeds %d", ErrTooLarge, what, d, MaxPathDepth)
	}
	if len(b) < 32*d {
		return nil, nil, fmt.Errorf("%w: %s path truncated (%d of %d bytes)", ErrMalformed, what, len(b), 32*d)
	}
	path := make([]Hash, d)
	for i := range path {
		copy(path[i][:], b[32*i:32*i+32])
	}
	return path, b[32*d:], nil
}

// Reveal is the answer to a sampling: one opening per sampled position, in
// sampling order.
//
// Encoding:
//
//	u8    version (= 1)
//	u16be number of openings (<= MaxSamples)
//	the openings, each in the Opening encoding, back to back
type Reveal struct {
	// Openings holds one opening per sampled position, in sampling order.
	Openings []Opening
}

// EncodedSize returns the length of the reveal's encoding, for charging gas
// by size before verification.
func (r *Reveal) EncodedSize() int {
	n := revealFixed
	for i := range r.Openings {
		n += r.Openings[i].EncodedSize()
	}
	return n
}

// AppendBinary appends the encoding of r to b. It fails with ErrTooLarge for
// more than MaxSamples openings or a path deeper than MaxPathDepth.
func (r *Reveal) AppendBinary(b []byte) ([]byte, error) {
	if len(r.Openings) > MaxSamples {
		return b, fmt.Errorf("%w: %d openings exceed %d", ErrTooLarge, len(r.Openings), MaxSamples)
	}
	b = append(b, RevealVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Openings)))
	for i := range r.Openings {
		var err error
		if b, err = r.Openings[i].AppendBinary(b); err != nil {
			return b, fmt.Errorf("opening %d: %w", i, err)
		}
	}
	return b, nil
}

// MarshalBinary returns the encoding of r.
func (r *Reveal) MarshalBinary() ([]byte, error) {
	return r.AppendBinary(make([]byte, 0, r.EncodedSize()))
}

// UnmarshalBinary decodes exactly one reveal from b (no trailing bytes).
// Errors wrap ErrTooLarge or ErrMalformed. The size check comes first, so the
// work done on hostile input is bounded by MaxRevealSize.
func (r *Reveal) UnmarshalBinary(b []byte) error {
	if len(b) > MaxRevealSize {
		return fmt.Errorf("%w: reveal of %d bytes exceeds %d", ErrTooLarge, len(b), MaxRevealSize)
	}
	if len(b) < revealFixed {
		return fmt.Errorf("%w: reveal truncated (%d bytes)", ErrMalformed, len(b))
	}
	if b[0] != RevealVersion {
		return fmt.Errorf("%w: reveal version %d, want %d", ErrMalformed, b[0], RevealVersion)
	}
	n := int(binary.BigEndian.Uint16(b[1:]))
	if n > MaxSamples {
		return fmt.Errorf("%w: %d openings exceed %d", ErrTooLarge, n, MaxSamples)
	}
	// Every opening takes at least openingFixed bytes: reject a count the
	// input cannot hold before allocating for it.
	b = b[revealFixed:]
	if len(b) < n*openingFixed {
		return fmt.Errorf("%w: %d openings need at least %d bytes, have %d", ErrMalformed, n, n*openingFixed, len(b))
	}
	out := make([]Opening, n)
	for i := range out {
		var err error
		if b, err = out[i].decode(b); err != nil {
			return fmt.Errorf("opening %d: %w", i, err)
		}
	}
	if len(b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes after reveal", ErrMalformed, len(b))
	}
	r.Openings = out
	return nil
}
