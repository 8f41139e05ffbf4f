package runner

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// backend is how a job runs: a host process (development only) or an OCI
// container. The runner owns the job's lifecycle (log, limits, status);
// the backend only builds, signals and cleans up what runs.
type backend interface {
	// name is "process" or "container".
	name() string
	// prepare builds the job's execution: for a container it pulls and
	// unpacks the image and writes the bundle. ctx is cancelled when the job
	// is stopped. The returned command is not started.
	prepare(ctx context.Context, j *jobSpec) (*execution, error)
	// reap cleans up what a job that was live when the sidecar stopped left
	// behind (processes, a container, its rootfs) and says what it did.
	reap(leaseID uint64, dir string, st Status) string
	// wipe removes what a finished job no longer needs (rootfs, volume).
	wipe(leaseID uint64, dir string)
}

// jobSpec is what a backend needs to know of a job.
type jobSpec struct {
	leaseID  uint64
	dir      string // lease directory
	jobDir   string // host path of the job directory
	outputs  string // outputs dir, relative to the job directory
	manifest Manifest
	gpus     []string
	// setImage records the resolved image digest in the status.
	setImage func(digest string)
}

// execution is a prepared job.
type execution struct {
	// cmd is the process the runner starts and waits for (the job itself,
	// or the shim running the OCI runtime in the foreground). Its
	// Stdout, Stderr and SysProcAttr are set by the runner.
	cmd *exec.Cmd
	// terminate asks the job to stop (SIGTERM).
	terminate func(pid int)
	// kill kills everything the job started (SIGKILL).
	kill func(pid int)
	// cleanup runs once after the job ended and was killed.
	cleanup func()
	// dial connects to one of the job's ports.
	dial func(ctx context.Context, port uint16) (net.Conn, error)
	// detached marks a job that outlives the sidecar (a container under
	// its runtime's shim): it runs in its own session without a death
	// signal, and Detach leaves it running.
	detached bool
	// logFIFO, when set, is the FIFO the job's output goes through (it
	// survives the sidecar; a pipe would not).
	logFIFO string
	// started, when set, records what a restarted sidecar needs to
	// re-adopt the job, once its process pid runs.
	started func(pid int) error
	// overLimit, when set, is polled every diskPoll while the job runs; an
	// error stops the job and becomes its failure reason.
	overLimit func() error
}

// processBackend runs a job as a host process in its own process group.
type processBackend struct{}

func (processBackend) name() string { return "process" }

func (processBackend) prepare(_ context.Context, j *jobSpec) (*execution, error) {
	m := j.manifest
	argv := append(append([]string{}, m.Command...), m.Args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = j.jobDir
	cmd.Env = append([]string{"PATH=" + DefaultPath, "HOME=" + j.jobDir}, m.sortedEnv()...)
	cmd.Env = append(cmd.Env, runnerEnv(j.leaseID, j.gpus, j.jobDir, j.outputs)...)
	return &execution{
		cmd:       cmd,
		terminate: func(pid int) { _ = syscall.Kill(-pid, syscall.SIGTERM) },
		kill:      func(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) },
		cleanup:   func() {},
		dial: func(ctx context.Context, port uint16) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
		},
	}, nil
}

func (processBackend) reap(_ uint64, dir string, st Status) string {
	if st.PID > 0 {
		if n := killLeftovers(st.PID, jobDirOf(dir)); n > 0 {
			return "killed " + strconv.Itoa(n) + " processes the job left running"
		}
	}
	return ""
}

func (processBackend) wipe(uint64, string) {}

// runnerEnv is the runner's variables for a job whose job directory is
// jobDir (as the job sees it).
func runnerEnv(leaseID uint64, gpus []string, jobDir, outputs string) []string {
	g := joinGPUs(gpus)
	return []string{
		EnvCUDAVisibleDevices + "=" + g,
		EnvNVIDIAVisibleDevices + "=" + g,
		EnvLeaseID + "=" + strconv.FormatUint(leaseID, 10),
		EnvWorkDir + "=" + jobDir,
		EnvOutputDir + "=" + jobDir + "/" + outputs,
	}
}

// openFIFO creates the FIFO at path (replacing any file there) and opens
// it twice: r, the runner's read end, and w, the job's stdout and stderr.
// w is opened read-write, so the job's writes never fail with EPIPE while
// no sidecar reads (between a sidecar's exit and the next one's start):
// they wait in the pipe's buffer, then block, until a reader is back.
func openFIFO(path string) (r, w *os.File, err error) {
	_ = os.Remove(path)
	if err := unix.Mkfifo(path, 0o600); err != nil {
		return nil, nil, err
	}
	r, err = openFIFOReader(path)
	if err != nil {
		return nil, nil, err
	}
	w, err = os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		_ = r.Close()
		return nil, nil, err
	}
	// A larger buffer holds more output while no sidecar reads (best effort).
	_, _ = unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, fifoBuffer)
	return r, w, nil
}

// fifoBuffer is the log FIFO's buffer size asked for.
const fifoBuffer = 1 << 20

// openFIFOReader opens a FIFO's read end without waiting for a writer; it
// reads through the runtime poller, so Close ends a blocked Read.
func openFIFOReader(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}
