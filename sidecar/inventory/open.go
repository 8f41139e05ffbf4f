package inventory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/crucible-network/crucible/sidecar/config"
)

// Open returns the backend cfg.Backend names. "nvml" fails with an error
// wrapping ErrNVMLUnavailable when NVML does not start. "auto" uses NVML when
// it starts and finds at least one GPU; otherwise it logs a warning, closes
// NVML and returns the simulated backend built from cfg.SimGPUs (possibly
// empty), whose snapshots carry the reason in their warnings. A nil logger
// discards logs.
func Open(ctx context.Context, cfg config.InventoryConfig, logger *slog.Logger) (Backend, error) {
	return open(ctx, cfg, logger, OpenNVML)
}

func open(ctx context.Context, cfg config.InventoryConfig, logger *slog.Logger, openNVML func() (Backend, error)) (Backend, error) {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	logger = logger.With("module", "inventory")
	switch cfg.Backend {
	case config.InventoryBackendSim:
		return NewSim(cfg)
	case config.InventoryBackendNVML:
		return openNVML()
	case config.InventoryBackendAuto:
		b, gpus, reason := probeNVML(ctx, openNVML)
		if reason == nil {
			logger.Info("using nvml inventory", "gpus", gpus)
			return b, nil
		}
		sim, err := NewSim(cfg)
		if err != nil {
			return nil, err
		}
		logger.Warn("nvml not usable, using simulated inventory", "reason", reason, "sim_gpus", len(sim.gpus))
		sim.warnings = append(sim.warnings, fmt.Sprintf("auto: %v; serving the simulated inventory", reason))
		return sim, nil
	default:
		return nil, fmt.Errorf("inventory backend %q: want one of %v", cfg.Backend, config.InventoryBackends)
	}
}

// errNoGPUs is the fallback reason when NVML starts but finds no GPU.
var errNoGPUs = errors.New("nvml found no GPUs")

// probeNVML opens NVML and takes a snapshot. It returns the backend and its
// GPU count when NVML has GPUs, else the reason it cannot be used (with NVML
// closed again).
func probeNVML(ctx context.Context, openNVML func() (Backend, error)) (Backend, int, error) {
	b, err := openNVML()
	if err != nil {
		return nil, 0, err
	}
	snap, err := b.Snapshot(ctx)
	if err == nil && len(snap.GPUs) == 0 {
		err = errNoGPUs
	}
	if err != nil {
		if cerr := b.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close nvml: %w", cerr))
		}
		return nil, 0, err
	}
	return b, len(snap.GPUs), nil
}
