package prover

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// The Go twins of kernels.cu against x/attest/poc, bit for bit.

func TestTwinMixAndStreamKey(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		z := r.Uint64()
		if twinMix64(z) != poc.Mix64(z) {
			t.Fatalf("mix64(%#x)", z)
		}
	}
	for i := range 50 {
		var seed [32]byte
		for j := range seed {
			seed[j] = byte(r.Uint32())
		}
		tag, unit := uint32(i%2), r.Uint32()
		if got, want := twinStreamKey(seedWords(seed), tag, unit), poc.StreamKey(seed, tag, unit); got != want {
			t.Fatalf("stream key %x, poc %x", got, want)
		}
	}
}

func TestTwinGenMatchesPoc(t *testing.T) {
	seed := poc.DeriveSeed(poc.SeedInput{ChainID: "gen", Height: 7})
	for _, tc := range []struct {
		n, k, g, u0 uint32
		gridX       uint32 // 0: genGrid's
	}{
		{64, 64, 1, 0, 0},
		{192, 200, 2, 3, 0},
		{64, 256, 3, 1, 1}, // one block: the grid-stride loop runs many times
		{128, 8, 2, 9, 7},  // a grid that does not divide the words
	} {
		words := uint64(tc.n) * uint64(tc.k) / 8
		grid := genGrid(words, tc.g)
		if tc.gridX != 0 {
			grid.x = tc.gridX
		}
		a := make([]uint64, uint64(tc.g)*words)
		b := make([]uint64, uint64(tc.g)*words)
		twinGen(grid, seedWords(seed), tc.u0, words, a, b)
		for j := range tc.g {
			for tag, buf := range [][]uint64{a, b} {
				want := poc.GenMatrix(seed, uint32(tag), tc.u0+j, tc.n, tc.k)
				got := buf[uint64(j)*words : uint64(j+1)*words]
				for w, x := range got {
					var le [8]byte
					binary.LittleEndian.PutUint64(le[:], x)
					for e := range 8 {
						if int8(le[e]) != want[8*w+e] {
							t.Fatalf("%+v: matrix %d of unit %d differs at element %d", tc, tag, tc.u0+j, 8*w+e)
						}
					}
				}
			}
		}
	}
}

func TestTwinHashes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var leaf [poc.LeafValues]int32
	vals := make([]uint32, 64)
	for i := range 200 {
		for j := range leaf {
			switch i % 3 {
			case 0:
				leaf[j] = int32(r.Uint32())
			case 1:
				leaf[j] = int32(r.IntN(1<<31)) - 1<<30 // the range of C entries
			default:
				leaf[j] = int32(j) - 32
			}
			vals[j] = uint32(leaf[j])
		}
		h := twinLeafHash(vals)
		if h.digest() != poc.LeafHash(&leaf) {
			t.Fatalf("leaf hash %d differs", i)
		}
		var x, y poc.Hash
		for j := range x {
			x[j], y[j] = byte(r.Uint32()), byte(r.Uint32())
		}
		if i%5 == 0 {
			y = poc.Hash{} // the zero hash of an empty subtree
		}
		l, rr := dhashOf(x), dhashOf(y)
		n := twinNodeHash(&l, &rr)
		if n.digest() != poc.NodeHash(x, y) {
			t.Fatalf("node hash %d differs", i)
		}
		if d := dhashOf(x); d.digest() != x {
			t.Fatal("dhash round trip")
		}
	}
}

// runSchedule reduces g trees with the twins as pipeline.go schedules them:
// leaf values (64 per leaf) or hashes, to the g roots.
func runSchedule(count uint64, g uint32, leaf bool, vals []uint32, in []dhash) []dhash {
	steps := reduceSchedule(count, leaf)
	roots := make([]dhash, g)
	if len(steps) == 0 {
		copy(roots, in)
		return roots
	}
	src := in
	for i, s := range steps {
		dst := make([]dhash, uint64(g)*s.out())
		if s.leaf {
			twinLeafReduce(s.grid(g), vals, count, 64*count, s.levels, dst, s.out())
		} else {
			twinNodeReduce(s.grid(g), src, s.count, s.count, s.levels, dst, s.out())
		}
		src = dst
		if i == len(steps)-1 {
			copy(roots, dst)
		}
	}
	return roots
}

