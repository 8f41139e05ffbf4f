//go:build cgo

package inventory

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"

	"github.com/crucible-network/crucible/sidecar/config"
)

// The dgxh100 mock implements identity, memory and MIG, and leaves ECC,
// utilization, processes, temperature, power and confidential computing
// nil (calling them panics). The backend must report those as missing
// readings with warnings, not crash.
func TestNVMLBareDGXH100(t *testing.T) {
	b, err := NewNVML(dgxh100.New())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	snap, err := b.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Backend != BackendNVML || snap.DriverVersion != "550.54.15" || snap.CUDAVersion != "12.4" {
		t.Fatalf("snapshot header %+v", snap)
	}
	if len(snap.GPUs) != 8 {
		t.Fatalf("got %d GPUs, want 8", len(snap.GPUs))
	}
	if snap.ConfidentialCompute != ModeUnknown || len(snap.Warnings) != 1 {
		t.Fatalf("conf compute %q, warnings %v", snap.ConfidentialCompute, snap.Warnings)
	}
	uuids := map[string]bool{}
	for i, g := range snap.GPUs {
		if g.Index != i || !strings.HasPrefix(g.UUID, "GPU-") || uuids[g.UUID] {
			t.Errorf("gpu %d: index %d uuid %q", i, g.Index, g.UUID)
		}
		uuids[g.UUID] = true
		if g.Name != "NVIDIA H100 80GB HBM3" || g.Class != "H100" || g.MemoryTotalMiB != 81920 || g.MemoryUsedMiB != 0 {
			t.Errorf("gpu %d: %+v", i, g)
		}
		if g.MIGMode != ModeDisabled {
			t.Errorf("gpu %d: MIG %q", i, g.MIGMode)
		}
		if g.ECCMode != ModeUnknown || g.Utilization != nil || g.TemperatureC != nil || g.PowerMW != nil || g.Processes != nil {
			t.Errorf("gpu %d: unimplemented readings should be empty: %+v", i, g)
		}
		if len(g.Warnings) == 0 || !strings.Contains(strings.Join(g.Warnings, ";"), "nvmlDeviceGetEccMode") {
			t.Errorf("gpu %d: warnings %v", i, g.Warnings)
		}
	}
}

// filledDGXH100 is the dgxh100 mock with the readings it leaves nil filled
// in: ECC on, utilization, one compute process on GPU 0, temperature, and
// power and graphics processes not supported; confidential computing on.
func filledDGXH100(t *testing.T) *server.Server {
	t.Helper()
	s := dgxh100.New()
	s.SystemGetConfComputeStateFunc = func() (nvml.ConfComputeSystemState, nvml.Return) {
		return nvml.ConfComputeSystemState{CcFeature: nvml.CC_SYSTEM_FEATURE_ENABLED, Environment: nvml.CC_SYSTEM_ENVIRONMENT_PROD}, nvml.SUCCESS
	}
	for i, d := range s.Devices {
		dev := d.(*server.Device)
		dev.GetEccModeFunc = func() (nvml.EnableState, nvml.EnableState, nvml.Return) {
			return nvml.FEATURE_ENABLED, nvml.FEATURE_ENABLED, nvml.SUCCESS
		}
		dev.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
			return nvml.Utilization{Gpu: uint32(10 * i), Memory: uint32(5 * i)}, nvml.SUCCESS
		}
		dev.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
			if i == 0 {
				return []nvml.ProcessInfo{{Pid: 4242, UsedGpuMemory: 2048 * mib}}, nvml.SUCCESS
			}
			return nil, nvml.SUCCESS
		}
		dev.GetGraphicsRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
			return nil, nvml.ERROR_NOT_SUPPORTED
		}
		dev.GetTemperatureFunc = func(sensor nvml.TemperatureSensors) (uint32, nvml.Return) {
			if sensor != nvml.TEMPERATURE_GPU {
				return 0, nvml.ERROR_INVALID_ARGUMENT
			}
			return 40 + uint32(i), nvml.SUCCESS
		}
		dev.GetPowerUsageFunc = func() (uint32, nvml.Return) {
			return 0, nvml.ERROR_NOT_SUPPORTED
		}
	}
	return s
}

