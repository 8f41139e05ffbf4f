//go:build cgo

package inventory

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// NVML reads real GPUs through the NVIDIA Management Library. go-nvml loads
// libnvml.so with dlopen when Init is called, so the binary starts on hosts
// without a driver and NewNVML fails cleanly there.
type NVML struct {
	mu     sync.Mutex
	lib    nvml.Interface
	closed bool
	now    func() time.Time
}

var _ Backend = (*NVML)(nil)

// errPanicked marks an NVML call that panicked instead of returning; mocks
// panic for the functions they leave unimplemented.
var errPanicked = errors.New("not implemented by the nvml library")

// OpenNVML starts the system's NVML library.
func OpenNVML() (Backend, error) {
	b, err := NewNVML(nvml.New())
	if err != nil {
		return nil, err
	}
	return b, nil
}

// NewNVML initialises lib and returns a backend reading it. Tests pass a
// mock such as go-nvml's mock/dgxh100. Errors wrap ErrNVMLUnavailable and the
// nvml.Return (errors.Is(err, nvml.ERROR_LIBRARY_NOT_FOUND) on a host
// without a driver).
func NewNVML(lib nvml.Interface) (*NVML, error) {
	if err := call("nvmlInit", lib.Init); err != nil {
		return nil, fmt.Errorf("%w: %w%s", ErrNVMLUnavailable, err, initHint(err))
	}
	return &NVML{lib: lib, now: time.Now}, nil
}

func initHint(err error) string {
	switch {
	case errors.Is(err, nvml.ERROR_LIBRARY_NOT_FOUND):
		return " (libnvml.so not found: is the NVIDIA driver installed?)"
	case errors.Is(err, nvml.ERROR_DRIVER_NOT_LOADED):
		return " (the NVIDIA kernel driver is not loaded)"
	case errors.Is(err, nvml.ERROR_NO_PERMISSION):
		return " (no permission to open the GPU devices)"
	}
	return ""
}

// Name implements Backend.
func (b *NVML) Name() string { return BackendNVML }

// Close shuts NVML down.
func (b *NVML) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	if err := call("nvmlShutdown", b.lib.Shutdown); err != nil {
		return fmt.Errorf("nvml shutdown: %w", err)
	}
	return nil
}

// Snapshot implements Backend. A GPU's UUID, name and memory are required;
// every other reading is optional.
func (b *NVML) Snapshot(ctx context.Context) (Snapshot, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return Snapshot{}, ErrClosed
	}
	snap := Snapshot{Backend: BackendNVML, Taken: b.now(), GPUs: []GPU{}}
	warn := func(err error) { snap.Warnings = append(snap.Warnings, err.Error()) }

	if err := call("nvmlSystemGetDriverVersion", func() (r nvml.Return) {
		snap.DriverVersion, r = b.lib.SystemGetDriverVersion()
		return r
	}); err != nil && !unsupported(err) {
		warn(err)
	}
	var cuda int
	if err := call("nvmlSystemGetCudaDriverVersion", func() (r nvml.Return) {
		cuda, r = b.lib.SystemGetCudaDriverVersion()
		return r
	}); err == nil && cuda > 0 {
		snap.CUDAVersion = fmt.Sprintf("%d.%d", cuda/1000, cuda%1000/10)
	} else if err != nil && !unsupported(err) {
		warn(err)
	}
	snap.ConfidentialCompute = b.confCompute(warn)

	var count int
	if err := call("nvmlDeviceGetCount", func() (r nvml.Return) {
		count, r = b.lib.DeviceGetCount()
		return r
	}); err != nil {
		return Snapshot{}, fmt.Errorf("nvml: %w", err)
	}
	for i := range count {
		if err := ctx.Err(); err != nil {
			return Snapshot{}, err
		}
		g, err := b.readGPU(i)
		if err != nil {
			return Snapshot{}, fmt.Errorf("nvml: gpu %d: %w", i, err)
		}
		g.ConfidentialCompute = snap.ConfidentialCompute
		snap.GPUs = append(snap.GPUs, g)
	}
	return snap, nil
}

// confCompute reads the system-wide confidential-computing state. The NVML
// function exists from driver 535; older libraries lack the symbol, and
// calling a missing symbol would abort the process, so it is looked up first.
func (b *NVML) confCompute(warn func(error)) Mode {
	const symbol = "nvmlSystemGetConfComputeState"
	var lookupErr error
	if err := call("nvmlLookupSymbol", func() nvml.Return {
		lookupErr = b.lib.Extensions().LookupSymbol(symbol)
		return nvml.SUCCESS
	}); err != nil || lookupErr != nil {
		return ModeUnsupported
	}
	var state nvml.ConfComputeSystemState
	err := call(symbol, func() (r nvml.Return) {
		state, r = b.lib.SystemGetConfComputeState()
		return r
	})
	switch {
	case err == nil && state.CcFeature == nvml.CC_SYSTEM_FEATURE_ENABLED:
		return ModeEnabled
	case err == nil:
		return ModeDisabled
	case unsupported(err):
		return ModeUnsupported
	default:
		warn(err)
		return ModeUnknown
	}
}

