// Package runnertest builds what container tests need: a busybox image
// made from the host's busybox-static binary (devimage), an OCI registry
// served in-process on 127.0.0.1, and fake CDI GPU devices.
package runnertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"

	"github.com/crucible-network/crucible/sidecar/runner/devimage"
)

// NeedContainers skips t unless it runs as root with runc and a static
// busybox (CI installs runc and busybox-static).
func NeedContainers(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("container tests need root (runc creates namespaces and cgroups)")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		t.Skip("container tests need runc (apt-get install runc)")
	}
	if devimage.StaticBusybox() == "" {
		t.Skip("container tests need a static busybox (apt-get install busybox-static)")
	}
}

// BusyboxImage returns devimage's busybox image.
func BusyboxImage(t testing.TB) v1.Image {
	t.Helper()
	bb := devimage.StaticBusybox()
	if bb == "" {
		t.Fatal("no static busybox")
	}
	img, err := devimage.Busybox(bb)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Registry serves an OCI registry on 127.0.0.1 until the test ends and
// returns it.
func Registry(t testing.TB) *devimage.Registry {
	t.Helper()
	r, err := devimage.ServeRegistry("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// Push pushes img to repo (name:tag) on reg and returns the reference
// pinned by digest.
func Push(t testing.TB, reg *devimage.Registry, repo string, img v1.Image) string {
	t.Helper()
	ref, err := reg.Push(repo, img)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// FakeGPU is a fake GPU: a character device node with no driver behind it
// (major 240, a number for local use), exposed through CDI.
type FakeGPU struct {
	UUID     string
	Path     string // path in the container (/dev/nvidiaN)
	HostPath string
	Minor    uint32
}

// FakeCDI makes one device node per UUID under dir and writes a CDI spec
// (kind nvidia.com/gpu) for them into dir/cdi, which it returns.
func FakeCDI(t testing.TB, dir string, uuids ...string) (string, []FakeGPU) {
	t.Helper()
	specDir := filepath.Join(dir, "cdi")
	devDir := filepath.Join(dir, "dev")
	for _, d := range []string{specDir, devDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var gpus []FakeGPU
	var b strings.Builder
	b.WriteString("cdiVersion: \"0.6.0\"\nkind: nvidia.com/gpu\ndevices:\n")
	for i, u := range uuids {
		g := FakeGPU{UUID: u, Path: fmt.Sprintf("/dev/nvidia%d", i), HostPath: filepath.Join(devDir, fmt.Sprintf("nvidia%d", i)), Minor: uint32(i)}
		if err := unix.Mknod(g.HostPath, unix.S_IFCHR|0o666, int(unix.Mkdev(240, g.Minor))); err != nil {
			t.Skipf("cannot make fake GPU device nodes: %v", err)
		}
		fmt.Fprintf(&b, "- name: %s\n  containerEdits:\n    deviceNodes:\n    - path: %s\n      hostPath: %s\n", u, g.Path, g.HostPath)
		gpus = append(gpus, g)
	}
	if err := os.WriteFile(filepath.Join(specDir, "fake-gpus.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return specDir, gpus
}
