package inventory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/crucible-network/crucible/sidecar/config"
)

// Sim is a simulated backend: the GPUs listed in the config, with fixed
// models and memory, deterministic UUIDs (GPU-sim-<uuid_prefix>-<n>) and a
// usage that the lease runner (or a test) sets with SetUsage.
type Sim struct {
	mu       sync.Mutex
	gpus     []GPU
	usage    map[string]Usage
	warnings []string
	closed   bool
	now      func() time.Time
}

// Usage is what the simulated GPU reports as running on it.
type Usage struct {
	GPUPercent    uint32
	MemoryPercent uint32
	MemoryUsedMiB uint64
	Processes     []Process
}

var _ Backend = (*Sim)(nil)

// SimUUID returns the UUID of the n-th simulated GPU of a config entry.
func SimUUID(prefix string, n int) string {
	return fmt.Sprintf("GPU-sim-%s-%d", prefix, n)
}

// NewSim builds the simulated backend from cfg.SimGPUs, whatever cfg.Backend
// says. An empty list gives a backend with no GPUs.
func NewSim(cfg config.InventoryConfig) (*Sim, error) {
	check := cfg
	check.Backend = config.InventoryBackendAuto // the list may be empty here
	if err := check.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("simulated inventory: %w", err)
	}
	s := &Sim{usage: make(map[string]Usage), now: time.Now}
	for _, entry := range cfg.SimGPUs {
		for n := range int(entry.Count) {
			s.gpus = append(s.gpus, GPU{
				Index:               len(s.gpus),
				UUID:                SimUUID(entry.UUIDPrefix, n),
				Name:                entry.Model,
				Class:               Class(entry.Model),
				MemoryTotalMiB:      entry.MemoryMiB,
				MIGMode:             ModeDisabled,
				ECCMode:             ModeEnabled,
				ConfidentialCompute: ModeUnsupported,
			})
		}
	}
	return s, nil
}

// Name implements Backend.
func (s *Sim) Name() string { return BackendSim }

// SetUsage sets what the GPU with the given UUID reports until the next
// SetUsage; the zero Usage is an idle GPU.
func (s *Sim) SetUsage(uuid string, u Usage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.gpus, func(g GPU) bool { return g.UUID == uuid })
	if i < 0 {
		return fmt.Errorf("set usage of %s: %w", uuid, ErrUnknownGPU)
	}
	if u.GPUPercent > 100 || u.MemoryPercent > 100 {
		return fmt.Errorf("set usage of %s: utilization %d%%/%d%% is over 100%%", uuid, u.GPUPercent, u.MemoryPercent)
	}
	var procMiB uint64
	for _, p := range u.Processes {
		procMiB += p.UsedMemoryMiB
	}
	if u.MemoryUsedMiB < procMiB {
		u.MemoryUsedMiB = procMiB
	}
	if u.MemoryUsedMiB > s.gpus[i].MemoryTotalMiB {
		return fmt.Errorf("set usage of %s: %d MiB used is more than the %d MiB it has", uuid, u.MemoryUsedMiB, s.gpus[i].MemoryTotalMiB)
	}
	u.Processes = slices.Clone(u.Processes)
	s.usage[uuid] = u
	return nil
}

// Snapshot implements Backend. Temperature and power follow the GPU
// utilization: 30 C and 60 W idle, 80 C and 660 W at 100%.
func (s *Sim) Snapshot(ctx context.Context) (Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return Snapshot{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Snapshot{}, ErrClosed
	}
	snap := Snapshot{
		Backend:             BackendSim,
		Taken:               s.now(),
		ConfidentialCompute: ModeUnsupported,
		GPUs:                make([]GPU, 0, len(s.gpus)),
		Warnings:            slices.Clone(s.warnings),
	}
	for _, g := range s.gpus {
		u := s.usage[g.UUID]
		g.MemoryUsedMiB = u.MemoryUsedMiB
		g.Utilization = &Utilization{GPUPercent: u.GPUPercent, MemoryPercent: u.MemoryPercent}
		g.Processes = append([]Process{}, u.Processes...)
		temp := 30 + u.GPUPercent/2
		power := 60_000 + u.GPUPercent*6_000
		g.TemperatureC = &temp
		g.PowerMW = &power
		snap.GPUs = append(snap.GPUs, g)
	}
	return snap, nil
}

// Close implements Backend.
func (s *Sim) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
