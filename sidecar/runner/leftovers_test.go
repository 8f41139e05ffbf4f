package runner

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// groupLive returns the live (not zombie) processes of process group pgid.
func groupLive(t *testing.T, pgid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	var live []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || procGroup(pid) != pgid {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) && s[i+2] == 'Z' {
			continue
		}
		live = append(live, pid)
	}
	return live
}

// A sidecar that died left a job's children running (Pdeathsig reaches
// only the job's first process): a new runner kills the job's process
// group, and only processes that carry the job's work dir, so a reused
// process group id of an unrelated program survives.
func TestRecoverKillsLeftoverProcesses(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	cfg := testConfig(t)
	leases, err := filepath.Abs(filepath.Join(cfg.WorkDir, "leases"))
	if err != nil {
		t.Fatal(err)
	}
	jobDir := filepath.Join(leases, "7", "job")
	if err := os.MkdirAll(jobDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(leases, "8"), 0o700); err != nil {
		t.Fatal(err)
	}

	// What a crashed sidecar left: the job's shell and its two children.
	job := exec.Command("/bin/sh", "-c", "sleep 30 & sleep 30 & wait")
	job.Env = []string{"PATH=" + DefaultPath, EnvWorkDir + "=" + jobDir}
	job.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// An unrelated program whose group id a stale status.json names.
	decoy := exec.Command("sleep", "30")
	decoy.Env = []string{"PATH=" + DefaultPath}
	decoy.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	for _, c := range []*exec.Cmd{job, decoy} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL); _ = c.Wait() })
	}
	pgid := job.Process.Pid
	deadline := time.Now().Add(10 * time.Second)
	for len(groupLive(t, pgid)) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("job group %d: %v", pgid, groupLive(t, pgid))
		}
		time.Sleep(20 * time.Millisecond)
	}
	for id, pid := range map[uint64]int{7: pgid, 8: decoy.Process.Pid} {
		st := Status{LeaseID: id, State: StateRunning, ManifestHash: make([]byte, 32), GPUs: []string{}, OutputsDir: "outputs", PID: pid}
		if err := writeStatus(filepath.Join(leases, strconv.FormatUint(id, 10)), st); err != nil {
			t.Fatal(err)
		}
	}

	r := newRunner(t, cfg)
	done := make(chan error, 1)
	go func() { done <- job.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the job's shell survived the recovery")
	}
	deadline = time.Now().Add(10 * time.Second)
	for len(groupLive(t, pgid)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("processes of the job's group %d still live: %v", pgid, groupLive(t, pgid))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := decoy.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the unrelated process was killed: %v", err)
	}
	for _, id := range []uint64{7, 8} {
		if st, err := r.Status(id); err != nil || st.State != StateFailed || st.Reason != ReasonRestarted {
			t.Fatalf("lease %d: %+v %v", id, st, err)
		}
	}
}
