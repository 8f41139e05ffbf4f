package poc

import (
	"bytes"
	"context"
	"errors"
	"math"
	"slices"
	"testing"
)

func TestEntryMatchesGenRowAndUnit(t *testing.T) {
	for _, p := range []Params{tinyParams, {N: 128, K: 200, M: 2, Samples: 4}} {
		seed := testSeed("entry", int(p.K))
		for u := uint32(0); u < p.M; u++ {
			c, err := ComputeUnit(p, seed, u)
			if err != nil {
				t.Fatal(err)
			}
			a := make([]int8, p.K)
			b := make([]int8, p.K)
			for i := uint32(0); i < p.N; i += 7 {
				GenRow(seed, TagA, u, i, p.K, a)
				for j := uint32(0); j < p.N; j += 5 {
					GenRow(seed, TagB, u, j, p.K, b)
					want := c[i*p.N+j]
					if d := Dot(a, b); d != want {
						t.Fatalf("Dot(%d,%d)=%d want %d", i, j, d, want)
					}
					if e := Entry(p, seed, Position{u, i, j}); e != want {
						t.Fatalf("Entry(%d,%d,%d)=%d want %d", u, i, j, e, want)
					}
				}
			}
		}
	}
}

func TestGenRowMatchesMatrix(t *testing.T) {
	seed := testSeed("gen", 0)
	m := GenMatrix(seed, TagB, 3, 10, 48)
	row := make([]int8, 48)
	for r := uint32(0); r < 10; r++ {
		GenRow(seed, TagB, 3, r, 48, row)
		if !slices.Equal(row, m[r*48:(r+1)*48]) {
			t.Fatalf("row %d differs", r)
		}
	}
	// Full range: every int8 value appears in a large enough matrix.
	var seen [256]bool
	for _, v := range GenMatrix(seed, TagA, 0, 64, 256) {
		seen[uint8(v)] = true
	}
	for v, ok := range seen {
		if !ok {
			t.Fatalf("value %d never generated", int8(v))
		}
	}
}

func TestHonestProverAlwaysPasses(t *testing.T) {
	cases := []struct {
		p      Params
		trials int
	}{
		{tinyParams, 60},
		{Params{N: 64, K: 8, M: 1, Samples: 256}, 10},  // one unit, max samples
		{Params{N: 192, K: 200, M: 3, Samples: 20}, 5}, // padded trees
		{TestParams(), 3},
	}
	for _, tc := range cases {
		for i := 0; i < tc.trials; i++ {
			seed := testSeed("honest", i)
			root, ss, r := proveAndReveal(t, tc.p, seed, func(h Hash) [32]byte { return sampleSeedFor(h, i) }, nil)
			if err := VerifyReveal(tc.p, seed, root, ss, r); err != nil {
				t.Fatalf("%+v trial %d: %v", tc.p, i, err)
			}
			enc, err := r.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if len(enc) != r.EncodedSize() || len(enc) != RevealSize(tc.p) {
				t.Fatalf("size %d, EncodedSize %d, RevealSize %d", len(enc), r.EncodedSize(), RevealSize(tc.p))
			}
			var back Reveal
			if err := back.UnmarshalBinary(enc); err != nil {
				t.Fatal(err)
			}
			if err := VerifyReveal(tc.p, seed, root, ss, &back); err != nil {
				t.Fatalf("decoded reveal: %v", err)
			}
			for k := range r.Openings {
				o := &r.Openings[k]
				if err := VerifyOpening(tc.p, seed, root, o.Pos, o); err != nil {
					t.Fatalf("opening %d: %v", k, err)
				}
			}
		}
	}
}

