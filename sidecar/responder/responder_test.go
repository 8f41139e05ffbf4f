package responder_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/sidecar/chain"
	"github.com/crucible-network/crucible/sidecar/chain/chaintest"
	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/sidecar/metrics"
	"github.com/crucible-network/crucible/sidecar/prover"
	"github.com/crucible-network/crucible/sidecar/responder"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

func TestMain(m *testing.M) { chaintest.Main(m) }

// noReveal passes commits through and refuses reveals: a sidecar that dies
// between its commit and its reveal.
type noReveal struct{ s *chain.Signer }

func (n noReveal) Submit(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
	for _, m := range msgs {
		if _, ok := m.(*attesttypes.MsgRevealProof); ok {
			return nil, errors.New("killed before the reveal")
		}
	}
	return n.s.Submit(ctx, msgs...)
}

func challenges(t *testing.T, c *chain.Client, provider string, st attesttypes.ChallengeState) []attesttypes.Challenge {
	t.Helper()
	res, err := attesttypes.NewQueryClient(c.Conn()).Challenges(context.Background(),
		&attesttypes.QueryChallengesRequest{Provider: provider, State: st})
	if err != nil {
		t.Fatal(err)
	}
	return res.Challenges
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// An honest responder passes its challenges; one killed between commit and
// reveal is replaced by a fresh one that re-proves from the seed (same root)
// and reveals in time.
func TestResponderPassesAndSurvivesRestart(t *testing.T) {
	net := chaintest.Require(t)
	c := chaintest.Dial(t, net)
	owner := chaintest.AddKey(t, c, net, "responder-owner", 5_000_000_000)
	s := chaintest.Signer(t, c, net, "responder-owner", "")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := chaintest.RegisterProvider(ctx, s, "eu-west", []providertypes.GPU{
		{Uuid: "GPU-resp-0", Model: "NVIDIA H100 80GB HBM3", Class: "h100", MemoryMib: 81559},
	}); err != nil {
		t.Fatal(err)
	}
	p, err := prover.Open(ctx, config.ProverConfig{Backend: "cpu"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m := metrics.New()

	// First sidecar: commits, then "dies" before revealing.
	ctx1, stop1 := context.WithCancel(ctx)
	r1 := responder.New(c, noReveal{s}, p, owner.String(), m, logger).WithPollInterval(200 * time.Millisecond)
	done1 := make(chan error, 1)
	go func() { done1 <- r1.Run(ctx1) }()
	waitFor(t, "a committed challenge", 90*time.Second, func() bool {
		return len(challenges(t, c, owner.String(), attesttypes.ChallengeStateCommitted)) > 0
	})
	stop1()
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	committed := challenges(t, c, owner.String(), attesttypes.ChallengeStateCommitted)[0]

	// Second sidecar from scratch: proves again, same root, reveals.
	r2 := responder.New(c, s, p, owner.String(), m, logger).WithPollInterval(200 * time.Millisecond)
	ctx2, stop2 := context.WithCancel(ctx)
	defer stop2()
	go func() { _ = r2.Run(ctx2) }()
	waitFor(t, "the committed challenge to pass", 60*time.Second, func() bool {
		res, err := attesttypes.NewQueryClient(c.Conn()).Challenge(ctx, &attesttypes.QueryChallengeRequest{Id: committed.Id})
		return err == nil && res.Challenge.State == attesttypes.ChallengeStatePassed
	})
	rec, err := attesttypes.NewQueryClient(c.Conn()).Record(ctx, &attesttypes.QueryRecordRequest{Provider: owner.String()})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Record.Passes == 0 || rec.Record.Frauds != 0 {
		t.Fatalf("record after the restart: %+v", rec.Record)
	}
	prov, err := c.GetProvider(ctx, 0, owner.String())
	if err != nil {
		t.Fatal(err)
	}
	if prov.Gpus[0].VerifiedHeight == 0 {
		t.Fatalf("GPU not marked verified after a pass: %+v", prov.Gpus[0])
	}
	t.Logf("challenge %d: issued %d, committed %d, passed; record %+v", committed.Id, committed.IssuedHeight, committed.CommitHeight, rec.Record)
}