func TestNVMLFilledDGXH100(t *testing.T) {
	s := filledDGXH100(t)
	// MIG on GPU 3.
	if r, _ := s.Devices[3].SetMigMode(nvml.DEVICE_MIG_ENABLE); r != nvml.SUCCESS {
		t.Fatal(r)
	}
	b, err := NewNVML(s)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := b.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.ConfidentialCompute != ModeEnabled || len(snap.Warnings) != 0 {
		t.Fatalf("conf compute %q, warnings %v", snap.ConfidentialCompute, snap.Warnings)
	}
	for i, g := range snap.GPUs {
		if len(g.Warnings) != 0 {
			t.Errorf("gpu %d: warnings %v", i, g.Warnings)
		}
		if g.ECCMode != ModeEnabled || g.ConfidentialCompute != ModeEnabled {
			t.Errorf("gpu %d: ecc %q cc %q", i, g.ECCMode, g.ConfidentialCompute)
		}
		if g.Utilization == nil || g.Utilization.GPUPercent != uint32(10*i) || g.Utilization.MemoryPercent != uint32(5*i) {
			t.Errorf("gpu %d: utilization %+v", i, g.Utilization)
		}
		if g.TemperatureC == nil || *g.TemperatureC != 40+uint32(i) {
			t.Errorf("gpu %d: temperature %v", i, g.TemperatureC)
		}
		if g.PowerMW != nil {
			t.Errorf("gpu %d: power should be unsupported, got %d", i, *g.PowerMW)
		}
		wantMIG := ModeDisabled
		if i == 3 {
			wantMIG = ModeEnabled
		}
		if g.MIGMode != wantMIG {
			t.Errorf("gpu %d: MIG %q, want %q", i, g.MIGMode, wantMIG)
		}
		if i == 0 {
			if len(g.Processes) != 1 || g.Processes[0] != (Process{PID: 4242, UsedMemoryMiB: 2048}) || g.Idle() {
				t.Errorf("gpu 0: processes %+v", g.Processes)
			}
		} else if g.Processes == nil || len(g.Processes) != 0 || !g.Idle() {
			t.Errorf("gpu %d: processes %#v", i, g.Processes)
		}
	}
}

func TestNVMLUnsupportedAndFailingReadings(t *testing.T) {
	s := filledDGXH100(t)
	s.SystemGetConfComputeStateFunc = func() (nvml.ConfComputeSystemState, nvml.Return) {
		return nvml.ConfComputeSystemState{}, nvml.ERROR_NOT_SUPPORTED
	}
	dev := s.Devices[1].(*server.Device)
	dev.GetEccModeFunc = func() (nvml.EnableState, nvml.EnableState, nvml.Return) {
		return 0, 0, nvml.ERROR_NOT_SUPPORTED
	}
	dev.GetMigModeFunc = func() (int, int, nvml.Return) { return 0, 0, nvml.ERROR_NOT_SUPPORTED }
	dev.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
		return nil, nvml.ERROR_NOT_SUPPORTED
	}
	dev.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
		return nvml.Utilization{}, nvml.ERROR_GPU_IS_LOST
	}
	b, err := NewNVML(s)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := b.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if snap.ConfidentialCompute != ModeUnsupported || len(snap.Warnings) != 0 {
		t.Fatalf("conf compute %q, warnings %v", snap.ConfidentialCompute, snap.Warnings)
	}
	g := snap.GPUs[1]
	if g.ECCMode != ModeUnsupported || g.MIGMode != ModeUnsupported || g.Processes != nil || g.Utilization != nil {
		t.Fatalf("gpu 1: %+v", g)
	}
	if len(g.Warnings) != 1 || !strings.Contains(g.Warnings[0], "nvmlDeviceGetUtilizationRates") {
		t.Fatalf("only the failing (not unsupported) reading should warn: %v", g.Warnings)
	}

	// The symbol is missing from an old driver: unsupported, never called.
	s.LookupSymbolFunc = func(string) error { return errors.New("undefined symbol") }
	s.SystemGetConfComputeStateFunc = nil
	snap, err = b.Snapshot(context.Background())
	if err != nil || snap.ConfidentialCompute != ModeUnsupported {
		t.Fatalf("missing symbol: %q, %v", snap.ConfidentialCompute, err)
	}

	// A required reading failing fails the snapshot.
	dev.GetUUIDFunc = func() (string, nvml.Return) { return "", nvml.ERROR_GPU_IS_LOST }
	if _, err := b.Snapshot(context.Background()); !errors.Is(err, nvml.ERROR_GPU_IS_LOST) || !strings.Contains(err.Error(), "gpu 1") {
		t.Fatalf("want a gpu 1 ERROR_GPU_IS_LOST error, got %v", err)
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if _, err := b.Snapshot(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("want ErrClosed, got %v", err)
	}
}

func TestNVMLInitFails(t *testing.T) {
	s := dgxh100.New()
	s.InitFunc = func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND }
	_, err := NewNVML(s)
	if !errors.Is(err, ErrNVMLUnavailable) || !errors.Is(err, nvml.ERROR_LIBRARY_NOT_FOUND) {
		t.Fatalf("want ErrNVMLUnavailable and ERROR_LIBRARY_NOT_FOUND, got %v", err)
	}
	if !strings.Contains(err.Error(), "driver installed") {
		t.Fatalf("error should hint at the driver: %v", err)
	}
}

func TestAutoUsesNVMLMock(t *testing.T) {
	cfg := config.InventoryConfig{Backend: config.InventoryBackendAuto}
	b, err := open(context.Background(), cfg, nil, func() (Backend, error) { return NewNVML(dgxh100.New()) })
	if err != nil {
		t.Fatal(err)
	}
	if b.Name() != BackendNVML {
		t.Fatalf("auto picked %q", b.Name())
	}
	b.Close()

	empty := dgxh100.NewWithGPUs()
	b, err = open(context.Background(), cfg, nil, func() (Backend, error) { return NewNVML(empty) })
	if err != nil || b.Name() != BackendSim {
		t.Fatalf("auto with zero NVML GPUs: %v, %v", b, err)
	}
}
