// Package leases is the sidecar's lease manager: it learns the provider's
// active leases from the bid engine, answers the tenant API's lease lookups
// (tenant, GPUs, manifest hash from the chain), cancels a lease's job when
// the lease closes, and posts MsgSubmitResult once a job succeeds.
//
// Restart safety: leases come back from the chain through the bid engine's
// catch-up; the runner marks jobs that were running when the sidecar died
// as failed ("sidecar restarted"); a result is posted only when the lease
// on chain does not carry this sidecar's result already, so an honest result
// is never submitted twice (the chain also refuses the same result again).
//
// Poisoning: a result on chain that is not the sidecar's own (a stolen hot
// key posted it, e.g. before the job ran) is superseded while the lease is
// active, with an error-level log; the manager re-reads an active lease's
// result every recheck interval, so a bogus result posted after the honest
// one is superseded too (up to the chain's MaxResultSubmissions).
package leases

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/sidecar/api"
	"github.com/crucible-network/crucible/sidecar/metrics"
	"github.com/crucible-network/crucible/sidecar/runner"
	markettypes "github.com/crucible-network/crucible/x/market/types"
)

// Chain is what the manager reads from the chain.
type Chain interface {
	GetOrder(ctx context.Context, height int64, id uint64) (markettypes.Order, error)
	GetLease(ctx context.Context, id uint64) (markettypes.Lease, error)
}

// Submitter sends messages as the provider.
type Submitter interface {
	Submit(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error)
}

type lease struct {
	l            markettypes.Lease
	manifestHash []byte
	active       bool
	// done: the result on chain is final as far as the manager can tell
	// (ours on a closed lease, or one it can no longer supersede).
	done bool
	// checked is when the manager last found its own result on chain (an
	// active lease is re-read every recheck interval).
	checked time.Time
	// since is when the manager learned the lease was active (the
	// manifest timeout counts from there, also after a restart).
	since time.Time
	// closeTried is when the manager last asked the chain to close the
	// lease for want of a manifest.
	closeTried time.Time
}

// Manager tracks the provider's leases.
type Manager struct {
	chain    Chain
	runner   *runner.Runner
	signer   Submitter
	provider string
	metrics  *metrics.Metrics
	logger   *slog.Logger
	poll     time.Duration
	// recheck is how often an active lease's result on chain is re-read.
	recheck time.Duration
	// manifestTimeout closes a lease with no manifest after this long (0: never).
	manifestTimeout time.Duration
	now             func() time.Time

	mu     sync.Mutex
	leases map[uint64]*lease
	// confirmed holds the live jobs whose lease the manager has seen
	// active (a job re-adopted after a restart is checked once).
	confirmed map[uint64]bool
}

// New returns a manager. m may be nil. signer signs as the provider
// (directly or through its x/authz grant): the tx signature is the result
// receipt's signature.
func New(chain Chain, r *runner.Runner, signer Submitter, provider string, m *metrics.Metrics, logger *slog.Logger) *Manager {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	mgr := &Manager{chain: chain, runner: r, signer: signer, provider: provider, metrics: m,
		logger: logger.With("module", "leases"), poll: time.Second, recheck: 30 * time.Second,
		leases: map[uint64]*lease{}, confirmed: map[uint64]bool{}, now: time.Now}
	if m != nil && r != nil {
		m.CountRunning(func() int { return countRunning(r.List()) })
	}
	return mgr
}

// countRunning counts the jobs in sts that are running now.
func countRunning(sts []runner.Status) int {
	n := 0
	for _, st := range sts {
		if st.State == runner.StateRunning {
			n++
		}
	}
	return n
}

// WithRecheckInterval sets how often the result on chain of an active lease
// whose job succeeded is re-read (and superseded when it is not ours).
func (m *Manager) WithRecheckInterval(d time.Duration) *Manager { m.recheck = d; return m }

// WithManifestTimeout makes the manager close (as the provider, with
// MsgCloseLease) an active lease whose tenant sent no manifest within d of
// the lease becoming active; the provider is paid for the blocks so far and
// the tenant gets the rest of the escrow back. 0 never closes.
func (m *Manager) WithManifestTimeout(d time.Duration) *Manager { m.manifestTimeout = d; return m }

// WithPollInterval sets how often finished jobs are looked for.
func (m *Manager) WithPollInterval(d time.Duration) *Manager { m.poll = d; return m }

