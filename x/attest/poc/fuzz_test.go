package poc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// fuzzFixture is an honest instance whose reveal seeds the verifier fuzzer,
// so mutations reach the Merkle and value checks.
var fuzzFixture = sync.OnceValues(func() (Params, [4]Hash) {
	p := Params{N: 64, K: 64, M: 3, Samples: 4}
	seed := testSeed("fuzz", 0)
	pr, _ := NewProver(p, seed, ProverOptions{Workers: 1})
	root, _ := pr.Commit(context.Background())
	ss := sampleSeedFor(root, 0)
	return p, [4]Hash{seed, root, ss}
})

// fuzzCorpus returns the committed seed inputs (also written by -update).
func fuzzCorpus(t testing.TB) (openings, reveals [][]byte) {
	p, h := fuzzFixture()
	pr, _ := NewProver(p, h[0], ProverOptions{Workers: 1})
	pr.Commit(context.Background())
	r, err := pr.Reveal(context.Background(), h[2])
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := r.MarshalBinary()
	ob, _ := r.Openings[0].MarshalBinary()
	empty, _ := (&Reveal{}).MarshalBinary()
	bare, _ := (&Opening{}).MarshalBinary()
	return [][]byte{ob, bare, ob[:100], {OpeningVersion}},
		[][]byte{rb, empty, rb[:len(rb)-1], {RevealVersion, 0xff, 0xff}}
}

func FuzzUnmarshalOpening(f *testing.F) {
	ops, _ := fuzzCorpus(f)
	for _, b := range ops {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var o Opening
		err := o.UnmarshalBinary(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		// Canonical: a decoded opening re-encodes to the same bytes.
		out, err := o.MarshalBinary()
		if err != nil || !bytes.Equal(out, b) || o.EncodedSize() != len(b) {
			t.Fatalf("not canonical: %v", err)
		}
	})
}

func FuzzUnmarshalReveal(f *testing.F) {
	_, revs := fuzzCorpus(f)
	for _, b := range revs {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Reveal
		err := r.UnmarshalBinary(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		out, err := r.MarshalBinary()
		if err != nil || !bytes.Equal(out, b) || r.EncodedSize() != len(b) {
			t.Fatalf("not canonical: %v", err)
		}
	})
}

// FuzzVerify feeds arbitrary bytes and params to the verifier: it must never
// panic and must fail with one of the sentinels (or pass only for the honest
// reveal of the fixture).
func FuzzVerify(f *testing.F) {
	p, h := fuzzFixture()
	_, revs := fuzzCorpus(f)
	for _, b := range revs {
		f.Add(p.N, p.K, p.M, p.Samples, b)
	}
	f.Add(uint32(16384), uint32(65536), uint32(1<<20), uint32(256), revs[0])
	f.Fuzz(func(t *testing.T, n, k, m, s uint32, b []byte) {
		q := Params{N: n, K: k, M: m, Samples: s}
		var r Reveal
		if err := r.UnmarshalBinary(b); err != nil {
			return
		}
		sentinels := []error{ErrBadParams, ErrMalformed, ErrCountMismatch, ErrWrongPosition, ErrBadPath, ErrWrongValue, ErrSampling}
		known := func(err error) bool {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return true
				}
			}
			return false
		}
		if err := VerifyReveal(q, h[0], h[1], h[2], &r); err != nil && !known(err) {
			t.Fatalf("unknown error: %v", err)
		}
		for i := range r.Openings {
			if i == 4 {
				break // bound the work per input (K up to 65536)
			}
			o := &r.Openings[i]
			if err := VerifyOpening(q, h[0], h[1], o.Pos, o); err != nil && !known(err) {
				t.Fatalf("unknown error: %v", err)
			}
		}
	})
}

// writeFuzzCorpus writes the seed inputs under testdata/fuzz (go test -update).
func writeFuzzCorpus(t *testing.T) {
	p, _ := fuzzFixture()
	ops, revs := fuzzCorpus(t)
	write := func(target string, i int, lines ...string) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		body := "go test fuzz v1\n"
		for _, l := range lines {
			body += l + "\n"
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, b := range ops {
		write("FuzzUnmarshalOpening", i, fmt.Sprintf("[]byte(%q)", b))
	}
	for i, b := range revs {
		write("FuzzUnmarshalReveal", i, fmt.Sprintf("[]byte(%q)", b))
		write("FuzzVerify", i, fmt.Sprintf("uint32(%d)", p.N), fmt.Sprintf("uint32(%d)", p.K),
			fmt.Sprintf("uint32(%d)", p.M), fmt.Sprintf("uint32(%d)", p.Samples), fmt.Sprintf("[]byte(%q)", b))
	}
	// The fixture's honest reveal under production params: full-size dot products.
	write("FuzzVerify", len(revs), "uint32(4096)", "uint32(65536)", "uint32(8192)", "uint32(4)",
		fmt.Sprintf("[]byte(%q)", revs[0]))
}

// TestFuzzFixtureHonest makes sure the fuzz fixture's reveal verifies, so
// the verifier fuzzer starts from a passing input.
func TestFuzzFixtureHonest(t *testing.T) {
	p, h := fuzzFixture()
	_, revs := fuzzCorpus(t)
	var r Reveal
	if err := r.UnmarshalBinary(revs[0]); err != nil {
		t.Fatal(err)
	}
	if err := VerifyReveal(p, h[0], h[1], h[2], &r); err != nil {
		t.Fatal(err)
	}
}
