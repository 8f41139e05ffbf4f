package cmd

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/crucible-network/crucible/sidecar/api"
	"github.com/crucible-network/crucible/sidecar/chain"
	"github.com/crucible-network/crucible/sidecar/leases"
	"github.com/crucible-network/crucible/sidecar/prover"
	"github.com/crucible-network/crucible/sidecar/responder"
	"github.com/crucible-network/crucible/sidecar/runner"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
)

// builtinPlugins are the parts the crucible-sidecar binary runs beside the
// chain client and the bid engine: the lease manager (jobs through
// sidecar/runner, results posted on chain), the tenant API on
// api.listen_addr, and the challenge responder (prover per config).
func builtinPlugins() Plugins {
	var (
		once sync.Once
		mgr  *leases.Manager
		run  *runner.Runner
		err  error
	)
	shared := func(d Deps) (*leases.Manager, *runner.Runner, error) {
		once.Do(func() {
			run, err = runner.New(d.Config.Runner, d.Logger)
			if err != nil {
				return
			}
			mgr = leases.New(chainReader{d.Chain}, run, d.Signer, d.Provider, d.Metrics, d.Logger).
				WithManifestTimeout(d.Config.Runner.WithDefaults().ManifestTimeout.Std())
		})
		return mgr, run, err
	}
	return Plugins{
		LeaseRunner: func(d Deps) (LeaseRunner, error) {
			m, r, err := shared(d)
			if err != nil {
				return nil, err
			}
			return leaseService{Manager: m, runner: r}, nil
		},
		ChallengeResponder: func(d Deps) (ChallengeResponder, error) {
			p, err := prover.Open(context.Background(), d.Config.Prover, d.Logger)
			if err != nil {
				return nil, fmt.Errorf("prover: %w", err)
			}
			d.Logger.Info("prover ready", "backend", p.Name())
			if err := decideClasses(d, p); err != nil {
				return nil, err
			}
			// The responder polls for challenges as often as the engine
			// polls for blocks (--poll-interval).
			return responder.New(d.Chain, d.Signer, p, d.Provider, d.Metrics, d.Logger).
				WithPollInterval(d.Chain.PollInterval()), nil
		},
		Services: []func(Deps) (Service, error){
			func(d Deps) (Service, error) { return gpuMetrics{d}, nil },
			func(d Deps) (Service, error) {
				m, r, err := shared(d)
				if err != nil {
					return nil, err
				}
				srv, err := api.New(d.Config.API, m, r, d.Logger)
				if err != nil {
					return nil, err
				}
				return apiService{srv: srv, addr: d.Config.API.ListenAddr, logger: d}, nil
			},
		},
	}
}

// gpuMetrics samples the inventory every 5 seconds into the GPU
// utilization gauge (per UUID), forgetting GPUs that disappear.
type gpuMetrics struct{ d Deps }

func (g gpuMetrics) Run(ctx context.Context) error {
	seen := map[string]bool{}
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if snap, err := g.d.Inventory.Snapshot(ctx); err == nil {
			now := map[string]bool{}
			for _, gpu := range snap.GPUs {
				now[gpu.UUID] = true
				if gpu.Utilization != nil {
					g.d.Metrics.SetGPUUtilization(gpu.UUID, gpu.Utilization.GPUPercent)
				}
			}
			for uuid := range seen {
				if !now[uuid] {
					g.d.Metrics.ForgetGPU(uuid)
				}
			}
			seen = now
		} else if ctx.Err() == nil {
			g.d.Logger.Warn("inventory snapshot for metrics", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// leaseService is the lease manager as a service: when the sidecar stops
// it detaches the runner (runner.Detach): running containers are left
// running, their output waiting in a FIFO and their exit recorded by their
// shim, and the next sidecar on the same work dir re-adopts them (and
// removes those whose lease closed meanwhile). Jobs of the process backend
// are stopped (SIGTERM, SIGKILL after runner.KillGrace; they end failed,
// "sidecar stopped") and waited for, so none writes into the work dir a
// new instance owns.
type leaseService struct {
	*leases.Manager
	runner *runner.Runner
}

func (s leaseService) Run(ctx context.Context) error {
	err := s.Manager.Run(ctx)
	if cerr := s.runner.Detach(); err == nil {
		err = cerr
	}
	return err
}

type apiService struct {
	srv    *api.Server
	addr   string
	logger Deps
}

func (a apiService) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.addr)
	if err != nil {
		return fmt.Errorf("tenant api listen %s: %w", a.addr, err)
	}
	a.logger.Logger.Info("serving the tenant API", "addr", ln.Addr().String())
	return a.srv.Serve(ctx, ln)
}

// chainReader adapts chain.Client to leases.Chain.
type chainReader struct{ c *chain.Client }

func (r chainReader) GetOrder(ctx context.Context, height int64, id uint64) (markettypes.Order, error) {
	return r.c.GetOrder(ctx, height, id)
}

func (r chainReader) GetLease(ctx context.Context, id uint64) (markettypes.Lease, error) {
	res, err := r.c.Market.Lease(ctx, &markettypes.QueryLeaseRequest{Id: id})
	if err != nil {
		return markettypes.Lease{}, err
	}
	return res.Lease, nil
}

// decideClasses fills d.Classes with the prover's decision for every GPU
// class the chain defines: bid a class only if its proof fits the class's
// commit deadline (x/attest params) with the prover's margin. The decision
// is made once at start; restart the sidecar after governance changes the
// classes.
func decideClasses(d Deps, p prover.Prover) error {
	if d.Classes == nil {
		return nil
	}
	ctx := context.Background()
	res, err := attesttypes.NewQueryClient(d.Chain.Conn()).Params(ctx, &attesttypes.QueryParamsRequest{})
	if err != nil {
		return fmt.Errorf("reading the chain's GPU classes: %w", err)
	}
	var classes []prover.ClassDeadline
	for _, cs := range res.Params.ClassSizes {
		classes = append(classes, prover.ClassDeadline{Class: cs.Class, Params: cs.ProofSize.PocParams(),
			Deadline: time.Duration(res.Params.CommitDeadlineMs(cs)) * time.Millisecond})
	}
	if err := d.Classes.Decide(ctx, p, classes); err != nil {
		return err
	}
	for _, c := range d.Classes.Decisions() {
		if c.Bid() {
			d.Logger.Info("class may be bid", "class", c.Class, "backend", c.Backend, "why", c.Reason)
		} else {
			d.Logger.Warn("class will not be bid: the prover cannot answer its challenges in time", "class", c.Class, "why", c.Reason)
		}
	}
	return nil
}