func (b *NVML) readGPU(i int) (GPU, error) {
	var dev nvml.Device
	if err := call("nvmlDeviceGetHandleByIndex", func() (r nvml.Return) {
		dev, r = b.lib.DeviceGetHandleByIndex(i)
		return r
	}); err != nil {
		return GPU{}, err
	}
	g := GPU{Index: i}
	var mem nvml.Memory
	for _, req := range []struct {
		name string
		f    func() nvml.Return
	}{
		{"nvmlDeviceGetUUID", func() (r nvml.Return) { g.UUID, r = dev.GetUUID(); return r }},
		{"nvmlDeviceGetName", func() (r nvml.Return) { g.Name, r = dev.GetName(); return r }},
		{"nvmlDeviceGetMemoryInfo", func() (r nvml.Return) { mem, r = dev.GetMemoryInfo(); return r }},
	} {
		if err := call(req.name, req.f); err != nil {
			return GPU{}, err
		}
	}
	g.Class = Class(g.Name)
	g.MemoryTotalMiB = mem.Total / mib
	g.MemoryUsedMiB = mem.Used / mib

	// Optional readings: "not supported" leaves them empty, other failures
	// leave them empty and add a warning.
	optional := func(err error) bool {
		if err != nil && !unsupported(err) {
			g.Warnings = append(g.Warnings, err.Error())
		}
		return err == nil
	}

	var migCurrent, migPending int
	err := call("nvmlDeviceGetMigMode", func() (r nvml.Return) {
		migCurrent, migPending, r = dev.GetMigMode()
		return r
	})
	g.MIGMode = mode(err, migCurrent == nvml.DEVICE_MIG_ENABLE)
	optional(err)

	var eccCurrent, eccPending nvml.EnableState
	err = call("nvmlDeviceGetEccMode", func() (r nvml.Return) {
		eccCurrent, eccPending, r = dev.GetEccMode()
		return r
	})
	g.ECCMode = mode(err, eccCurrent == nvml.FEATURE_ENABLED)
	optional(err)
	_, _ = migPending, eccPending // pending modes apply after a GPU reset

	var util nvml.Utilization
	if optional(call("nvmlDeviceGetUtilizationRates", func() (r nvml.Return) { util, r = dev.GetUtilizationRates(); return r })) {
		g.Utilization = &Utilization{GPUPercent: util.Gpu, MemoryPercent: util.Memory}
	}
	var temp uint32
	if optional(call("nvmlDeviceGetTemperature", func() (r nvml.Return) { temp, r = dev.GetTemperature(nvml.TEMPERATURE_GPU); return r })) {
		g.TemperatureC = &temp
	}
	var power uint32
	if optional(call("nvmlDeviceGetPowerUsage", func() (r nvml.Return) { power, r = dev.GetPowerUsage(); return r })) {
		g.PowerMW = &power
	}
	g.Processes = readProcesses(dev, optional)
	return g, nil
}

// readProcesses merges the compute and graphics processes of a GPU by PID.
// It returns nil when the GPU can list neither.
func readProcesses(dev nvml.Device, optional func(error) bool) []Process {
	var procs []Process
	seen := map[uint32]int{}
	listed := false
	for _, kind := range []struct {
		name string
		f    func() ([]nvml.ProcessInfo, nvml.Return)
	}{
		{"nvmlDeviceGetComputeRunningProcesses", dev.GetComputeRunningProcesses},
		{"nvmlDeviceGetGraphicsRunningProcesses", dev.GetGraphicsRunningProcesses},
	} {
		var infos []nvml.ProcessInfo
		if !optional(call(kind.name, func() (r nvml.Return) { infos, r = kind.f(); return r })) {
			continue
		}
		listed = true
		for _, p := range infos {
			used := uint64(0)
			if p.UsedGpuMemory != math.MaxUint64 { // NVML_VALUE_NOT_AVAILABLE
				used = p.UsedGpuMemory / mib
			}
			if j, ok := seen[p.Pid]; ok {
				procs[j].UsedMemoryMiB = max(procs[j].UsedMemoryMiB, used)
				continue
			}
			seen[p.Pid] = len(procs)
			procs = append(procs, Process{PID: p.Pid, UsedMemoryMiB: used})
		}
	}
	if !listed {
		return nil
	}
	if procs == nil {
		procs = []Process{}
	}
	return procs
}

// mode maps the result of a feature query to a Mode.
func mode(err error, enabled bool) Mode {
	switch {
	case err == nil && enabled:
		return ModeEnabled
	case err == nil:
		return ModeDisabled
	case unsupported(err):
		return ModeUnsupported
	default:
		return ModeUnknown
	}
}

// unsupported reports whether err means the GPU or library lacks a reading.
func unsupported(err error) bool {
	return errors.Is(err, nvml.ERROR_NOT_SUPPORTED) || errors.Is(err, nvml.ERROR_FUNCTION_NOT_FOUND)
}

// call runs one NVML call, turning a non-SUCCESS return into an error that
// names the function and wraps the nvml.Return, and a panic (a mock's
// unimplemented function) into an error wrapping errPanicked.
func call(name string, f func() nvml.Return) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: %w: %v", name, errPanicked, p)
		}
	}()
	if r := f(); r != nvml.SUCCESS {
		return fmt.Errorf("%s: %w", name, r)
	}
	return nil
}
