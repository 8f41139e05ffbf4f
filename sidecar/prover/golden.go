package prover

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// goldenJSON is a copy of x/attest/poc/testdata/golden.json (a test keeps
// them equal), so the selftest needs nothing but the binary.
//
//go:embed testdata/golden.json
var goldenJSON []byte

// GoldenCase is one reference vector of x/attest/poc (the fields this
// package checks).
type GoldenCase struct {
	Name      string     `json:"name"`
	Params    poc.Params `json:"params"`
	SeedInput struct {
		ChainID    string `json:"chain_id"`
		Height     int64  `json:"height"`
		HeaderHash string `json:"header_hash"`
		Provider   string `json:"provider"`
		GPUIndex   uint32 `json:"gpu_index"`
		HasLease   bool   `json:"has_lease"`
		LeaseID    uint64 `json:"lease_id"`
	} `json:"seed_input"`
	Seed             string   `json:"seed"`
	UnitRoots        []string `json:"unit_roots"`
	InstanceRoot     string   `json:"instance_root"`
	SampleHeaderHash string   `json:"sample_header_hash"`
	SampleSeed       string   `json:"sample_seed"`
	RevealSize       int      `json:"reveal_size"`
	RevealSHA256     string   `json:"reveal_sha256"`
}

// LoadGolden reads reference vectors from path, or the embedded copy of
// x/attest/poc/testdata/golden.json when path is empty.
func LoadGolden(path string) ([]GoldenCase, error) {
	b := goldenJSON
	if path != "" {
		var err error
		if b, err = os.ReadFile(path); err != nil {
			return nil, err
		}
	}
	var f struct {
		Cases []GoldenCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("golden vectors: %w", err)
	}
	if len(f.Cases) == 0 {
		return nil, fmt.Errorf("golden vectors: no cases")
	}
	return f.Cases, nil
}

// GoldenResult is the outcome of one case.
type GoldenResult struct {
	Name    string
	Params  poc.Params
	Elapsed time.Duration
	// Err is nil when the prover reproduced the root and the reveal bit for bit.
	Err error
}

func unhex32(s string) ([32]byte, error) {
	var out [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return out, fmt.Errorf("bad 32-byte hex %q", s)
	}
	copy(out[:], b)
	return out, nil
}

// CheckGolden runs each case through p: seed derivation, Commit (instance
// root), sampling and Reveal (size, SHA256 and poc.VerifyReveal). It
// returns one result per case; the error is for a broken vector file.
func CheckGolden(ctx context.Context, p Prover, cases []GoldenCase) ([]GoldenResult, error) {
	out := make([]GoldenResult, 0, len(cases))
	for _, c := range cases {
		hh, err1 := hex.DecodeString(c.SeedInput.HeaderHash)
		prov, err2 := hex.DecodeString(c.SeedInput.Provider)
		sh, err3 := hex.DecodeString(c.SampleHeaderHash)
		wantRoot, err4 := unhex32(c.InstanceRoot)
		wantSeed, err5 := unhex32(c.Seed)
		for _, err := range []error{err1, err2, err3, err4, err5} {
			if err != nil {
				return nil, fmt.Errorf("golden case %s: %w", c.Name, err)
			}
		}
		seed := poc.DeriveSeed(poc.SeedInput{
			ChainID: c.SeedInput.ChainID, Height: c.SeedInput.Height, HeaderHash: hh, Provider: prov,
			GPUIndex: c.SeedInput.GPUIndex, HasLease: c.SeedInput.HasLease, LeaseID: c.SeedInput.LeaseID,
		})
		if seed != wantSeed {
			return nil, fmt.Errorf("golden case %s: seed %x, file says %x", c.Name, seed, wantSeed)
		}
		start := time.Now()
		err := checkCase(ctx, p, c, seed, wantRoot, sh)
		out = append(out, GoldenResult{Name: c.Name, Params: c.Params, Elapsed: time.Since(start), Err: err})
	}
	return out, nil
}

func checkCase(ctx context.Context, p Prover, c GoldenCase, seed, wantRoot [32]byte, sampleHeader []byte) error {
	s, err := p.Prove(ctx, c.Params, seed)
	if err != nil {
		return err
	}
	defer s.Close()
	root, err := s.Commit(ctx)
	if err != nil {
		return err
	}
	if root != wantRoot {
		msg := fmt.Sprintf("instance root %x, want %x", root, wantRoot)
		if ur, ok := s.(UnitRooter); ok {
			for u, r := range ur.UnitRoots() {
				if u < len(c.UnitRoots) && hex.EncodeToString(r[:]) != c.UnitRoots[u] {
					msg += fmt.Sprintf("; first differing unit %d", u)
					break
				}
			}
		}
		return fmt.Errorf("%s", msg)
	}
	sampleSeed := poc.SampleSeed(root, sampleHeader)
	if want, err := unhex32(c.SampleSeed); err != nil || want != sampleSeed {
		return fmt.Errorf("sample seed %x, want %s", sampleSeed, c.SampleSeed)
	}
	rev, err := s.Reveal(ctx, sampleSeed)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(rev)
	if len(rev) != c.RevealSize || hex.EncodeToString(sum[:]) != c.RevealSHA256 {
		return fmt.Errorf("reveal of %d bytes with sha256 %x, want %d bytes with %s", len(rev), sum, c.RevealSize, c.RevealSHA256)
	}
	var r poc.Reveal
	if err := r.UnmarshalBinary(rev); err != nil {
		return err
	}
	return poc.VerifyReveal(c.Params, seed, root, sampleSeed, &r)
}

// Throughput is a timed challenge.
type Throughput struct {
	Params poc.Params
	// Commit covers every unit (generation, product, hashing) and the
	// instance root; Reveal the sampled units again and the openings.
	Commit, Reveal, Total time.Duration
	// MACs is Params.MACs(): int8 multiply-adds of the commit.
	MACs uint64
	// MACPerSec is MACs over Total; TOPS counts a multiply-add as two
	// operations (the convention of int8 TOPS figures), in 10^12 per second.
	MACPerSec float64
	TOPS      float64
	Root      [32]byte
}

// Measure runs one whole challenge (commit and reveal, hashing included)
// and reports its throughput.
func Measure(ctx context.Context, p Prover, params poc.Params, seed [32]byte) (Throughput, error) {
	t := Throughput{Params: params, MACs: params.MACs()}
	start := time.Now()
	s, err := p.Prove(ctx, params, seed)
	if err != nil {
		return t, err
	}
	defer s.Close()
	if t.Root, err = s.Commit(ctx); err != nil {
		return t, err
	}
	t.Commit = time.Since(start)
	rev, err := s.Reveal(ctx, poc.SampleSeed(t.Root, []byte("measure")))
	if err != nil {
		return t, err
	}
	t.Total = time.Since(start)
	t.Reveal = t.Total - t.Commit
	if len(rev) != poc.RevealSize(params) {
		return t, fmt.Errorf("reveal of %d bytes, want %d", len(rev), poc.RevealSize(params))
	}
	t.MACPerSec = float64(t.MACs) / t.Total.Seconds()
	t.TOPS = 2 * t.MACPerSec / 1e12
	return t, nil
}
