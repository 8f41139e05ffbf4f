package prover

import (
	"context"
	"testing"
	"time"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// benchmarkProver runs whole challenges (commit and reveal, hashing
// included) and reports int8 multiply-adds per second.
func benchmarkProver(b *testing.B, p Prover, params poc.Params) {
	ctx := context.Background()
	var seed [32]byte
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		seed[0] = byte(i)
		if _, err := answer(ctx, p, params, seed); err != nil {
			b.Fatal(err)
		}
	}
	secs := time.Since(start).Seconds()
	macs := float64(params.MACs()) * float64(b.N)
	b.ReportMetric(macs/secs, "MAC/s")
	b.ReportMetric(2*macs/secs/1e9, "int8-GOPS")
}

// BenchmarkCPUProver: the reference prover on TestParams (67 M MACs per challenge).
func BenchmarkCPUProver(b *testing.B) { benchmarkProver(b, NewCPU(0), poc.TestParams()) }

// BenchmarkCPUProverLargeK: fewer, longer dot products (N=256, K=4096, M=2).
func BenchmarkCPUProverLargeK(b *testing.B) {
	benchmarkProver(b, NewCPU(0), poc.Params{N: 256, K: 4096, M: 2, Samples: 16})
}

// BenchmarkTwinGPU: the GPU pipeline on the Go twins of the kernels
// (its overhead against BenchmarkCPUProver).
func BenchmarkTwinGPU(b *testing.B) {
	benchmarkProver(b, NewTwin(GPUOptions{}), poc.TestParams())
}

// BenchmarkCUDAProver runs only where the CUDA prover opens.
func BenchmarkCUDAProver(b *testing.B) {
	p, err := NewCUDA(CUDAOptions{})
	if err != nil {
		b.Skip(err)
	}
	benchmarkProver(b, p, poc.Params{N: 4096, K: 8192, M: 16, Samples: 32})
}
