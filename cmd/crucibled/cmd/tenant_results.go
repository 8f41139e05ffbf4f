package cmd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/crucible-network/crucible/sidecar/runner"
	markettypes "github.com/crucible-network/crucible/x/market/types"
)

// The verdicts of `tenant job results`.
const (
	// VerdictMatch: the files downloaded hash (runner.ResultHash) to the
	// result hash the provider put on chain.
	VerdictMatch = "MATCH"
	// VerdictMismatch: they do not; the command exits non-zero.
	VerdictMismatch = "MISMATCH"
	// VerdictNoReceipt: the lease has no result on chain yet (nothing to
	// compare with); the command exits non-zero.
	VerdictNoReceipt = "NO RECEIPT"
)

// ResultCheck is the tenant's comparison of the downloaded outputs with the
// provider's receipt on chain.
type ResultCheck struct {
	Verdict string `json:"verdict"`
	// Recomputed is runner.ResultHash of the files as downloaded (sizes and
	// SHA-256s counted by the CLI, not taken from the sidecar).
	Recomputed runner.HexBytes `json:"recomputed_hash"`
	// OnChain is the lease's latest result hash (empty without a receipt).
	OnChain runner.HexBytes `json:"on_chain_hash,omitempty"`
	// Sidecar is the hash the sidecar announced.
	Sidecar runner.HexBytes `json:"sidecar_hash"`
	// Reason says why the verdict is not MATCH.
	Reason string `json:"reason,omitempty"`
}

// compareResult compares the hash recomputed from the downloaded files with
// the lease's result on chain (onChain, nil when there is none) and the
// order's manifest hash; sidecarHash is what the sidecar announced (for the
// record: the verdict depends only on the recomputed and on-chain hashes).
func compareResult(onChain *markettypes.LeaseResult, manifestHash []byte, files []runner.File, sidecarHash []byte) ResultCheck {
	sum := runner.ResultHash(files)
	c := ResultCheck{Recomputed: sum[:], Sidecar: sidecarHash}
	switch {
	case onChain == nil:
		c.Verdict, c.Reason = VerdictNoReceipt, "the provider has not put a result on chain yet: the files are not verified"
	case !bytes.Equal(onChain.ResultHash, sum[:]):
		c.Verdict, c.OnChain = VerdictMismatch, onChain.ResultHash
		c.Reason = "the downloaded files do not hash to the result on chain"
	case len(onChain.ManifestHash) != 0 && !bytes.Equal(onChain.ManifestHash, manifestHash):
		// The chain refuses such a result; a receipt from before the check
		// has no manifest hash.
		c.Verdict, c.OnChain = VerdictMismatch, onChain.ResultHash
		c.Reason = fmt.Sprintf("the receipt names manifest %x, the order %x", onChain.ManifestHash, manifestHash)
	default:
		c.Verdict, c.OnChain = VerdictMatch, onChain.ResultHash
	}
	return c
}

// downloader is the part of the tenant API client that fetches a file.
type downloader interface {
	Download(ctx context.Context, leaseID uint64, path string, w io.Writer) ([]byte, error)
}

// downloadResult fetches every file the sidecar lists, writing it under dir
// when dir is not empty (else only hashing it), and returns the files as the
// CLI measured them, to recompute the result hash from. A path that is not
// local (absolute, "..") or listed twice is refused.
func downloadResult(ctx context.Context, c downloader, leaseID uint64, listed []runner.File, dir string) ([]runner.File, error) {
	seen := make(map[string]bool, len(listed))
	out := make([]runner.File, 0, len(listed))
	for _, file := range listed {
		if !filepath.IsLocal(filepath.FromSlash(file.Path)) || seen[file.Path] {
			return nil, fmt.Errorf("result file %q: not a local path, or listed twice", file.Path)
		}
		seen[file.Path] = true
		h := sha256.New()
		n := &countWriter{w: h}
		var w io.Writer = n
		var fh *os.File
		if dir != "" {
			dst := filepath.Join(dir, filepath.FromSlash(file.Path))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return nil, err
			}
			var err error
			if fh, err = os.Create(dst); err != nil {
				return nil, err
			}
			w = io.MultiWriter(fh, n)
		}
		_, err := c.Download(ctx, leaseID, file.Path, w)
		if fh != nil {
			if cerr := fh.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, runner.File{Path: file.Path, Size: n.n, SHA256: h.Sum(nil)})
	}
	return out, nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
