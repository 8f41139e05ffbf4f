package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Upper bounds that catch unit mistakes (milliseconds for seconds, bits for bytes).
const (
	maxJobTimeLimit     = 366 * 24 * time.Hour
	maxOutputBytesLimit = 1 << 40
)

// Runner backends (RunnerConfig.Backend).
const (
	// BackendAuto is the container backend where the OCI runtime is found;
	// the sidecar refuses to start without one.
	BackendAuto = "auto"
	// BackendContainer runs every job in an OCI container (runc).
	BackendContainer = "container"
	// BackendProcess runs jobs as host processes of the sidecar's user: a
	// development backend only (tenant code can read the sidecar's keys).
	BackendProcess = "process"
)

// User namespace settings (RunnerConfig.Userns).
const (
	UsernsAuto = "auto"
	UsernsOff  = "off"
)

// Disk limit enforcement (RunnerConfig.DiskQuota).
const (
	// DiskQuotaAuto puts a container's writable data on ext4 images of its
	// limits where the host allows it (root, loop devices, mkfs.ext4), else polls.
	DiskQuotaAuto = "auto"
	// DiskQuotaPoll measures disk use every second and kills a job over its limit.
	DiskQuotaPoll = "poll"
)

// Egress policies (RunnerConfig.Egress).
const (
	// EgressDeny gives a container only a loopback interface.
	EgressDeny = "deny"
	// EgressAllow lets a container reach the public internet (through
	// NAT), never private, link-local or the host's own addresses.
	EgressAllow = "allow"
)

// RunnerConfig bounds the jobs the lease runner runs.
type RunnerConfig struct {
	// WorkDir holds one directory per lease; relative paths are under the sidecar home.
	WorkDir string `yaml:"work_dir" json:"work_dir"`
	// MaxJobTime stops a job that runs longer.
	MaxJobTime Duration `yaml:"max_job_time" json:"max_job_time"`
	// MaxOutputBytes caps the output a job may produce.
	MaxOutputBytes uint64 `yaml:"max_output_bytes" json:"max_output_bytes"`
	// Backend is auto (container where the runtime exists), container or process.
	Backend string `yaml:"backend" json:"backend"`
	// Runtime is the OCI runtime binary (runc), looked up in PATH.
	Runtime string `yaml:"runtime" json:"runtime"`
	// CDISpecDirs hold the CDI specs of the GPUs (the NVIDIA Container
	// Toolkit writes /etc/cdi/nvidia.yaml or /var/run/cdi/nvidia.yaml).
	CDISpecDirs []string `yaml:"cdi_spec_dirs" json:"cdi_spec_dirs"`
	// CDIKind is the CDI device kind of a GPU; a leased GPU is injected as
	// "<kind>=<uuid>".
	CDIKind string `yaml:"cdi_kind" json:"cdi_kind"`
	// RegistryAuthFile is a docker config.json with registry credentials ("" for none).
	RegistryAuthFile string `yaml:"registry_auth_file" json:"registry_auth_file"`
	// InsecureRegistries are registries (host:port) reached over plain HTTP.
	InsecureRegistries []string `yaml:"insecure_registries" json:"insecure_registries"`
	// MaxImageBytes caps an image's compressed layers.
	MaxImageBytes uint64 `yaml:"max_image_bytes" json:"max_image_bytes"`
	// ImageCacheBytes bounds the layer cache (least recently used layers go first).
	ImageCacheBytes uint64 `yaml:"image_cache_bytes" json:"image_cache_bytes"`
	// MaxMemoryBytes caps a container's memory; it is also the default.
	MaxMemoryBytes uint64 `yaml:"max_memory_bytes" json:"max_memory_bytes"`
	// MaxCPUMillis caps a container's CPU (1000 = one core); also the default.
	MaxCPUMillis uint64 `yaml:"max_cpu_millis" json:"max_cpu_millis"`
	// MaxPids caps a container's processes and threads; also the default.
	MaxPids int64 `yaml:"max_pids" json:"max_pids"`
	// MaxShmBytes caps a container's /dev/shm; the default is 64 MiB or this, the smaller.
	MaxShmBytes uint64 `yaml:"max_shm_bytes" json:"max_shm_bytes"`
	// MaxDiskBytes caps a container's rootfs and job directory, and its
	// volume; it is also the default.
	MaxDiskBytes uint64 `yaml:"max_disk_bytes" json:"max_disk_bytes"`
	// DiskQuota is how disk limits are enforced: auto (filesystems of the
	// limits' size where the host allows it, else polling) or poll.
	DiskQuota string `yaml:"disk_quota" json:"disk_quota"`
	// Userns is auto (containers get a user namespace where the host allows
	// it: their root is an unprivileged host uid) or off.
	Userns string `yaml:"userns" json:"userns"`
	// Egress is the containers' network egress: deny (loopback only) or
	// allow (the public internet, through NAT).
	Egress string `yaml:"egress" json:"egress"`
	// EgressPool is the private IPv4 range containers' addresses come
	// from with egress allow (a /30 each).
	EgressPool string `yaml:"egress_pool" json:"egress_pool"`
	// ManifestTimeout closes a lease whose tenant sent no manifest by then.
	ManifestTimeout Duration `yaml:"manifest_timeout" json:"manifest_timeout"`
}

