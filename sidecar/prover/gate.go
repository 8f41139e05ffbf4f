package prover

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// ClassGate says which GPU classes the sidecar may bid: only those its
// prover can answer within the class's commit deadline (Decide). A provider
// must not bid a class it cannot prove in time: every missed challenge of a
// leased GPU refunds its tenant and, after max_missed, drops the claim.
// The zero value (and a nil gate) allows every class.
type ClassGate struct {
	mu        sync.RWMutex
	decisions map[string]Decision
}

// ClassDeadline is one chain class: its proof size and commit deadline.
type ClassDeadline struct {
	Class    string
	Params   poc.Params
	Deadline time.Duration
}

// Allows reports whether class may be bid. Before Decide has run (or on a
// nil gate) every class is allowed.
func (g *ClassGate) Allows(class string) bool {
	if g == nil {
		return true
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.decisions == nil {
		return true
	}
	d, ok := g.decisions[class]
	return ok && d.Bid()
}

// ClassDecision is the decision for one class.
type ClassDecision struct {
	Class string
	Decision
}

// Decisions returns the decisions by class, sorted by class.
func (g *ClassGate) Decisions() []ClassDecision {
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := make([]ClassDecision, 0, len(g.decisions))
	for c, d := range g.decisions {
		out = append(out, ClassDecision{c, d})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Class < out[j].Class })
	return out
}

// Decide weighs p for every class and keeps the decisions: a GPU backend
// (any prover whose Name is not "cpu") is trusted until `prover bench`
// measures it; the CPU prover is timed on one test-size proof and allowed
// only the classes whose proof it finishes within the deadline / margin.
func (g *ClassGate) Decide(ctx context.Context, p Prover, classes []ClassDeadline) error {
	var gpuErr error
	var cpuRate float64
	if p.Name() == "cpu" {
		gpuErr = errors.New("the prover backend is the cpu")
		rate, err := MeasureRate(ctx, p)
		if err != nil {
			return err
		}
		cpuRate = rate
	}
	out := make(map[string]Decision, len(classes))
	for _, c := range classes {
		out[c.Class] = Decide(c.Params, c.Deadline, gpuErr, 0, cpuRate)
	}
	g.mu.Lock()
	g.decisions = out
	g.mu.Unlock()
	return nil
}

// MeasureRate proves one test-size challenge with p and returns its rate in
// int8 multiply-adds per second.
func MeasureRate(ctx context.Context, p Prover) (float64, error) {
	params := poc.TestParams()
	start := time.Now()
	s, err := p.Prove(ctx, params, [32]byte{1})
	if err != nil {
		return 0, fmt.Errorf("measuring the prover: %w", err)
	}
	defer s.Close()
	if _, err := s.Commit(ctx); err != nil {
		return 0, fmt.Errorf("measuring the prover: %w", err)
	}
	el := time.Since(start).Seconds()
	if el <= 0 {
		el = 1e-9
	}
	return float64(params.MACs()) / el, nil
}
