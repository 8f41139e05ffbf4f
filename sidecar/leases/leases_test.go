package leases_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/sidecar/leases"
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
	r, err := runner.New(config.RunnerConfig{WorkDir: t.TempDir(), MaxJobTime: config.Duration(time.Minute), MaxOutputBytes: 1 << 20}, nil)
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
	m := leases.New(fc, r, nil, nil, provider, nil, nil)

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
