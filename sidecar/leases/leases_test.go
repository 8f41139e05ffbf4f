package leases_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/sidecar/leases"
	"github.com/crucible-network/crucible/sidecar/metrics"
	"github.com/crucible-network/crucible/sidecar/runner"
	markettypes "github.com/crucible-network/crucible/x/market/types"
)

const provider = "cru1provider"

// fakeChain serves leases and orders from maps.
type fakeChain struct {
	mu     sync.Mutex
	leases map[uint64]markettypes.Lease
	hashes map[uint64][]byte
}

func (f *fakeChain) GetOrder(_ context.Context, _ int64, id uint64) (markettypes.Order, error) {
	time.Sleep(time.Millisecond) // a gRPC round trip: other requests come in meanwhile
	f.mu.Lock()
	defer f.mu.Unlock()
	h, ok := f.hashes[id]
	if !ok {
		return markettypes.Order{}, errors.New("no order")
	}
	return markettypes.Order{Id: id, Spec: markettypes.OrderSpec{ManifestHash: h}}, nil
}

func (f *fakeChain) GetLease(_ context.Context, id uint64) (markettypes.Lease, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.leases[id]
	if !ok {
		return markettypes.Lease{}, errors.New("no lease")
	}
	return l, nil
}

// Concurrent tenant API lookups (the API serves requests in parallel) of
// leases the manager knows and does not know yet, while the bid engine
// hands leases over and closes them. Run with -race.
func TestLeaseTenantConcurrent(t *testing.T) {
	r, err := runner.New(config.RunnerConfig{WorkDir: t.TempDir(), MaxJobTime: config.Duration(time.Minute), MaxOutputBytes: 1 << 20, Backend: config.BackendProcess}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fc := &fakeChain{leases: map[uint64]markettypes.Lease{}, hashes: map[uint64][]byte{}}
	const n = 8
	for id := uint64(1); id <= n; id++ {
		fc.leases[id] = markettypes.Lease{Id: id, Tenant: "cru1tenant", Provider: provider, GpuUuids: []string{"GPU-0"},
			State: markettypes.LeaseStateActive}
		fc.hashes[id] = bytes.Repeat([]byte{byte(id)}, 32)
	}
	fc.leases[n+1] = markettypes.Lease{Id: n + 1, Tenant: "cru1tenant", Provider: "cru1other", State: markettypes.LeaseStateActive}
	m := leases.New(fc, r, nil, provider, nil, nil)

	var wg sync.WaitGroup
	for id := uint64(1); id <= n; id++ {
		if id%2 == 0 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m.LeaseActive(fc.leases[id], false)
				if id%4 == 0 {
					m.LeaseClosed(id, markettypes.LeaseCloseReasonTenant, 10)
				}
			}()
		}
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tenant, gpus, mh, _, err := m.LeaseTenant(context.Background(), id)
				if err != nil || tenant != "cru1tenant" || len(gpus) != 1 || !bytes.Equal(mh, fc.hashes[id]) {
					t.Errorf("lease %d: %q %v %x %v", id, tenant, gpus, mh, err)
				}
			}()
		}
	}
	wg.Wait()
	for id := uint64(1); id <= n; id++ {
		_, _, _, active, err := m.LeaseTenant(context.Background(), id)
		if err != nil || active != (id%4 != 0) {
			t.Errorf("lease %d: active %v, err %v", id, active, err)
		}
	}
	// Another provider's lease and a missing one are not found.
	for _, id := range []uint64{n + 1, n + 2} {
		if _, _, _, _, err := m.LeaseTenant(context.Background(), id); err == nil {
			t.Errorf("lease %d found", id)
		}
	}
}

// recordingSigner records the messages the manager submits.
type recordingSigner struct {
	mu   sync.Mutex
	msgs []sdk.Msg
	sent chan struct{}
}

func (s *recordingSigner) Submit(_ context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
	s.mu.Lock()
	s.msgs = append(s.msgs, msgs...)
	s.mu.Unlock()
	select {
	case s.sent <- struct{}{}:
	default:
	}
	return &sdk.TxResponse{Height: 7}, nil
}