// LeaseActive implements bidengine.LeaseHandler (must not block).
func (m *Manager) LeaseActive(l markettypes.Lease, recovered bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.leases[l.Id]; !ok {
		m.leases[l.Id] = &lease{l: l, active: true, since: m.now()}
		m.logger.Info("lease active", "lease", l.Id, "tenant", l.Tenant, "gpus", l.GpuUuids, "recovered", recovered)
	}
	m.gauge()
}

// LeaseClosed implements bidengine.LeaseHandler (must not block): the
// lease's job, if running, is cancelled.
func (m *Manager) LeaseClosed(id uint64, reason markettypes.LeaseCloseReason, height int64) {
	m.mu.Lock()
	if l, ok := m.leases[id]; ok {
		l.active = false
	}
	m.gauge()
	m.mu.Unlock()
	if st, err := m.runner.Status(id); err == nil && (st.State == runner.StateRunning || st.State == runner.StatePending) {
		if err := m.runner.Cancel(id); err != nil {
			m.logger.Warn("cancel job of closed lease", "lease", id, "err", err)
		}
	}
	m.logger.Info("lease closed", "lease", id, "reason", reason.String(), "height", height)
}

func (m *Manager) gauge() {
	if m.metrics == nil {
		return
	}
	n := 0
	for _, l := range m.leases {
		if l.active {
			n++
		}
	}
	m.metrics.LeasesActive.Set(float64(n))
}

