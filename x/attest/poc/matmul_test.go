package poc

import (
	"fmt"
	"testing"
	"time"
)

func TestMatMulMatchesNaive(t *testing.T) {
	var seed [32]byte
	seed[0] = 7
	for _, d := range []struct{ n, k int }{{1, 8}, {2, 16}, {3, 8}, {5, 40}, {7, 33}, {13, 100}, {64, 64}, {67, 200}, {30, 2100}, {9, 4500}} {
		a := make([]int8, d.n*d.k)
		b := make([]int8, d.n*d.k)
		for i := range a {
			a[i] = int8(Mix64(uint64(i) ^ 0x55))
			b[i] = int8(Mix64(uint64(i) ^ 0xAA))
		}
		got := make([]int32, d.n*d.n)
		want := make([]int32, d.n*d.n)
		MatMulABt(a, b, d.n, d.k, got)
		matMulNaive(a, b, d.n, d.k, want)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("n=%d k=%d: c[%d]=%d want %d", d.n, d.k, i, got[i], want[i])
			}
		}
	}
}

func TestMatMulExtremes(t *testing.T) {
	// All -128 (largest positive products) and mixed -128/127 at K = 65536:
	// the sums reach +2^30 and -2^30+..., which must be exact.
	n, k := 4, 65536
	for _, pair := range [][2]int8{{-128, -128}, {-128, 127}, {127, 127}} {
		a := make([]int8, n*k)
		b := make([]int8, n*k)
		for i := range a {
			a[i], b[i] = pair[0], pair[1]
		}
		c := make([]int32, n*n)
		MatMulABt(a, b, n, k, c)
		want := int32(pair[0]) * int32(pair[1]) * int32(k)
		for i, v := range c {
			if v != want {
				t.Fatalf("pair %v: c[%d]=%d want %d", pair, i, v, want)
			}
		}
		if d := Dot(a[:k], b[:k]); d != want {
			t.Fatalf("Dot %v = %d want %d", pair, d, want)
		}
	}
}

func TestDot(t *testing.T) {
	for n := 0; n < 40; n++ {
		a := make([]int8, n)
		b := make([]int8, n)
		var want int32
		for i := range a {
			a[i] = int8(Mix64(uint64(i) + 1))
			b[i] = int8(Mix64(uint64(i) + 1000))
			want += int32(a[i]) * int32(b[i])
		}
		if got := Dot(a, b); got != want {
			t.Fatalf("n=%d: %d want %d", n, got, want)
		}
	}
}

func BenchmarkMatMul(b *testing.B) {
	for _, d := range []struct{ n, k int }{{256, 256}, {512, 4096}} {
		b.Run(fmt.Sprintf("n=%d/k=%d", d.n, d.k), func(b *testing.B) {
			var seed [32]byte
			A := GenMatrix(seed, TagA, 0, uint32(d.n), uint32(d.k))
			B := GenMatrix(seed, TagB, 0, uint32(d.n), uint32(d.k))
			c := make([]int32, d.n*d.n)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				MatMulABt(A, B, d.n, d.k, c)
			}
			el := time.Since(start).Seconds()
			b.ReportMetric(float64(d.n)*float64(d.n)*float64(d.k)*float64(b.N)/el/1e9, "GMAC/s")
		})
	}
}

// matMulNaive is the obvious triple loop, used to test MatMulABt.
func matMulNaive(a, b []int8, n, k int, c []int32) {
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			var s int32
			for t := 0; t < k; t++ {
				s += int32(a[i*k+t]) * int32(b[j*k+t])
			}
			c[i*n+j] = s
		}
	}
}

// TestMatMulMixedLaneExtremes puts the most positive and most negative lane
// sums side by side in one packed word (rows of B alternate -128 and 127).
func TestMatMulMixedLaneExtremes(t *testing.T) {
	n, k := 7, 4096
	for _, av := range []int8{-128, 127} {
		a := make([]int8, n*k)
		b := make([]int8, n*k)
		for i := range a {
			a[i] = av
			if (i/k)%2 == 0 {
				b[i] = -128
			} else {
				b[i] = 127
			}
		}
		got := make([]int32, n*n)
		want := make([]int32, n*n)
		MatMulABt(a, b, n, k, got)
		matMulNaive(a, b, n, k, want)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("a=%d: c[%d]=%d want %d", av, i, got[i], want[i])
			}
		}
	}
}
