// Package prover answers proof-of-compute challenges (see x/attest/poc and
// PROOF_OF_COMPUTE.md): for a challenge (params, seed) it computes every
// unit C_u = A_u * B_u^T, commits to the instance root, and after sampling
// reveals the sampled openings.
//
// The backends produce bit-identical answers (integer arithmetic is exact):
// CPU wraps the pure-Go reference poc.Prover; CUDA (GPU over cudaDevice)
// keeps the whole challenge on the device: the kernels of kernels.cu,
// compiled at run time with NVRTC, generate A and B and hash C into Merkle
// trees, cuBLASLt computes the int8 x int8 -> int32 products, and only the
// unit roots come back (pipeline.go). The CUDA driver (libcuda.so.1),
// cuBLASLt and NVRTC are loaded with dlopen, so the binary builds and runs
// without CUDA and fails cleanly with ErrUnavailable where they are missing
// (or when built with CGO_ENABLED=0). Twin runs the same pipeline on the Go
// twins of the kernels, on the CPU. Open selects the backend from config:
// cpu, cuda, or auto (cuda when every GPU loads and passes a known-answer
// test against the CPU, else cpu, with the reason logged); Decide says
// which GPU classes a backend may bid.
package prover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/x/attest/poc"
)

// ErrUnavailable reports a backend that cannot run here (no CUDA driver or
// cuBLASLt, no GPU, a binary built without cgo).
var ErrUnavailable = errors.New("prover: backend unavailable")

// ErrKnownAnswer reports a backend whose answer differs from the CPU
// reference on a known-answer test: using it would get the provider slashed.
var ErrKnownAnswer = errors.New("prover: backend fails the known-answer test")

// Prover starts a proof session per challenge.
type Prover interface {
	// Name is the backend name: "cpu" or "cuda".
	Name() string
	// Prove prepares a session for the challenge (params, seed). It fails
	// with an error wrapping poc.ErrBadParams for invalid params.
	Prove(ctx context.Context, params poc.Params, seed [32]byte) (Session, error)
}

// Session answers one challenge: Commit, then Reveal. A Session is not safe
// for concurrent use; Close releases what it holds (GPU memory).
type Session interface {
	// Commit computes every unit and returns the instance root (calling it
	// again returns the same root).
	Commit(ctx context.Context) (root [32]byte, err error)
	// Reveal opens the positions sampled from sampleSeed and returns the
	// canonical encoding of the poc.Reveal (exactly poc.RevealSize bytes).
	// It fails with poc.ErrNotCommitted before Commit.
	Reveal(ctx context.Context, sampleSeed [32]byte) ([]byte, error)
	// Close releases the session's resources.
	Close() error
}

// UnitRooter is implemented by sessions that expose their committed unit
// roots (for diagnostics: which unit differs from a reference).
type UnitRooter interface {
	UnitRoots() [][32]byte
}

// Open returns the prover cfg.Backend selects (on the default CUDA device
// for cuda and auto). A nil logger discards logs.
func Open(ctx context.Context, cfg config.ProverConfig, logger *slog.Logger) (Prover, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("module", "prover")
	switch cfg.Backend {
	case config.ProverBackendCPU:
		logger.Info("using the cpu prover")
		return NewCPU(0), nil
	case config.ProverBackendCUDA:
		p, desc, err := openCUDAChecked(ctx)
		if err != nil {
			return nil, err
		}
		logger.Info("using the cuda prover", "devices", desc)
		return p, nil
	case config.ProverBackendAuto:
		p, desc, err := openCUDAChecked(ctx)
		if err != nil {
			logger.Warn("cuda prover not usable, using the cpu prover (bid only classes it can prove in time: see Decide)", "reason", err)
			return NewCPU(0), nil
		}
		logger.Info("using the cuda prover", "devices", desc)
		return p, nil
	default:
		return nil, fmt.Errorf("prover backend %q: want one of %v", cfg.Backend, config.ProverBackends)
	}
}

// openCUDAChecked opens every CUDA device and checks each against the CPU
// reference on small params. One device gives its *CUDA; several a Fleet
// (each challenge proven on a free GPU of its own, concurrently).
func openCUDAChecked(ctx context.Context) (Prover, []string, error) {
	f, err := NewCUDAFleet(GPUOptions{})
	if err != nil {
		return nil, nil, err
	}
	var desc []string
	for _, m := range f.Members() {
		c := m.(*CUDA)
		if err := KnownAnswer(ctx, c); err != nil {
			_ = f.Close()
			return nil, nil, fmt.Errorf("%s: %w", c.Device(), err)
		}
		desc = append(desc, c.Device())
	}
	if ms := f.Members(); len(ms) == 1 {
		return ms[0], desc, nil
	}
	return f, desc, nil
}

// KnownAnswer checks that p answers a small challenge exactly like the CPU
// reference (root and reveal bytes), with shapes that need no padding and
// shapes that do. The error wraps ErrKnownAnswer on a mismatch.
func KnownAnswer(ctx context.Context, p Prover) error {
	cases := []poc.Params{
		{N: 64, K: 64, M: 2, Samples: 4},
		{N: 192, K: 200, M: 3, Samples: 8},
	}
	for i, params := range cases {
		seed := poc.DeriveSeed(poc.SeedInput{ChainID: "crucible/known-answer", Height: int64(i + 1), Provider: []byte{1, 2, 3}})
		want, err := answer(ctx, NewCPU(0), params, seed)
		if err != nil {
			return err
		}
		got, err := answer(ctx, p, params, seed)
		if err != nil {
			return fmt.Errorf("%w: %s on N=%d K=%d M=%d: %w", ErrKnownAnswer, p.Name(), params.N, params.K, params.M, err)
		}
		if got.root != want.root || string(got.reveal) != string(want.reveal) {
			return fmt.Errorf("%w: %s on N=%d K=%d M=%d: root %x, cpu %x", ErrKnownAnswer, p.Name(), params.N, params.K, params.M, got.root, want.root)
		}
	}
	return nil
}

type answerResult struct {
	root   [32]byte
	reveal []byte
}

// answer runs a whole challenge with the sample seed derived from the root
// and a fixed block hash.
func answer(ctx context.Context, p Prover, params poc.Params, seed [32]byte) (answerResult, error) {
	s, err := p.Prove(ctx, params, seed)
	if err != nil {
		return answerResult{}, err
	}
	defer s.Close()
	root, err := s.Commit(ctx)
	if err != nil {
		return answerResult{}, err
	}
	rev, err := s.Reveal(ctx, poc.SampleSeed(root, []byte("known-answer")))
	if err != nil {
		return answerResult{}, err
	}
	return answerResult{root: root, reveal: rev}, nil
}