func TestWorkersDoNotChangeResult(t *testing.T) {
	p := Params{N: 64, K: 64, M: 7, Samples: 8}
	seed := testSeed("workers", 1)
	var roots []Hash
	for _, w := range []int{1, 2, 5, 16} {
		var calls uint32
		pr, _ := NewProver(p, seed, ProverOptions{Workers: w, Progress: func(done, total uint32) {
			calls++
			if total != p.M || done != calls {
				t.Errorf("progress %d/%d at call %d", done, total, calls)
			}
		}})
		root, err := pr.Commit(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if calls != p.M {
			t.Fatalf("progress called %d times", calls)
		}
		ir, _ := InstanceRoot(p, pr.UnitRoots())
		if ir != root {
			t.Fatal("InstanceRoot(UnitRoots) != Commit root")
		}
		roots = append(roots, root)
	}
	for _, r := range roots[1:] {
		if r != roots[0] {
			t.Fatal("root depends on worker count")
		}
	}
}

func TestProverCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pr, _ := NewProver(tinyParams, testSeed("cancel", 0), ProverOptions{})
	if _, err := pr.Commit(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if _, err := pr.Open(context.Background(), nil); !errors.Is(err, ErrNotCommitted) {
		t.Fatalf("got %v", err)
	}
}

func TestOpenUnitMatchesProver(t *testing.T) {
	p := Params{N: 128, K: 64, M: 3, Samples: 6}
	seed := testSeed("openunit", 0)
	root, ss, r := proveAndReveal(t, p, seed, func(h Hash) [32]byte { return sampleSeedFor(h, 0) }, nil)
	roots := make([]Hash, p.M)
	units := make([][]int32, p.M)
	for u := range roots {
		units[u], _ = ComputeUnit(p, seed, uint32(u))
		roots[u], _ = UnitRoot(p, units[u])
	}
	if ir, _ := InstanceRoot(p, roots); ir != root {
		t.Fatal("instance root differs")
	}
	for k, want := range r.Openings {
		got, err := OpenUnit(p, want.Pos, units[want.Pos.Unit], roots)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := got.MarshalBinary()
		b, _ := want.MarshalBinary()
		if !bytes.Equal(a, b) {
			t.Fatalf("opening %d differs", k)
		}
	}
	_ = ss
}

// hypergeomPass is the exact probability that k distinct uniform positions
// out of total all avoid the bad ones.
func hypergeomPass(total, bad uint64, k int) float64 {
	p := 1.0
	for i := 0; i < k; i++ {
		p *= float64(total-bad-uint64(i)) / float64(total-uint64(i))
	}
	return p
}

// TestSkippedWorkDetectionRate: a prover that skips a fraction e of the units
// (garbage instead of the product, consistently committed) is caught at rate
// 1-(1-e)^k. The observed rate must lie within 5 sigma of the exact rate
// (sampling without replacement); the trials are deterministic, so the
// tolerance only guards the claim, it cannot flake.
func TestSkippedWorkDetectionRate(t *testing.T) {
	if testing.Short() {
		t.Skip("statistical test")
	}
	cases := []struct {
		m, skip uint32
		k       uint32
		trials  int
	}{
		{20, 2, 32, 800}, // e = 10%, k = 32: the protocol's example
		{16, 1, 16, 800}, // e = 6.25%
		{16, 4, 8, 800},  // e = 25%
	}
	for _, tc := range cases {
		p := Params{N: 64, K: 8, M: tc.m, Samples: tc.k}
		e := float64(tc.skip) / float64(tc.m)
		corrupt := func(u uint32, c []int32) {
			if u < tc.skip {
				garbage(u, c)
			}
		}
		caught := 0
		for i := 0; i < tc.trials; i++ {
			seed := testSeed("skip", i)
			root, ss, r := proveAndReveal(t, p, seed, func(h Hash) [32]byte { return sampleSeedFor(h, i) }, corrupt)
			err := VerifyReveal(p, seed, root, ss, r)
			switch {
			case err == nil:
			case errors.Is(err, ErrWrongValue):
				caught++
			default:
				t.Fatalf("trial %d: unexpected error %v", i, err)
			}
		}
		obs := float64(caught) / float64(tc.trials)
		total := p.Positions()
		exact := 1 - hypergeomPass(total, uint64(tc.skip)*uint64(p.N)*uint64(p.N), int(tc.k))
		formula := 1 - math.Pow(1-e, float64(tc.k))
		sigma := math.Sqrt(exact * (1 - exact) / float64(tc.trials))
		t.Logf("e=%.4f k=%d: caught %d/%d = %.4f; predicted 1-(1-e)^k = %.4f, exact (without replacement) %.4f, 5 sigma = %.4f",
			e, tc.k, caught, tc.trials, obs, formula, exact, 5*sigma)
		if math.Abs(obs-exact) > 5*sigma {
			t.Errorf("detection rate %.4f outside %.4f +- %.4f", obs, exact, 5*sigma)
		}
	}
}

// TestFlippedEntry: one wrong entry is caught exactly when it is sampled.
func TestFlippedEntry(t *testing.T) {
	p := Params{N: 64, K: 16, M: 1, Samples: 256}
	hits := 0
	for i := 0; i < 120; i++ {
		seed := testSeed("flip", i)
		bad := positionAt(p, Mix64(uint64(i))%p.Positions())
		corrupt := func(u uint32, c []int32) {
			if u == bad.Unit {
				c[bad.Row*p.N+bad.Col] ^= 1 << (i % 32)
			}
		}
		root, ss, r := proveAndReveal(t, p, seed, func(h Hash) [32]byte { return sampleSeedFor(h, i) }, corrupt)
		pos, _ := SamplePositions(p, ss)
		sampled := slices.Contains(pos, bad)
		err := VerifyReveal(p, seed, root, ss, r)
		if sampled {
			hits++
			if !errors.Is(err, ErrWrongValue) {
				t.Fatalf("trial %d: flipped entry sampled, got %v", i, err)
			}
		} else if err != nil {
			t.Fatalf("trial %d: flipped entry not sampled, got %v", i, err)
		}
	}
	if hits == 0 {
		t.Fatal("the flipped entry was never sampled")
	}
	t.Logf("flipped entry sampled (and caught) in %d of 120 trials (expected 120/16 = 7.5)", hits)

	// And deterministically: flip an entry known to be sampled.
	seed := testSeed("flip-known", 0)
	pr, _ := NewProver(p, seed, ProverOptions{})
	root, _ := pr.Commit(context.Background())
	ss := sampleSeedFor(root, 0)
	pos, _ := SamplePositions(p, ss)
	target := pos[7]
	pr2, _ := NewProver(p, seed, ProverOptions{})
	pr2.corrupt = func(u uint32, c []int32) { c[target.Row*p.N+target.Col]++ }
	root2, _ := pr2.Commit(context.Background())
	ss2 := sampleSeedFor(root2, 0)
	r2, _ := pr2.Reveal(context.Background(), ss2)
	pos2, _ := SamplePositions(p, ss2)
	if slices.Contains(pos2, target) {
		if err := VerifyReveal(p, seed, root2, ss2, r2); !errors.Is(err, ErrWrongValue) {
			t.Fatalf("got %v", err)
		}
	}
	// Open the flipped entry directly: wrong value, valid path.
	rr, _ := pr2.Open(context.Background(), []Position{target})
	if err := VerifyOpening(p, seed, root2, target, &rr.Openings[0]); !errors.Is(err, ErrWrongValue) {
		t.Fatalf("got %v", err)
	}
}

func honestFixture(t testing.TB) (p Params, seed, root, ss Hash, r *Reveal) {
	p = Params{N: 128, K: 64, M: 5, Samples: 8}
	seed = testSeed("fixture", 0)
	root, ss, r = proveAndReveal(t, p, seed, func(h Hash) [32]byte { return sampleSeedFor(h, 0) }, nil)
	return
}

func cloneReveal(r *Reveal) *Reveal {
	out := &Reveal{Openings: slices.Clone(r.Openings)}
	for i := range out.Openings {
		out.Openings[i].UnitPath = slices.Clone(out.Openings[i].UnitPath)
		out.Openings[i].InstancePath = slices.Clone(out.Openings[i].InstancePath)
	}
	return out
}

func TestVerifierRejects(t *testing.T) {
	p, seed, root, ss, r := honestFixture(t)
	if err := VerifyReveal(p, seed, root, ss, r); err != nil {
		t.Fatal(err)
	}
	mut := func(name string, want error, f func(r *Reveal) (Params, Hash, Hash, Hash)) {
		t.Helper()
		c := cloneReveal(r)
		p2, seed2, root2, ss2 := f(c)
		if err := VerifyReveal(p2, seed2, root2, ss2, c); !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %v", name, err, want)
		}
	}
	same := func() (Params, Hash, Hash, Hash) { return p, seed, root, ss }
	mut("forged unit path", ErrBadPath, func(c *Reveal) (Params, Hash, Hash, Hash) {
		c.Openings[3].UnitPath[2][0] ^= 1
		return same()
	})
	mut("forged instance path", ErrBadPath, func(c *Reveal) (Params, Hash, Hash, Hash) {
		c.Openings[0].InstancePath[0][31] ^= 0x80
		return same()
	})
	mut("short path", ErrBadPath, func(c *Reveal) (Params, Hash, Hash, Hash) {
		c.Openings[1].UnitPath = c.Openings[1].UnitPath[1:]
		return same()
	})
	mut("long path", ErrBadPath, func(c *Reveal) (Params, Hash, Hash, Hash) {
		c.Openings[1].InstancePath = append(c.Openings[1].InstancePath, Hash{})
		return same()
	})
	mut("edited leaf (value)", ErrBadPath, func(c *Reveal) (Params, Hash, Hash, Hash) {
		c.Openings[2].Leaf[c.Openings[2].Pos.Col%64]++
		return same()
	})
	mut("wrong root", ErrBadPath, func(c *Reveal) (Params, Hash, Hash, Hash) {
		return p, seed, Hash{1}, ss
	})
	mut("wrong seed (other provider)", ErrWrongValue, func(c *Reveal) (Params, Hash, Hash, Hash) {
		return p, testSeed("fixture", 1), root, ss
	})
	mut("wrong sample seed", ErrWrongPosition, func(c *Reveal) (Params, Hash, Hash, Hash) {
		return p, seed, root, sampleSeedFor(root, 1)
	})
	mut("swapped order", ErrWrongPosition, func(c *Reveal) (Params, Hash, Hash, Hash) {
		c.Openings[0], c.Openings[1] = c.Openings[1], c.Openings[0]
		return same()
	})
	mut("shifted column in same leaf", ErrWrongPosition, func(c *Reveal) (Params, Hash, Hash, Hash) {
		c.Openings[4].Pos.Col ^= 1
		return same()
	})
	mut("too few", ErrCountMismatch, func(c *Reveal) (Params, Hash, Hash, Hash) {
		c.Openings = c.Openings[:len(c.Openings)-1]
		return same()
	})
	mut("too many", ErrCountMismatch, func(c *Reveal) (Params, Hash, Hash, Hash) {
		c.Openings = append(c.Openings, c.Openings[0])
		return same()
	})
	mut("bad params", ErrBadParams, func(c *Reveal) (Params, Hash, Hash, Hash) {
		return Params{N: 100, K: 64, M: 5, Samples: 8}, seed, root, ss
	})
	if err := VerifyReveal(p, seed, root, ss, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("nil reveal: %v", err)
	}

	// VerifyOpening on its own.
	o := &r.Openings[0]
	if err := VerifyOpening(p, seed, root, o.Pos, o); err != nil {
		t.Fatal(err)
	}
	if err := VerifyOpening(p, seed, root, r.Openings[1].Pos, o); !errors.Is(err, ErrWrongPosition) {
		t.Errorf("mismatched position: %v", err)
	}
	out := o.Pos
	out.Unit = p.M
	if err := VerifyOpening(p, seed, root, out, o); !errors.Is(err, ErrWrongPosition) {
		t.Errorf("out of range: %v", err)
	}
	if err := VerifyOpening(p, seed, root, o.Pos, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("nil opening: %v", err)
	}
	// A position in the same leaf but another column with the real leaf: the
	// path is valid, so only the position check protects it.
	o2 := *o
	o2.Pos.Col ^= 1
	if err := VerifyOpening(p, seed, root, o2.Pos, &o2); err != nil {
		t.Errorf("re-targeted opening of an honest leaf should verify: %v", err)
	}
}

