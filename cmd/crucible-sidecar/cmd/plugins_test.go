package cmd

import (
	"log/slog"
	"testing"
	"time"

	"github.com/crucible-network/crucible/sidecar/chain"
	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/sidecar/responder"
)

// The built-in challenge responder polls as often as --poll-interval says.
func TestChallengeResponderUsesPollInterval(t *testing.T) {
	cfg := config.TestConfig()
	cfg.Prover.Backend = config.ProverBackendCPU
	const poll = 123 * time.Millisecond
	c, err := chain.Dial(cfg.Chain, chain.WithPollInterval(poll)) // lazy: no node needed
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cr, err := builtinPlugins().ChallengeResponder(Deps{Config: cfg, Chain: c, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := cr.(*responder.Responder)
	if !ok {
		t.Fatalf("challenge responder is a %T", cr)
	}
	if r.PollInterval() != poll {
		t.Fatalf("responder polls every %s, want %s", r.PollInterval(), poll)
	}
}
