// Package inventory reports the GPUs a provider has: a Backend returns a
// Snapshot of every GPU (identity, memory, modes, utilization, processes,
// temperature, power, confidential-computing state). Backends: NVML on real
// hardware (needs cgo), a simulated backend built from config, and "auto",
// which uses NVML when it initialises and finds GPUs and the simulated
// backend otherwise.
package inventory

import (
	"context"
	"errors"
	"time"
)

// Backend names, as Backend.Name and Snapshot.Backend report them.
const (
	BackendNVML = "nvml"
	BackendSim  = "sim"
)

// Backend reads the GPU inventory.
type Backend interface {
	// Name is BackendNVML or BackendSim.
	Name() string
	// Snapshot reads every GPU now. Readings a GPU does not support are
	// left empty; only failures to identify a GPU are errors.
	Snapshot(ctx context.Context) (Snapshot, error)
	// Close releases the backend; Snapshot fails afterwards.
	Close() error
}

// Errors returned by backends.
var (
	// ErrNVMLUnavailable wraps every failure to start NVML (no driver, no
	// library, built without cgo).
	ErrNVMLUnavailable = errors.New("nvml unavailable")
	// ErrClosed is returned by Snapshot after Close.
	ErrClosed = errors.New("inventory backend closed")
	// ErrUnknownGPU is returned for a UUID the backend does not have.
	ErrUnknownGPU = errors.New("unknown gpu")
)

// Mode is the state of a GPU feature (MIG, ECC, confidential computing).
type Mode string

// Feature states.
const (
	ModeEnabled  Mode = "enabled"
	ModeDisabled Mode = "disabled"
	// ModeUnsupported: the GPU or driver does not have the feature
	// (NVML said ERROR_NOT_SUPPORTED or lacks the function).
	ModeUnsupported Mode = "unsupported"
	// ModeUnknown: the query failed for another reason; see the warnings.
	ModeUnknown Mode = "unknown"
)

// Snapshot is the inventory at one moment.
type Snapshot struct {
	// Backend is the name of the backend that took the snapshot.
	Backend string `json:"backend"`
	// Taken is when the snapshot was taken.
	Taken time.Time `json:"taken"`
	// DriverVersion is the NVIDIA driver version, empty when unknown.
	DriverVersion string `json:"driver_version,omitempty"`
	// CUDAVersion is the CUDA version the driver supports ("12.4"), empty when unknown.
	CUDAVersion string `json:"cuda_version,omitempty"`
	// ConfidentialCompute is the system-wide confidential-computing state.
	ConfidentialCompute Mode `json:"confidential_compute"`
	// GPUs are ordered by index.
	GPUs []GPU `json:"gpus"`
	// Warnings are readings that failed for a reason other than "not supported".
	Warnings []string `json:"warnings,omitempty"`
}

// GPU is one GPU in a Snapshot. Pointer fields are nil when the GPU does not
// report them.
type GPU struct {
	Index int    `json:"index"`
	UUID  string `json:"uuid"`
	// Name is the model name, e.g. "NVIDIA H100 80GB HBM3".
	Name string `json:"name"`
	// Class is the GPU family, Class(Name), e.g. "H100"; empty when unknown.
	Class          string       `json:"class"`
	MemoryTotalMiB uint64       `json:"memory_total_mib"`
	MemoryUsedMiB  uint64       `json:"memory_used_mib"`
	MIGMode        Mode         `json:"mig_mode"`
	ECCMode        Mode         `json:"ecc_mode"`
	Utilization    *Utilization `json:"utilization,omitempty"`
	// Processes running on the GPU; nil when the GPU cannot list them.
	Processes    []Process `json:"processes"`
	TemperatureC *uint32   `json:"temperature_c,omitempty"`
	// PowerMW is the power draw in milliwatts.
	PowerMW *uint32 `json:"power_mw,omitempty"`
	// ConfidentialCompute is the confidential-computing state for this GPU.
	ConfidentialCompute Mode `json:"confidential_compute"`
	// Warnings are readings of this GPU that failed for a reason other than
	// "not supported".
	Warnings []string `json:"warnings,omitempty"`
}

// Utilization is the share of the last sample period the GPU was busy.
type Utilization struct {
	GPUPercent    uint32 `json:"gpu_percent"`
	MemoryPercent uint32 `json:"memory_percent"`
}

// Process is a process using a GPU.
type Process struct {
	PID           uint32 `json:"pid"`
	UsedMemoryMiB uint64 `json:"used_memory_mib"`
}

// GPU returns the GPU with the given UUID.
func (s Snapshot) GPU(uuid string) (GPU, bool) {
	for _, g := range s.GPUs {
		if g.UUID == uuid {
			return g, true
		}
	}
	return GPU{}, false
}

// Idle reports whether no process uses the GPU. A GPU that cannot list its
// processes is idle if it reports no memory in use.
func (g GPU) Idle() bool {
	if g.Processes != nil {
		return len(g.Processes) == 0
	}
	return g.MemoryUsedMiB == 0
}

const mib = 1 << 20
