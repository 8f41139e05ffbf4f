package main_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemo runs `make demo`'s script end to end with real processes: a
// crucibled validator, a crucible-sidecar (simulated GPUs), and the tenant
// CLI. The script itself fails on any step that does not reconcile.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole demo with real processes")
	}
	sidecar := filepath.Join(t.TempDir(), "crucible-sidecar")
	build := exec.Command("go", "build", "-o", sidecar, "../crucible-sidecar")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "../../scripts/demo.sh")
	cmd.Env = append(os.Environ(), "CRUCIBLED="+bin, "SIDECAR="+sidecar, fmt.Sprintf("DEMO_PORT=%d", freeBasePort(t, 9)))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out)
	}
	for _, want := range []string{"job succeeded", "on-chain receipt", "receipt check: MATCH", "passed at", "reconciled: alice paid exactly"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("demo output lacks %q:\n%s", want, out)
		}
	}
	// As root with runc and busybox-static, the job is a container whose
	// service the tenant reaches through the proxy.
	if strings.Contains(string(out), "lease runner: runc containers") {
		for _, want := range []string{"GET / through the proxy: hello from lease", "GPU devices it sees: nvidia0\n", `"code":"unauthenticated"`} {
			if !strings.Contains(string(out), want) {
				t.Fatalf("demo output lacks %q:\n%s", want, out)
			}
		}
	}
	t.Logf("%s", out)
}

// freeBasePort finds n consecutive free ports on 127.0.0.1.
func freeBasePort(t *testing.T, n int) int {
	t.Helper()
	for base := 30000 + os.Getpid()%20000; base < 65000; base += n {
		ok := true
		for p := base; p < base+n && ok; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}
