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

	"github.com/google/go-containerregistry/pkg/name"

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
// Version 2 runs an OCI image in a container (the container backend):
//
//	{
//	  "version": 2,
//	  "image": "registry.example/team/infer@sha256:5f0c...",
//	  "command": ["python3", "serve.py"],
//	  "args": ["--port", "8000"],
//	  "env": {"SEED": "7"},
//	  "resources": {"cpu_millis": 4000, "memory_bytes": 17179869184, "shm_bytes": 1073741824, "pids": 512},
//	  "ports": [{"port": 8000, "protocol": "http"}],
//	  "volume_bytes": 10737418240,
//	  "service": true,
//	  "max_runtime": "2h",
//	  "outputs_dir": "outputs"
//	}
//
// The manifest hash pins the bytes the tenant sent, so an image given by
// digest (name@sha256:...) pins the exact image; a tag is resolved to a
// digest once, when the sidecar pulls it, and that digest is recorded in the
// job's status (Status.ImageDigest) and so in what the tenant reads back.
// command replaces the image's entrypoint and args its cmd (each one only
// when given). A job (service false) runs to completion and its outputs
// directory becomes the result; a service runs until the lease ends (or
// max_runtime), and its ports are reached through the tenant API's proxy.
//
// Version 1 (no image, no version) is a command run as a host process by
// the process backend, a development backend only:
//
//	{"command": ["python3", "train.py"], "env": {"SEED": "7"}, "max_runtime": "2h"}
//
// Either way the job starts in a fresh per-lease directory (in a container:
// /crucible, its working directory unless the image names one) with only
// PATH, HOME, the image's env, the manifest's env (applied in sorted key
// order) and the runner's variables: CUDA_VISIBLE_DEVICES and
// NVIDIA_VISIBLE_DEVICES (the lease's GPU UUIDs, comma-separated),
// CRUCIBLE_LEASE_ID, CRUCIBLE_WORK_DIR and CRUCIBLE_OUTPUT_DIR (the absolute
// outputs directory, created before the job starts). Everything the job
// leaves in the outputs directory is the lease's result.
type Manifest struct {
	// Version is 2 for container manifests; 0 or 1 for process manifests.
	Version int `json:"version,omitempty"`
	// Image is the OCI image reference (container backend).
	Image string `json:"image,omitempty"`
	// Command is the argv of the job (the image's entrypoint when empty in a
	// container manifest); Command[0] is looked up in PATH.
	Command []string `json:"command,omitempty"`
	// Args follow Command (they replace the image's cmd).
	Args []string `json:"args,omitempty"`
	// Env holds extra environment variables.
	Env map[string]string `json:"env,omitempty"`
	// Resources asks for limits within the provider's (zero: the provider's cap).
	Resources Resources `json:"resources,omitzero"`
	// Ports are the ports the container serves to its tenant.
	Ports []Port `json:"ports,omitempty"`
	// VolumeBytes is the size of a persistent volume mounted at /volume (0: none).
	VolumeBytes uint64 `json:"volume_bytes,omitempty"`
	// Service marks a workload that runs until the lease ends.
	Service bool `json:"service,omitempty"`
	// MaxRuntime, when set, limits the job below the provider's max_job_time.
	MaxRuntime config.Duration `json:"max_runtime,omitempty"`
	// OutputsDir is the results directory, relative to the job directory
	// ("outputs" when empty).
	OutputsDir string `json:"outputs_dir,omitempty"`
}

// Resources are a container's limits; zero fields take the provider's cap.
type Resources struct {
	CPUMillis   uint64 `json:"cpu_millis,omitempty"`
	MemoryBytes uint64 `json:"memory_bytes,omitempty"`
	ShmBytes    uint64 `json:"shm_bytes,omitempty"`
	Pids        int64  `json:"pids,omitempty"`
	DiskBytes   uint64 `json:"disk_bytes,omitempty"`
}

// Port is an exposed port.
type Port struct {
	Port uint16 `json:"port"`
	// Protocol is http (the default; websockets included) or tcp.
	Protocol string `json:"protocol,omitempty"`
}

// Port protocols.
const (
	ProtocolHTTP = "http"
	ProtocolTCP  = "tcp"
)

// MaxPorts bounds a manifest's exposed ports.
const MaxPorts = 16