func TestSamplePositions(t *testing.T) {
	p := Params{N: 64, K: 8, M: 3, Samples: 256}
	counts := make([]int, p.M)
	const trials = 200
	for i := 0; i < trials; i++ {
		ss := sampleSeedFor(Hash{byte(i)}, i)
		pos, err := SamplePositions(p, ss)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := SamplePositions(p, ss)
		if !slices.Equal(pos, again) {
			t.Fatal("not deterministic")
		}
		seen := map[Position]bool{}
		for _, q := range pos {
			if !q.InRange(p) || seen[q] {
				t.Fatalf("bad or repeated position %v", q)
			}
			seen[q] = true
			counts[q.Unit]++
		}
	}
	// Each unit should get 1/3 of the draws; M = 3 makes the rejection step matter.
	n := float64(trials * int(p.Samples))
	for u, c := range counts {
		mean := n / 3
		sd := math.Sqrt(n * (1.0 / 3) * (2.0 / 3))
		if math.Abs(float64(c)-mean) > 5*sd {
			t.Errorf("unit %d drawn %d times, expected %.0f +- %.0f", u, c, mean, 5*sd)
		}
	}
	if _, err := SamplePositions(Params{}, Hash{}); !errors.Is(err, ErrBadParams) {
		t.Fatal(err)
	}
}

