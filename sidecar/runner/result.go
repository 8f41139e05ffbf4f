package runner

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// ResultDomain starts the byte string that ResultHash hashes.
const ResultDomain = "crucible/results/v1\n"

// ResultHash is the SHA256 of a deterministic listing of the result files:
//
//	"crucible/results/v1\n" ||
//	for each file, sorted by path (bytewise):
//	    path || 0x00 || decimal size || 0x00 || hex(SHA256(contents)) || "\n"
//
// Paths are slash-separated and relative to the outputs directory; empty
// directories do not count. Anyone holding the files can recompute it.
func ResultHash(files []File) [32]byte {
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b File) int { return cmpString(a.Path, b.Path) })
	h := sha256.New()
	h.Write([]byte(ResultDomain))
	for _, f := range sorted {
		h.Write([]byte(f.Path))
		h.Write([]byte{0})
		h.Write([]byte(strconv.FormatInt(f.Size, 10)))
		h.Write([]byte{0})
		h.Write([]byte(f.SHA256.String()))
		h.Write([]byte{'\n'})
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// scanOutputs lists and hashes the regular files under the outputs
// directory rel of jobDir (through an os.Root, so nothing outside it is
// read, even when the job replaced the directory with a symlink). Anything
// other than regular files and directories (symlinks, devices, sockets)
// fails the job, as does a total above limit bytes. A missing dir is an
// empty result.
func scanOutputs(jobDir, rel string, limit int64) ([]File, int64, error) {
	root, err := openOutputs(jobDir, rel)
	if os.IsNotExist(err) {
		return []File{}, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer root.Close()
	files := []File{}
	var total int64
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("outputs contain %s, which is not a regular file (%s)", p, d.Type())
		}
		f, err := root.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		n, err := io.Copy(h, io.LimitReader(f, limit-total+1))
		if err != nil {
			return err
		}
		total += n
		if total > limit {
			return errOutputLimit
		}
		files = append(files, File{Path: p, Size: n, SHA256: h.Sum(nil)})
		return nil
	})
	if err != nil {
		return nil, total, err
	}
	slices.SortFunc(files, func(a, b File) int { return cmpString(a.Path, b.Path) })
	return files, total, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// openOutputs opens the outputs directory rel (slash-separated, relative)
// of jobDir as an os.Root, resolving rel inside jobDir: a job (or a
// container) that made it a symlink to somewhere else on the host gets an
// error, not the host's files.
func openOutputs(jobDir, rel string) (*os.Root, error) {
	job, err := os.OpenRoot(jobDir)
	if err != nil {
		return nil, err
	}
	defer job.Close()
	return job.OpenRoot(filepath.FromSlash(rel))
}
