package prover

import (
	"context"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// CPU is the reference prover: poc.Prover, in pure Go.
type CPU struct {
	workers int
}

var _ Prover = (*CPU)(nil)

// NewCPU returns the CPU prover; workers <= 0 means GOMAXPROCS.
func NewCPU(workers int) *CPU { return &CPU{workers: workers} }

// Name implements Prover.
func (*CPU) Name() string { return "cpu" }

// Prove implements Prover.
func (c *CPU) Prove(_ context.Context, params poc.Params, seed [32]byte) (Session, error) {
	pr, err := poc.NewProver(params, seed, poc.ProverOptions{Workers: c.workers})
	if err != nil {
		return nil, err
	}
	return &cpuSession{pr: pr}, nil
}

type cpuSession struct{ pr *poc.Prover }

func (s *cpuSession) Commit(ctx context.Context) ([32]byte, error) { return s.pr.Commit(ctx) }

func (s *cpuSession) Reveal(ctx context.Context, sampleSeed [32]byte) ([]byte, error) {
	r, err := s.pr.Reveal(ctx, sampleSeed)
	if err != nil {
		return nil, err
	}
	return r.MarshalBinary()
}

func (s *cpuSession) UnitRoots() [][32]byte { return s.pr.UnitRoots() }

func (s *cpuSession) Close() error { return nil }
