package runner

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/crucible-network/crucible/sidecar/config"
)

// Disk limits. Where the host allows it (root, loop devices, mkfs.ext4),
// a container's writable data lives on filesystems of exactly its limits:
// an ext4 image of disk_bytes (sparse, no journal, no reserved blocks)
// mounted at <lease>/disk, holding its rootfs and job directory, and one
// of volume_bytes at <lease>/volume. A write past the limit fails in the
// container with ENOSPC. When the job ends its outputs are copied to the
// lease's job directory on the host (where the result is read and served
// from) and the filesystems are unmounted and deleted. Elsewhere
// (runner.disk_quota poll, or auto without loop devices) the use is polled
// every second and a job over its limit is killed.

// Disk limit modes (containerBackend.diskMode).
const (
	DiskFilesystem = "filesystem"
	DiskPoll       = "poll"
)

// diskState records a container's limit filesystems in container.json.
type diskState struct {
	// Job is the job directory the container sees, on the disk filesystem.
	Job string `json:"job"`
	// Outputs is the outputs dir, relative to the job directory.
	Outputs string `json:"outputs"`
}

// diskMode picks how disk limits are enforced; it probes the filesystem
// mode with a small image.
func diskMode(cfg config.RunnerConfig, workDir string) (string, string) {
	if cfg.DiskQuota == config.DiskQuotaPoll {
		return DiskPoll, "runner.disk_quota is poll"
	}
	if os.Geteuid() != 0 {
		return DiskPoll, "not root"
	}
	if _, err := exec.LookPath("mkfs.ext4"); err != nil {
		return DiskPoll, "no mkfs.ext4 (Debian: e2fsprogs)"
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		return DiskPoll, "no loop devices (/dev/loop-control)"
	}
	dir, err := os.MkdirTemp(workDir, ".diskprobe-")
	if err != nil {
		return DiskPoll, err.Error()
	}
	defer os.RemoveAll(dir)
	mnt := filepath.Join(dir, "mnt")
	if err := makeDisk(mnt, 1<<20, 0); err != nil {
		return DiskPoll, err.Error()
	}
	unmountDisk(mnt)
	return DiskFilesystem, ""
}

// makeDisk creates a sparse ext4 image of size bytes at mnt + ".img" and
// mounts it at mnt (nosuid, nodev), its root directory owned by uid (and
// gid) owner.
func makeDisk(mnt string, size uint64, owner int) error {
	img := mnt + ".img"
	if err := os.MkdirAll(mnt, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(img, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	err = f.Truncate(int64(max(size, 1<<20)))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(img)
		return err
	}
	own := strconv.Itoa(owner)
	steps := [][]string{
		{"mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^has_journal", "-E", "root_owner=" + own + ":" + own + ",nodiscard", img},
		{"mount", "-t", "ext4", "-o", "loop,nosuid,nodev", img, mnt},
	}
	for _, s := range steps {
		if err := ipCmd(s[0], s[1:]...); err != nil {
			_ = os.Remove(img)
			return err
		}
	}
	_ = os.Remove(filepath.Join(mnt, "lost+found"))
	return nil
}

// unmountDisk unmounts a limit filesystem (lazily: the loop device goes
// once nothing uses it) and deletes its image, mnt + ".img".
func unmountDisk(mnt string) {
	for unix.Unmount(mnt, unix.MNT_DETACH) == nil {
	}
	_ = os.Remove(mnt)
	_ = os.Remove(mnt + ".img")
}

// copyOutputs copies the outputs dir of a job directory on a limit
// filesystem to the lease's job directory on the host, where the result
// is read from. Symlinks are copied as symlinks (never followed: the
// result scan refuses them as before); other special files are skipped;
// at most limit bytes are copied (the scan reports an overflow).
func copyOutputs(fromJob, toJob, outputs string, limit int64) error {
	src := filepath.Join(fromJob, filepath.FromSlash(outputs))
	dst := filepath.Join(toJob, filepath.FromSlash(outputs))
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	// The outputs dir itself, or any of its parents, may be a symlink.
	if rel, _ := filepath.Rel(fromJob, src); rel != "." {
		for p := src; p != fromJob; p = filepath.Dir(p) {
			if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
				target, _ := os.Readlink(p)
				_ = os.MkdirAll(filepath.Dir(dst), 0o700)
				return os.Symlink(target, dst)
			}
		}
	}
	var copied int64
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == src {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(out, 0o700)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, out)
		case !d.Type().IsRegular():
			return nil
		}
		if copied > limit {
			return nil
		}
		in, err := os.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW, 0)
		if err != nil {
			return err
		}
		defer in.Close()
		o, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		n, err := io.Copy(o, io.LimitReader(in, limit-copied+1))
		copied += n
		if cerr := o.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("copy output %s: %w", rel, err)
		}
		return nil
	})
}