func TestDeriveSeed(t *testing.T) {
	base := SeedInput{ChainID: "crucible-1", Height: 100, HeaderHash: bytes.Repeat([]byte{7}, 32),
		Provider: bytes.Repeat([]byte{9}, 20), GPUIndex: 3}
	vary := []func(*SeedInput){
		func(s *SeedInput) { s.ChainID = "crucible-2" },
		func(s *SeedInput) { s.Height++ },
		func(s *SeedInput) { s.HeaderHash = bytes.Repeat([]byte{8}, 32) },
		func(s *SeedInput) { s.Provider = bytes.Repeat([]byte{9}, 21) },
		func(s *SeedInput) { s.GPUIndex = 4 },
		func(s *SeedInput) { s.HasLease = true },
		func(s *SeedInput) { s.HasLease, s.LeaseID = true, 1 },
		// Moving a byte across a field boundary must change the seed.
		func(s *SeedInput) { s.ChainID, s.HeaderHash = "crucible-1\x07", s.HeaderHash[1:] },
	}
	seen := map[Hash]int{DeriveSeed(base): -1}
	for i, f := range vary {
		s := base
		f(&s)
		h := DeriveSeed(s)
		if j, ok := seen[h]; ok {
			t.Fatalf("variant %d collides with %d", i, j)
		}
		seen[h] = i
	}
	withLeaseIgnored := base
	withLeaseIgnored.LeaseID = 55
	if DeriveSeed(withLeaseIgnored) != DeriveSeed(base) {
		t.Fatal("LeaseID must be ignored without HasLease")
	}
}

