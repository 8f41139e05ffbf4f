// Package runner runs leased jobs as local processes on the lease's GPUs.
//
// A tenant's job manifest (see Manifest) is checked against the hash the
// order carries, then run in a per-lease directory under the configured work
// dir with CUDA_VISIBLE_DEVICES and NVIDIA_VISIBLE_DEVICES set to the lease's
// GPU UUIDs, a time limit (max_job_time, or the manifest's own smaller
// max_runtime) and an output limit (max_output_bytes over the log and the
// outputs directory together). Its combined stdout and stderr go to a log
// that any number of readers can follow (Subscribe). On success the outputs
// directory becomes a Result whose hash (ResultHash) the provider posts on
// chain.
//
// Layout of <work_dir>/leases/<lease id>/: status.json (the Status, written
// atomically on every change), manifest.json (the bytes the tenant sent),
// job.log, and job/ (the job's working directory and $HOME, holding the
// outputs directory). A new Runner reloads every status.json. A running
// container that a previous runner left (Detach; or a crash) is re-adopted
// (see container.go: the shim, the log FIFO, container.json). Other jobs
// that were pending or running have no process any more and are marked
// failed with reason "sidecar restarted"; what is left of them (the
// processes a process-backend job started, which outlive the sidecar; a
// container whose shim is gone) is killed and wiped.
package runner

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/crucible-network/crucible/sidecar/config"
)

// DefaultPath is the PATH a job starts with (the manifest's env may replace it).
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// KillGrace is how long a job has between SIGTERM and SIGKILL when it is
// stopped (time limit, output limit, cancel, shutdown).
const KillGrace = 5 * time.Second

// pipeDrain bounds the wait for the log pipe to drain after the job's
// process group is gone (a process that left the group may hold it open).
const pipeDrain = 2 * time.Second

// Stop causes.
var (
	errCancelled = errors.New(ReasonCancelled)
	errStopped   = errors.New(ReasonStopped)
	errTimeout   = errors.New("time limit exceeded")
)

// Runner runs jobs, one per lease. It is safe for concurrent use.
type Runner struct {
	cfg    config.RunnerConfig
	logger *slog.Logger
	dir    string // absolute <work_dir>/leases
	now    func() time.Time
	be     backend

	mu     sync.Mutex
	jobs   map[uint64]*job
	closed bool
	wg     sync.WaitGroup
}

// job is one lease's job. status is guarded by Runner.mu.
type job struct {
	dir    string // lease directory
	status Status
	log    *jobLog
	cancel context.CancelCauseFunc // nil once the job ended
	done   chan struct{}
	ports  []Port
	exec   *execution // set while the job runs
}

// New returns a runner over cfg.WorkDir, creating it if needed, and reloads
// the jobs recorded there (see the package documentation). A nil logger
// discards logs.
func New(cfg config.RunnerConfig, logger *slog.Logger) (*Runner, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("runner config: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(filepath.Join(cfg.WorkDir, "leases"))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	r := &Runner{
		cfg:    cfg,
		logger: logger.With("module", "runner"),
		dir:    dir,
		now:    time.Now,
		jobs:   map[uint64]*job{},
	}
	be, err := newBackend(cfg, dir, r.logger)
	if err != nil {
		return nil, err
	}
	r.be = be
	r.logger.Info("lease runner ready", "backend", be.name())
	if err := r.recover(); err != nil {
		return nil, err
	}
	return r, nil
}