// TestManifestNeverSent: a lease whose tenant sends no manifest within the
// manifest timeout is closed by the provider (MsgCloseLease); a lease that
// got its manifest is left alone.
func TestManifestNeverSent(t *testing.T) {
	r, err := runner.New(config.RunnerConfig{WorkDir: t.TempDir(), MaxJobTime: config.Duration(time.Minute), MaxOutputBytes: 1 << 20, Backend: config.BackendProcess}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fc := &fakeChain{leases: map[uint64]markettypes.Lease{}, hashes: map[uint64][]byte{}}
	sig := &recordingSigner{sent: make(chan struct{}, 1)}
	m := leases.New(fc, r, sig, provider, nil, nil).WithPollInterval(10 * time.Millisecond).WithManifestTimeout(100 * time.Millisecond)
	manifest := []byte(`{"command":["true"]}`)
	h := runner.ManifestHash(manifest)
	if _, err := r.Start(context.Background(), 2, h[:], manifest, nil); err != nil {
		t.Fatal(err)
	}
	for _, id := range []uint64{1, 2} {
		m.LeaseActive(markettypes.Lease{Id: id, Tenant: "cru1tenant", Provider: provider, State: markettypes.LeaseStateActive}, false)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	select {
	case <-sig.sent:
	case <-time.After(20 * time.Second):
		t.Fatal("the lease without a manifest was not closed")
	}
	time.Sleep(300 * time.Millisecond) // a few more ticks: nothing else is sent
	cancel()
	<-done
	sig.mu.Lock()
	defer sig.mu.Unlock()
	if len(sig.msgs) != 1 {
		t.Fatalf("sent %d messages: %v", len(sig.msgs), sig.msgs)
	}
	cl, ok := sig.msgs[0].(*markettypes.MsgCloseLease)
	if !ok || cl.LeaseId != 1 || cl.Sender != provider {
		t.Fatalf("sent %v", sig.msgs[0])
	}
	if _, _, _, active, _ := m.LeaseTenant(context.Background(), 1); active {
		t.Fatal("lease 1 still active")
	}
}

// TestMetricsCountRunningJobs reproduces issue 15 item 10: leases_running
// counted active leases, not running jobs. Now leases_active counts the
// active leases and leases_running the jobs running at the scrape.
func TestMetricsCountRunningJobs(t *testing.T) {
	r, err := runner.New(config.RunnerConfig{WorkDir: t.TempDir(), MaxJobTime: config.Duration(time.Minute), MaxOutputBytes: 1 << 20, Backend: config.BackendProcess}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	met := metrics.New()
	fc := &fakeChain{leases: map[uint64]markettypes.Lease{}, hashes: map[uint64][]byte{}}
	m := leases.New(fc, r, nil, provider, met, nil)
	for _, id := range []uint64{1, 2, 3} {
		m.LeaseActive(markettypes.Lease{Id: id, Tenant: "cru1tenant", Provider: provider, State: markettypes.LeaseStateActive}, false)
	}
	manifest := []byte(`{"command":["sleep","30"]}`)
	h := runner.ManifestHash(manifest)
	if _, err := r.Start(context.Background(), 2, h[:], manifest, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for gaugeValue(t, met.LeasesRunning) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("leases_running = %v, want 1 (one job running of 3 active leases)", gaugeValue(t, met.LeasesRunning))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := gaugeValue(t, met.LeasesActive); got != 3 {
		t.Fatalf("leases_active = %v, want 3", got)
	}
	m.LeaseClosed(2, markettypes.LeaseCloseReasonTenant, 10) // cancels the job
	deadline = time.Now().Add(10 * time.Second)
	for gaugeValue(t, met.LeasesRunning) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the cancelled job still counts as running")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := gaugeValue(t, met.LeasesActive); got != 2 {
		t.Fatalf("leases_active = %v, want 2", got)
	}
}

func gaugeValue(t *testing.T, g prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

// TestOrphanJobStopped: a live job (re-adopted after a restart) whose
// lease closed on chain while the sidecar was down is stopped and reported
// (cancelled, ReasonOrphan); one whose lease is still active keeps running.
// Before, a restarted sidecar only ever cleaned every container up.
func TestOrphanJobStopped(t *testing.T) {
	r, err := runner.New(config.RunnerConfig{WorkDir: t.TempDir(), MaxJobTime: config.Duration(time.Minute), MaxOutputBytes: 1 << 20, Backend: config.BackendProcess}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fc := &fakeChain{leases: map[uint64]markettypes.Lease{
		1: {Id: 1, Tenant: "cru1tenant", Provider: provider, State: markettypes.LeaseStateActive},
		2: {Id: 2, Tenant: "cru1tenant", Provider: provider, State: markettypes.LeaseStateClosed},
	}, hashes: map[uint64][]byte{}}
	manifest := []byte(`{"command":["sleep","30"]}`)
	h := runner.ManifestHash(manifest)
	fc.hashes[1] = h[:]
	for _, id := range []uint64{1, 2} {
		if _, err := r.Start(context.Background(), id, h[:], manifest, nil); err != nil {
			t.Fatal(err)
		}
	}
	m := leases.New(fc, r, nil, provider, nil, nil).WithPollInterval(10 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	st, err := r.Wait(wctx, 2)
	cancel()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if st.State != runner.StateCancelled || st.Reason != leases.ReasonOrphan {
		t.Fatalf("orphan: %s (%s)", st.State, st.Reason)
	}
	if st, _ := r.Status(1); st.State.Final() {
		t.Fatalf("the job of the active lease was stopped: %s (%s)", st.State, st.Reason)
	}
	if _, _, _, active, err := m.LeaseTenant(context.Background(), 1); !active || err != nil {
		t.Fatalf("the active lease was not recorded (%v)", err)
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPoisonedResultIsSuperseded reproduces issue 15 item 5's poisoning
// from the sidecar's side: a stolen hot key posted a result for the lease
// before the job ran. The old manager saw "a result is on chain" and
// silently skipped its own, so the bogus one stood for good. Now it
// compares the result on chain with its own, supersedes a foreign one with
// an error-level log (also one posted after its own, found on a recheck),
// carries the manifest hash the job ran, and stops once the lease is closed.
func TestPoisonedResultIsSuperseded(t *testing.T) {
	r, err := runner.New(config.RunnerConfig{WorkDir: t.TempDir(), MaxJobTime: config.Duration(time.Minute), MaxOutputBytes: 1 << 20, Backend: config.BackendProcess}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	manifest := []byte(`{"command":["true"]}`)
	mh := runner.ManifestHash(manifest)
	bogus := func(sub uint32) *markettypes.LeaseResult {
		return &markettypes.LeaseResult{ResultHash: bytes.Repeat([]byte{0xba}, 32), Location: "https://evil.example/out",
			Height: 3, ManifestHash: mh[:], Submission: sub}
	}
	fc := &fakeChain{leases: map[uint64]markettypes.Lease{1: {Id: 1, Tenant: "cru1tenant", Provider: provider,
		State: markettypes.LeaseStateActive, Result: bogus(1)}}, hashes: map[uint64][]byte{1: mh[:]}}
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	sig := &recordingSigner{sent: make(chan struct{}, 8)}
	m := leases.New(fc, r, sig, provider, nil, logger).WithPollInterval(5 * time.Millisecond).WithRecheckInterval(20 * time.Millisecond)
	m.LeaseActive(fc.leases[1], false)
	if _, err := r.Start(context.Background(), 1, mh[:], manifest, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for st, _ := r.Status(1); st.State != runner.StateSucceeded; st, _ = r.Status(1) {
		if time.Now().After(deadline) {
			t.Fatalf("job is %s", st.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
	want, err := r.Result(1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// sent waits for the n-th message and checks it is our result; the
	// chain then records it as submission sub.
	sent := func(n int, sub uint32) {
		t.Helper()
		select {
		case <-sig.sent:
		case <-time.After(20 * time.Second):
			t.Fatalf("result %d was not submitted; logs:\n%s", n, logs.String())
		}
		sig.mu.Lock()
		defer sig.mu.Unlock()
		if len(sig.msgs) != n {
			t.Fatalf("sent %d messages, want %d: %v", len(sig.msgs), n, sig.msgs)
		}
		msg, ok := sig.msgs[n-1].(*markettypes.MsgSubmitResult)
		if !ok || msg.LeaseId != 1 || msg.Provider != provider || !bytes.Equal(msg.ResultHash, want.Hash) ||
			msg.Location != want.Location || !bytes.Equal(msg.ManifestHash, mh[:]) {
			t.Fatalf("sent %v", sig.msgs[n-1])
		}
		fc.mu.Lock()
		l := fc.leases[1]
		l.Result = &markettypes.LeaseResult{ResultHash: msg.ResultHash, Location: msg.Location, ManifestHash: msg.ManifestHash, Submission: sub}
		fc.leases[1] = l
		fc.mu.Unlock()
	}
	sent(1, 2)
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "NOT THIS SIDECAR'S: superseding") {
		t.Fatalf("no loud log:\n%s", logs.String())
	}
	time.Sleep(100 * time.Millisecond) // several rechecks: our result is there, nothing is sent
	sig.mu.Lock()
	if len(sig.msgs) != 1 {
		t.Fatalf("sent %d messages while our result stood", len(sig.msgs))
	}
	sig.mu.Unlock()

	// The attacker posts again after the honest result: superseded again.
	fc.mu.Lock()
	l := fc.leases[1]
	l.Result = bogus(3)
	fc.leases[1] = l
	fc.mu.Unlock()
	sent(2, 4)

	// Once the lease is closed a foreign result is final: logged, not fought.
	fc.mu.Lock()
	l = fc.leases[1]
	l.State, l.Result = markettypes.LeaseStateClosed, bogus(3)
	fc.leases[1] = l
	fc.mu.Unlock()
	deadline = time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), "the lease is closed, so it is final") {
		if time.Now().After(deadline) {
			t.Fatalf("no log for the closed lease:\n%s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	sig.mu.Lock()
	defer sig.mu.Unlock()
	if len(sig.msgs) != 2 {
		t.Fatalf("sent %d messages on a closed lease", len(sig.msgs))
	}
}