func TestMerkle(t *testing.T) {
	for n := 1; n <= 19; n++ {
		leaves := make([]Hash, n)
		for i := range leaves {
			leaves[i] = Hash{byte(i), 1}
		}
		root := MerkleRoot(leaves)
		// Reference: recursive definition over 2^d slots, empty subtrees = zero.
		d := TreeDepth(uint64(n))
		var ref func(lo, size int) Hash
		ref = func(lo, size int) Hash {
			switch {
			case lo >= n:
				return Hash{}
			case size == 1:
				return leaves[lo]
			}
			return NodeHash(ref(lo, size/2), ref(lo+size/2, size/2))
		}
		if ref(0, 1<<d) != root {
			t.Fatalf("n=%d: padded root mismatch", n)
		}
		for i := range leaves {
			path := MerklePath(leaves, uint64(i))
			if len(path) != d || RootFromPath(leaves[i], uint64(i), path) != root {
				t.Fatalf("n=%d: path %d does not verify", n, i)
			}
		}
	}
	if TreeDepth(1) != 0 || TreeDepth(2) != 1 || TreeDepth(3) != 2 || TreeDepth(4096) != 12 {
		t.Fatal("TreeDepth")
	}
}

func TestParamsValidate(t *testing.T) {
	for _, p := range []Params{TestParams(), ProductionParams(), tinyParams} {
		if err := p.Validate(); err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
	}
	for _, p := range []Params{{}, {N: 63, K: 8, M: 1, Samples: 1}, {N: 64, K: 12, M: 1, Samples: 1},
		{N: 64, K: 65544, M: 1, Samples: 1}, {N: 64, K: 8, M: 0, Samples: 1}, {N: 64, K: 8, M: 1, Samples: 257},
		{N: 16384 + 64, K: 8, M: 1, Samples: 1}} {
		if err := p.Validate(); !errors.Is(err, ErrBadParams) {
			t.Fatalf("%+v: %v", p, err)
		}
	}
	pp := ProductionParams()
	if pp.UnitDepth() != 18 || pp.InstanceDepth() != 13 {
		t.Fatalf("production depths %d %d", pp.UnitDepth(), pp.InstanceDepth())
	}
}
