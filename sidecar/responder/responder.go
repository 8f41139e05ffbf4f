// Package responder answers the provider's x/attest challenges: it finds
// open challenges on chain, proves them with the configured prover (CPU or
// CUDA), commits the root, waits for the sample block, checks its own reveal
// with the chain's verifier, and reveals.
//
// Restart safety: all truth is on chain. Proofs are deterministic, so after
// a restart a COMMITTED challenge is proven again from its seed, which gives
// the same root, and revealed; nothing is ever committed twice (the chain
// also refuses a second commit).
package responder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	cmtservice "github.com/cosmos/cosmos-sdk/client/grpc/cmtservice"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/crucible-network/crucible/sidecar/chain"
	"github.com/crucible-network/crucible/sidecar/metrics"
	"github.com/crucible-network/crucible/sidecar/prover"
	"github.com/crucible-network/crucible/x/attest/poc"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
)

// Submitter sends messages as the provider (chain.Signer implements it).
type Submitter interface {
	Submit(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error)
}

// Responder answers one provider's challenges.
type Responder struct {
	client   *chain.Client
	attest   attesttypes.QueryClient
	blocks   cmtservice.ServiceClient
	signer   Submitter
	prover   prover.Prover
	provider string
	metrics  *metrics.Metrics
	logger   *slog.Logger
	poll     time.Duration

	mu       sync.Mutex
	sessions map[uint64]*session
}

type session struct {
	ch     attesttypes.Challenge
	s      prover.Session
	root   [32]byte
	seen   time.Time
	busy   bool
	failed error
}

// New returns a responder for provider (the owner address the challenges
// name). m may be nil.
func New(client *chain.Client, signer Submitter, p prover.Prover, provider string, m *metrics.Metrics, logger *slog.Logger) *Responder {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Responder{
		client: client, attest: attesttypes.NewQueryClient(client.Conn()),
		blocks: cmtservice.NewServiceClient(client.Conn()),
		signer: signer, prover: p, provider: provider, metrics: m,
		logger: logger.With("module", "responder", "prover", p.Name()), poll: time.Second,
		sessions: map[uint64]*session{},
	}
}

// WithPollInterval sets how often the chain is polled (default 1s).
func (r *Responder) WithPollInterval(d time.Duration) *Responder { r.poll = d; return r }

// PollInterval is how often the chain is polled.
func (r *Responder) PollInterval() time.Duration { return r.poll }

