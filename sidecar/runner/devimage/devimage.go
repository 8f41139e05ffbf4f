// Package devimage builds a small OCI image from the host's static busybox
// and serves images from an in-process registry on 127.0.0.1: what the
// container tests and `make demo` run tenant jobs from, without Docker Hub.
package devimage

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// BusyboxPaths are where a static busybox is looked for.
var BusyboxPaths = []string{"/bin/busybox", "/usr/bin/busybox"}

// Applets are the busybox applets the image links in /bin.
var Applets = []string{
	"sh", "cat", "ls", "echo", "kill", "dd", "head", "httpd", "sleep", "mknod", "wget", "seq", "ln",
	"grep", "id", "mkdir", "touch", "tr", "wc", "nc", "sync", "true", "false", "env", "ps", "hostname",
	"chmod", "printf", "rm", "date",
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

// Busybox returns an image holding the static busybox at path as
// /bin/busybox, its applets, a minimal /etc and /www/index.html, with cmd
// ["/bin/sh"].
func Busybox(path string) (v1.Image, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var werr error
	add := func(h *tar.Header, data []byte) {
		if werr == nil {
			werr = tw.WriteHeader(h)
		}
		if werr == nil {
			_, werr = tw.Write(data)
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
	if werr == nil {
		werr = tw.Close()
	}
	if werr != nil {
		return nil, werr
	}
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	return mutate.Config(img, v1.Config{Cmd: []string{"/bin/sh"}, Env: []string{"PATH=/bin"}})
}

// Registry is an OCI registry served on a loopback listener.
type Registry struct {
	srv *http.Server
	ln  net.Listener
}

// ServeRegistry serves an empty registry on addr (127.0.0.1:0 for any
// port); it refuses addresses that are not loopback.
func ServeRegistry(addr string) (*Registry, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, errors.New("devimage: the registry listens on loopback only")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
	go func() { _ = srv.Serve(ln) }()
	return &Registry{srv: srv, ln: ln}, nil
}

// Addr is the registry's host:port.
func (r *Registry) Addr() string { return r.ln.Addr().String() }

// Close stops the registry.
func (r *Registry) Close() error { return r.srv.Close() }

// Push pushes img as repo (name:tag, under the registry) and returns the
// reference pinned by digest (host:port/name@sha256:...).
func (r *Registry) Push(repo string, img v1.Image) (string, error) {
	ref, err := name.ParseReference(r.Addr() + "/" + repo)
	if err != nil {
		return "", err
	}
	if err := remote.Write(ref, img); err != nil {
		return "", err
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s@%s", ref.Context().String(), d), nil
}
