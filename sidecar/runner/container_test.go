package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/sidecar/runner/runnertest"
)

// containerEnv is a container runner over an in-process registry holding
// the busybox image, with two fake CDI GPUs.
type containerEnv struct {
	r      *Runner
	cfg    config.RunnerConfig
	image  string // pinned by digest
	tagged string // by tag
	gpus   []runnertest.FakeGPU
}

func newContainerEnv(t *testing.T, mutate func(*config.RunnerConfig)) *containerEnv {
	t.Helper()
	runnertest.NeedContainers(t)
	dir := t.TempDir()
	// The containers' root is an unprivileged host uid (user namespace):
	// it must be able to traverse to its lease's directories.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	reg := runnertest.Registry(t)
	img := runnertest.BusyboxImage(t)
	tagged := reg.Addr() + "/tenant/busybox:1"
	pinned := runnertest.Push(t, reg, "tenant/busybox:1", img)
	cdiDir, gpus := runnertest.FakeCDI(t, dir, "GPU-aaaa", "GPU-bbbb")
	cfg := config.TestRunnerConfig()
	cfg.Backend = config.BackendContainer
	cfg.WorkDir = filepath.Join(dir, "work")
	cfg.CDISpecDirs = []string{cdiDir}
	cfg.MaxMemoryBytes = 64 << 20
	cfg.MaxPids = 32
	if mutate != nil {
		mutate(&cfg)
	}
	r := newRunner(t, cfg)
	return &containerEnv{r: r, cfg: cfg, image: pinned, tagged: tagged, gpus: gpus}
}

// imageManifest returns a version 2 manifest running script with /bin/sh.
func imageManifest(t *testing.T, image, script string, extra map[string]any) []byte {
	t.Helper()
	m := map[string]any{"version": 2, "image": image, "command": []string{"/bin/sh", "-c", script}}
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// logLines returns the job log as key=value pairs from lines "key=value".
func logValues(log string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.Contains(k, " ") {
			out[k] = v
		}
	}
	return out
}

func runcGone(t *testing.T, cfg config.RunnerConfig, lease uint64) bool {
	t.Helper()
	err := exec.Command("runc", "--root", filepath.Join(cfg.WorkDir, "runc"), "state", containerID(lease)).Run()
	return err != nil
}

