package poc

import (
	"context"
	"encoding/binary"
	"testing"
)

// tinyParams are the smallest useful params: 4 units of 64 x 64 over K = 64.
var tinyParams = Params{N: 64, K: 64, M: 4, Samples: 16}

// testSeed returns a deterministic seed for trial i.
func testSeed(tag string, i int) [32]byte {
	return DeriveSeed(SeedInput{ChainID: "crucible-test", Height: int64(i) + 1,
		HeaderHash: []byte(tag), Provider: []byte{1, 2, 3, byte(i)}, GPUIndex: uint32(i)})
}

// sampleSeedFor returns a deterministic sample seed for root and trial i.
func sampleSeedFor(root Hash, i int) [32]byte {
	var hh [32]byte
	binary.BigEndian.PutUint64(hh[:], uint64(i)^0xabcdef)
	return SampleSeed(root, hh[:])
}

// proveAndReveal runs an honest (or corrupted) prover end to end.
func proveAndReveal(t testing.TB, p Params, seed [32]byte, sampleSeed func(Hash) [32]byte,
	corrupt func(u uint32, c []int32)) (root, ss Hash, r *Reveal) {
	t.Helper()
	pr, err := NewProver(p, seed, ProverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pr.corrupt = corrupt
	root, err = pr.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ss = sampleSeed(root)
	r, err = pr.Reveal(context.Background(), ss)
	if err != nil {
		t.Fatal(err)
	}
	return root, ss, r
}

// garbage fills c with pseudo-random values: a unit the prover skipped.
func garbage(u uint32, c []int32) {
	for i := range c {
		c[i] = int32(Mix64(uint64(u)<<40 ^ uint64(i) ^ 0x5eed))
	}
}
