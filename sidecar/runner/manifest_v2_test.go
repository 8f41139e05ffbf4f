package runner

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crucible-network/crucible/sidecar/config"
)

func TestManifestV2Validation(t *testing.T) {
	good := `{"version":2,"image":"registry.example/team/infer@sha256:` + strings.Repeat("a", 64) + `","args":["--port","8000"],` +
		`"resources":{"cpu_millis":2000,"memory_bytes":1073741824,"shm_bytes":67108864,"pids":128},` +
		`"ports":[{"port":8000,"protocol":"http"},{"port":9000,"protocol":"tcp"}],"volume_bytes":1048576,"service":true}`
	m, err := ParseManifest([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Container() || !m.Service || len(m.Ports) != 2 {
		t.Fatalf("parsed %+v", m)
	}
	for name, s := range map[string]string{
		"image without version": `{"image":"busybox","command":["true"]}`,
		"version 2 no image":    `{"version":2,"command":["true"]}`,
		"version 3":             `{"version":3,"image":"busybox"}`,
		"bad reference":         `{"version":2,"image":"UPPER CASE:tag"}`,
		"empty command":         `{"version":2,"image":"busybox","command":[""]}`,
		"port zero":             `{"version":2,"image":"busybox","ports":[{"port":0}]}`,
		"port twice":            `{"version":2,"image":"busybox","ports":[{"port":80},{"port":80}]}`,
		"port too big":          `{"version":2,"image":"busybox","ports":[{"port":70000}]}`,
		"bad protocol":          `{"version":2,"image":"busybox","ports":[{"port":80,"protocol":"udp"}]}`,
		"tiny memory":           `{"version":2,"image":"busybox","resources":{"memory_bytes":1024}}`,
		"negative pids":         `{"version":2,"image":"busybox","resources":{"pids":-1}}`,
		"unknown resource":      `{"version":2,"image":"busybox","resources":{"gpus":8}}`,
		"ports on a process":    `{"command":["true"],"ports":[{"port":80}]}`,
		"nul in args":           `{"version":2,"image":"busybox","args":["a\u0000b"]}`,
	} {
		if _, err := ParseManifest([]byte(s)); !errors.Is(err, ErrBadManifest) {
			t.Errorf("%s: %v", name, err)
		}
	}
	cfg := config.TestRunnerConfig()
	over := Manifest{Version: 2, Image: "busybox", Resources: Resources{MemoryBytes: cfg.MaxMemoryBytes + 1}}
	if err := over.checkLimits(cfg); !errors.Is(err, ErrBadManifest) || !strings.Contains(err.Error(), "memory_bytes") {
		t.Fatalf("over the provider's memory cap: %v", err)
	}
}

// The process backend refuses images; the container backend (when runc
// exists) refuses process manifests.
func TestBackendRefusesOtherKind(t *testing.T) {
	r := newRunner(t, testConfig(t))
	img := []byte(`{"version":2,"image":"busybox"}`)
	if _, err := r.Start(context.Background(), 1, ManifestHashSlice(img), img, nil); !errors.Is(err, ErrBadManifest) || !strings.Contains(err.Error(), "process backend") {
		t.Fatalf("image on the process backend: %v", err)
	}
	cfg := testConfig(t)
	cfg.Backend = config.BackendContainer
	cfg.Runtime = "no-such-runtime-crucible"
	if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), "no OCI runtime") {
		t.Fatalf("container backend without a runtime: %v", err)
	}
}

// untar refuses entries that lead outside the rootfs, directly or through
// a symlink an earlier entry made.
func TestUntarStaysInRootfs(t *testing.T) {
	outside := t.TempDir()
	build := func(entries ...*tar.Header) []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for _, h := range entries {
			if h.Typeflag == tar.TypeReg {
				h.Size = 2
			}
			if err := tw.WriteHeader(h); err != nil {
				t.Fatal(err)
			}
			if h.Typeflag == tar.TypeReg {
				_, _ = tw.Write([]byte("x\n"))
			}
		}
		_ = tw.Close()
		return b.Bytes()
	}
	// "../" names are cleaned into the rootfs.
	dir := filepath.Join(t.TempDir(), "rootfs")
	if err := untar(context.Background(), bytes.NewReader(build(&tar.Header{Name: "../../escape", Typeflag: tar.TypeReg, Mode: 0o644})), dir, 1<<20, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "escape")); err != nil {
		t.Fatalf("cleaned entry: %v", err)
	}
	// A symlink to outside, then a file through it.
	dir2 := filepath.Join(t.TempDir(), "rootfs")
	err := untar(context.Background(), bytes.NewReader(build(
		&tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: outside},
		&tar.Header{Name: "link/pwned", Typeflag: tar.TypeReg, Mode: 0o644},
	)), dir2, 1<<20, 0)
	if err == nil {
		t.Fatal("a file was written through a symlink leading outside")
	}
	if _, err := os.Stat(filepath.Join(outside, "pwned")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("escaped: %v", err)
	}
	// A hard link to a file outside.
	dir3 := filepath.Join(t.TempDir(), "rootfs")
	if err := untar(context.Background(), bytes.NewReader(build(
		&tar.Header{Name: "hl", Typeflag: tar.TypeLink, Linkname: "../../../../etc/passwd"},
	)), dir3, 1<<20, 0); err == nil {
		t.Fatal("hard link to a file outside the rootfs was made")
	}
	// The size bound.
	dir4 := filepath.Join(t.TempDir(), "rootfs")
	if err := untar(context.Background(), bytes.NewReader(build(&tar.Header{Name: "big", Typeflag: tar.TypeReg, Mode: 0o644})), dir4, 1, 0); err == nil {
		t.Fatal("unpacked past the bound")
	}
}