// TestContainerEscapesFail runs a job that tries to leave its container:
// read a key file of the sidecar, see or make a GPU device it did not lease,
// signal the sidecar, reach the host network, exceed its memory limit and
// fork-bomb past its pids limit. Each attempt must fail; the job itself
// succeeds and its outputs become the result.
func TestContainerEscapesFail(t *testing.T) {
	e := newContainerEnv(t, nil)
	keyDir := t.TempDir()
	keyFile := filepath.Join(keyDir, "priv_validator_key.json")
	if err := os.WriteFile(keyFile, []byte(`{"secret":"provider hot key"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	host := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "HOST-REACHED") })}
	ln := listenLocal(t)
	go func() { _ = host.Serve(ln) }()
	t.Cleanup(func() { _ = host.Close() })

	script := `
cat "$KEY" >/dev/null 2>&1; echo key=$?
echo devs=$(ls /dev | grep nvidia | tr '\n' ' ')
cat /dev/nvidia0 >/dev/null 2>/tmp/e0; read e0 </tmp/e0; echo leased_open="$e0"
cat /dev/nvidia1 >/dev/null 2>&1; echo unleased_open=$?
mknod /tmp/gpu1 c 240 1 2>/dev/null; echo mknod=$?
kill -9 "$SIDECAR_PID" 2>/dev/null; echo kill=$?
echo pid1=$(cat /proc/1/cmdline | tr '\0' ' ')
echo nets=$(ls /sys/class/net | tr '\n' ' ')
printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 "${HOSTADDR%:*}" "${HOSTADDR##*:}" 2>/dev/null | tail -n 1; echo
echo id=$(id -u) host=$(hostname)
echo uidmap=$(cat /proc/self/uid_map)
echo made > "$CRUCIBLE_OUTPUT_DIR/ok.txt"
dd if=/dev/zero of=/dev/null bs=128M count=1 2>/dev/null; echo dd=$?
( i=0; while [ $i -lt 100 ]; do sleep 30 & i=$((i+1)); echo $i >/tmp/n; done ) 2>/dev/null
read n </tmp/n; echo forked=$n
`
	m := imageManifest(t, e.image, script, map[string]any{
		"env": map[string]string{
			"KEY":         keyFile,
			"SIDECAR_PID": strconv.Itoa(os.Getpid()),
			"HOSTADDR":    ln.Addr().String(),
		},
		"resources": map[string]any{"memory_bytes": 48 << 20, "pids": 16},
	})
	start(t, e.r, 1, m, "GPU-aaaa")
	st := wait(t, e.r, 1)
	log := readLog(t, e.r, 1)
	t.Logf("log:\n%s", log)
	if st.State != StateSucceeded {
		t.Fatalf("state %s (%s)", st.State, st.Reason)
	}
	v := logValues(log)
	want := map[string]func(string) bool{
		"key":           func(s string) bool { return s != "0" },
		"devs":          func(s string) bool { return strings.TrimSpace(s) == "nvidia0" },
		"leased_open":   func(s string) bool { return strings.Contains(s, "No such device") }, // allowed by the cgroup, no driver
		"unleased_open": func(s string) bool { return s != "0" },
		"mknod":         func(s string) bool { return s != "0" },
		"kill":          func(s string) bool { return s != "0" },
		"pid1":          func(s string) bool { return strings.HasPrefix(s, "/bin/sh -c") },
		"nets":          func(s string) bool { return strings.TrimSpace(s) == "lo" },
		"dd":            func(s string) bool { return s == "137" },
		"forked":        func(s string) bool { n, err := strconv.Atoi(s); return err == nil && n < 16 },
	}
	for k, ok := range want {
		if !ok(v[k]) {
			t.Errorf("%s=%q: the attempt did not fail as it must", k, v[k])
		}
	}
	if e.r.be.(*containerBackend).userns && strings.Join(strings.Fields(v["uidmap"]), " ") != "0 1000000 65536" {
		t.Errorf("uid map %q: the container's root is not unprivileged on the host", v["uidmap"])
	}
	if strings.Contains(log, "HOST-REACHED") {
		t.Error("the container reached a server on the host's loopback")
	}
	if st.Result == nil || len(st.Result.Files) != 1 || st.Result.Files[0].Path != "ok.txt" {
		t.Fatalf("result %+v", st.Result)
	}
	if st.ImageDigest == "" || !strings.HasSuffix(e.image, st.ImageDigest) {
		t.Fatalf("image digest %q, image %s", st.ImageDigest, e.image)
	}
	if !runcGone(t, e.cfg, 1) {
		t.Fatal("container still exists after the job")
	}
	if _, err := os.Stat(filepath.Join(e.cfg.WorkDir, "leases", "1", "rootfs")); !os.IsNotExist(err) {
		t.Fatalf("rootfs not wiped: %v", err)
	}
}

// TestContainerServiceDialCancel runs a service, reaches its port inside
// the container's network namespace, and cancels it (as a lease close
// does): the container goes, its rootfs and volume are wiped.
func TestContainerServiceDialCancel(t *testing.T) {
	e := newContainerEnv(t, nil)
	m := imageManifest(t, e.tagged, "echo up; exec httpd -f -p 8000 -h /www", map[string]any{
		"service": true, "ports": []map[string]any{{"port": 8000}}, "volume_bytes": 1 << 20,
	})
	start(t, e.r, 2, m)
	body := getThroughDial(t, e.r, 2, 8000)
	if body != "hello from busybox\n" {
		t.Fatalf("body %q", body)
	}
	if _, _, err := e.r.DialPort(context.Background(), 2, 9000); err == nil {
		t.Fatal("dialed a port the manifest does not expose")
	}
	st, _ := e.r.Status(2)
	if st.ImageDigest == "" || st.Image != e.tagged {
		t.Fatalf("tag not resolved to a digest: %+v", st)
	}
	if _, err := os.Stat(filepath.Join(e.cfg.WorkDir, "leases", "2", "volume")); err != nil {
		t.Fatalf("volume: %v", err)
	}
	if err := e.r.Cancel(2); err != nil {
		t.Fatal(err)
	}
	st = wait(t, e.r, 2)
	if st.State != StateCancelled {
		t.Fatalf("state %s (%s)", st.State, st.Reason)
	}
	if !runcGone(t, e.cfg, 2) {
		t.Fatal("container still exists after cancel")
	}
	for _, d := range []string{"rootfs", "volume", "bundle"} {
		if _, err := os.Stat(filepath.Join(e.cfg.WorkDir, "leases", "2", d)); !os.IsNotExist(err) {
			t.Fatalf("%s not wiped: %v", d, err)
		}
	}
}

// TestContainerSidecarRestart reproduces a sidecar restart while a service
// runs (the old runner cleaned the container up, killing the tenant's
// service): the first runner detaches (as the sidecar does on shutdown),
// the second re-adopts the container (same container pid), proxies to it,
// and its log goes on with the output written while no sidecar ran. A
// second container, whose lease the restarted sidecar finds gone, is
// cancelled with the reason and removed; a job that ended while no sidecar
// ran is collected with its result.
func TestContainerSidecarRestart(t *testing.T) {
	e := newContainerEnv(t, nil)
	m := imageManifest(t, e.image, "echo before; (sleep 2; echo while-down) & exec httpd -f -p 8000 -h /www", map[string]any{
		"service": true, "ports": []map[string]any{{"port": 8000}},
	})
	start(t, e.r, 3, m)
	start(t, e.r, 4, imageManifest(t, e.image, "exec sleep 600", map[string]any{"service": true}))
	start(t, e.r, 5, imageManifest(t, e.image, `sleep 2; echo done > "$CRUCIBLE_OUTPUT_DIR/out.txt"`, nil))
	if body := getThroughDial(t, e.r, 3, 8000); body != "hello from busybox\n" {
		t.Fatalf("body %q", body)
	}
	waitRunning(t, e.r, 4)
	waitRunning(t, e.r, 5)
	be := e.r.be.(*containerBackend)
	pid1, err := be.initPID(containerID(3))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.r.Detach(); err != nil {
		t.Fatal(err)
	}
	if runcGone(t, e.cfg, 3) {
		t.Fatal("detach stopped the container")
	}
	time.Sleep(3 * time.Second) // "while-down" is written, and lease 5 ends, while no sidecar runs

	r2 := newRunner(t, e.cfg)
	st, err := r2.Status(3)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StateRunning {
		t.Fatalf("after restart: %s (%s)", st.State, st.Reason)
	}
	pid2, err := r2.be.(*containerBackend).initPID(containerID(3))
	if err != nil || pid2 != pid1 {
		t.Fatalf("container pid %d after restart, %d before (%v)", pid2, pid1, err)
	}
	if body := getThroughDial(t, r2, 3, 8000); body != "hello from busybox\n" {
		t.Fatalf("body after restart %q", body)
	}
	// The log resumes: what was written before and while down, in order.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := r2.Subscribe(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var got strings.Builder
	buf := make([]byte, 256)
	for !strings.Contains(got.String(), "while-down") {
		n, err := rc.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("log %q: %v", got.String(), err)
		}
	}
	if !strings.HasPrefix(got.String(), "before\n") {
		t.Fatalf("log %q", got.String())
	}
	// The job that ended while no sidecar ran is collected.
	if st := wait(t, r2, 5); st.State != StateSucceeded || st.Result == nil || len(st.Result.Files) != 1 {
		t.Fatalf("lease 5 after restart: %s (%s) %+v", st.State, st.Reason, st.Result)
	}
	// Lease 4 is gone on chain (the lease manager decides): removed, reported.
	if err := r2.CancelWithReason(4, "lease closed while the sidecar was down"); err != nil {
		t.Fatal(err)
	}
	if st := wait(t, r2, 4); st.State != StateCancelled || st.Reason != "lease closed while the sidecar was down" {
		t.Fatalf("orphan: %s (%s)", st.State, st.Reason)
	}
	if !runcGone(t, e.cfg, 4) {
		t.Fatal("the orphan container still exists")
	}
	if err := r2.Cancel(3); err != nil {
		t.Fatal(err)
	}
	if st := wait(t, r2, 3); st.State != StateCancelled {
		t.Fatalf("state %s (%s)", st.State, st.Reason)
	}
	if !runcGone(t, e.cfg, 3) {
		t.Fatal("container still exists after cancel")
	}
}

// TestContainerRestartShimGone: the shims were killed with the sidecar (a
// service manager killing its whole cgroup; the containers, in their own
// cgroups, live on). The restarted runner follows a service's container
// itself (it keeps serving; its exit code is unknown), reports a job whose
// container ended meanwhile failed, "sidecar restarted", and deletes it.
func TestContainerRestartShimGone(t *testing.T) {
	e := newContainerEnv(t, nil)
	start(t, e.r, 6, imageManifest(t, e.image, "exec httpd -f -p 8000 -h /www", map[string]any{
		"service": true, "ports": []map[string]any{{"port": 8000}},
	}))
	start(t, e.r, 7, imageManifest(t, e.image, "sleep 1", nil))
	_ = getThroughDial(t, e.r, 6, 8000)
	waitRunning(t, e.r, 7)
	if err := e.r.Detach(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"6", "7"} {
		cs, err := readContainerState(filepath.Join(e.cfg.WorkDir, "leases", id))
		if err != nil {
			t.Fatal(err)
		}
		_ = syscall.Kill(-cs.ShimPID, syscall.SIGKILL)
	}
	time.Sleep(2 * time.Second) // lease 7's job ends with no shim to record it
	r2 := newRunner(t, e.cfg)
	if st, _ := r2.Status(6); st.State != StateRunning {
		t.Fatalf("service after restart: %s (%s)", st.State, st.Reason)
	}
	if body := getThroughDial(t, r2, 6, 8000); body != "hello from busybox\n" {
		t.Fatalf("body after restart %q", body)
	}
	st, err := r2.Status(7)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StateFailed || st.Reason != ReasonRestarted {
		t.Fatalf("job after restart: %s (%s)", st.State, st.Reason)
	}
	if !runcGone(t, e.cfg, 7) {
		t.Fatal("the restarted runner left the ended container")
	}
	if err := r2.Cancel(6); err != nil {
		t.Fatal(err)
	}
	if st := wait(t, r2, 6); st.State != StateCancelled {
		t.Fatalf("service: %s (%s)", st.State, st.Reason)
	}
	if !runcGone(t, e.cfg, 6) {
		t.Fatal("container still exists after cancel")
	}
}

// TestContainerImageFailures: an unknown tag, a wrong digest and an image
// above max_image_bytes fail the job with a clear reason.
func TestContainerImageFailures(t *testing.T) {
	e := newContainerEnv(t, nil)
	repo := strings.SplitN(e.image, "@", 2)[0]
	cases := []struct {
		image, want string
	}{
		{repo + ":nope", "image " + repo + ":nope"},
		{repo + "@sha256:" + strings.Repeat("0", 64), "MANIFEST_UNKNOWN"},
	}
	for i, c := range cases {
		id := uint64(10 + i)
		start(t, e.r, id, imageManifest(t, c.image, "true", nil))
		st := wait(t, e.r, id)
		if st.State != StateFailed || !strings.Contains(st.Reason, c.want) {
			t.Errorf("%s: %s (%s), want a reason with %q", c.image, st.State, st.Reason, c.want)
		}
	}
	small := newContainerEnv(t, func(c *config.RunnerConfig) { c.MaxImageBytes = 1 << 10 })
	start(t, small.r, 20, imageManifest(t, small.image, "true", nil))
	if st := wait(t, small.r, 20); st.State != StateFailed || !strings.Contains(st.Reason, "max_image_bytes") {
		t.Errorf("large image: %s (%s)", st.State, st.Reason)
	}
	// An unresolvable GPU fails closed.
	start(t, e.r, 21, imageManifest(t, e.image, "true", nil), "GPU-zzzz")
	if st := wait(t, e.r, 21); st.State != StateFailed || !strings.Contains(st.Reason, "no CDI device") {
		t.Errorf("unknown GPU: %s (%s)", st.State, st.Reason)
	}
}

// getThroughDial GETs / from a job's port through DialPort, retrying until
// the service listens (bounded).
func getThroughDial(t *testing.T, r *Runner, lease uint64, port uint16) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, _, err := r.DialPort(context.Background(), lease, port)
		if err == nil {
			defer c.Close()
			fmt.Fprintf(c, "GET / HTTP/1.0\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b)
		}
		if st, _ := r.Status(lease); time.Now().After(deadline) || st.State.Final() {
			t.Fatalf("port %d never answered: %v (job %s %s)", port, err, st.State, st.Reason)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func listenLocal(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestContainerDiskLimits (runner.disk_quota poll): a job that writes past
// disk_bytes, and one that fills its volume past volume_bytes, are killed
// with the reason.
func TestContainerDiskLimits(t *testing.T) {
	e := newContainerEnv(t, func(c *config.RunnerConfig) { c.DiskQuota = config.DiskQuotaPoll })
	start(t, e.r, 30, imageManifest(t, e.image, "dd if=/dev/zero of=/tmp/fill bs=1M count=24 2>/dev/null; sync; sleep 30",
		map[string]any{"resources": map[string]any{"disk_bytes": 16 << 20}}))
	start(t, e.r, 31, imageManifest(t, e.image, "dd if=/dev/zero of=/volume/fill bs=1M count=4 2>/dev/null; sync; sleep 30",
		map[string]any{"volume_bytes": 1 << 20}))
	for id, want := range map[uint64]string{30: "disk limit exceeded", 31: "volume limit exceeded"} {
		if st := wait(t, e.r, id); st.State != StateFailed || !strings.Contains(st.Reason, want) {
			t.Errorf("lease %d: %s (%s), want %q", id, st.State, st.Reason, want)
		}
	}
}

// TestContainerDiskENOSPC (filesystem limits): writing past disk_bytes in
// the rootfs (/tmp) or the job directory, or past volume_bytes in the
// volume, fails at once inside the container with ENOSPC (before, the
// write succeeded and the job was killed up to a second later, having
// filled the host's disk meanwhile). The job goes on, and its outputs
// become its result; the filesystems are unmounted and deleted after it.
func TestContainerDiskENOSPC(t *testing.T) {
	e := newContainerEnv(t, nil)
	if mode := e.r.be.(*containerBackend).diskMode; mode != DiskFilesystem {
		t.Skipf("disk limits are %s here (no loop devices or mkfs.ext4)", mode)
	}
	script := `
dd if=/dev/zero of=/tmp/fill bs=1M count=24 2>/tmp/err; echo rootfs=$?; grep -o 'No space left on device' /tmp/err | head -n 1
rm -f /tmp/fill
dd if=/dev/zero of=/crucible/fill bs=1M count=24 2>/tmp/err; echo job=$?; grep -o 'No space left on device' /tmp/err | head -n 1
rm -f /crucible/fill
dd if=/dev/zero of=/volume/fill bs=1M count=4 2>/tmp/err; echo volume=$?; grep -o 'No space left on device' /tmp/err | head -n 1
echo kept > "$CRUCIBLE_OUTPUT_DIR/out.txt"
`
	start(t, e.r, 32, imageManifest(t, e.image, script,
		map[string]any{"resources": map[string]any{"disk_bytes": 16 << 20}, "volume_bytes": 1 << 20}))
	st := wait(t, e.r, 32)
	log := readLog(t, e.r, 32)
	t.Logf("log:\n%s", log)
	if st.State != StateSucceeded {
		t.Fatalf("state %s (%s)", st.State, st.Reason)
	}
	v := logValues(log)
	for _, k := range []string{"rootfs", "job", "volume"} {
		if v[k] == "0" || v[k] == "" {
			t.Errorf("%s: the write past the limit succeeded (dd exit %q)", k, v[k])
		}
	}
	if n := strings.Count(log, "No space left on device"); n != 3 {
		t.Errorf("%d writes failed with ENOSPC, want 3", n)
	}
	if st.Result == nil || len(st.Result.Files) != 1 || st.Result.Files[0].Path != "out.txt" {
		t.Fatalf("result %+v", st.Result)
	}
	f, _, err := e.r.OpenResultFile(32, "out.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "kept\n" {
		t.Fatalf("out.txt %q", b)
	}
	dir := filepath.Join(e.cfg.WorkDir, "leases", "32")
	for _, p := range []string{"disk", "disk.img", "volume", "volume.img"} {
		if _, err := os.Stat(filepath.Join(dir, p)); !os.IsNotExist(err) {
			t.Errorf("%s left after the job: %v", p, err)
		}
	}
	if mounts, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mounts), dir) {
		t.Errorf("a filesystem of the lease is still mounted")
	}
}

// TestContainerOutputsSymlinkRefused: a job that replaces its outputs
// directory with a symlink to a host directory gets no result, and no host
// file is read.
func TestContainerOutputsSymlinkRefused(t *testing.T) {
	e := newContainerEnv(t, nil)
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "secret"), []byte("host secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, e.r, 40, imageManifest(t, e.image, `rm -rf /crucible/outputs && ln -s "$HOSTDIR" /crucible/outputs`,
		map[string]any{"env": map[string]string{"HOSTDIR": host}}))
	st := wait(t, e.r, 40)
	if st.State != StateFailed || st.Result != nil || !strings.Contains(st.Reason, "cannot read the outputs") {
		t.Fatalf("state %s (%s), result %+v", st.State, st.Reason, st.Result)
	}
}
