package runner

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"tags.cncf.io/container-device-interface/pkg/cdi"

	"github.com/crucible-network/crucible/sidecar/config"
)

// ContainerWorkDir is where a container sees its lease's job directory;
// VolumeDir is where it sees its persistent volume.
const (
	ContainerWorkDir = "/crucible"
	VolumeDir        = "/volume"
)

// runtimeTimeout bounds one call of the OCI runtime (state, kill, delete).
const runtimeTimeout = 30 * time.Second

// containerBackend runs each job in an OCI container with the OCI runtime
// (runc): its own PID, mount, network, IPC, UTS and cgroup namespaces, the
// image's rootfs and only the lease's directories, cgroup limits, default
// capabilities, no-new-privileges, a seccomp filter, and only the leased
// GPUs, injected through CDI.
//
// Per lease, beside the job directory: rootfs/ (the unpacked image),
// bundle/config.json (the runtime spec) and volume/ (the persistent volume,
// when asked for). The runtime's state lives under <work_dir>/runc, so a
// restarted sidecar finds its containers; cached layers under
// <work_dir>/images.
type containerBackend struct {
	cfg       config.RunnerConfig
	runtime   string // absolute path of runc
	stateRoot string // runc --root
	cgroup    string // cgroups path prefix of this work dir
	images    *imageStore
	logger    *slog.Logger
	// userns is set when containers get a user namespace mapping their
	// ids 0..UsernsSize-1 to host ids UsernsBase and up.
	userns bool
	// egress is set when containers may reach the internet (netns.go).
	egress    *egressNet
	netMu     sync.Mutex
	egressErr error // the egress rules could not be installed
	// diskMode is how disk limits are enforced: DiskFilesystem or DiskPoll.
	diskMode string
	hash     string // of the work dir: names its cgroup, links and table
}

// User namespace mapping: container ids 0..UsernsSize-1 are host ids
// UsernsBase and up (unprivileged on the host: they own nothing there but
// the lease's files).
const (
	UsernsBase = 1000000
	UsernsSize = 65536
)

// usernsPossible says whether containers can get a user namespace: the
// kernel allows them, and every directory above the work dir lets others
// through (the container's root, an unprivileged host uid, must reach its
// rootfs and lease directories). The runner's own directories are made
// traversable (0711; their contents keep their modes).
func usernsPossible(workDir string) (bool, string) {
	b, err := os.ReadFile("/proc/sys/user/max_user_namespaces")
	if err != nil || strings.TrimSpace(string(b)) == "0" {
		return false, "the kernel allows no user namespaces (/proc/sys/user/max_user_namespaces)"
	}
	for d := filepath.Dir(workDir); ; d = filepath.Dir(d) {
		info, err := os.Stat(d)
		if err != nil {
			return false, err.Error()
		}
		if info.Mode().Perm()&0o001 == 0 {
			return false, d + " is not traversable by other users (chmod o+x, or put runner.work_dir elsewhere)"
		}
		if d == filepath.Dir(d) {
			break
		}
	}
	for _, d := range []string{workDir, filepath.Join(workDir, "leases")} {
		if err := os.Chmod(d, 0o711); err != nil {
			return false, err.Error()
		}
	}
	return true, ""
}

// idShift is what container ids are shifted by on the host.
func (b *containerBackend) idShift() int {
	if b.userns {
		return UsernsBase
	}
	return 0
}

