package inventory

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/crucible-network/crucible/sidecar/config"
)

// fakeBackend is an NVML stand-in for the auto selection logic.
type fakeBackend struct {
	gpus   int
	err    error
	closed bool
}

func (f *fakeBackend) Name() string { return BackendNVML }
func (f *fakeBackend) Close() error { f.closed = true; return nil }
func (f *fakeBackend) Snapshot(context.Context) (Snapshot, error) {
	if f.err != nil {
		return Snapshot{}, f.err
	}
	s := Snapshot{Backend: BackendNVML, GPUs: []GPU{}}
	for i := range f.gpus {
		s.GPUs = append(s.GPUs, GPU{Index: i})
	}
	return s, nil
}

func TestOpenSelectsBackend(t *testing.T) {
	ctx := context.Background()
	errNoDriver := errors.New("no driver")
	opener := func(b *fakeBackend, err error) func() (Backend, error) {
		return func() (Backend, error) {
			if err != nil {
				return nil, err
			}
			return b, nil
		}
	}

	cfg := config.TestInventoryConfig() // sim
	b, err := open(ctx, cfg, nil, opener(nil, errNoDriver))
	if err != nil || b.Name() != BackendSim {
		t.Fatalf("sim: %v, %v", b, err)
	}

	cfg.Backend = config.InventoryBackendNVML
	if _, err := open(ctx, cfg, nil, opener(nil, errNoDriver)); !errors.Is(err, errNoDriver) {
		t.Fatalf("nvml without driver: want the driver error, got %v", err)
	}

	cfg.Backend = config.InventoryBackendAuto
	withGPUs := &fakeBackend{gpus: 2}
	b, err = open(ctx, cfg, nil, opener(withGPUs, nil))
	if err != nil || b != Backend(withGPUs) {
		t.Fatalf("auto with GPUs should use nvml: %v, %v", b, err)
	}

	for name, fake := range map[string]*fakeBackend{"no gpus": {gpus: 0}, "snapshot fails": {err: errors.New("boom")}} {
		b, err := open(ctx, cfg, nil, opener(fake, nil))
		if err != nil || b.Name() != BackendSim {
			t.Fatalf("%s: want sim fallback, got %v, %v", name, b, err)
		}
		if !fake.closed {
			t.Fatalf("%s: nvml backend not closed after falling back", name)
		}
		snap, err := b.Snapshot(ctx)
		if err != nil || len(snap.GPUs) != 2 || len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], "auto:") {
			t.Fatalf("%s: fallback snapshot %+v, %v", name, snap, err)
		}
	}

	b, err = open(ctx, cfg, nil, opener(nil, errNoDriver))
	if err != nil || b.Name() != BackendSim {
		t.Fatalf("auto without driver: %v, %v", b, err)
	}
	snap, _ := b.Snapshot(ctx)
	if !strings.Contains(strings.Join(snap.Warnings, ";"), "no driver") {
		t.Fatalf("fallback reason missing from warnings: %v", snap.Warnings)
	}

	cfg.Backend = "rocm"
	if _, err := open(ctx, cfg, nil, opener(nil, errNoDriver)); err == nil {
		t.Fatal("accepted an unknown backend")
	}
}

func TestOpenNVMLWithoutDriver(t *testing.T) {
	b, err := OpenNVML()
	if err == nil {
		b.Close()
		t.Skip("this machine has a working NVML")
	}
	if !errors.Is(err, ErrNVMLUnavailable) {
		t.Fatalf("want ErrNVMLUnavailable, got %v", err)
	}
	t.Logf("OpenNVML: %v", err)
}
