package runner

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/crucible-network/crucible/sidecar/config"
)

// Bounds of a manifest.
const (
	// MaxManifestBytes bounds the encoded manifest.
	MaxManifestBytes = 1 << 20
	// MaxArgs bounds the number of command arguments.
	MaxArgs = 4096
	// MaxEnv bounds the number of environment variables.
	MaxEnv = 1024
	// DefaultOutputsDir is the outputs directory when the manifest names none.
	DefaultOutputsDir = "outputs"
)

// Environment variables the runner sets; a manifest may not set them.
const (
	EnvCUDAVisibleDevices   = "CUDA_VISIBLE_DEVICES"
	EnvNVIDIAVisibleDevices = "NVIDIA_VISIBLE_DEVICES"
	EnvLeaseID              = "CRUCIBLE_LEASE_ID"
	EnvOutputDir            = "CRUCIBLE_OUTPUT_DIR"
	EnvWorkDir              = "CRUCIBLE_WORK_DIR"
)

// reservedEnvPrefix is reserved for the runner's own variables.
const reservedEnvPrefix = "CRUCIBLE_"

// Manifest is a tenant's job: the JSON document whose SHA256 (of the exact
// bytes the tenant sent, see ManifestHash) the order on chain carries.
//
//	{
//	  "command": ["python3", "train.py", "--epochs", "3"],
//	  "env": {"SEED": "7"},
//	  "max_runtime": "2h",
//	  "outputs_dir": "outputs"
//	}
//
// The job runs as a local process in a fresh per-lease directory (its
// working directory and $HOME) with only PATH, HOME, the manifest's env
// (applied in sorted key order) and the runner's variables:
// CUDA_VISIBLE_DEVICES and NVIDIA_VISIBLE_DEVICES (the lease's GPU UUIDs,
// comma-separated), CRUCIBLE_LEASE_ID, CRUCIBLE_WORK_DIR and
// CRUCIBLE_OUTPUT_DIR (the absolute outputs directory, created before the
// job starts). Everything the job leaves in the outputs directory is the
// lease's result.
type Manifest struct {
	// Image is reserved for container images; this runner refuses it.
	Image string `json:"image,omitempty"`
	// Command is the argv of the job; Command[0] is looked up in PATH.
	Command []string `json:"command"`
	// Env holds extra environment variables.
	Env map[string]string `json:"env,omitempty"`
	// MaxRuntime, when set, limits the job below the provider's max_job_time.
	MaxRuntime config.Duration `json:"max_runtime,omitempty"`
	// OutputsDir is the results directory, relative to the job directory
	// ("outputs" when empty).
	OutputsDir string `json:"outputs_dir,omitempty"`
}

// ManifestHash is the SHA256 of the manifest bytes exactly as the tenant
// sent them; the order on chain carries it.
func ManifestHash(manifest []byte) [32]byte { return sha256.Sum256(manifest) }

// ParseManifest decodes and validates a manifest strictly: unknown fields,
// trailing data and invalid values fail with an error wrapping ErrBadManifest.
func ParseManifest(b []byte) (Manifest, error) {
	var m Manifest
	if len(b) > MaxManifestBytes {
		return m, fmt.Errorf("%w: %d bytes is more than %d", ErrBadManifest, len(b), MaxManifestBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("%w: %v", ErrBadManifest, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Manifest{}, fmt.Errorf("%w: trailing data after the JSON object", ErrBadManifest)
	}
	if err := m.Validate(); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// Validate checks a manifest; errors wrap ErrBadManifest.
func (m Manifest) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadManifest, fmt.Sprintf(format, args...))
	}
	if m.Image != "" {
		return bad("image: container images are not supported by this runner; give command")
	}
	if len(m.Command) == 0 || m.Command[0] == "" {
		return bad("command: must name a program")
	}
	if len(m.Command) > MaxArgs {
		return bad("command: %d arguments is more than %d", len(m.Command), MaxArgs)
	}
	for i, a := range m.Command {
		if strings.IndexByte(a, 0) >= 0 {
			return bad("command[%d]: contains a NUL byte", i)
		}
	}
	if len(m.Env) > MaxEnv {
		return bad("env: %d variables is more than %d", len(m.Env), MaxEnv)
	}
	for k, v := range m.Env {
		switch {
		case k == "" || strings.ContainsAny(k, "=\x00"):
			return bad("env: invalid variable name %q", k)
		case strings.IndexByte(v, 0) >= 0:
			return bad("env %s: value contains a NUL byte", k)
		case k == EnvCUDAVisibleDevices || k == EnvNVIDIAVisibleDevices || strings.HasPrefix(k, reservedEnvPrefix):
			return bad("env %s: set by the runner", k)
		}
	}
	if m.MaxRuntime < 0 {
		return bad("max_runtime: %s is negative", m.MaxRuntime)
	}
	if _, err := m.outputsDir(); err != nil {
		return err
	}
	return nil
}

// outputsDir returns the cleaned, relative, slash-separated outputs dir.
func (m Manifest) outputsDir() (string, error) {
	d := m.OutputsDir
	if d == "" {
		return DefaultOutputsDir, nil
	}
	c := path.Clean(d)
	if path.IsAbs(c) || c == "." || c == ".." || strings.HasPrefix(c, "../") || strings.ContainsAny(d, "\\\x00") {
		return "", fmt.Errorf("%w: outputs_dir %q must be a relative path inside the job directory", ErrBadManifest, d)
	}
	return c, nil
}

// timeLimit is the job's limit: max_job_time, or the manifest's own
// max_runtime when it is set and smaller.
func (m Manifest) timeLimit(maxJobTime time.Duration) time.Duration {
	if m.MaxRuntime > 0 && m.MaxRuntime.Std() < maxJobTime {
		return m.MaxRuntime.Std()
	}
	return maxJobTime
}

// sortedEnv returns the manifest's variables as KEY=VALUE in key order.
func (m Manifest) sortedEnv() []string {
	keys := make([]string, 0, len(m.Env))
	for k := range m.Env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + m.Env[k]
	}
	return out
}
