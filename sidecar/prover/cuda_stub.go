//go:build !cgo || !linux

package prover

import (
	"fmt"
)

// CUDAOptions selects the CUDA device and tunes its prover.
type CUDAOptions struct {
	// Device is a CUDA ordinal ("0", "1", ...) or an NVML-style UUID
	// ("GPU-xxxxxxxx-..."); empty means ordinal 0.
	Device string
	// GPU tunes the device pipeline (batch, memory budget, GEMM tuning).
	GPU GPUOptions
}

// CUDA is the device prover; this build has no cgo, so it never opens.
type CUDA struct {
	*GPU
}

var errNoCgo = fmt.Errorf("%w: crucible-sidecar was built without cgo (CGO_ENABLED=0) or not for linux; the cuda prover needs it", ErrUnavailable)

// NewCUDA fails: the CUDA prover needs cgo (and Linux).
func NewCUDA(CUDAOptions) (*CUDA, error) { return nil, errNoCgo }

// NewCUDAFleet fails: the CUDA prover needs cgo (and Linux).
func NewCUDAFleet(GPUOptions) (*Fleet, error) { return nil, errNoCgo }

// Device describes the device.
func (*CUDA) Device() string { return "" }
