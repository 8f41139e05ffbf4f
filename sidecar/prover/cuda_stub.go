//go:build !cgo || !linux

package prover

import (
	"context"
	"fmt"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// CUDAOptions selects the CUDA device.
type CUDAOptions struct {
	// Device is a CUDA ordinal ("0", "1", ...) or an NVML-style UUID
	// ("GPU-xxxxxxxx-..."); empty means ordinal 0.
	Device string
	// MaxPinnedBytes bounds the page-locked host memory of a session
	// (0: 4 GiB).
	MaxPinnedBytes uint64
}

// CUDA is the cuBLASLt prover; this build has no cgo, so it never opens.
type CUDA struct{}

// NewCUDA fails: the CUDA prover needs cgo (and Linux).
func NewCUDA(CUDAOptions) (*CUDA, error) {
	return nil, fmt.Errorf("%w: crucible-sidecar was built without cgo (CGO_ENABLED=0) or not for linux; the cuda prover needs it", ErrUnavailable)
}

// Name implements Prover.
func (*CUDA) Name() string { return "cuda" }

// Device describes the device.
func (*CUDA) Device() string { return "" }

// Prove implements Prover.
func (*CUDA) Prove(context.Context, poc.Params, [32]byte) (Session, error) {
	return nil, ErrUnavailable
}

// Close implements io.Closer.
func (*CUDA) Close() error { return nil }