func newContainerBackend(cfg config.RunnerConfig, runtimePath, workDir string, logger *slog.Logger) (*containerBackend, error) {
	state := filepath.Join(workDir, "runc")
	if err := os.MkdirAll(state, 0o700); err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	images, err := newImageStore(filepath.Join(workDir, "images"), cfg.MaxImageBytes, cfg.ImageCacheBytes, cfg.RegistryAuthFile, cfg.InsecureRegistries)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(workDir))
	userns := false
	if cfg.Userns != config.UsernsOff {
		ok, why := usernsPossible(workDir)
		if ok {
			userns = true
		} else {
			logger.Warn("containers run without a user namespace (their root is host root, confined by capabilities, seccomp and the filesystem view)", "why", why)
		}
	}
	mode, why := diskMode(cfg, workDir)
	if mode == DiskFilesystem {
		logger.Info("disk limits: each container's rootfs and job directory, and its volume, on ext4 images of their size (writes past a limit fail with ENOSPC)")
	} else {
		logger.Warn("disk limits: polled every second (a job over its limit is killed); filesystem limits need root, loop devices and mkfs.ext4", "why", why)
	}
	var egress *egressNet
	if cfg.Egress == config.EgressAllow {
		if egress, err = newEgressNet(cfg, hex.EncodeToString(sum[:])); err != nil {
			return nil, err
		}
	}
	return &containerBackend{
		diskMode:  mode,
		egress:    egress,
		userns:    userns,
		cfg:       cfg,
		runtime:   runtimePath,
		stateRoot: state,
		cgroup:    "/crucible/" + hex.EncodeToString(sum[:6]),
		hash:      hex.EncodeToString(sum[:]),
		images:    images,
		logger:    logger,
	}, nil
}

func (b *containerBackend) name() string { return config.BackendContainer }

// containerID is the runtime's name of a lease's container.
func containerID(leaseID uint64) string { return "crucible-" + strconv.FormatUint(leaseID, 10) }

