package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/sidecar/inventory"
)

// run executes the command tree with args and returns stdout, stderr.
func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := NewRootCmd()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return stdout.String(), stderr.String(), err
}

func TestConfigInitAndValidate(t *testing.T) {
	home := t.TempDir()
	out, _, err := run(t, "config", "init", "--home", home)
	if err != nil {
		t.Fatal(err)
	}
	path := config.DefaultPath(home)
	if !strings.Contains(out, path) {
		t.Fatalf("output %q does not name %s", out, path)
	}
	got, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Chain != config.DefaultChainConfig() {
		t.Fatalf("chain section %+v", got.Chain)
	}

	if _, _, err := run(t, "config", "init", "--home", home); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second init: want fs.ErrExist, got %v", err)
	}
	if _, _, err := run(t, "config", "init", "--home", home, "--force"); err != nil {
		t.Fatalf("init --force: %v", err)
	}

	out, _, err = run(t, "config", "validate", "--home", home)
	if err != nil || !strings.Contains(out, "is valid") {
		t.Fatalf("validate: %q, %v", out, err)
	}

	// A broken file names the bad key.
	if err := os.WriteFile(path, []byte("runner:\n  max_output_bytes: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = run(t, "config", "validate", "--home", home)
	if err == nil || !strings.Contains(err.Error(), "runner.max_output_bytes") {
		t.Fatalf("validate broken: %v", err)
	}
	if _, _, err := run(t, "config", "validate", "--home", t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("validate missing: want fs.ErrNotExist, got %v", err)
	}
}

func TestConfigInitJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sidecar.json")
	if _, _, err := run(t, "config", "init", "--config", path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(data) {
		t.Fatalf("not JSON:\n%s", data)
	}
	if out, _, err := run(t, "config", "validate", "--config", path); err != nil || !strings.Contains(out, "is valid") {
		t.Fatalf("validate json: %q, %v", out, err)
	}
}

// writeSimConfig writes TestConfig (two simulated H100s) into a new home.
func writeSimConfig(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	if err := config.Write(config.DefaultPath(home), config.TestConfig()); err != nil {
		t.Fatal(err)
	}
	return home
}

func TestInventoryText(t *testing.T) {
	home := writeSimConfig(t)
	out, _, err := run(t, "inventory", "--home", home)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"backend: sim", "gpus: 2", "INDEX", "GPU-sim-test-0", "GPU-sim-test-1", "NVIDIA H100 80GB HBM3", "H100", "0/81559", "0%/0%", "none"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestInventoryJSON(t *testing.T) {
	home := writeSimConfig(t)
	out, _, err := run(t, "inventory", "--home", home, "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var snap inventory.Snapshot
	if err := json.Unmarshal([]byte(out), &snap); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if snap.Backend != inventory.BackendSim || len(snap.GPUs) != 2 || snap.GPUs[1].UUID != "GPU-sim-test-1" {
		t.Fatalf("snapshot %+v", snap)
	}
}

func TestInventoryBackendFlag(t *testing.T) {
	// Without a config file the defaults apply (auto, no simulated GPUs).
	home := t.TempDir()
	out, stderr, err := run(t, "inventory", "--home", home, "--backend", "auto")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "no config file") || !strings.Contains(out, "backend:") {
		t.Fatalf("stdout %q stderr %q", out, stderr)
	}
	// sim needs simulated GPUs in the config.
	if _, _, err := run(t, "inventory", "--home", home, "--backend", "sim"); err == nil || !strings.Contains(err.Error(), "inventory.sim_gpus") {
		t.Fatalf("sim without GPUs: %v", err)
	}
	if _, _, err := run(t, "inventory", "--home", home, "--backend", "rocm"); err == nil || !strings.Contains(err.Error(), "inventory.backend") {
		t.Fatalf("unknown backend: %v", err)
	}
	if _, _, err := run(t, "inventory", "--home", home, "--output", "yaml"); err == nil {
		t.Fatal("accepted --output yaml")
	}
	// nvml on a machine without a driver fails cleanly.
	_, _, err = run(t, "inventory", "--home", writeSimConfig(t), "--backend", "nvml")
	if err != nil && !errors.Is(err, inventory.ErrNVMLUnavailable) {
		t.Fatalf("nvml: want ErrNVMLUnavailable, got %v", err)
	}
}
