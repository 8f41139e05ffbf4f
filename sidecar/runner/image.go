package runner

import (
	"archive/tar"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/cache"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// unpackFactor bounds an image's unpacked size: unpackFactor times
// max_image_bytes (compressed layers).
const unpackFactor = 4

// imageStore pulls images into a bounded layer cache and unpacks them.
// Pulls are serialized, so the cache is pruned while no pull reads it.
type imageStore struct {
	dir        string // layer cache
	maxBytes   uint64
	cacheBytes uint64
	keychain   authn.Keychain
	insecure   []string

	mu sync.Mutex
}

func newImageStore(dir string, maxBytes, cacheBytes uint64, authFile string, insecure []string) (*imageStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("runner: image cache: %w", err)
	}
	kc := authn.Keychain(anonymousKeychain{})
	if authFile != "" {
		kc = dockerConfigKeychain{path: authFile}
	}
	return &imageStore{dir: dir, maxBytes: maxBytes, cacheBytes: cacheBytes, keychain: kc, insecure: insecure}, nil
}

// pulledImage is an image ready to unpack.
type pulledImage struct {
	img    v1.Image
	digest string // sha256:...
	config v1.Config
	layers []v1.Hash
}

// pull resolves ref (a tag resolves to its digest now; a digest is checked)
// and checks the image's size against max_image_bytes.
func (s *imageStore) pull(ctx context.Context, ref string) (*pulledImage, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	if slices.Contains(s.insecure, r.Context().RegistryStr()) {
		if r, err = name.ParseReference(ref, name.Insecure); err != nil {
			return nil, err
		}
	}
	img, err := remote.Image(r, remote.WithContext(ctx), remote.WithAuthFromKeychain(s.keychain))
	if err != nil {
		return nil, err
	}
	dg, err := img.Digest()
	if err != nil {
		return nil, err
	}
	if d, ok := r.(name.Digest); ok && d.DigestStr() != dg.String() {
		return nil, fmt.Errorf("registry served digest %s for %s", dg, ref)
	}
	mf, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	var total uint64
	var layers []v1.Hash
	for _, l := range mf.Layers {
		if l.Size < 0 {
			return nil, fmt.Errorf("layer %s has a negative size", l.Digest)
		}
		total += uint64(l.Size)
		layers = append(layers, l.Digest)
	}
	if total > s.maxBytes {
		return nil, fmt.Errorf("image is %d bytes (compressed layers), more than the provider's max_image_bytes (%d)", total, s.maxBytes)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	return &pulledImage{img: cache.Image(img, cache.NewFilesystemCache(s.dir)), digest: dg.String(), config: cf.Config, layers: layers}, nil
}

// unpack pulls ref and writes its flattened filesystem into rootfs (which
// must not exist), then prunes the layer cache.
func (s *imageStore) unpack(ctx context.Context, ref, rootfs string, idShift int) (*pulledImage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.pull(ctx, ref)
	if err != nil {
		return nil, err
	}
	rc := mutate.Extract(p.img)
	defer rc.Close()
	if err := untar(ctx, rc, rootfs, unpackFactor*s.maxBytes, idShift); err != nil {
		return nil, err
	}
	now := time.Now()
	for _, l := range p.layers {
		_ = os.Chtimes(filepath.Join(s.dir, l.String()), now, now)
	}
	s.prune()
	return p, nil
}

// prune removes the least recently used cached layers until the cache
// holds at most cacheBytes.
func (s *imageStore) prune() {
	type entry struct {
		path string
		size int64
		mod  time.Time
	}
	var all []entry
	var total uint64
	_ = filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			all = append(all, entry{p, info.Size(), info.ModTime()})
			total += uint64(info.Size())
		}
		return nil
	})
	slices.SortFunc(all, func(a, b entry) int { return a.mod.Compare(b.mod) })
	for _, e := range all {
		if total <= s.cacheBytes {
			return
		}
		if os.Remove(e.path) == nil {
			total -= uint64(e.size)
		}
	}
}

// untar writes a flattened image filesystem into dir through an os.Root, so
// no entry (nor a symlink an earlier entry made) leads outside it. Device
// nodes and fifos are skipped; at most max bytes of file data are written.
// Owners are shifted by idShift (the container's user namespace mapping).
func untar(ctx context.Context, r io.Reader, dir string, max uint64, idShift int) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	if idShift != 0 {
		if err := os.Chown(dir, idShift, idShift); err != nil {
			return err
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	var written uint64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("image layers: %w", err)
		}
		p := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		if p == "" {
			continue
		}
		if d := path.Dir(p); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("image entry %s: %w", p, err)
			}
		}
		mode := fs.FileMode(h.Mode) & fs.ModePerm
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(p, mode); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("image entry %s: %w", p, err)
			}
		case tar.TypeReg:
			if h.Size < 0 || written+uint64(h.Size) > max {
				return fmt.Errorf("image unpacks to more than %d bytes", max)
			}
			_ = root.Remove(p)
			f, err := root.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
			if err != nil {
				return fmt.Errorf("image entry %s: %w", p, err)
			}
			n, err := io.Copy(f, io.LimitReader(tr, h.Size))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("image entry %s: %w", p, err)
			}
			written += uint64(n)
		case tar.TypeSymlink:
			_ = root.Remove(p)
			if err := root.Symlink(h.Linkname, p); err != nil {
				return fmt.Errorf("image entry %s: %w", p, err)
			}
		case tar.TypeLink:
			_ = root.Remove(p)
			target := strings.TrimPrefix(path.Clean("/"+h.Linkname), "/")
			if err := root.Link(target, p); err != nil {
				return fmt.Errorf("image entry %s: %w", p, err)
			}
		default:
			continue // devices, fifos: not from an image
		}
		_ = root.Lchown(p, h.Uid+idShift, h.Gid+idShift)
		if h.Typeflag != tar.TypeSymlink {
			// Setuid and setgid bits are dropped: no-new-privileges makes
			// them useless and they are nothing a job needs.
			_ = root.Chmod(p, mode)
		}
	}
}

// anonymousKeychain pulls without credentials.
type anonymousKeychain struct{}

func (anonymousKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.Anonymous, nil
}

// dockerConfigKeychain reads credentials from a docker config.json
// ({"auths": {"registry": {"auth": base64(user:password)}}}) at each pull.
type dockerConfigKeychain struct{ path string }

func (k dockerConfigKeychain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	b, err := os.ReadFile(k.path)
	if err != nil {
		return nil, fmt.Errorf("registry auth file: %w", err)
	}
	var cf struct {
		Auths map[string]struct {
			Auth          string `json:"auth"`
			Username      string `json:"username"`
			Password      string `json:"password"`
			IdentityToken string `json:"identitytoken"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(b, &cf); err != nil {
		return nil, fmt.Errorf("registry auth file %s: %w", k.path, err)
	}
	reg := res.RegistryStr()
	keys := []string{reg, "https://" + reg, "http://" + reg}
	if reg == name.DefaultRegistry {
		keys = append(keys, "https://index.docker.io/v1/", "docker.io")
	}
	for _, key := range keys {
		a, ok := cf.Auths[key]
		if !ok {
			continue
		}
		ac := authn.AuthConfig{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken}
		if a.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				return nil, fmt.Errorf("registry auth file: auth for %s is not base64", key)
			}
			user, pass, ok := strings.Cut(string(raw), ":")
			if !ok {
				return nil, fmt.Errorf("registry auth file: auth for %s is not user:password", key)
			}
			ac.Username, ac.Password = user, pass
		}
		return authn.FromConfig(ac), nil
	}
	return authn.Anonymous, nil
}
