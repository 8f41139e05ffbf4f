package inventory

import (
	"context"
	"errors"
	"testing"

	"github.com/crucible-network/crucible/sidecar/config"
)

func TestSimSnapshot(t *testing.T) {
	cfg := config.TestInventoryConfig()
	cfg.SimGPUs = append(cfg.SimGPUs, config.SimGPU{Model: "NVIDIA L4", MemoryMiB: 23034, Count: 1, UUIDPrefix: "l4"})
	sim, err := NewSim(cfg)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := sim.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Backend != BackendSim || sim.Name() != BackendSim {
		t.Fatalf("backend = %q", snap.Backend)
	}
	wantUUIDs := []string{"GPU-sim-test-0", "GPU-sim-test-1", "GPU-sim-l4-0"}
	if len(snap.GPUs) != len(wantUUIDs) {
		t.Fatalf("got %d GPUs", len(snap.GPUs))
	}
	for i, g := range snap.GPUs {
		if g.Index != i || g.UUID != wantUUIDs[i] {
			t.Errorf("gpu %d: index %d uuid %q, want %q", i, g.Index, g.UUID, wantUUIDs[i])
		}
		if g.Utilization == nil || g.TemperatureC == nil || g.PowerMW == nil || g.Processes == nil {
			t.Errorf("gpu %d: sim should report every reading: %+v", i, g)
		}
		if !g.Idle() || g.MemoryUsedMiB != 0 {
			t.Errorf("gpu %d should start idle", i)
		}
	}
	if g := snap.GPUs[0]; g.Name != "NVIDIA H100 80GB HBM3" || g.Class != "H100" || g.MemoryTotalMiB != 81559 ||
		g.MIGMode != ModeDisabled || g.ECCMode != ModeEnabled || g.ConfidentialCompute != ModeUnsupported {
		t.Fatalf("gpu 0 = %+v", g)
	}
	if g := snap.GPUs[2]; g.Class != "L4" || g.MemoryTotalMiB != 23034 {
		t.Fatalf("gpu 2 = %+v", g)
	}

	// Same config, same UUIDs.
	again, _ := NewSim(cfg)
	snap2, _ := again.Snapshot(context.Background())
	for i := range snap.GPUs {
		if snap.GPUs[i].UUID != snap2.GPUs[i].UUID {
			t.Fatal("simulated UUIDs are not deterministic")
		}
	}
}

func TestSimSetUsage(t *testing.T) {
	sim, err := NewSim(config.TestInventoryConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	uuid := SimUUID("test", 1)
	procs := []Process{{PID: 42, UsedMemoryMiB: 1000}, {PID: 43, UsedMemoryMiB: 500}}
	if err := sim.SetUsage(uuid, Usage{GPUPercent: 90, MemoryPercent: 40, Processes: procs}); err != nil {
		t.Fatal(err)
	}
	procs[0].PID = 7 // SetUsage copies
	snap, err := sim.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := snap.GPU(uuid)
	if !ok {
		t.Fatal("GPU not found")
	}
	if g.Utilization.GPUPercent != 90 || g.Utilization.MemoryPercent != 40 || g.MemoryUsedMiB != 1500 ||
		len(g.Processes) != 2 || g.Processes[0].PID != 42 || g.Idle() {
		t.Fatalf("gpu = %+v", g)
	}
	if *g.TemperatureC != 75 || *g.PowerMW != 600_000 {
		t.Fatalf("temperature %d, power %d", *g.TemperatureC, *g.PowerMW)
	}
	if other, _ := snap.GPU(SimUUID("test", 0)); !other.Idle() {
		t.Fatal("usage leaked to another GPU")
	}
	// Mutating a snapshot does not change the backend.
	g.Processes[0].PID = 1
	*snap.GPUs[1].TemperatureC = 0
	snap, _ = sim.Snapshot(ctx)
	if g2, _ := snap.GPU(uuid); g2.Processes[0].PID != 42 || *g2.TemperatureC != 75 {
		t.Fatal("snapshot aliases backend state")
	}
	// Back to idle.
	if err := sim.SetUsage(uuid, Usage{}); err != nil {
		t.Fatal(err)
	}
	snap, _ = sim.Snapshot(ctx)
	if g, _ := snap.GPU(uuid); !g.Idle() || g.Utilization.GPUPercent != 0 {
		t.Fatalf("gpu = %+v", g)
	}

	if err := sim.SetUsage("GPU-nope", Usage{}); !errors.Is(err, ErrUnknownGPU) {
		t.Fatalf("want ErrUnknownGPU, got %v", err)
	}
	if err := sim.SetUsage(uuid, Usage{GPUPercent: 101}); err == nil {
		t.Fatal("accepted 101%")
	}
	if err := sim.SetUsage(uuid, Usage{MemoryUsedMiB: 1 << 40}); err == nil {
		t.Fatal("accepted more memory than the GPU has")
	}

	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Snapshot(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("want ErrClosed, got %v", err)
	}
}

func TestSimRejectsBadConfig(t *testing.T) {
	cfg := config.TestInventoryConfig()
	cfg.SimGPUs[0].UUIDPrefix = ""
	if _, err := NewSim(cfg); err == nil {
		t.Fatal("accepted an empty uuid prefix")
	}
	empty, err := NewSim(config.InventoryConfig{Backend: config.InventoryBackendAuto})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := empty.Snapshot(context.Background())
	if err != nil || len(snap.GPUs) != 0 || snap.GPUs == nil {
		t.Fatalf("empty sim: %+v, %v", snap, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := empty.Snapshot(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}
