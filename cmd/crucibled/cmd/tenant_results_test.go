package cmd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/crucible-network/crucible/sidecar/runner"
	markettypes "github.com/crucible-network/crucible/x/market/types"
)

// fakeSidecar serves result files from a map.
type fakeSidecar map[string]string

func (f fakeSidecar) Download(_ context.Context, _ uint64, path string, w io.Writer) ([]byte, error) {
	body, ok := f[path]
	if !ok {
		return nil, errors.New("no such file")
	}
	_, err := io.WriteString(w, body)
	sum := sha256.Sum256([]byte(body))
	return sum[:], err
}

func listing(files map[string]string) []runner.File {
	var out []runner.File
	for p, body := range files {
		sum := sha256.Sum256([]byte(body))
		out = append(out, runner.File{Path: p, Size: int64(len(body)), SHA256: sum[:]})
	}
	return out
}

// TestCompareResult reproduces issue 15 item 5's last point: `tenant job
// results` printed the on-chain hash beside the files without comparing
// them. Now the hash recomputed from the downloaded files (not the one the
// sidecar announces) is compared with the receipt on chain: MATCH only when
// they agree, MISMATCH when the files were altered, a file was dropped, or
// the chain holds another result; NO RECEIPT without one.
func TestCompareResult(t *testing.T) {
	manifest := sha256.Sum256([]byte("manifest"))
	honest := map[string]string{"answer.txt": "42\n", "sub/b.txt": "abc"}
	want := runner.ResultHash(listing(honest))
	receipt := &markettypes.LeaseResult{ResultHash: want[:], Location: "sidecar://1/results", ManifestHash: manifest[:], Submission: 1}
	ctx := context.Background()

	dir := t.TempDir()
	files, err := downloadResult(ctx, fakeSidecar(honest), 1, listing(honest), dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "sub", "b.txt")); string(got) != "abc" {
		t.Fatalf("downloaded sub/b.txt = %q", got)
	}
	if c := compareResult(receipt, manifest[:], files, want[:]); c.Verdict != VerdictMatch || !bytes.Equal(c.Recomputed, want[:]) || c.Reason != "" {
		t.Fatalf("honest files: %+v", c)
	}

	// The sidecar serves altered content under the honest listing (and
	// announces the honest hash): the CLI measures what it got.
	altered := map[string]string{"answer.txt": "41\n", "sub/b.txt": "abc"}
	files, err = downloadResult(ctx, fakeSidecar(altered), 1, listing(honest), "")
	if err != nil {
		t.Fatal(err)
	}
	if c := compareResult(receipt, manifest[:], files, want[:]); c.Verdict != VerdictMismatch {
		t.Fatalf("altered file: %+v", c)
	}
	// A file left out of the listing.
	files, err = downloadResult(ctx, fakeSidecar(honest), 1, listing(map[string]string{"answer.txt": "42\n"}), "")
	if err != nil {
		t.Fatal(err)
	}
	if c := compareResult(receipt, manifest[:], files, want[:]); c.Verdict != VerdictMismatch {
		t.Fatalf("dropped file: %+v", c)
	}
	// The chain holds another result (e.g. a poisoned one).
	files, _ = downloadResult(ctx, fakeSidecar(honest), 1, listing(honest), "")
	other := &markettypes.LeaseResult{ResultHash: bytes.Repeat([]byte{0xba}, 32), ManifestHash: manifest[:], Submission: 2}
	if c := compareResult(other, manifest[:], files, want[:]); c.Verdict != VerdictMismatch || !bytes.Equal(c.OnChain, other.ResultHash) {
		t.Fatalf("other result on chain: %+v", c)
	}
	// A receipt for another manifest.
	wrong := *receipt
	wrong.ManifestHash = bytes.Repeat([]byte{1}, 32)
	if c := compareResult(&wrong, manifest[:], files, want[:]); c.Verdict != VerdictMismatch {
		t.Fatalf("other manifest: %+v", c)
	}
	// No receipt yet.
	if c := compareResult(nil, manifest[:], files, want[:]); c.Verdict != VerdictNoReceipt {
		t.Fatalf("no receipt: %+v", c)
	}
	// An empty result (no files) matches its own hash.
	empty := runner.ResultHash(nil)
	if c := compareResult(&markettypes.LeaseResult{ResultHash: empty[:]}, manifest[:], nil, empty[:]); c.Verdict != VerdictMatch {
		t.Fatalf("empty result: %+v", c)
	}
}

// TestDownloadResultRefusesEscapingPaths: a sidecar cannot make the CLI
// write outside --download DIR, or count a file twice.
func TestDownloadResultRefusesEscapingPaths(t *testing.T) {
	ctx := context.Background()
	for _, p := range []string{"../x", "/etc/x", "a/../../x", ""} {
		files := map[string]string{p: "x"}
		if _, err := downloadResult(ctx, fakeSidecar(files), 1, listing(files), t.TempDir()); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
	dup := []runner.File{{Path: "a"}, {Path: "a"}}
	if _, err := downloadResult(ctx, fakeSidecar{"a": "x"}, 1, dup, ""); err == nil {
		t.Error("a file listed twice accepted")
	}
}