// DefaultRunnerConfig allows jobs of up to a day and 1 GiB of output, in
// containers.
func DefaultRunnerConfig() RunnerConfig {
	return RunnerConfig{
		WorkDir:            "work",
		MaxJobTime:         Duration(24 * time.Hour),
		MaxOutputBytes:     1 << 30,
		Backend:            BackendAuto,
		Runtime:            "runc",
		CDISpecDirs:        []string{"/etc/cdi", "/var/run/cdi"},
		CDIKind:            "nvidia.com/gpu",
		InsecureRegistries: []string{},
		MaxImageBytes:      20 << 30,
		ImageCacheBytes:    50 << 30,
		MaxMemoryBytes:     64 << 30,
		MaxCPUMillis:       16000,
		MaxPids:            4096,
		MaxShmBytes:        8 << 30,
		MaxDiskBytes:       200 << 30,
		DiskQuota:          DiskQuotaAuto,
		Userns:             UsernsAuto,
		Egress:             EgressDeny,
		EgressPool:         "10.254.0.0/16",
		ManifestTimeout:    Duration(5 * time.Minute),
	}
}

// TestRunnerConfig has short, small limits and the process backend.
func TestRunnerConfig() RunnerConfig {
	c := DefaultRunnerConfig()
	c.MaxJobTime = Duration(time.Minute)
	c.MaxOutputBytes = 1 << 20
	c.Backend = BackendProcess
	c.MaxImageBytes = 64 << 20
	c.ImageCacheBytes = 128 << 20
	c.MaxMemoryBytes = 256 << 20
	c.MaxCPUMillis = 1000
	c.MaxPids = 64
	c.MaxShmBytes = 16 << 20
	c.MaxDiskBytes = 256 << 20
	c.ManifestTimeout = Duration(10 * time.Minute) // longer than any test
	return c
}