// Container reports whether m runs an image.
func (m Manifest) Container() bool { return m.Image != "" }

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
	switch {
	case m.Version < 0 || m.Version > 2:
		return bad("version: %d is not 1 or 2", m.Version)
	case m.Version == 2 && m.Image == "":
		return bad("image: a version 2 manifest must name an OCI image")
	case m.Image != "" && m.Version != 2:
		return bad("version: a manifest with an image must say \"version\": 2")
	case m.Image == "" && (len(m.Command) == 0 || m.Command[0] == ""):
		return bad("command: must name a program")
	case len(m.Command) > 0 && m.Command[0] == "":
		return bad("command: must name a program")
	case len(m.Command)+len(m.Args) > MaxArgs:
		return bad("command and args: %d arguments is more than %d", len(m.Command)+len(m.Args), MaxArgs)
	}
	if m.Image != "" {
		if len(m.Image) > 512 {
			return bad("image: reference longer than 512 characters")
		}
		if _, err := name.ParseReference(m.Image, name.StrictValidation); err != nil {
			if _, err2 := name.ParseReference(m.Image); err2 != nil {
				return bad("image: %v", err2)
			}
		}
	}
	for i, a := range m.Command {
		if strings.IndexByte(a, 0) >= 0 {
			return bad("command[%d]: contains a NUL byte", i)
		}
	}
	for i, a := range m.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return bad("args[%d]: contains a NUL byte", i)
		}
	}
	if !m.Container() && (len(m.Ports) > 0 || m.VolumeBytes > 0 || m.Resources != (Resources{})) {
		return bad("ports, volume_bytes and resources need a container manifest (version 2 with an image)")
	}
	if len(m.Ports) > MaxPorts {
		return bad("ports: %d is more than %d", len(m.Ports), MaxPorts)
	}
	seen := map[uint16]bool{}
	for i, p := range m.Ports {
		switch {
		case p.Port == 0:
			return bad("ports[%d]: port must be 1 to 65535", i)
		case seen[p.Port]:
			return bad("ports[%d]: port %d listed twice", i, p.Port)
		case p.Protocol != "" && p.Protocol != ProtocolHTTP && p.Protocol != ProtocolTCP:
			return bad("ports[%d]: protocol %q is not http or tcp", i, p.Protocol)
		}
		seen[p.Port] = true
	}
	if m.Resources.Pids < 0 {
		return bad("resources.pids: must not be negative")
	}
	if m.Resources.MemoryBytes != 0 && m.Resources.MemoryBytes < 4<<20 {
		return bad("resources.memory_bytes: %d is less than 4 MiB", m.Resources.MemoryBytes)
	}
	if m.Resources.CPUMillis != 0 && m.Resources.CPUMillis < 10 {
		return bad("resources.cpu_millis: %d is less than 10", m.Resources.CPUMillis)
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

// serviceTimeLimit is a service's limit when its manifest sets no
// max_runtime: it runs until the lease ends.
const serviceTimeLimit = 100 * 365 * 24 * time.Hour

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
	if m.Service && m.MaxRuntime == 0 {
		return serviceTimeLimit
	}
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

// checkLimits checks the manifest's resources against the provider's caps;
// errors wrap ErrBadManifest.
func (m Manifest) checkLimits(cfg config.RunnerConfig) error {
	bad := func(field string, v, max any) error {
		return fmt.Errorf("%w: resources.%s: %v is more than the provider allows (%v)", ErrBadManifest, field, v, max)
	}
	r := m.Resources
	switch {
	case r.MemoryBytes > cfg.MaxMemoryBytes:
		return bad("memory_bytes", r.MemoryBytes, cfg.MaxMemoryBytes)
	case r.CPUMillis > cfg.MaxCPUMillis:
		return bad("cpu_millis", r.CPUMillis, cfg.MaxCPUMillis)
	case r.Pids > cfg.MaxPids:
		return bad("pids", r.Pids, cfg.MaxPids)
	case r.ShmBytes > cfg.MaxShmBytes:
		return bad("shm_bytes", r.ShmBytes, cfg.MaxShmBytes)
	case r.DiskBytes > cfg.MaxDiskBytes:
		return bad("disk_bytes", r.DiskBytes, cfg.MaxDiskBytes)
	case m.VolumeBytes > cfg.MaxDiskBytes:
		return fmt.Errorf("%w: volume_bytes: %d is more than the provider allows (%d)", ErrBadManifest, m.VolumeBytes, cfg.MaxDiskBytes)
	}
	return nil
}