// LeaseTenant implements api.LeaseLookup. It is called by concurrent
// requests: every access to a lease record holds m.mu.
func (m *Manager) LeaseTenant(ctx context.Context, id uint64) (string, []string, []byte, bool, error) {
	m.mu.Lock()
	l, ok := m.leases[id]
	m.mu.Unlock()
	if !ok {
		// Not one we saw active (e.g. closed before a restart): ask the chain.
		cl, err := m.chain.GetLease(ctx, id)
		if err != nil {
			return "", nil, nil, false, fmt.Errorf("%w: %d: %v", api.ErrLeaseNotFound, id, err)
		}
		if cl.Provider != m.provider {
			return "", nil, nil, false, fmt.Errorf("%w: %d is not this provider's", api.ErrLeaseNotFound, id)
		}
		m.mu.Lock()
		if l, ok = m.leases[id]; !ok { // LeaseActive or another request may have been first
			l = &lease{l: cl, active: cl.State == markettypes.LeaseStateActive}
			m.leases[id] = l
		}
		m.mu.Unlock()
	}
	m.mu.Lock()
	known := l.manifestHash != nil
	m.mu.Unlock()
	if !known {
		o, err := m.chain.GetOrder(ctx, 0, id) // lease id == order id
		if err != nil {
			return "", nil, nil, false, err
		}
		m.mu.Lock()
		l.manifestHash = o.Spec.ManifestHash
		m.mu.Unlock()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return l.l.Tenant, l.l.GpuUuids, l.manifestHash, l.active, nil
}

// Run posts results of succeeded jobs until ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	t := time.NewTicker(m.poll)
	defer t.Stop()
	for {
		m.removeOrphans(ctx)
		m.postResults(ctx)
		m.closeWithoutManifest(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// ReasonOrphan is the reason of a job the manager stops because its lease
// is not active on chain (it closed while the sidecar was down).
const ReasonOrphan = "lease not active on chain (closed while the sidecar was down); container removed"

// removeOrphans stops the live jobs whose lease is not active: after a
// restart the runner re-adopts every running container, and the lease of
// one may have closed (or expired) while no sidecar watched. Each live job
// is checked once against the manager's records or the chain; a chain
// error is retried at the next poll.
func (m *Manager) removeOrphans(ctx context.Context) {
	for _, id := range m.runner.Live() {
		m.mu.Lock()
		l, known := m.leases[id]
		done := m.confirmed[id]
		active := known && l.active
		m.mu.Unlock()
		if done {
			continue
		}
		if !active {
			cl, err := m.chain.GetLease(ctx, id)
			if err != nil {
				m.logger.Debug("check the lease of a live job", "lease", id, "err", err)
				continue
			}
			active = cl.Provider == m.provider && cl.State == markettypes.LeaseStateActive
			if active {
				m.LeaseActive(cl, true)
			}
		}
		m.mu.Lock()
		m.confirmed[id] = true
		m.mu.Unlock()
		if active {
			continue
		}
		if err := m.runner.CancelWithReason(id, ReasonOrphan); err != nil {
			m.logger.Warn("stop the job of a lease that is gone", "lease", id, "err", err)
			continue
		}
		m.logger.Warn("stopped a job whose lease is not active on chain (closed while the sidecar was down)", "lease", id)
	}
}

// closeWithoutManifest closes the active leases whose tenant sent no
// manifest within the manifest timeout (one attempt per timeout period).
func (m *Manager) closeWithoutManifest(ctx context.Context) {
	if m.manifestTimeout <= 0 || m.signer == nil {
		return
	}
	now := m.now()
	m.mu.Lock()
	var due []uint64
	for id, l := range m.leases {
		if l.active && !l.since.IsZero() && now.Sub(l.since) >= m.manifestTimeout && now.Sub(l.closeTried) >= m.manifestTimeout {
			due = append(due, id)
		}
	}
	m.mu.Unlock()
	for _, id := range due {
		if _, err := m.runner.Status(id); err == nil {
			continue // a manifest came: the lease runs a job
		}
		m.mu.Lock()
		m.leases[id].closeTried = now
		m.mu.Unlock()
		m.logger.Warn("tenant sent no manifest in time; closing the lease", "lease", id, "timeout", m.manifestTimeout)
		if _, err := m.signer.Submit(ctx, &markettypes.MsgCloseLease{Sender: m.provider, LeaseId: id}); err != nil {
			m.logger.Warn("close lease without manifest", "lease", id, "err", err)
			continue
		}
		m.mu.Lock()
		m.leases[id].active = false
		m.gauge()
		m.mu.Unlock()
	}
}

func (m *Manager) postResults(ctx context.Context) {
	now := m.now()
	m.mu.Lock()
	var due []uint64
	for id, l := range m.leases {
		if !l.done && (l.checked.IsZero() || now.Sub(l.checked) >= m.recheck) {
			due = append(due, id)
		}
	}
	m.mu.Unlock()
	for _, id := range due {
		st, err := m.runner.Status(id)
		if err != nil || st.State != runner.StateSucceeded {
			continue
		}
		if err := m.submit(ctx, id, st); err != nil {
			m.logger.Warn("submit result", "lease", id, "err", err)
		}
	}
}

// submit makes the lease's result on chain this sidecar's: it reads the
// chain (the truth), leaves a matching result alone, and posts its own when
// there is none or, while the lease is active, when the one there is not
// its own (superseding it, loudly).
func (m *Manager) submit(ctx context.Context, id uint64, st runner.Status) error {
	res, err := m.runner.Result(id)
	if err != nil {
		return err
	}
	cl, err := m.chain.GetLease(ctx, id)
	if err != nil {
		return err
	}
	active := cl.State == markettypes.LeaseStateActive
	if r := cl.Result; r != nil {
		if bytes.Equal(r.ResultHash, res.Hash) && r.Location == res.Location {
			m.mark(id, !active)
			return nil
		}
		log := m.logger.With("lease", id, "on_chain_hash", fmt.Sprintf("%x", r.ResultHash), "on_chain_location", r.Location,
			"on_chain_height", r.Height, "on_chain_submission", r.Submission, "our_hash", fmt.Sprintf("%x", []byte(res.Hash)))
		switch {
		case !active:
			log.Error("THE RESULT ON CHAIN IS NOT THIS SIDECAR'S and the lease is closed, so it is final: was the hot key used by someone else?")
			m.mark(id, true)
			return nil
		case r.Submission >= markettypes.MaxResultSubmissions:
			log.Error("THE RESULT ON CHAIN IS NOT THIS SIDECAR'S and the lease has the maximum number of results: revoke the hot key's grant")
			m.mark(id, true)
			return nil
		}
		log.Error("THE RESULT ON CHAIN IS NOT THIS SIDECAR'S: superseding it (was the hot key used by someone else?)")
	}
	tx, err := m.signer.Submit(ctx, &markettypes.MsgSubmitResult{
		Provider: m.provider, LeaseId: id, ResultHash: res.Hash, Location: res.Location, ManifestHash: st.ManifestHash,
	})
	if err != nil {
		return err
	}
	m.mark(id, !active)
	m.logger.Info("result submitted", "lease", id, "hash", fmt.Sprintf("%x", []byte(res.Hash)), "height", tx.Height,
		"superseded", cl.Result != nil)
	return nil
}

// mark records that the lease's result on chain is the sidecar's (checked
// now); done stops further checks.
func (m *Manager) mark(id uint64, done bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.leases[id]; ok {
		l.checked = m.now()
		l.done = l.done || done
	}
}

var _ api.LeaseLookup = (*Manager)(nil)