// runc runs the OCI runtime with args and returns its combined output.
func (b *containerBackend) runc(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), runtimeTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, b.runtime, append([]string{"--root", b.stateRoot}, args...)...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", filepath.Base(b.runtime), args[0], err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// initPID returns the host pid of a running container's first process.
func (b *containerBackend) initPID(id string) (int, error) {
	out, err := b.runc("state", id)
	if err != nil {
		return 0, err
	}
	var st struct {
		Pid    int    `json:"pid"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return 0, err
	}
	if st.Status != "running" || st.Pid <= 0 {
		return 0, fmt.Errorf("container %s is %s", id, st.Status)
	}
	return st.Pid, nil
}

func (b *containerBackend) prepare(ctx context.Context, j *jobSpec) (*execution, error) {
	m := j.manifest
	rootfs := filepath.Join(j.dir, "rootfs")
	bundle := filepath.Join(j.dir, "bundle")
	b.wipe(j.leaseID, j.dir)
	if b.userns {
		// The container's root must reach its rootfs and bundle.
		if err := os.Chmod(j.dir, 0o711); err != nil {
			return nil, fmt.Errorf("runner: %w", err)
		}
	}
	var disk *diskState
	if b.diskMode == DiskFilesystem {
		diskLimit := b.cfg.MaxDiskBytes
		if m.Resources.DiskBytes > 0 {
			diskLimit = m.Resources.DiskBytes
		}
		mnt := filepath.Join(j.dir, "disk")
		if err := makeDisk(mnt, diskLimit, b.idShift()); err != nil {
			return nil, fmt.Errorf("disk: %v", err)
		}
		disk = &diskState{Job: filepath.Join(mnt, "job"), Outputs: j.outputs}
		rootfs = filepath.Join(mnt, "rootfs")
		if err := os.MkdirAll(filepath.Join(disk.Job, filepath.FromSlash(j.outputs)), 0o700); err != nil {
			b.wipe(j.leaseID, j.dir)
			return nil, fmt.Errorf("runner: %w", err)
		}
		j.jobDir = disk.Job
		if m.VolumeBytes > 0 {
			if err := makeDisk(filepath.Join(j.dir, "volume"), m.VolumeBytes, b.idShift()); err != nil {
				b.wipe(j.leaseID, j.dir)
				return nil, fmt.Errorf("volume: %v", err)
			}
		}
	}
	ok := false
	var netst *netState
	defer func() {
		if !ok {
			b.netDown(netst)
			b.wipe(j.leaseID, j.dir)
		}
	}()
	img, err := b.images.unpack(ctx, m.Image, rootfs, b.idShift())
	if err != nil {
		return nil, fmt.Errorf("image %s: %v", m.Image, err)
	}
	j.setImage(img.digest)
	spec, err := b.spec(j, img, rootfs)
	if err != nil {
		return nil, err
	}
	netst, err = b.netUp(j.leaseID, spec)
	if err != nil {
		return nil, fmt.Errorf("network: %v", err)
	}
	if err := os.MkdirAll(bundle, 0o700); err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	sb, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), sb, 0o600); err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	id := containerID(j.leaseID)
	// A container of this name left by a crash would block the new one.
	_, _ = b.runc("delete", "--force", id)
	cs := &containerState{
		LeaseID:   j.leaseID,
		Container: id,
		Net:       netst,
		Disk:      disk,
	}
	exitFile := filepath.Join(j.dir, exitFileName)
	_ = os.Remove(exitFile)
	// The shim: a host shell that runs the runtime in the foreground and
	// records the container's exit code, so that a sidecar that restarts
	// meanwhile still learns how the job ended.
	cmd := exec.Command("/bin/sh", "-c", shimScript, "crucible-shim", exitFile,
		b.runtime, "--root", b.stateRoot, "run", "--bundle", bundle, id)
	ex := b.execution(j.leaseID, j.dir, m, cs)
	ex.cmd = cmd
	ex.started = func(pid int) error {
		cs.ShimPID = pid
		cs.ShimStart = procStartTime(pid)
		return writeContainerState(j.dir, cs)
	}
	ok = true
	return ex, nil
}

// shimScript runs "$@" (the runtime) and writes its exit code to the file
// $1 (atomically: a temporary file renamed).
const shimScript = `f="$1"; shift; "$@"; rc=$?; echo "$rc" >"$f.tmp" && mv -f "$f.tmp" "$f"; exit "$rc"`

// Files of a container's lease directory: the shim's record of the exit
// code, the log FIFO, and the state a restarted sidecar re-adopts from.
const (
	exitFileName  = "exit"
	logFIFOName   = "log.fifo"
	stateFileName = "container.json"
)

// containerState is what a restarted sidecar needs to re-adopt a running
// container, beside status.json (lease, ports, outputs dir, log size) and
// manifest.json: <lease dir>/container.json.
type containerState struct {
	LeaseID   uint64 `json:"lease_id"`
	Container string `json:"container"`
	// ShimPID is the shim's pid, ShimStart its start time (clock ticks
	// after boot, /proc/<pid>/stat), so a reused pid is not mistaken for it.
	ShimPID   int    `json:"shim_pid"`
	ShimStart uint64 `json:"shim_start"`
	// Net is the container's egress network, when it has one.
	Net *netState `json:"net,omitempty"`
	// Disk is set when its disk limits are filesystems.
	Disk *diskState `json:"disk,omitempty"`
}

func writeContainerState(dir string, cs *containerState) error {
	return writeJSON(dir, stateFileName, cs)
}

func readContainerState(dir string) (*containerState, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFileName))
	if err != nil {
		return nil, err
	}
	var cs containerState
	if err := json.Unmarshal(b, &cs); err != nil {
		return nil, fmt.Errorf("%s: %w", stateFileName, err)
	}
	return &cs, nil
}

// execution is how the runner stops, reaches and watches a lease's
// container (a new one, or one re-adopted after a restart).
func (b *containerBackend) execution(leaseID uint64, dir string, m Manifest, cs *containerState) *execution {
	id := containerID(leaseID)
	rootfs := filepath.Join(dir, "rootfs")
	jobDir := jobDirOf(dir)
	volume := filepath.Join(dir, "volume")
	diskLimit := b.cfg.MaxDiskBytes
	if m.Resources.DiskBytes > 0 {
		diskLimit = m.Resources.DiskBytes
	}
	return &execution{
		detached: true,
		logFIFO:  filepath.Join(dir, logFIFOName),
		terminate: func(int) {
			_, _ = b.runc("kill", id, "TERM")
		},
		kill: func(pid int) {
			_, _ = b.runc("kill", "--all", id, "KILL")
			_ = unix.Kill(-pid, unix.SIGKILL) // the shim's session: shim and runtime
		},
		cleanup: func() {
			if _, err := b.runc("delete", "--force", id); err != nil {
				b.logger.Debug("delete container", "lease", leaseID, "err", err)
			}
			if cs.Disk != nil {
				// The result is read from the host's job directory.
				if err := copyOutputs(cs.Disk.Job, jobDir, cs.Disk.Outputs, int64(b.cfg.MaxOutputBytes)); err != nil {
					b.logger.Warn("copy the outputs off the disk filesystem", "lease", leaseID, "err", err)
				}
			}
			b.netDown(cs.Net)
			b.wipe(leaseID, dir)
		},
		dial: func(ctx context.Context, port uint16) (net.Conn, error) {
			pid, err := b.initPID(id)
			if err != nil {
				return nil, err
			}
			return dialInNetns(ctx, pid, net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
		},
		overLimit: func() error {
			if cs.Disk != nil {
				return nil // the filesystems enforce the limits
			}
			if n := diskUse(rootfs) + diskUse(jobDir); n > diskLimit {
				return fmt.Errorf("disk limit exceeded: the rootfs and job directory hold %d bytes, more than %d; the job was killed", n, diskLimit)
			}
			if m.VolumeBytes > 0 {
				if n := diskUse(volume); n > m.VolumeBytes {
					return fmt.Errorf("volume limit exceeded: the volume holds %d bytes, more than volume_bytes (%d); the job was killed", n, m.VolumeBytes)
				}
			}
			return nil
		},
	}
}

// adopt picks up a container a previous sidecar started (see
// Runner.Detach): its shim must still run (or have recorded the exit
// code), and its output FIFO is opened again.
func (b *containerBackend) adopt(leaseID uint64, dir string, _ Status, m Manifest) (*execution, *proc, *os.File, error) {
	cs, err := readContainerState(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	if cs.LeaseID != leaseID || cs.Container != containerID(leaseID) || cs.ShimPID <= 1 {
		return nil, nil, nil, fmt.Errorf("%s does not describe lease %d's container", stateFileName, leaseID)
	}
	exitFile := filepath.Join(dir, exitFileName)
	pid := cs.ShimPID
	exited, err := waitForeign(cs.ShimPID, cs.ShimStart)
	switch {
	case err == nil:
	case fileExists(exitFile):
		// The job ended while no sidecar ran: collect it.
		done := make(chan struct{})
		close(done)
		exited = done
	default:
		// The shim was killed (a service manager that kills the sidecar's
		// whole cgroup, say) but the container, in its own cgroup, may
		// run on: follow its first process; its exit code is lost.
		ipid, ierr := b.initPID(cs.Container)
		if ierr != nil {
			return nil, nil, nil, fmt.Errorf("its shim is gone (%v) and so is the container (%v)", err, ierr)
		}
		if exited, err = waitForeign(ipid, procStartTime(ipid)); err != nil {
			return nil, nil, nil, err
		}
		pid = ipid
		b.logger.Warn("the container's shim is gone: following the container itself; its exit code will be unknown (run the sidecar with KillMode=process under systemd)", "lease", leaseID)
	}
	logSrc, err := openFIFOReader(filepath.Join(dir, logFIFOName))
	if err != nil {
		return nil, nil, nil, err
	}
	if cs.Net != nil && b.egress == nil {
		// Egress is deny now: the container loses its network.
		_ = ipCmd("ip", "link", "del", cs.Net.HostLink)
		b.logger.Warn("runner.egress is deny: removed the network of a re-adopted container", "lease", leaseID)
		cs.Net = nil
	}
	b.claim(cs.Net)
	p := &proc{pid: pid, exited: exited, status: func() (*int, string) {
		raw, err := os.ReadFile(exitFile)
		if err != nil {
			return nil, "the container's exit code is unknown: its runtime shim was killed while no sidecar ran"
		}
		c, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil {
			return nil, "the container's exit code is unreadable: " + err.Error()
		}
		return &c, ""
	}}
	return b.execution(leaseID, dir, m, cs), p, logSrc, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// procStartTime is a process's start time in clock ticks after boot (field
// 22 of /proc/<pid>/stat), 0 if unknown.
func procStartTime(pid int) uint64 {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0
	}
	n, _ := strconv.ParseUint(f[19], 10, 64)
	return n
}

// waitForeign returns a channel closed when process pid, which is not the
// sidecar's child, ends (a pidfd). started is its recorded start time: a
// process with another start time is not the one recorded.
func waitForeign(pid int, started uint64) (<-chan struct{}, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, fmt.Errorf("pid %d: %w", pid, err)
	}
	if st := procStartTime(pid); st == 0 || st != started {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("pid %d is not the shim recorded (start time %d, recorded %d)", pid, st, started)
	}
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		defer unix.Close(fd)
		for {
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			if _, err := unix.Poll(fds, -1); err != unix.EINTR {
				return
			}
		}
	}()
	return ch, nil
}

// reap deletes the container a crashed sidecar left running (its runtime
// process died with the sidecar; the container did not) and wipes it.
func (b *containerBackend) reap(leaseID uint64, dir string, st Status) string {
	var did []string
	if st.PID > 0 {
		if n := killLeftovers(st.PID, jobDirOf(dir)); n > 0 {
			did = append(did, fmt.Sprintf("killed %d runtime processes", n))
		}
	}
	id := containerID(leaseID)
	if _, err := b.runc("state", id); err == nil {
		if _, err := b.runc("delete", "--force", id); err != nil {
			did = append(did, "could not delete container "+id+": "+err.Error())
		} else {
			did = append(did, "deleted container "+id)
		}
	}
	if cs, err := readContainerState(dir); err == nil && cs.Net != nil {
		b.netDown(cs.Net)
		did = append(did, "removed its network")
	}
	if _, err := os.Stat(filepath.Join(dir, "rootfs")); err == nil {
		did = append(did, "wiped its rootfs and volume")
	} else if _, err := os.Stat(filepath.Join(dir, "disk")); err == nil {
		did = append(did, "wiped its disk and volume filesystems")
	}
	b.wipe(leaseID, dir)
	return strings.Join(did, "; ")
}

// close removes this work dir's cgroup directory in every hierarchy (the
// runtime removes a container's own cgroup, not the parent it created) and
// its egress rules. The runner calls it once no job runs; the shared
// /crucible parent stays, as another sidecar's runtime may be creating a
// cgroup under it. Detached containers keep both.
func (b *containerBackend) close(detached bool) {
	if detached {
		return
	}
	b.netClose()
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	roots = append(roots, "/sys/fs/cgroup")
	for _, r := range roots {
		_ = os.Remove(filepath.Join(r, b.cgroup))
	}
}

// wipe removes a lease's rootfs, bundle and volume (unmounting and
// deleting its limit filesystems).
func (b *containerBackend) wipe(_ uint64, dir string) {
	unmountDisk(filepath.Join(dir, "disk"))
	unmountDisk(filepath.Join(dir, "volume"))
	for _, d := range []string{"rootfs", "bundle", "volume", logFIFOName, exitFileName, stateFileName} {
		_ = os.RemoveAll(filepath.Join(dir, d))
	}
}

// spec builds the runtime spec of a job.
func (b *containerBackend) spec(j *jobSpec, img *pulledImage, rootfs string) (*specs.Spec, error) {
	m := j.manifest
	ic := img.config
	entry, args := ic.Entrypoint, ic.Cmd
	if len(m.Command) > 0 {
		entry, args = m.Command, nil
	}
	if len(m.Args) > 0 {
		args = m.Args
	}
	argv := append(append([]string{}, entry...), args...)
	if len(argv) == 0 {
		return nil, errors.New("the image has no entrypoint or cmd and the manifest gives no command")
	}
	uid, gid, err := imageUser(ic.User, rootfs)
	if err != nil {
		return nil, err
	}
	env := envList{}
	env.set("PATH=" + DefaultPath)
	env.set("HOME=" + ContainerWorkDir)
	for _, e := range ic.Env {
		env.set(e)
	}
	env.set("HOSTNAME=" + hostname(j.leaseID))
	for _, e := range m.sortedEnv() {
		env.set(e)
	}
	for _, e := range runnerEnv(j.leaseID, j.gpus, ContainerWorkDir, j.outputs) {
		env.set(e)
	}
	cwd := ic.WorkingDir
	if cwd == "" {
		cwd = ContainerWorkDir
	}

	r := m.Resources
	mem := int64(b.cfg.MaxMemoryBytes)
	if r.MemoryBytes > 0 {
		mem = int64(r.MemoryBytes)
	}
	pids := b.cfg.MaxPids
	if r.Pids > 0 {
		pids = r.Pids
	}
	cpu := b.cfg.MaxCPUMillis
	if r.CPUMillis > 0 {
		cpu = r.CPUMillis
	}
	period := uint64(100000)
	quota := int64(cpu * period / 1000)
	shm := min(uint64(64<<20), b.cfg.MaxShmBytes)
	if r.ShmBytes > 0 {
		shm = r.ShmBytes
	}

	caps := defaultCapabilities()
	s := &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			User: specs.User{UID: uid, GID: gid},
			Args: argv,
			Env:  env.list(),
			Cwd:  cwd,
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps,
			},
			NoNewPrivileges: true,
		},
		Root:     &specs.Root{Path: rootfs},
		Hostname: hostname(j.leaseID),
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=" + strconv.FormatUint(shm, 10)}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: ContainerWorkDir, Type: "bind", Source: j.jobDir, Options: []string{"rbind", "rw", "nosuid", "nodev"}},
		},
		Linux: &specs.Linux{
			CgroupsPath: b.cgroup + "/lease-" + strconv.FormatUint(j.leaseID, 10),
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace}, {Type: specs.CgroupNamespace},
			},
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
				Memory:  &specs.LinuxMemory{Limit: &mem},
				CPU:     &specs.LinuxCPU{Quota: &quota, Period: &period},
				Pids:    &specs.LinuxPids{Limit: pids},
			},
			MaskedPaths: []string{
				"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
				"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
				"/proc/scsi", "/sys/devices/virtual/powercap",
			},
			ReadonlyPaths: []string{
				"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
			},
			Seccomp: defaultSeccomp(),
		},
	}
	if m.VolumeBytes > 0 {
		vol := filepath.Join(j.dir, "volume")
		if err := os.MkdirAll(vol, 0o700); err != nil {
			return nil, fmt.Errorf("runner: %w", err)
		}
		_ = os.Chown(vol, b.idShift()+int(uid), b.idShift()+int(gid))
		s.Mounts = append(s.Mounts, specs.Mount{Destination: VolumeDir, Type: "bind", Source: vol, Options: []string{"rbind", "rw", "nosuid", "nodev"}})
	}
	if shift := b.idShift(); uid != 0 || shift != 0 {
		_ = chownTree(j.jobDir, shift+int(uid), shift+int(gid))
	}
	if b.userns {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: UsernsBase, Size: UsernsSize}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: UsernsBase, Size: UsernsSize}}
	}
	if len(j.gpus) > 0 {
		if err := b.injectGPUs(s, j.gpus); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// injectGPUs adds the leased GPUs (and nothing else) to the spec through
// their CDI devices "<cdi_kind>=<uuid>".
func (b *containerBackend) injectGPUs(s *specs.Spec, gpus []string) error {
	cache, err := cdi.NewCache(cdi.WithSpecDirs(b.cfg.CDISpecDirs...), cdi.WithAutoRefresh(false))
	if err != nil {
		return fmt.Errorf("CDI: %w", err)
	}
	if err := cache.Refresh(); err != nil {
		b.logger.Warn("CDI specs with errors", "err", err)
	}
	devs := make([]string, len(gpus))
	for i, g := range gpus {
		devs[i] = b.cfg.CDIKind + "=" + g
	}
	if unresolved, err := cache.InjectDevices(s, devs...); err != nil {
		if len(unresolved) > 0 {
			return fmt.Errorf("no CDI device for the leased GPUs %s in %s (on an NVIDIA host: nvidia-ctk cdi generate --device-name-strategy=uuid)", strings.Join(unresolved, ", "), strings.Join(b.cfg.CDISpecDirs, ", "))
		}
		return fmt.Errorf("CDI: %w", err)
	}
	if b.userns {
		bindDevices(s, cache, devs)
	}
	return nil
}

// bindDevices turns the spec's device nodes into bind mounts of the host's
// nodes (as the CDI specs name them): in a user namespace the runtime
// cannot mknod, and binds the node at the container path from the same
// path on the host, which a CDI hostPath may not be. The device cgroup
// rules CDI added stay.
func bindDevices(s *specs.Spec, cache *cdi.Cache, devs []string) {
	host := map[string]string{}
	for _, name := range devs {
		d := cache.GetDevice(name)
		if d == nil {
			continue
		}
		nodes := d.ContainerEdits.DeviceNodes
		if sp := d.GetSpec(); sp != nil && sp.Spec != nil {
			nodes = append(nodes, sp.ContainerEdits.DeviceNodes...)
		}
		for _, n := range nodes {
			if n.HostPath != "" {
				host[n.Path] = n.HostPath
			} else {
				host[n.Path] = n.Path
			}
		}
	}
	kept := s.Linux.Devices[:0]
	for _, d := range s.Linux.Devices {
		src, ok := host[d.Path]
		if !ok {
			kept = append(kept, d)
			continue
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: d.Path, Type: "bind", Source: src, Options: []string{"bind", "nosuid", "noexec"}})
	}
	s.Linux.Devices = kept
}

func hostname(leaseID uint64) string { return "lease-" + strconv.FormatUint(leaseID, 10) }

// defaultCapabilities is Docker's default set less CAP_MKNOD and CAP_NET_RAW.
func defaultCapabilities() []string {
	return []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID",
		"CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
	}
}

// defaultSeccomp allows every system call but those Docker's default
// profile refuses to an unprivileged container (kernel modules, mounts,
// namespaces, ptrace, keyrings, bpf, clocks, reboot...), which fail with
// EPERM; clone3 fails with ENOSYS so that libcs fall back to clone, whose
// CLONE_NEWUSER flag is refused.
func defaultSeccomp() *specs.LinuxSeccomp {
	eperm, enosys := uint(unix.EPERM), uint(unix.ENOSYS)
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32, specs.ArchAARCH64, specs.ArchARM},
		Syscalls: []specs.LinuxSyscall{
			{
				Names: []string{
					"acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
					"finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms", "init_module",
					"ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie",
					"mount", "mount_setattr", "move_mount", "name_to_handle_at", "nfsservctl", "open_by_handle_at",
					"open_tree", "perf_event_open", "pivot_root", "process_vm_readv", "process_vm_writev",
					"ptrace", "query_module", "quotactl", "quotactl_fd", "reboot", "request_key", "setns",
					"settimeofday", "stime", "swapoff", "swapon", "syslog", "sysfs", "_sysctl", "umount",
					"umount2", "unshare", "uselib", "userfaultfd", "ustat", "vm86", "vm86old",
				},
				Action:   specs.ActErrno,
				ErrnoRet: &eperm,
			},
			{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &enosys},
			{
				Names:    []string{"clone"},
				Action:   specs.ActErrno,
				ErrnoRet: &eperm,
				Args:     []specs.LinuxSeccompArg{{Index: 0, Value: unix.CLONE_NEWUSER, ValueTwo: unix.CLONE_NEWUSER, Op: specs.OpMaskedEqual}},
			},
		},
	}
}

// imageUser resolves the image's user ("", "uid", "uid:gid", "name",
// "name:group") against the rootfs's /etc/passwd and /etc/group.
func imageUser(user, rootfs string) (uint32, uint32, error) {
	if user == "" {
		return 0, 0, nil
	}
	u, g, hasGroup := strings.Cut(user, ":")
	uid, err := lookupID(u, filepath.Join(rootfs, "etc", "passwd"))
	if err != nil {
		return 0, 0, fmt.Errorf("image user %q: %v", user, err)
	}
	gid := uint32(0)
	if hasGroup {
		if gid, err = lookupID(g, filepath.Join(rootfs, "etc", "group")); err != nil {
			return 0, 0, fmt.Errorf("image user %q: %v", user, err)
		}
	} else {
		gid = primaryGroup(u, filepath.Join(rootfs, "etc", "passwd"))
	}
	return uid, gid, nil
}

// lookupID parses a numeric id or looks a name up in a passwd or group
// file of the rootfs (name:x:id:...). The file is opened with O_NOFOLLOW:
// a symlink planted in the image could point outside the rootfs.
func lookupID(s, file string) (uint32, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return uint32(n), nil
	}
	f, err := os.OpenFile(file, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return 0, fmt.Errorf("no such user or group (%v)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 3 && fields[0] == s {
			n, err := strconv.ParseUint(fields[2], 10, 32)
			if err != nil {
				return 0, err
			}
			return uint32(n), nil
		}
	}
	return 0, fmt.Errorf("%s is not in the image's %s", s, filepath.Base(file))
}

// primaryGroup is the group of a user in the passwd file (0 if unknown).
func primaryGroup(user, passwd string) uint32 {
	f, err := os.OpenFile(passwd, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 4 && (fields[0] == user || fields[2] == user) {
			if n, err := strconv.ParseUint(fields[3], 10, 32); err == nil {
				return uint32(n)
			}
		}
	}
	return 0
}

// chownTree gives a job directory to the container's user.
func chownTree(dir string, uid, gid int) error {
	return filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// diskUse is the space the files under dir take (allocated blocks; hard
// links count once per name).
func diskUse(dir string) uint64 {
	var n uint64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				n += uint64(st.Blocks) * 512
			}
		}
		return nil
	})
	return n
}

// envList is an environment where a later KEY=value replaces an earlier one.
type envList struct {
	keys []string
	vals map[string]string
}

func (e *envList) set(kv string) {
	k, _, _ := strings.Cut(kv, "=")
	if e.vals == nil {
		e.vals = map[string]string{}
	}
	if _, ok := e.vals[k]; !ok {
		e.keys = append(e.keys, k)
	}
	e.vals[k] = kv
}

func (e *envList) list() []string {
	out := make([]string, len(e.keys))
	for i, k := range e.keys {
		out[i] = e.vals[k]
	}
	return out
}

// dialInNetns connects to addr from inside the network namespace of pid:
// the socket is created on an OS thread switched into that namespace, and
// stays in it after the thread switches back. If the thread cannot switch
// back it stays locked, and Go ends it with the goroutine.
func dialInNetns(ctx context.Context, pid int, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		defer self.Close()
		target, err := os.Open("/proc/" + strconv.Itoa(pid) + "/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, fmt.Errorf("enter the container's network: %w", err)}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}
