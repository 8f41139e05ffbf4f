package runner

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crucible-network/crucible/sidecar/config"
)

func testConfig(t *testing.T) config.RunnerConfig {
	t.Helper()
	cfg := config.TestRunnerConfig()
	cfg.WorkDir = t.TempDir()
	return cfg
}

func newRunner(t *testing.T, cfg config.RunnerConfig) *Runner {
	t.Helper()
	r, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// shManifest returns the bytes of a manifest running script with /bin/sh.
func shManifest(t *testing.T, script string, extra map[string]any) []byte {
	t.Helper()
	m := map[string]any{"command": []string{"/bin/sh", "-c", script}}
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func start(t *testing.T, r *Runner, lease uint64, manifest []byte, gpus ...string) Status {
	t.Helper()
	h := ManifestHash(manifest)
	st, err := r.Start(context.Background(), lease, h[:], manifest, gpus)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func wait(t *testing.T, r *Runner, lease uint64) Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := r.Wait(ctx, lease)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func readLog(t *testing.T, r *Runner, lease uint64) string {
	t.Helper()
	rc, err := r.Subscribe(context.Background(), lease)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const successScript = `set -e
echo "gpus=$CUDA_VISIBLE_DEVICES nvidia=$NVIDIA_VISIBLE_DEVICES lease=$CRUCIBLE_LEASE_ID seed=$SEED order=$ORDER"
echo "cwd=$(pwd) home=$HOME"
echo to-stderr >&2
printf '%s\n' "$CUDA_VISIBLE_DEVICES" > "$CRUCIBLE_OUTPUT_DIR/gpus.txt"
mkdir -p "$CRUCIBLE_OUTPUT_DIR/sub"
printf 'b' > "$CRUCIBLE_OUTPUT_DIR/sub/b.txt"
: > "$CRUCIBLE_OUTPUT_DIR/empty"
mkdir -p "$CRUCIBLE_OUTPUT_DIR/emptydir"
`

func TestRunSuccess(t *testing.T) {
	r := newRunner(t, testConfig(t))
	manifest := shManifest(t, successScript, map[string]any{"env": map[string]string{"SEED": "7", "ORDER": "z"}})
	gpus := []string{"GPU-11111111-2222-3333-4444-555555555555", "GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}
	st := start(t, r, 7, manifest, gpus...)
	if st.State != StatePending {
		t.Fatalf("state after Start = %s", st.State)
	}
	st = wait(t, r, 7)
	if st.State != StateSucceeded || st.ExitCode == nil || *st.ExitCode != 0 || st.Reason != "" {
		t.Fatalf("status %+v", st)
	}
	logText := readLog(t, r, 7)
	joined := strings.Join(gpus, ",")
	for _, want := range []string{"gpus=" + joined, "nvidia=" + joined, "lease=7", "seed=7", "order=z", "to-stderr"} {
		if !strings.Contains(logText, want) {
			t.Fatalf("log %q lacks %q", logText, want)
		}
	}
	if st.LogBytes != int64(len(logText)) {
		t.Fatalf("log bytes %d, read %d", st.LogBytes, len(logText))
	}

	// The result hash follows the documented listing.
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return fmt.Sprintf("%x", h) }
	listing := ResultDomain +
		"empty\x000\x00" + sum("") + "\n" +
		"gpus.txt\x00" + fmt.Sprint(len(joined)+1) + "\x00" + sum(joined+"\n") + "\n" +
		"sub/b.txt\x001\x00" + sum("b") + "\n"
	want := sha256.Sum256([]byte(listing))
	res := st.Result
	if res == nil || fmt.Sprintf("%x", []byte(res.Hash)) != fmt.Sprintf("%x", want) {
		t.Fatalf("result %+v, want hash %x", res, want)
	}
	if len(res.Files) != 3 || res.Files[0].Path != "empty" || res.Files[2].Path != "sub/b.txt" || res.Location != "sidecar://7/results" || res.LeaseID != 7 {
		t.Fatalf("result %+v", res)
	}

	// Same manifest, another lease: same result hash.
	start(t, r, 8, manifest, gpus...)
	if st8 := wait(t, r, 8); st8.Result == nil || string(st8.Result.Hash) != string(res.Hash) {
		t.Fatalf("second run: %+v", st8)
	}

	// Download a file; paths outside the result are refused.
	f, file, err := r.OpenResultFile(7, "sub/b.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "b" || file.Size != 1 {
		t.Fatalf("file %q %+v", b, file)
	}
	for _, p := range []string{"../manifest.json", "emptydir", "nope", "/etc/passwd"} {
		if _, _, err := r.OpenResultFile(7, p); !errors.Is(err, ErrNoFile) {
			t.Fatalf("OpenResultFile(%q): %v", p, err)
		}
	}
	if _, err := r.Start(context.Background(), 7, ManifestHashSlice(manifest), manifest, gpus); !errors.Is(err, ErrAlreadyStarted) {
		t.Fatalf("second Start: %v", err)
	}
	if err := r.Cancel(7); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Cancel of a finished job: %v", err)
	}
}

// ManifestHashSlice is ManifestHash as a slice, for tests.
func ManifestHashSlice(b []byte) []byte { h := ManifestHash(b); return h[:] }

func TestRunFailureExitCode(t *testing.T) {
	r := newRunner(t, testConfig(t))
	start(t, r, 1, shManifest(t, "echo bad; exit 3", nil))
	st := wait(t, r, 1)
	if st.State != StateFailed || st.ExitCode == nil || *st.ExitCode != 3 || !strings.Contains(st.Reason, "code 3") || st.Result != nil {
		t.Fatalf("status %+v", st)
	}
	if _, err := r.Result(1); !errors.Is(err, ErrNoResult) {
		t.Fatalf("Result: %v", err)
	}
	start(t, r, 2, []byte(`{"command":["/nonexistent/program"]}`))
	if st := wait(t, r, 2); st.State != StateFailed || !strings.Contains(st.Reason, "cannot start") {
		t.Fatalf("status %+v", st)
	}
}

func TestRunTimeout(t *testing.T) {
	r := newRunner(t, testConfig(t))
	begin := time.Now()
	start(t, r, 1, shManifest(t, "echo started; sleep 30", map[string]any{"max_runtime": "300ms"}))
	st := wait(t, r, 1)
	if st.State != StateFailed || !strings.Contains(st.Reason, "time limit of 300ms exceeded") {
		t.Fatalf("status %+v", st)
	}
	if d := time.Since(begin); d > 10*time.Second {
		t.Fatalf("took %s", d)
	}
	if st.TimeLimit != "300ms" {
		t.Fatalf("time limit %q", st.TimeLimit)
	}
}

func TestRunOutputLimit(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxOutputBytes = 1000
	r := newRunner(t, cfg)

	// The log passes the limit while the job runs: killed.
	start(t, r, 1, shManifest(t, "while :; do echo 0123456789012345678901234567890123456789; done", nil))
	st := wait(t, r, 1)
	if st.State != StateFailed || !strings.Contains(st.Reason, "output limit exceeded") || st.LogBytes != 1000 {
		t.Fatalf("status %+v", st)
	}

	// The outputs directory is over the limit at the end.
	start(t, r, 2, shManifest(t, `head -c 2000 /dev/zero > "$CRUCIBLE_OUTPUT_DIR/big"`, nil))
	st = wait(t, r, 2)
	if st.State != StateFailed || !strings.Contains(st.Reason, "output limit exceeded") || st.Result != nil {
		t.Fatalf("status %+v", st)
	}

	// A symlink in the outputs fails the job.
	start(t, r, 3, shManifest(t, `ln -s /etc/passwd "$CRUCIBLE_OUTPUT_DIR/link"`, nil))
	if st := wait(t, r, 3); st.State != StateFailed || !strings.Contains(st.Reason, "not a regular file") {
		t.Fatalf("status %+v", st)
	}
}

func waitRunning(t *testing.T, r *Runner, lease uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		st, err := r.Status(lease)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == StateRunning {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("job never ran")
}

func TestCancel(t *testing.T) {
	r := newRunner(t, testConfig(t))
	// A background child in the same group must go too.
	start(t, r, 1, shManifest(t, `sleep 30 & echo "$!" > "$HOME/child.pid"; wait`, nil))
	waitRunning(t, r, 1)
	if err := r.Cancel(1); err != nil {
		t.Fatal(err)
	}
	st := wait(t, r, 1)
	if st.State != StateCancelled || st.Reason != ReasonCancelled || st.PID != 0 {
		t.Fatalf("status %+v", st)
	}
	if err := r.Cancel(99); !errors.Is(err, ErrUnknownLease) {
		t.Fatalf("Cancel(99): %v", err)
	}
}

func TestLogStreamingTwoSubscribers(t *testing.T) {
	r := newRunner(t, testConfig(t))
	gate := filepath.Join(t.TempDir(), "gate")
	script := fmt.Sprintf(`echo one; while [ ! -e %q ]; do sleep 0.02; done; echo two`, gate)
	start(t, r, 1, shManifest(t, script, nil))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type got struct {
		first string
		rest  string
		err   error
	}
	results := make(chan got, 2)
	firstSeen := make(chan struct{}, 2)
	for range 2 {
		rc, err := r.Subscribe(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			defer rc.Close()
			buf := make([]byte, 4)
			n, err := io.ReadFull(rc, buf) // "one\n", live, before "two" exists
			if err != nil {
				results <- got{err: err}
				return
			}
			firstSeen <- struct{}{}
			rest, err := io.ReadAll(rc)
			results <- got{first: string(buf[:n]), rest: string(rest), err: err}
		}()
	}
	for range 2 {
		select {
		case <-firstSeen:
		case <-ctx.Done():
			t.Fatal("subscribers did not see the first line live")
		}
	}
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		g := <-results
		if g.err != nil || g.first != "one\n" || g.rest != "two\n" {
			t.Fatalf("subscriber got %+v", g)
		}
	}
	// A late subscriber gets the whole log, then EOF.
	wait(t, r, 1)
	if s := readLog(t, r, 1); s != "one\ntwo\n" {
		t.Fatalf("late subscriber got %q", s)
	}
	// ctx ends a blocked reader.
	start(t, r, 2, shManifest(t, "sleep 30", nil))
	cctx, ccancel := context.WithCancel(context.Background())
	rc, err := r.Subscribe(cctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	ccancel()
	if _, err := io.ReadAll(rc); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled reader: %v", err)
	}
	rc.Close()
}

func TestManifestRefused(t *testing.T) {
	cfg := testConfig(t)
	r := newRunner(t, cfg)
	good := shManifest(t, "true", nil)
	other := sha256.Sum256([]byte("something else"))
	if _, err := r.Start(context.Background(), 1, other[:], good, nil); !errors.Is(err, ErrManifestHash) {
		t.Fatalf("hash mismatch: %v", err)
	}
	// The hash is over the exact bytes: reformatting changes it.
	spaced := append([]byte(" "), good...)
	if _, err := r.Start(context.Background(), 1, ManifestHashSlice(good), spaced, nil); !errors.Is(err, ErrManifestHash) {
		t.Fatalf("reformatted manifest: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.WorkDir, "leases", "1")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("refused manifest left a lease dir: %v", err)
	}
	for name, m := range map[string]string{
		"image":        `{"image":"nvcr.io/x","command":["true"]}`,
		"no command":   `{"command":[]}`,
		"unknown":      `{"command":["true"],"gpus":"all"}`,
		"trailing":     `{"command":["true"]} {}`,
		"reserved env": `{"command":["true"],"env":{"CUDA_VISIBLE_DEVICES":"0"}}`,
		"crucible env": `{"command":["true"],"env":{"CRUCIBLE_OUTPUT_DIR":"/"}}`,
		"bad env name": `{"command":["true"],"env":{"A=B":"x"}}`,
		"escape":       `{"command":["true"],"outputs_dir":"../x"}`,
		"absolute":     `{"command":["true"],"outputs_dir":"/tmp"}`,
		"runtime unit": `{"command":["true"],"max_runtime":"30"}`,
		"not json":     `command: true`,
	} {
		b := []byte(m)
		if _, err := r.Start(context.Background(), 2, ManifestHashSlice(b), b, nil); !errors.Is(err, ErrBadManifest) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := r.Start(context.Background(), 3, ManifestHashSlice(good), good, []string{"GPU-1,GPU-2"}); !errors.Is(err, ErrBadGPU) {
		t.Fatalf("bad gpu: %v", err)
	}
	if _, err := r.Status(2); !errors.Is(err, ErrUnknownLease) {
		t.Fatalf("refused start recorded a job: %v", err)
	}
}

func TestRestartRecovery(t *testing.T) {
	cfg := testConfig(t)
	r, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	start(t, r, 5, shManifest(t, `echo done; echo x > "$CRUCIBLE_OUTPUT_DIR/x"`, nil))
	done := wait(t, r, 5)
	start(t, r, 6, shManifest(t, "sleep 30", nil))
	waitRunning(t, r, 6)
	// Simulate a crash: the status on disk says running (Close would
	// record "sidecar stopped").
	running, _ := r.Status(6)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := writeStatus(filepath.Join(cfg.WorkDir, "leases", "6"), running); err != nil {
		t.Fatal(err)
	}
	// A pending job from another crash, and junk that is ignored.
	pending := Status{LeaseID: 9, State: StatePending, ManifestHash: make([]byte, 32), GPUs: []string{}, OutputsDir: "outputs"}
	if err := os.MkdirAll(filepath.Join(cfg.WorkDir, "leases", "9"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeStatus(filepath.Join(cfg.WorkDir, "leases", "9"), pending); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(cfg.WorkDir, "leases", "notalease"), 0o700); err != nil {
		t.Fatal(err)
	}

	r2 := newRunner(t, cfg)
	for _, id := range []uint64{6, 9} {
		st, err := r2.Status(id)
		if err != nil {
			t.Fatal(err)
		}
		if st.State != StateFailed || st.Reason != ReasonRestarted || st.PID != 0 || st.FinishedAt.IsZero() {
			t.Fatalf("lease %d after restart: %+v", id, st)
		}
		// Persisted: a third runner sees the same.
		if disk, _ := readStatus(filepath.Join(cfg.WorkDir, "leases", fmt.Sprint(id))); disk.State != StateFailed {
			t.Fatalf("lease %d on disk: %+v", id, disk)
		}
	}
	st, err := r2.Status(5)
	if err != nil || st.State != StateSucceeded || string(st.Result.Hash) != string(done.Result.Hash) {
		t.Fatalf("finished lease after restart: %+v %v", st, err)
	}
	if s := readLog(t, r2, 5); s != "done\n" {
		t.Fatalf("log after restart %q", s)
	}
	if _, err := r2.Wait(context.Background(), 6); err != nil {
		t.Fatal(err)
	}
	if got := len(r2.List()); got != 3 {
		t.Fatalf("List has %d jobs", got)
	}
	// A lease seen before cannot be started again.
	m := shManifest(t, "true", nil)
	if _, err := r2.Start(context.Background(), 6, ManifestHashSlice(m), m, nil); !errors.Is(err, ErrAlreadyStarted) {
		t.Fatalf("restart of recovered lease: %v", err)
	}
}

func TestCloseStopsJobs(t *testing.T) {
	cfg := testConfig(t)
	r, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	start(t, r, 1, shManifest(t, "sleep 30", nil))
	waitRunning(t, r, 1)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := r.Status(1)
	if st.State != StateFailed || st.Reason != ReasonStopped {
		t.Fatalf("status %+v", st)
	}
	m := shManifest(t, "true", nil)
	if _, err := r.Start(context.Background(), 2, ManifestHashSlice(m), m, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
}