// Run polls for challenges until ctx ends.
func (r *Responder) Run(ctx context.Context) error {
	t := time.NewTicker(r.poll)
	defer t.Stop()
	defer r.closeAll()
	for {
		if err := r.Step(ctx); err != nil && ctx.Err() == nil {
			r.logger.Warn("challenge poll failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Step does one round: start proofs for new challenges, reveal committed
// ones whose sample block exists, drop finished ones. Work on a challenge
// runs in its own goroutine so a long proof does not delay the others.
func (r *Responder) Step(ctx context.Context) error {
	height, err := r.client.LatestHeight(ctx)
	if err != nil {
		return err
	}
	open := map[uint64]attesttypes.Challenge{}
	for _, st := range []attesttypes.ChallengeState{attesttypes.ChallengeStatePendingCommit, attesttypes.ChallengeStateCommitted} {
		var key []byte
		for {
			res, err := r.attest.Challenges(chain.AtHeight(ctx, height), &attesttypes.QueryChallengesRequest{
				Provider: r.provider, State: st, Pagination: &query.PageRequest{Key: key, Limit: 100},
			})
			if err != nil {
				return err
			}
			for _, c := range res.Challenges {
				open[c.Id] = c
			}
			if res.Pagination == nil || len(res.Pagination.NextKey) == 0 {
				break
			}
			key = res.Pagination.NextKey
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	for id, s := range r.sessions {
		if _, ok := open[id]; !ok && !s.busy {
			_ = s.s.Close()
			delete(r.sessions, id)
		}
	}
	for id, c := range open {
		s := r.sessions[id]
		if s == nil {
			s = &session{ch: c, seen: time.Now()}
			r.sessions[id] = s
		}
		s.ch = c
		if s.busy || s.failed != nil {
			continue
		}
		// Deadlines are in block header time (unix ms); the chain also
		// accepts the grace blocks whatever their time, so only work that
		// is clearly too late (past the deadline by clockSkew on our clock,
		// and past the grace blocks) is skipped.
		late := func(deadlineMs, graceHeight int64) bool {
			return time.Now().Add(-clockSkew).UnixMilli() > deadlineMs && height > graceHeight
		}
		switch c.State {
		case attesttypes.ChallengeStatePendingCommit:
			if late(c.CommitDeadlineMs, c.IssuedHeight+attesttypes.CommitGraceBlocks) {
				continue
			}
			s.busy = true
			go r.commit(ctx, s)
		case attesttypes.ChallengeStateCommitted:
			if height < c.CommitHeight+1 || late(c.RevealDeadlineMs, c.CommitHeight+attesttypes.RevealGraceBlocks) {
				continue // sample block not there yet, or too late
			}
			s.busy = true
			go r.reveal(ctx, s)
		}
	}
	return nil
}

// done ends a unit of work on s. A permanent failure (our own reveal does
// not verify: sending it would be fraud) stops work on the challenge; any
// other error is retried on the next poll (the chain refuses duplicates).
func (r *Responder) done(s *session, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s.busy = false
	if err != nil && errors.Is(err, errPermanent) {
		s.failed = err
		if r.metrics != nil {
			r.metrics.ChallengesFailed.Inc()
		}
	}
}

// clockSkew is how far this host's clock may be from the chain's header
// time before the responder gives up on a challenge as too late.
const clockSkew = 5 * time.Second

// errPermanent marks failures that retrying cannot fix.
var errPermanent = errors.New("permanent")

func params(c attesttypes.Challenge) poc.Params {
	return poc.Params{N: c.ProofSize.N, K: c.ProofSize.K, M: c.ProofSize.M, Samples: c.ProofSize.Samples}
}

// prove (re)computes the session's proof and returns its root.
func (r *Responder) prove(ctx context.Context, s *session) error {
	if s.s != nil {
		return nil
	}
	var seed [32]byte
	if len(s.ch.Seed) != 32 {
		return fmt.Errorf("challenge %d: seed has %d bytes", s.ch.Id, len(s.ch.Seed))
	}
	copy(seed[:], s.ch.Seed)
	sess, err := r.prover.Prove(ctx, params(s.ch), seed)
	if err != nil {
		return err
	}
	start := time.Now()
	root, err := sess.Commit(ctx)
	if err != nil {
		_ = sess.Close()
		return err
	}
	p := params(s.ch)
	r.logger.Info("proof computed", "challenge", s.ch.Id, "gpu", s.ch.GpuUuid, "took", time.Since(start),
		"macs", p.MACs())
	s.s, s.root = sess, root
	return nil
}

func (r *Responder) commit(ctx context.Context, s *session) {
	err := func() error {
		if err := r.prove(ctx, s); err != nil {
			return err
		}
		res, err := r.signer.Submit(ctx, &attesttypes.MsgCommitProof{Provider: r.provider, ChallengeId: s.ch.Id, Root: s.root[:]})
		if err != nil {
			return fmt.Errorf("commit challenge %d: %w", s.ch.Id, err)
		}
		if r.metrics != nil {
			r.metrics.ChallengeLatency.Observe(time.Since(s.seen).Seconds())
		}
		r.logger.Info("challenge committed", "challenge", s.ch.Id, "height", res.Height,
			"issued", s.ch.IssuedHeight, "deadline_in", time.Until(time.UnixMilli(s.ch.CommitDeadlineMs)).Round(time.Millisecond))
		return nil
	}()
	r.done(s, err)
	if err != nil {
		r.logger.Error("commit failed", "challenge", s.ch.Id, "err", err)
	}
}

func (r *Responder) reveal(ctx context.Context, s *session) {
	err := func() error {
		if err := r.prove(ctx, s); err != nil {
			return err
		}
		if !bytes.Equal(s.root[:], s.ch.Root) {
			return fmt.Errorf("%w: challenge %d: recomputed root %x differs from the committed %x", errPermanent, s.ch.Id, s.root, s.ch.Root)
		}
		blk, err := r.blocks.GetBlockByHeight(ctx, &cmtservice.GetBlockByHeightRequest{Height: s.ch.CommitHeight + 1})
		if err != nil {
			return fmt.Errorf("sample block %d: %w", s.ch.CommitHeight+1, err)
		}
		sampleSeed := poc.SampleSeed(s.root, blk.BlockId.Hash)
		enc, err := s.s.Reveal(ctx, sampleSeed)
		if err != nil {
			return err
		}
		// Check our own answer with the chain's verifier first: a reveal
		// that decodes but does not verify is slashed as fraud.
		var rv poc.Reveal
		if err := rv.UnmarshalBinary(enc); err != nil {
			return fmt.Errorf("own reveal does not decode: %w", err)
		}
		var seed [32]byte
		copy(seed[:], s.ch.Seed)
		if err := poc.VerifyReveal(params(s.ch), seed, s.root, sampleSeed, &rv); err != nil {
			return fmt.Errorf("%w: own reveal does not verify, not sending it: %w", errPermanent, err)
		}
		res, err := r.signer.Submit(ctx, &attesttypes.MsgRevealProof{Provider: r.provider, ChallengeId: s.ch.Id, Reveal: enc})
		if err != nil {
			return fmt.Errorf("reveal challenge %d: %w", s.ch.Id, err)
		}
		if r.metrics != nil {
			r.metrics.ChallengesAnswered.Inc()
		}
		r.logger.Info("challenge revealed", "challenge", s.ch.Id, "height", res.Height, "bytes", len(enc))
		return nil
	}()
	r.done(s, err)
	if err != nil {
		r.logger.Error("reveal failed", "challenge", s.ch.Id, "err", err)
	}
}

func (r *Responder) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, s := range r.sessions {
		if s.s != nil && !s.busy {
			_ = s.s.Close()
		}
		delete(r.sessions, id)
	}
}
