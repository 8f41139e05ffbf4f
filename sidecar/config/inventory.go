package config

import (
	"fmt"
	"regexp"
	"slices"
)

// Inventory backend names.
const (
	// InventoryBackendNVML reads real GPUs through NVML; it fails without a driver.
	InventoryBackendNVML = "nvml"
	// InventoryBackendSim serves the GPUs listed in sim_gpus.
	InventoryBackendSim = "sim"
	// InventoryBackendAuto uses NVML when it initialises and finds GPUs, else sim.
	InventoryBackendAuto = "auto"
)

// InventoryBackends lists the accepted inventory backend names.
var InventoryBackends = []string{InventoryBackendNVML, InventoryBackendSim, InventoryBackendAuto}

// uuidPrefixRegex bounds the simulated UUID prefixes to characters that are
// safe in UUIDs, file names and CUDA_VISIBLE_DEVICES.
var uuidPrefixRegex = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// InventoryConfig selects where the sidecar learns which GPUs it has.
type InventoryConfig struct {
	// Backend is nvml, sim or auto.
	Backend string `yaml:"backend" json:"backend"`
	// SimGPUs are the GPUs the sim backend serves (and auto falls back to).
	SimGPUs []SimGPU `yaml:"sim_gpus" json:"sim_gpus"`
}

// SimGPU describes Count identical simulated GPUs. Their UUIDs are
// GPU-sim-<UUIDPrefix>-<n> for n from 0 to Count-1.
type SimGPU struct {
	// Model is the name the GPU reports, e.g. "NVIDIA H100 80GB HBM3".
	Model string `yaml:"model" json:"model"`
	// MemoryMiB is the total memory of one GPU in MiB.
	MemoryMiB uint64 `yaml:"memory_mib" json:"memory_mib"`
	// Count is how many such GPUs there are.
	Count uint32 `yaml:"count" json:"count"`
	// UUIDPrefix makes the simulated UUIDs unique; use a different prefix on
	// every host and for every entry.
	UUIDPrefix string `yaml:"uuid_prefix" json:"uuid_prefix"`
}

// maxSimGPUs bounds the simulated inventory to something a host could hold.
const maxSimGPUs = 1024

// DefaultInventoryConfig tries NVML; without a driver it falls back to an
// empty simulated inventory, so a misconfigured host never advertises GPUs it
// does not have.
func DefaultInventoryConfig() InventoryConfig {
	return InventoryConfig{
		Backend: InventoryBackendAuto,
		SimGPUs: []SimGPU{},
	}
}

// TestInventoryConfig simulates two H100s.
func TestInventoryConfig() InventoryConfig {
	return InventoryConfig{
		Backend: InventoryBackendSim,
		SimGPUs: []SimGPU{{Model: "NVIDIA H100 80GB HBM3", MemoryMiB: 81559, Count: 2, UUIDPrefix: "test"}},
	}
}

// ValidateBasic checks the backend name and the simulated GPU list.
func (c InventoryConfig) ValidateBasic() error {
	if !slices.Contains(InventoryBackends, c.Backend) {
		return fieldErrorf("backend", "unknown backend %q (want one of %v)", c.Backend, InventoryBackends)
	}
	var total uint64
	prefixes := make(map[string]int, len(c.SimGPUs))
	for i, g := range c.SimGPUs {
		field := fmt.Sprintf("sim_gpus[%d]", i)
		if g.Model == "" {
			return fieldErrorf(field+".model", "must not be empty")
		}
		if g.MemoryMiB == 0 {
			return fieldErrorf(field+".memory_mib", "must be positive")
		}
		if g.Count == 0 {
			return fieldErrorf(field+".count", "must be positive")
		}
		if !uuidPrefixRegex.MatchString(g.UUIDPrefix) {
			return fieldErrorf(field+".uuid_prefix", "%q must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", g.UUIDPrefix)
		}
		if j, dup := prefixes[g.UUIDPrefix]; dup {
			return fieldErrorf(field+".uuid_prefix", "%q is already used by sim_gpus[%d]", g.UUIDPrefix, j)
		}
		prefixes[g.UUIDPrefix] = i
		total += uint64(g.Count)
	}
	if total > maxSimGPUs {
		return fieldErrorf("sim_gpus", "%d GPUs in all, more than %d", total, maxSimGPUs)
	}
	if c.Backend == InventoryBackendSim && total == 0 {
		return fieldErrorf("sim_gpus", "must list at least one GPU when backend is %q", InventoryBackendSim)
	}
	return nil
}