// recover loads every lease directory's status.json.
func (r *Runner) recover() error {
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	for _, e := range entries {
		id, err := strconv.ParseUint(e.Name(), 10, 64)
		if err != nil || !e.IsDir() || strconv.FormatUint(id, 10) != e.Name() {
			continue
		}
		dir := filepath.Join(r.dir, e.Name())
		st, err := readStatus(dir)
		if errors.Is(err, os.ErrNotExist) {
			// Start died before its first status write: nothing ran.
			r.logger.Warn("removing lease directory without status", "lease", id, "dir", dir)
			_ = os.RemoveAll(dir)
			continue
		}
		if err != nil {
			return err
		}
		if st.LeaseID != id {
			return fmt.Errorf("runner: %s records lease %d", dir, st.LeaseID)
		}
		if !st.State.Final() {
			if r.adopt(id, dir, st) {
				continue
			}
			if did := r.be.reap(id, dir, st); did != "" {
				r.logger.Warn("cleaned up what the job left running", "lease", id, "did", did)
			}
			st.State = StateFailed
			st.Reason = ReasonRestarted
			st.PID = 0
			st.FinishedAt = r.now().UTC()
			if err := writeStatus(dir, st); err != nil {
				return err
			}
			r.logger.Warn("job was live when the sidecar stopped; marked failed", "lease", id)
		}
		j := &job{dir: dir, status: st, log: finishedLog(filepath.Join(dir, "job.log")), done: make(chan struct{})}
		close(j.done)
		r.jobs[id] = j
	}
	if a, ok := r.be.(adopter); ok {
		a.adopted()
	}
	return nil
}

// adopter is a backend whose jobs outlive the sidecar.
type adopter interface {
	// adopt picks up the running job of a lease a previous sidecar
	// started: its execution, the process to wait for and the read end of
	// its output. It fails when the job is not running any more.
	adopt(leaseID uint64, dir string, st Status, m Manifest) (*execution, *proc, *os.File, error)
	// adopted runs once the runner has re-adopted what it could.
	adopted()
}

// adopt re-adopts a running container a previous sidecar left (see
// Detach): the job goes on with its log, time limit, proxying and limits.
// It reports whether it did.
func (r *Runner) adopt(id uint64, dir string, st Status) bool {
	a, ok := r.be.(adopter)
	if !ok || st.State != StateRunning || st.Backend != r.be.name() {
		return false
	}
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		r.logger.Warn("cannot re-adopt job", "lease", id, "err", err)
		return false
	}
	m, err := ParseManifest(raw)
	if err != nil {
		r.logger.Warn("cannot re-adopt job", "lease", id, "err", err)
		return false
	}
	ex, p, logSrc, err := a.adopt(id, dir, st, m)
	if err != nil {
		r.logger.Warn("cannot re-adopt job", "lease", id, "err", err)
		return false
	}
	jctx, cancel := context.WithCancelCause(context.Background())
	lg, err := appendJobLog(filepath.Join(dir, "job.log"), int64(r.cfg.MaxOutputBytes), func() { cancel(errOutputLimit) })
	if err != nil {
		cancel(nil)
		_ = logSrc.Close()
		r.logger.Warn("cannot re-adopt job", "lease", id, "err", err)
		return false
	}
	j := &job{dir: dir, status: st, log: lg, cancel: cancel, done: make(chan struct{}), ports: m.Ports, exec: ex}
	r.jobs[id] = j
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.supervise(jctx, j, ex, p, logSrc, m.timeLimit(r.cfg.MaxJobTime.Std()))
	}()
	r.logger.Warn("re-adopted a running container", "lease", id, "pid", p.pid, "log_bytes", lg.Size())
	return true
}