// ValidateBasic checks that the limits are positive and plausible. Zero
// container limits mean the defaults (so configurations written before
// they existed still load).
func (c RunnerConfig) ValidateBasic() error {
	if c.WorkDir == "" {
		return fieldErrorf("work_dir", "must not be empty")
	}
	if c.MaxJobTime.Std() < time.Second {
		return fieldErrorf("max_job_time", "%s is less than 1s", c.MaxJobTime)
	}
	if c.MaxJobTime.Std() > maxJobTimeLimit {
		return fieldErrorf("max_job_time", "%s is more than %s", c.MaxJobTime, maxJobTimeLimit)
	}
	if c.MaxOutputBytes == 0 {
		return fieldErrorf("max_output_bytes", "must be positive")
	}
	if c.MaxOutputBytes > maxOutputBytesLimit {
		return fieldErrorf("max_output_bytes", "%d is more than 1 TiB", c.MaxOutputBytes)
	}
	if !slices.Contains([]string{"", BackendAuto, BackendContainer, BackendProcess}, c.Backend) {
		return fieldErrorf("backend", "%q is not auto, container or process", c.Backend)
	}
	if c.DiskQuota != "" && c.DiskQuota != DiskQuotaAuto && c.DiskQuota != DiskQuotaPoll {
		return fieldErrorf("disk_quota", "%q is not auto or poll", c.DiskQuota)
	}
	if c.Userns != "" && c.Userns != UsernsAuto && c.Userns != UsernsOff {
		return fieldErrorf("userns", "%q is not auto or off", c.Userns)
	}
	if c.Egress != "" && c.Egress != EgressDeny && c.Egress != EgressAllow {
		return fieldErrorf("egress", "%q is not deny or allow", c.Egress)
	}
	if c.EgressPool != "" {
		if err := validEgressPool(c.EgressPool); err != nil {
			return fieldErrorf("egress_pool", "%v", err)
		}
	}
	if c.CDIKind != "" && !strings.Contains(c.CDIKind, "/") {
		return fieldErrorf("cdi_kind", "%q is not vendor/class", c.CDIKind)
	}
	if c.MaxPids < 0 {
		return fieldErrorf("max_pids", "must not be negative")
	}
	if c.ManifestTimeout < 0 {
		return fieldErrorf("manifest_timeout", "must not be negative")
	}
	return nil
}

// WithDefaults returns c with its zero container settings filled in from
// DefaultRunnerConfig.
func (c RunnerConfig) WithDefaults() RunnerConfig {
	d := DefaultRunnerConfig()
	if c.Backend == "" {
		c.Backend = d.Backend
	}
	if c.Runtime == "" {
		c.Runtime = d.Runtime
	}
	if c.CDISpecDirs == nil {
		c.CDISpecDirs = d.CDISpecDirs
	}
	if c.CDIKind == "" {
		c.CDIKind = d.CDIKind
	}
	if c.MaxImageBytes == 0 {
		c.MaxImageBytes = d.MaxImageBytes
	}
	if c.ImageCacheBytes == 0 {
		c.ImageCacheBytes = d.ImageCacheBytes
	}
	if c.MaxMemoryBytes == 0 {
		c.MaxMemoryBytes = d.MaxMemoryBytes
	}
	if c.MaxCPUMillis == 0 {
		c.MaxCPUMillis = d.MaxCPUMillis
	}
	if c.MaxPids == 0 {
		c.MaxPids = d.MaxPids
	}
	if c.MaxShmBytes == 0 {
		c.MaxShmBytes = d.MaxShmBytes
	}
	if c.MaxDiskBytes == 0 {
		c.MaxDiskBytes = d.MaxDiskBytes
	}
	if c.Userns == "" {
		c.Userns = d.Userns
	}
	if c.DiskQuota == "" {
		c.DiskQuota = d.DiskQuota
	}
	if c.Egress == "" {
		c.Egress = d.Egress
	}
	if c.EgressPool == "" {
		c.EgressPool = d.EgressPool
	}
	if c.ManifestTimeout == 0 {
		c.ManifestTimeout = d.ManifestTimeout
	}
	return c
}

// validEgressPool checks that the containers' address pool is an IPv4
// private range (10/8, 172.16/12, 192.168/16 or 100.64/10: one the egress
// rules block as a destination, so containers cannot reach each other)
// holding at least one /30.
func validEgressPool(s string) error {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return err
	}
	if !p.Addr().Is4() || p.Bits() > 30 {
		return fmt.Errorf("%s is not an IPv4 range of at least a /30", s)
	}
	for _, r := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"} {
		if q := netip.MustParsePrefix(r); q.Bits() <= p.Bits() && q.Contains(p.Addr()) {
			return nil
		}
	}
	return fmt.Errorf("%s is not inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10", s)
}