func TestTwinReductionsMatchPocMerkle(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	counts := []uint64{1, 2, 3, 5, 64, 100, 127, 128, 129, 255, 256, 257, 576, 1000, 4096, 4097, 33000}
	if testing.Short() {
		counts = counts[:12]
	}
	for _, count := range counts {
		const g = 2
		// Hash levels (the instance tree and the upper unit levels).
		in := make([]dhash, g*count)
		want := make([]poc.Hash, g)
		for j := range uint64(g) {
			level := make([]poc.Hash, count)
			for i := range level {
				for b := range level[i] {
					level[i][b] = byte(r.Uint32())
				}
				in[j*count+uint64(i)] = dhashOf(level[i])
			}
			want[j] = poc.MerkleRoot(level)
		}
		got := runSchedule(count, g, false, nil, in)
		for j := range g {
			if got[j].digest() != want[j] {
				t.Fatalf("hash tree over %d: root %d differs", count, j)
			}
		}
		// Leaves of C values (the unit trees).
		vals := make([]uint32, g*64*count)
		for i := range vals {
			vals[i] = r.Uint32()
		}
		for j := range uint64(g) {
			leaves := make([]poc.Hash, count)
			for i := range leaves {
				var leaf [poc.LeafValues]int32
				for v := range leaf {
					leaf[v] = int32(vals[j*64*count+uint64(i)*64+uint64(v)])
				}
				leaves[i] = poc.LeafHash(&leaf)
			}
			want[j] = poc.MerkleRoot(leaves)
		}
		got = runSchedule(count, g, true, vals, nil)
		for j := range g {
			if got[j].digest() != want[j] {
				t.Fatalf("leaf tree over %d: root %d differs", count, j)
			}
		}
	}
}

func TestReduceScheduleShapes(t *testing.T) {
	prod := poc.ProductionParams()
	steps := reduceSchedule(prod.UnitLeaves(), true)
	want := []reduceStep{{true, 262144, 7}, {false, 2048, 8}, {false, 8, 3}}
	if fmt.Sprint(steps) != fmt.Sprint(want) {
		t.Fatalf("production unit schedule %v, want %v", steps, want)
	}
	if s := reduceSchedule(8192, false); fmt.Sprint(s) != fmt.Sprint([]reduceStep{{false, 8192, 8}, {false, 32, 5}}) {
		t.Fatalf("instance schedule %v", s)
	}
	if s := reduceSchedule(1, false); len(s) != 0 {
		t.Fatalf("a single root needs no reduction: %v", s)
	}
	for _, count := range []uint64{1, 2, 3, 64, 129, 262144, 1 << 20, 1<<20 + 1} {
		levels := 0
		for _, s := range reduceSchedule(count, false) {
			levels += int(s.levels)
		}
		if levels != poc.TreeDepth(count) {
			t.Fatalf("count %d: %d levels, depth %d", count, levels, poc.TreeDepth(count))
		}
	}
}

func TestTwinTreeAndGatherMatchPocPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, leaves := range []uint64{64, 576, 1000, 1025} {
		vals := make([]uint32, 64*leaves)
		for i := range vals {
			vals[i] = r.Uint32()
		}
		counts, offs := treeLevels(leaves)
		total := offs[len(offs)-1] + 1
		tree := make([]dhash, total)
		twinLeafReduce(dim3{x: uint32(ceilDiv(leaves, leafBlock)), y: 1}, vals, leaves, 0, 0, tree, 0)
		for l := 1; l < len(counts); l++ {
			twinNodeReduce(dim3{x: uint32(ceilDiv(counts[l-1], nodeBlock)), y: 1}, tree[offs[l-1]:], counts[l-1], 0, 1, tree[offs[l]:], 0)
		}
		hl := make([]poc.Hash, leaves)
		for i := range hl {
			var leaf [poc.LeafValues]int32
			for v := range leaf {
				leaf[v] = int32(vals[uint64(i)*64+uint64(v)])
			}
			hl[i] = poc.LeafHash(&leaf)
		}
		if tree[total-1].digest() != poc.MerkleRoot(hl) {
			t.Fatalf("%d leaves: tree root differs", leaves)
		}
		depth := uint32(len(counts) - 1)
		idx := []uint64{0, leaves - 1, leaves / 2, uint64(r.IntN(int(leaves))), leaves - 2}
		per := 64 + 8*uint64(depth)
		out := make([]uint32, per*uint64(len(idx)))
		twinGather(dim3{x: 1, y: 1}, vals, tree, leaves, depth, idx, uint32(len(idx)), out)
		for s, li := range idx {
			rec := out[uint64(s)*per:]
			for v := range uint64(64) {
				if rec[v] != vals[li*64+v] {
					t.Fatalf("%d leaves: sample %d value %d", leaves, s, v)
				}
			}
			want := poc.MerklePath(hl, li)
			if len(want) != int(depth) {
				t.Fatalf("depth %d, poc path %d", depth, len(want))
			}
			for l := range want {
				var h dhash
				copy(h[:], rec[64+8*l:])
				if h.digest() != want[l] {
					t.Fatalf("%d leaves: sample %d (leaf %d) path level %d differs", leaves, s, li, l)
				}
			}
		}
	}
}

// TestKernelSourceMatchesTwins checks what the twins share with kernels.cu
// textually: the launch shapes, the generator and SHA-256 constants, and the
// kernel names the loader looks up.
func TestKernelSourceMatchesTwins(t *testing.T) {
	def := func(name string) int {
		m := regexp.MustCompile(`#define ` + name + ` (\S+)`).FindStringSubmatch(kernelSource)
		if m == nil {
			t.Fatalf("kernels.cu lacks %s", name)
		}
		v, err := strconv.ParseUint(strings.TrimSuffix(m[1], "ULL"), 0, 64)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return int(v)
	}
	for name, want := range map[string]int{
		"CRC_LEAF_BLOCK": leafBlock, "CRC_LEAF_LOG": leafLog, "CRC_LEAF_PAD": leafPad,
		"CRC_NODE_BLOCK": nodeBlock, "CRC_NODE_LOG": nodeLog,
	} {
		if got := def(name); got != want {
			t.Errorf("%s = %d in kernels.cu, %d in kernels.go", name, got, want)
		}
	}
	for name, want := range map[string]uint64{"CRC_GOLDEN": twinGolden, "CRC_MUL1": twinMul1, "CRC_MUL2": twinMul2} {
		if got := uint64(def(name)); got != want {
			t.Errorf("%s = %#x in kernels.cu, %#x in kernels.go", name, got, want)
		}
	}
	if twinMix64(0x0123456789abcdef) != poc.Mix64(0x0123456789abcdef) {
		t.Fatal("twin constants differ from poc")
	}
	for _, k := range append(twinK[:], twinIV[:]...) {
		if !strings.Contains(kernelSource, fmt.Sprintf("0x%08x", k)) {
			t.Errorf("kernels.cu lacks the SHA-256 constant 0x%08x", k)
		}
	}
	for _, name := range []string{kernGen, kernLeafReduce, kernNodeReduce, kernGather} {
		if !strings.Contains(kernelSource, `extern "C" __global__ void `+name+"(") &&
			!regexp.MustCompile(`extern "C" __global__ void __launch_bounds__\(\w+\)\s+`+name+`\(`).MatchString(kernelSource) {
			t.Errorf("kernels.cu lacks kernel %s", name)
		}
	}
}
