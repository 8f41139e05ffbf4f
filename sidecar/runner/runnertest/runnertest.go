// Package runnertest builds what container tests need: a busybox image
// made from the host's busybox-static binary, an OCI registry served
// in-process on 127.0.0.1, and fake CDI GPU devices.
package runnertest

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/sys/unix"
)

// BusyboxPaths are where a static busybox is looked for.
var BusyboxPaths = []string{"/bin/busybox", "/usr/bin/busybox"}

// Applets are the busybox applets the image links in /bin.
var Applets = []string{
	"sh", "cat", "ls", "echo", "kill", "dd", "head", "httpd", "sleep", "mknod", "wget", "seq",
	"grep", "id", "mkdir", "touch", "tr", "wc", "nc", "sync", "true", "false", "env", "ps", "hostname",
}

// StaticBusybox returns the path of a statically linked busybox, or "".
func StaticBusybox() string {
	for _, p := range BusyboxPaths {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		static := true
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				static = false
			}
		}
		f.Close()
		if static {
			return p
		}
	}
	return ""
}

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
	if StaticBusybox() == "" {
		t.Skip("container tests need a static busybox (apt-get install busybox-static)")
	}
}

// BusyboxImage returns an image holding a static busybox as /bin/busybox,
// its applets and a minimal /etc, with cmd ["/bin/sh"].
func BusyboxImage(t testing.TB) v1.Image {
	t.Helper()
	bb := StaticBusybox()
	if bb == "" {
		t.Fatal("no static busybox")
	}
	bin, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, data []byte) {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"bin", "etc", "tmp", "www"} {
		mode := int64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		add(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: mode}, nil)
	}
	add(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin))}, bin)
	for _, a := range Applets {
		add(&tar.Header{Name: "bin/" + a, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}, nil)
	}
	passwd := []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
	group := []byte("root:x:0:\nnogroup:x:65534:\n")
	add(&tar.Header{Name: "etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(passwd))}, passwd)
	add(&tar.Header{Name: "etc/group", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(group))}, group)
	index := []byte("hello from busybox\n")
	add(&tar.Header{Name: "www/index.html", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(index))}, index)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.Config(img, v1.Config{Cmd: []string{"/bin/sh"}, Env: []string{"PATH=/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Registry serves an OCI registry on 127.0.0.1 until the test ends and
// returns its host:port.
func Registry(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// Push pushes img to ref and returns ref pinned by digest (repo@sha256:...).
func Push(t testing.TB, ref string, img v1.Image) string {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return r.Context().String() + "@" + d.String()
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
