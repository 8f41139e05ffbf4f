package poc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestEncodingRoundTripAndLayout(t *testing.T) {
	p, _, _, _, r := honestFixture(t)
	o := &r.Openings[0]
	b, err := o.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != OpeningSize(p) || len(b) != o.EncodedSize() {
		t.Fatalf("opening size %d, OpeningSize %d, EncodedSize %d", len(b), OpeningSize(p), o.EncodedSize())
	}
	if b[0] != OpeningVersion || binary.BigEndian.Uint32(b[1:]) != o.Pos.Unit ||
		binary.BigEndian.Uint32(b[5:]) != o.Pos.Row || binary.BigEndian.Uint32(b[9:]) != o.Pos.Col {
		t.Fatal("header layout")
	}
	if int32(binary.LittleEndian.Uint32(b[13+4*(o.Pos.Col%64):])) != o.Value() {
		t.Fatal("leaf layout")
	}
	var back Opening
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	b2, _ := back.MarshalBinary()
	if !bytes.Equal(b, b2) {
		t.Fatal("opening round trip")
	}
}

func TestEncodingRejects(t *testing.T) {
	_, _, _, _, r := honestFixture(t)
	good, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	one, _ := r.Openings[0].MarshalBinary()
	check := func(name string, b []byte, want error) {
		t.Helper()
		var rv Reveal
		if err := rv.UnmarshalBinary(b); !errors.Is(err, want) {
			t.Errorf("reveal %s: got %v, want %v", name, err, want)
		}
	}
	checkOpening := func(name string, b []byte, want error) {
		t.Helper()
		var o Opening
		if err := o.UnmarshalBinary(b); !errors.Is(err, want) {
			t.Errorf("opening %s: got %v, want %v", name, err, want)
		}
	}
	// Every strict prefix of a valid encoding is rejected as malformed.
	for n := 0; n < len(good); n++ {
		var rv Reveal
		if err := rv.UnmarshalBinary(good[:n]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("reveal prefix %d: %v", n, err)
		}
	}
	for n := 0; n < len(one); n++ {
		var o Opening
		if err := o.UnmarshalBinary(one[:n]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("opening prefix %d: %v", n, err)
		}
	}
	check("trailing byte", append(bytes.Clone(good), 0), ErrMalformed)
	checkOpening("trailing byte", append(bytes.Clone(one), 0), ErrMalformed)
	bad := bytes.Clone(good)
	bad[0] = 2
	check("version", bad, ErrMalformed)
	bad = bytes.Clone(one)
	bad[0] = 0
	checkOpening("version", bad, ErrMalformed)
	check("oversized", make([]byte, MaxRevealSize+1), ErrTooLarge)
	checkOpening("oversized", make([]byte, MaxOpeningSize+1), ErrTooLarge)
	bad = bytes.Clone(good)
	binary.BigEndian.PutUint16(bad[1:], MaxSamples+1)
	check("count above MaxSamples", bad, ErrTooLarge)
	bad = bytes.Clone(good)
	binary.BigEndian.PutUint16(bad[1:], 9) // 8 openings present
	check("count above content", bad, ErrMalformed)
	bad = bytes.Clone(good)
	binary.BigEndian.PutUint16(bad[1:], 7)
	check("count below content", bad, ErrMalformed)
	bad = bytes.Clone(one)
	bad[13+LeafBytes] = MaxPathDepth + 1
	checkOpening("deep unit path", bad, ErrTooLarge)
	bad = bytes.Clone(one)
	bad[13+LeafBytes+1+32*len(r.Openings[0].UnitPath)]++ // one more hash than present
	checkOpening("instance path length", bad, ErrMalformed)

	// Marshal refuses what Unmarshal would refuse.
	big := &Reveal{Openings: make([]Opening, MaxSamples+1)}
	if _, err := big.MarshalBinary(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("marshal too many: %v", err)
	}
	deep := Opening{UnitPath: make([]Hash, MaxPathDepth+1)}
	if _, err := deep.MarshalBinary(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("marshal deep path: %v", err)
	}
	// The largest legal reveal decodes.
	maxO := Opening{UnitPath: make([]Hash, MaxPathDepth), InstancePath: make([]Hash, MaxPathDepth)}
	maxR := &Reveal{Openings: make([]Opening, MaxSamples)}
	for i := range maxR.Openings {
		maxR.Openings[i] = maxO
	}
	b, err := maxR.MarshalBinary()
	if err != nil || len(b) != MaxRevealSize {
		t.Fatalf("max reveal: %d bytes, %v", len(b), err)
	}
	var rv Reveal
	if err := rv.UnmarshalBinary(b); err != nil {
		t.Fatalf("max reveal decode: %v", err)
	}
}