// Start checks the manifest against manifestHash (the 32-byte hash the
// order carries), then runs it for leaseID on the GPUs named by gpuUUIDs. It
// returns once the job is recorded (pending); the job runs in the
// background. It fails with ErrManifestHash, ErrBadManifest, ErrBadGPU,
// ErrAlreadyStarted (a lease runs one job, whatever became of it) or
// ErrClosed. ctx is not used beyond the call.
func (r *Runner) Start(ctx context.Context, leaseID uint64, manifestHash, manifest []byte, gpuUUIDs []string) (Status, error) {
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}
	sum := ManifestHash(manifest)
	if !bytes.Equal(sum[:], manifestHash) {
		return Status{}, fmt.Errorf("%w: manifest sha256 is %x, the order carries %s", ErrManifestHash, sum, hex.EncodeToString(manifestHash))
	}
	m, err := ParseManifest(manifest)
	if err != nil {
		return Status{}, err
	}
	switch {
	case m.Container() && r.be.name() != config.BackendContainer:
		return Status{}, fmt.Errorf("%w: image: this provider runs the process backend, which cannot run images", ErrBadManifest)
	case !m.Container() && r.be.name() == config.BackendContainer:
		return Status{}, fmt.Errorf("%w: image: this provider runs jobs in containers; give \"version\": 2 and an image", ErrBadManifest)
	}
	if err := m.checkLimits(r.cfg); err != nil {
		return Status{}, err
	}
	outputs, _ := m.outputsDir() // validated
	for _, g := range gpuUUIDs {
		if g == "" || strings.ContainsAny(g, ",= \t\r\n\x00") {
			return Status{}, fmt.Errorf("%w: %q", ErrBadGPU, g)
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return Status{}, ErrClosed
	}
	if _, ok := r.jobs[leaseID]; ok {
		return Status{}, fmt.Errorf("%w: lease %d", ErrAlreadyStarted, leaseID)
	}
	dir := filepath.Join(r.dir, strconv.FormatUint(leaseID, 10))
	if err := os.RemoveAll(dir); err != nil { // a leftover without status.json
		return Status{}, fmt.Errorf("runner: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "job", filepath.FromSlash(outputs)), 0o700); err != nil {
		return Status{}, fmt.Errorf("runner: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), manifest, 0o600); err != nil {
		return Status{}, fmt.Errorf("runner: %w", err)
	}
	st := Status{
		LeaseID:      leaseID,
		State:        StatePending,
		ManifestHash: sum[:],
		GPUs:         slices.Clone(gpuUUIDs),
		CreatedAt:    r.now().UTC(),
		TimeLimit:    m.timeLimit(r.cfg.MaxJobTime.Std()).String(),
		OutputsDir:   outputs,
		Backend:      r.be.name(),
		Image:        m.Image,
		Service:      m.Service,
		Ports:        slices.Clone(m.Ports),
	}
	if st.GPUs == nil {
		st.GPUs = []string{}
	}
	if err := writeStatus(dir, st); err != nil {
		_ = os.RemoveAll(dir)
		return Status{}, err
	}
	jctx, cancel := context.WithCancelCause(context.Background())
	j := &job{dir: dir, status: st, cancel: cancel, done: make(chan struct{}), ports: m.Ports}
	lg, err := newJobLog(filepath.Join(dir, "job.log"), int64(r.cfg.MaxOutputBytes), func() { cancel(errOutputLimit) })
	if err != nil {
		cancel(nil)
		_ = os.RemoveAll(dir)
		return Status{}, fmt.Errorf("runner: %w", err)
	}
	j.log = lg
	r.jobs[leaseID] = j
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.run(jctx, j, m)
	}()
	r.logger.Info("job accepted", "lease", leaseID, "gpus", len(gpuUUIDs), "time_limit", st.TimeLimit)
	return st.clone(), nil
}

// update changes j's status under the lock and persists it.
func (r *Runner) update(j *job, fn func(*Status)) {
	r.mu.Lock()
	fn(&j.status)
	st := j.status.clone()
	r.mu.Unlock()
	if err := writeStatus(j.dir, st); err != nil {
		r.logger.Error("cannot persist job status", "lease", st.LeaseID, "err", err)
	}
}

// finish records the final state and releases waiters.
func (r *Runner) finish(j *job, state State, exitCode *int, reason string, res *Result) {
	j.log.finish()
	r.update(j, func(s *Status) {
		s.State = state
		s.ExitCode = exitCode
		s.Reason = reason
		s.Result = res
		s.PID = 0
		s.LogBytes = j.log.Size()
		s.FinishedAt = r.now().UTC()
	})
	r.mu.Lock()
	j.cancel = nil
	r.mu.Unlock()
	close(j.done)
	r.logger.Info("job ended", "lease", j.status.LeaseID, "state", state, "reason", reason)
}

// run prepares and starts j, then supervises it to the end. ctx is
// cancelled with the stop cause.
func (r *Runner) run(ctx context.Context, j *job, m Manifest) {
	leaseID := j.status.LeaseID
	limit := m.timeLimit(r.cfg.MaxJobTime.Std())
	jobDir := filepath.Join(j.dir, "job")

	if context.Cause(ctx) != nil {
		r.finishStopped(j, context.Cause(ctx), nil)
		return
	}

	ex, err := r.be.prepare(ctx, &jobSpec{
		leaseID: leaseID, dir: j.dir, jobDir: jobDir, outputs: j.status.OutputsDir,
		manifest: m, gpus: j.status.GPUs,
		setImage: func(d string) { r.update(j, func(s *Status) { s.ImageDigest = d }) },
	})
	if err != nil {
		if c := context.Cause(ctx); c != nil {
			r.finishStopped(j, c, nil)
		} else {
			r.finish(j, StateFailed, nil, err.Error(), nil)
		}
		r.be.wipe(leaseID, j.dir)
		return
	}
	cmd := ex.cmd
	if ex.detached {
		// Its own session, and no death signal: the container outlives a
		// sidecar restart, and the next sidecar re-adopts it.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		// Own process group, so the whole job can be signalled; SIGKILL if
		// the sidecar dies.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	}
	var pr, pw *os.File
	if ex.logFIFO != "" {
		pr, pw, err = openFIFO(ex.logFIFO)
	} else {
		pr, pw, err = os.Pipe()
	}
	if err != nil {
		ex.cleanup()
		r.finish(j, StateFailed, nil, "cannot create the log pipe: "+err.Error(), nil)
		return
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	err = cmd.Start()
	_ = pw.Close()
	if err != nil {
		_ = pr.Close()
		ex.cleanup()
		r.finish(j, StateFailed, nil, "cannot start the job: "+err.Error(), nil)
		return
	}
	pid := cmd.Process.Pid
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	p := &proc{pid: pid, exited: exited, status: func() (*int, string) {
		ps := cmd.ProcessState
		if ps != nil && ps.Exited() {
			c := ps.ExitCode()
			return &c, ""
		}
		return nil, "the job was killed by a signal: " + ps.String()
	}}
	if ex.started != nil {
		if err := ex.started(pid); err != nil {
			r.logger.Error("cannot record the container's state: a restarted sidecar will not re-adopt it", "lease", leaseID, "err", err)
		}
	}
	r.mu.Lock()
	j.exec = ex
	r.mu.Unlock()
	r.update(j, func(s *Status) {
		s.State = StateRunning
		s.PID = pid
		s.StartedAt = r.now().UTC()
	})
	r.logger.Info("job started", "lease", leaseID, "pid", pid, "backend", r.be.name())
	r.supervise(ctx, j, ex, p, pr, limit)
}

// proc is the process the runner waits for: the one it started, or, for a
// re-adopted container, the runtime's shim the previous sidecar started.
type proc struct {
	pid    int
	exited <-chan struct{} // closed once it has ended
	// status is its exit code (nil when it did not exit by itself) and,
	// without one, why.
	status func() (*int, string)
}

// errDetached stops supervising a container without stopping it (Detach).
var errDetached = errors.New("sidecar detached")

// supervise follows a running job to its end: log, time limit (from its
// start), disk limits, stop causes; then collects its outputs. logSrc is
// the read end of the job's output, which supervise closes.
func (r *Runner) supervise(ctx context.Context, j *job, ex *execution, p *proc, logSrc *os.File, limit time.Duration) {
	leaseID := j.status.LeaseID
	jobDir := jobDirOf(j.dir)
	pid := p.pid
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(j.log, logSrc)
	}()

	r.mu.Lock()
	started := j.status.StartedAt
	r.mu.Unlock()
	timer := time.NewTimer(max(time.Until(started.Add(limit)), 0))
	defer timer.Stop()
	var over <-chan error
	if ex.overLimit != nil {
		wctx, wstop := context.WithCancel(context.Background())
		defer wstop()
		over = watchLimits(wctx, ex.overLimit)
	}
	var cause error
	reaped := false
	select {
	case <-p.exited:
	case <-timer.C:
		cause = errTimeout
	case <-ctx.Done():
		cause = context.Cause(ctx)
	case cause = <-over:
		ex.kill(pid) // over a limit: no grace period
		<-p.exited
		reaped = true
	}
	if errors.Is(cause, errDetached) {
		// The container runs on; its output waits in the log FIFO for the
		// next sidecar.
		_ = logSrc.Close()
		<-copied
		j.log.detach()
		r.mu.Lock()
		j.exec = nil
		j.cancel = nil
		r.mu.Unlock()
		close(j.done)
		r.logger.Info("job left running for the next sidecar", "lease", leaseID, "pid", pid)
		return
	}
	if cause != nil && !reaped {
		stopJob(ex, pid, p.exited)
	}
	// Whatever the job left behind goes too.
	ex.kill(pid)
	r.mu.Lock()
	j.exec = nil
	r.mu.Unlock()
	select {
	case <-copied:
	case <-time.After(pipeDrain):
	}
	_ = logSrc.Close()
	<-copied
	exitCode, why := p.status() // before cleanup, which wipes the shim's record
	ex.cleanup()
	// An output overflow may have raced with a normal exit.
	if cause == nil && errors.Is(context.Cause(ctx), errOutputLimit) {
		cause = errOutputLimit
	}

	switch {
	case errors.Is(cause, errTimeout):
		r.finish(j, StateFailed, exitCode, fmt.Sprintf("time limit of %s exceeded; the job was killed", limit), nil)
		return
	case cause != nil:
		r.finishStopped(j, cause, exitCode)
		return
	case exitCode == nil:
		r.finish(j, StateFailed, nil, why, nil)
		return
	case *exitCode != 0:
		r.finish(j, StateFailed, exitCode, fmt.Sprintf("the job exited with code %d", *exitCode), nil)
		return
	}

	max := int64(r.cfg.MaxOutputBytes)
	files, _, err := scanOutputs(jobDir, j.status.OutputsDir, max-j.log.Size())
	switch {
	case errors.Is(err, errOutputLimit):
		r.finish(j, StateFailed, exitCode, fmt.Sprintf("output limit exceeded: the log and the outputs directory hold more than max_output_bytes (%d bytes)", max), nil)
		return
	case err != nil:
		r.finish(j, StateFailed, exitCode, "cannot read the outputs: "+err.Error(), nil)
		return
	}
	sum := ResultHash(files)
	r.finish(j, StateSucceeded, exitCode, "", &Result{LeaseID: leaseID, Hash: sum[:], Files: files, Location: Location(leaseID)})
}

// finishStopped ends a job stopped for cause (cancel, shutdown, output limit).
func (r *Runner) finishStopped(j *job, cause error, exitCode *int) {
	switch {
	case errors.Is(cause, errCancelled):
		r.finish(j, StateCancelled, exitCode, ReasonCancelled, nil)
	case errors.Is(cause, errOutputLimit):
		r.finish(j, StateFailed, exitCode, fmt.Sprintf("output limit exceeded: the log passed max_output_bytes (%d bytes); the job was killed", r.cfg.MaxOutputBytes), nil)
	case errors.Is(cause, errStopped), errors.Is(cause, errDetached):
		r.finish(j, StateFailed, exitCode, ReasonStopped, nil)
	case errors.As(cause, new(cancelReason)):
		r.finish(j, StateCancelled, exitCode, cause.Error(), nil)
	default:
		r.finish(j, StateFailed, exitCode, cause.Error(), nil)
	}
}

// diskPoll is how often a job's disk use is measured.
const diskPoll = time.Second

// watchLimits polls check every diskPoll until ctx ends and delivers its
// first error.
func watchLimits(ctx context.Context, check func() error) <-chan error {
	ch := make(chan error, 1)
	go func() {
		t := time.NewTicker(diskPoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := check(); err != nil {
					ch <- err
					return
				}
			}
		}
	}()
	return ch
}

// stopJob asks the job to stop, and kills it after KillGrace if the
// process the runner started has not exited.
func stopJob(ex *execution, pid int, exited <-chan struct{}) {
	ex.terminate(pid)
	t := time.NewTimer(KillGrace)
	defer t.Stop()
	select {
	case <-exited:
		return
	case <-t.C:
	}
	ex.kill(pid)
	<-exited
}

// Cancel stops a lease's job (SIGTERM to its process group, SIGKILL after
// KillGrace); it ends as cancelled. It returns at once; Wait waits for the
// end. It fails with ErrUnknownLease or ErrNotRunning.
func (r *Runner) Cancel(leaseID uint64) error {
	return r.cancel(leaseID, errCancelled)
}

// cancelReason is a cancel cause that becomes the job's reason.
type cancelReason string

func (c cancelReason) Error() string { return string(c) }

// CancelWithReason stops a lease's job as Cancel does; it ends cancelled
// with reason (e.g. "lease closed while the sidecar was down").
func (r *Runner) CancelWithReason(leaseID uint64, reason string) error {
	return r.cancel(leaseID, cancelReason(reason))
}

func (r *Runner) cancel(leaseID uint64, cause error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	j, ok := r.jobs[leaseID]
	if !ok {
		return fmt.Errorf("%w: lease %d", ErrUnknownLease, leaseID)
	}
	if j.cancel == nil || j.status.State.Final() {
		return fmt.Errorf("%w: lease %d is %s", ErrNotRunning, leaseID, j.status.State)
	}
	j.cancel(cause)
	return nil
}

// Live returns the leases whose job is pending or running, in order.
func (r *Runner) Live() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []uint64
	for id, j := range r.jobs {
		if !j.status.State.Final() && j.cancel != nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Status returns a lease's job status (ErrUnknownLease when it has none).
func (r *Runner) Status(leaseID uint64) (Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	j, ok := r.jobs[leaseID]
	if !ok {
		return Status{}, fmt.Errorf("%w: lease %d", ErrUnknownLease, leaseID)
	}
	st := j.status.clone()
	if !st.State.Final() {
		st.LogBytes = j.log.Size()
	}
	return st, nil
}

// List returns the status of every job, by lease id.
func (r *Runner) List() []Status {
	r.mu.Lock()
	ids := make([]uint64, 0, len(r.jobs))
	for id := range r.jobs {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	slices.Sort(ids)
	out := make([]Status, 0, len(ids))
	for _, id := range ids {
		if st, err := r.Status(id); err == nil {
			out = append(out, st)
		}
	}
	return out
}

// Wait blocks until the lease's job has ended (or ctx is done) and returns
// its final status.
func (r *Runner) Wait(ctx context.Context, leaseID uint64) (Status, error) {
	r.mu.Lock()
	j, ok := r.jobs[leaseID]
	r.mu.Unlock()
	if !ok {
		return Status{}, fmt.Errorf("%w: lease %d", ErrUnknownLease, leaseID)
	}
	select {
	case <-j.done:
		return r.Status(leaseID)
	case <-ctx.Done():
		return Status{}, ctx.Err()
	}
}

// Subscribe returns a reader of the job's log (combined stdout and stderr)
// from its first byte: what was written so far, then live output, then
// io.EOF when the job has ended. Any number of readers may follow one job.
// ctx ends a blocked Read; the caller closes the reader.
func (r *Runner) Subscribe(ctx context.Context, leaseID uint64) (io.ReadCloser, error) {
	r.mu.Lock()
	j, ok := r.jobs[leaseID]
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: lease %d", ErrUnknownLease, leaseID)
	}
	return j.log.reader(ctx)
}

// Result returns a succeeded job's result (ErrNoResult otherwise).
func (r *Runner) Result(leaseID uint64) (Result, error) {
	st, err := r.Status(leaseID)
	if err != nil {
		return Result{}, err
	}
	if st.State != StateSucceeded || st.Result == nil {
		return Result{}, fmt.Errorf("%w: lease %d is %s", ErrNoResult, leaseID, st.State)
	}
	return *st.Result, nil
}

// OpenResultFile opens one file of a lease's result by its path in
// Result.Files; paths not listed there fail with ErrNoFile. The file is
// opened through an os.Root on the outputs directory, so it cannot lead
// outside it. The caller closes it.
func (r *Runner) OpenResultFile(leaseID uint64, path string) (*os.File, File, error) {
	res, err := r.Result(leaseID)
	if err != nil {
		return nil, File{}, err
	}
	i := slices.IndexFunc(res.Files, func(f File) bool { return f.Path == path })
	if i < 0 {
		return nil, File{}, fmt.Errorf("%w: %q in lease %d", ErrNoFile, path, leaseID)
	}
	st, _ := r.Status(leaseID)
	r.mu.Lock()
	dir := r.jobs[leaseID].dir
	r.mu.Unlock()
	root, err := openOutputs(jobDirOf(dir), st.OutputsDir)
	if err != nil {
		return nil, File{}, fmt.Errorf("runner: %w", err)
	}
	defer root.Close()
	f, err := root.Open(path)
	if err != nil {
		return nil, File{}, fmt.Errorf("runner: %w", err)
	}
	return f, res.Files[i], nil
}

// Close stops every live job (they end failed, "sidecar stopped") and waits
// for them. Later calls to Start fail with ErrClosed.
func (r *Runner) Close() error {
	return r.shutdown(false)
}

// Detach is Close for a sidecar that will restart: running containers are
// left running (their output waits in a FIFO, their runtime's shim records
// their exit) and the next Runner on the same work dir re-adopts them.
// Jobs of the process backend, and jobs still preparing, are stopped.
func (r *Runner) Detach() error {
	return r.shutdown(true)
}

func (r *Runner) shutdown(detach bool) error {
	r.mu.Lock()
	r.closed = true
	for _, j := range r.jobs {
		if j.cancel == nil {
			continue
		}
		if detach && j.exec != nil && j.exec.detached {
			j.cancel(errDetached)
		} else {
			j.cancel(errStopped)
		}
	}
	r.mu.Unlock()
	r.wg.Wait()
	if c, ok := r.be.(interface{ close(detached bool) }); ok {
		c.close(detach)
	}
	return nil
}

// ErrNoPort reports a port the lease's manifest does not expose, or a job
// that is not running.
var ErrNoPort = errors.New("runner: port not exposed by a running job")

// DialPort connects to port of the lease's running job, as the job sees it
// (inside its container's network namespace). Only ports the manifest
// exposes can be reached; others fail with ErrNoPort.
func (r *Runner) DialPort(ctx context.Context, leaseID uint64, port uint16) (net.Conn, Port, error) {
	r.mu.Lock()
	j, ok := r.jobs[leaseID]
	var ex *execution
	var p Port
	found := false
	if ok {
		ex = j.exec
		for _, x := range j.ports {
			if x.Port == port {
				p, found = x, true
			}
		}
	}
	r.mu.Unlock()
	switch {
	case !ok:
		return nil, Port{}, fmt.Errorf("%w: lease %d", ErrUnknownLease, leaseID)
	case !found:
		return nil, Port{}, fmt.Errorf("%w: lease %d does not expose port %d", ErrNoPort, leaseID, port)
	case ex == nil:
		return nil, Port{}, fmt.Errorf("%w: lease %d's job is not running", ErrNoPort, leaseID)
	}
	if p.Protocol == "" {
		p.Protocol = ProtocolHTTP
	}
	c, err := ex.dial(ctx, port)
	return c, p, err
}

// jobDirOf is the job directory of a lease directory.
func jobDirOf(dir string) string { return filepath.Join(dir, "job") }

func joinGPUs(g []string) string { return strings.Join(g, ",") }

// newBackend picks the backend cfg asks for. auto is the container backend
// where the OCI runtime exists; without one the runner refuses to start.
func newBackend(cfg config.RunnerConfig, leasesDir string, logger *slog.Logger) (backend, error) {
	switch cfg.Backend {
	case config.BackendProcess:
		logger.Warn("runner.backend is process: tenant jobs run as host processes of the sidecar's user and can read its keys and every GPU; use it for development only")
		return processBackend{}, nil
	case config.BackendContainer, config.BackendAuto, "":
		rt, err := exec.LookPath(cfg.Runtime)
		if err != nil {
			return nil, fmt.Errorf("runner: no OCI runtime %q found (install runc, or set runner.backend: process for development): %w", cfg.Runtime, err)
		}
		return newContainerBackend(cfg, rt, filepath.Dir(leasesDir), logger)
	}
	return nil, fmt.Errorf("runner: unknown backend %q", cfg.Backend)
}
