// Package bidengine bids the provider's free GPUs on matching open orders.
//
// One goroutine (Run) owns all state. It catches up from the chain at one
// height (open orders, the provider's open bids and active leases, the
// provider record), then follows the chain's events block by block. At the
// end of each block it bids on every open order that its free GPUs can
// serve, at the price of the config's rules. A GPU is free when it is in
// both the local inventory and the provider's registration and in none of
// the provider's OPEN bids, ACTIVE leases or bids in flight, so a GPU is
// never offered twice. Transactions run in goroutines whose results come
// back to the owner on a channel. All durable truth is on chain: a restarted
// engine rebuilds everything from it and never bids twice.
//
// Bids in flight are bounded by the chain's own rule: every transaction
// carries a timeout height (config chain.tx_timeout_blocks), so a bid whose
// confirmation timed out keeps its GPUs only until the chain has passed that
// height, and a restarted engine, which cannot see the bids its previous
// instance left in a mempool, bids nothing for TxTimeoutBlocks blocks after
// its catch-up height: by then each of them has landed (BidCreated marks its
// GPUs busy) or can never land.
//
// Orders cost a tenant nothing until it accepts a bid, so the engine caps
// the GPUs it holds in open bids on any one tenant's orders
// (bid.max_tenant_gpu_percent) beyond its first open bid: a tenant who posts
// many orders and never accepts cannot tie up every GPU, while one order for
// more GPUs than the cap is still served.
package bidengine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/sidecar/chain"
	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/sidecar/inventory"
	"github.com/crucible-network/crucible/sidecar/metrics"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// Chain is what the engine reads from the chain; *chain.Client has it.
type Chain interface {
	CatchUp(ctx context.Context, provider string) (chain.State, error)
	GetProvider(ctx context.Context, height int64, owner string) (providertypes.Provider, error)
	Follow(ctx context.Context, from int64, out chan<- chain.Event) error
}

// Submitter sends the engine's transactions; *chain.Signer has it. Actor
// must be the provider (directly or as an authz granter).
type Submitter interface {
	Actor() string
	Submit(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error)
}

// LeaseHandler receives the provider's leases; the lease runner plugs in
// here. Its methods run on the engine's goroutine and must not block (hand
// the work to a goroutine or a buffered channel).
type LeaseHandler interface {
	// LeaseActive is called once for every ACTIVE lease of the provider:
	// for those found at catch-up (recovered true, e.g. after a restart) and
	// for each new one as its block is followed.
	LeaseActive(lease markettypes.Lease, recovered bool)
	// LeaseClosed is called when one of the provider's leases closes.
	LeaseClosed(leaseID uint64, reason markettypes.LeaseCloseReason, height int64)
}

// Defaults of Config.
const (
	DefaultRetryBlocks     = 10
	DefaultTxTimeoutBlocks = config.DefaultTxTimeoutBlocks
	DefaultCatchUpRetry    = 3 * time.Second
)

// Config configures an Engine.
type Config struct {
	// Provider is the provider's (owner's) account address.
	Provider string
	// Bid holds the pricing rules and the bid deposit.
	Bid config.BidConfig
	// RetryBlocks is how long the engine waits before bidding again on an
	// order whose bid the chain refused.
	RetryBlocks int64
	// TxTimeoutBlocks is the signer's transaction lifetime in blocks
	// (chain.tx_timeout_blocks; 0: DefaultTxTimeoutBlocks). After catch-up
	// the engine bids nothing until the chain passes the catch-up height +
	// TxTimeoutBlocks: a bid a previous instance left in a mempool was
	// signed at or below the catch-up height, so by then it has landed (and
	// shown up as BidCreated, its GPUs busy) or expired. It must be at least
	// the timeout every earlier instance signed with.
	TxTimeoutBlocks int64
	// CatchUpRetry is the pause between failed catch-up attempts.
	CatchUpRetry time.Duration
	// CanBidClass, when set, says whether GPUs of a class may be bid: the
	// prover must be able to answer the class's challenges in time
	// (prover.ClassGate). Nil allows every class.
	CanBidClass func(class string) bool
}

// Engine bids on orders. Build it with New and run it with Run.
type Engine struct {
	cfg     Config
	chain   Chain
	tx      Submitter
	inv     inventory.Backend
	metrics *metrics.Metrics
	leases  LeaseHandler
	logger  *slog.Logger
	deposit sdk.Coin

	lastHeight atomic.Int64
}

// New checks the configuration and returns an engine. metrics and leases
// may be nil.
func New(cfg Config, ch Chain, tx Submitter, inv inventory.Backend, m *metrics.Metrics, leases LeaseHandler, logger *slog.Logger) (*Engine, error) {
	if cfg.Provider == "" {
		return nil, errors.New("bidengine: provider address is empty")
	}
	if _, err := sdk.AccAddressFromBech32(cfg.Provider); err != nil {
		return nil, fmt.Errorf("bidengine: provider %q: %w", cfg.Provider, err)
	}
	if tx.Actor() != cfg.Provider {
		return nil, fmt.Errorf("bidengine: signer acts for %s, not for the provider %s (set chain.provider_address and grant the hot key)", tx.Actor(), cfg.Provider)
	}
	if err := cfg.Bid.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("bidengine: bid config: %w", err)
	}
	if cfg.RetryBlocks <= 0 {
		cfg.RetryBlocks = DefaultRetryBlocks
	}
	if cfg.TxTimeoutBlocks <= 0 {
		cfg.TxTimeoutBlocks = DefaultTxTimeoutBlocks
	}
	if cfg.CatchUpRetry <= 0 {
		cfg.CatchUpRetry = DefaultCatchUpRetry
	}
	if m == nil {
		m = metrics.New()
	}
	if leases == nil {
		leases = nopLeases{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{
		cfg: cfg, chain: ch, tx: tx, inv: inv, metrics: m, leases: leases,
		logger:  logger.With("module", "bidengine", "provider", cfg.Provider),
		deposit: sdk.NewCoin(cfg.Bid.Denom, sdkmath.NewIntFromUint64(cfg.Bid.Deposit)),
	}, nil
}

type nopLeases struct{}

func (nopLeases) LeaseActive(markettypes.Lease, bool)                     {}
func (nopLeases) LeaseClosed(uint64, markettypes.LeaseCloseReason, int64) {}

// LastHeight is the last block the engine has fully processed (0 before
// catch-up), for health checks.
func (e *Engine) LastHeight() int64 { return e.lastHeight.Load() }

// ourBid is one of the provider's OPEN bids.
type ourBid struct {
	id      uint64
	orderID uint64
	gpus    []string
}

// pendingBid is a bid transaction in flight; its GPUs are reserved.
type pendingBid struct {
	gpus   []string
	tenant string
	// unconfirmed: the tx timed out and may still land; the GPUs stay
	// reserved until a BidCreated shows up, the order leaves OPEN, or the
	// chain has passed timeoutHeight (when known) without the bid.
	unconfirmed   bool
	timeoutHeight int64
}

// state is owned by Run's goroutine.
type state struct {
	height int64
	// holdUntil: no bid before the chain passes this height (the bids of a
	// previous instance still in a mempool land or expire first).
	holdUntil  int64
	provider   providertypes.Provider
	registered bool
	local      map[string]inventory.GPU
	orders     map[uint64]markettypes.Order // OPEN orders
	bids       map[uint64]ourBid            // by order id
	leases     map[uint64]markettypes.Lease // ACTIVE, by lease id
	pending    map[uint64]pendingBid        // by order id
	retryAt    map[uint64]int64             // order id -> first height to try again
	closing    map[uint64]bool              // bid ids with a close in flight
}

// result is what a tx goroutine reports back.
type result struct {
	kind    string // "bid" or "close"
	orderID uint64
	bidID   uint64
	res     *sdk.TxResponse
	err     error
}

// Run catches up and bids until ctx is done; it returns nil then.
func (e *Engine) Run(ctx context.Context) error {
	st, err := e.catchUp(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	events := make(chan chain.Event, 256)
	results := make(chan result, 64)
	var wg sync.WaitGroup
	defer wg.Wait()

	followCtx, stopFollow := context.WithCancel(ctx)
	defer stopFollow()
	followErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		followErr <- e.chain.Follow(followCtx, st.height+1, events)
	}()

	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-followErr:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("follow: %w", err)
		case r := <-results:
			e.onResult(st, r)
		case ev := <-events:
			e.onEvent(ctx, st, ev, &wg, results)
		}
	}
}

// catchUp reads the chain at one height and builds the state, retrying
// until it succeeds or ctx is done.
func (e *Engine) catchUp(ctx context.Context) (*state, error) {
	for {
		st, err := e.tryCatchUp(ctx)
		if err == nil {
			return st, nil
		}
		e.logger.Warn("catch-up failed; retrying", "err", err, "in", e.cfg.CatchUpRetry)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(e.cfg.CatchUpRetry):
		}
	}
}

func (e *Engine) tryCatchUp(ctx context.Context) (*state, error) {
	snap, err := e.inv.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	cs, err := e.chain.CatchUp(ctx, e.cfg.Provider)
	if err != nil {
		return nil, err
	}
	st := &state{
		height:     cs.Height,
		holdUntil:  cs.Height + e.cfg.TxTimeoutBlocks,
		provider:   cs.Provider,
		registered: cs.Registered,
		local:      localGPUs(snap),
		orders:     make(map[uint64]markettypes.Order, len(cs.OpenOrders)),
		bids:       make(map[uint64]ourBid, len(cs.OpenBids)),
		leases:     make(map[uint64]markettypes.Lease, len(cs.ActiveLeases)),
		pending:    map[uint64]pendingBid{},
		retryAt:    map[uint64]int64{},
		closing:    map[uint64]bool{},
	}
	for _, o := range cs.OpenOrders {
		st.orders[o.Id] = o
	}
	for _, b := range cs.OpenBids {
		st.bids[b.OrderId] = ourBid{id: b.Id, orderID: b.OrderId, gpus: b.GpuUuids}
	}
	for _, l := range cs.ActiveLeases {
		st.leases[l.Id] = l
		e.leases.LeaseActive(l, true)
	}
	e.lastHeight.Store(cs.Height)
	e.logger.Info("caught up", "height", cs.Height, "registered", cs.Registered, "local_gpus", len(st.local),
		"registered_gpus", len(cs.Provider.Gpus), "open_orders", len(cs.OpenOrders), "open_bids", len(cs.OpenBids),
		"active_leases", len(cs.ActiveLeases), "free_gpus", len(e.freeGPUs(st)))
	if !cs.Registered {
		e.logger.Warn("provider not registered; run `crucible-sidecar register` (bidding starts once it is)")
	}
	return st, nil
}

func localGPUs(snap inventory.Snapshot) map[string]inventory.GPU {
	m := make(map[string]inventory.GPU, len(snap.GPUs))
	for _, g := range snap.GPUs {
		m[g.UUID] = g
	}
	return m
}

func (e *Engine) onEvent(ctx context.Context, st *state, ev chain.Event, wg *sync.WaitGroup, results chan<- result) {
	switch ev := ev.(type) {
	case chain.OrderCreated:
		st.orders[ev.Order.Id] = ev.Order
	case chain.OrderCancelled:
		e.orderGone(st, ev.OrderID)
	case chain.OrderExpired:
		e.orderGone(st, ev.OrderID)
	case chain.BidCreated:
		if ev.Bid.Provider != e.cfg.Provider {
			return
		}
		st.bids[ev.Bid.OrderId] = ourBid{id: ev.Bid.Id, orderID: ev.Bid.OrderId, gpus: ev.Bid.GpuUuids}
		delete(st.pending, ev.Bid.OrderId)
	case chain.BidClosed:
		if ev.Provider != e.cfg.Provider {
			return
		}
		if b, ok := st.bids[ev.OrderID]; ok && b.id == ev.BidID {
			delete(st.bids, ev.OrderID)
			e.logger.Info("bid closed", "bid", ev.BidID, "order", ev.OrderID, "state", ev.State, "height", ev.EventHeight())
		}
		if ev.State == markettypes.BidStateDisplaced {
			// A better bid took its place on a full book: bidding again at
			// the same price now would be refused.
			st.retryAt[ev.OrderID] = ev.EventHeight() + e.cfg.RetryBlocks
		}
	case chain.LeaseCreated:
		l := ev.Lease
		e.orderGone(st, l.Id) // the lease id is the order id; the order is MATCHED
		if l.Provider != e.cfg.Provider {
			return
		}
		delete(st.bids, l.Id)
		st.leases[l.Id] = l
		e.metrics.BidsWon.Inc()
		e.logger.Info("bid won: lease created", "lease", l.Id, "bid", l.BidId, "tenant", l.Tenant, "gpus", l.GpuUuids,
			"price", l.Price.String(), "height", ev.EventHeight())
		e.leases.LeaseActive(l, false)
	case chain.LeaseClosed:
		if ev.Provider != e.cfg.Provider {
			return
		}
		if _, ok := st.leases[ev.LeaseID]; ok {
			delete(st.leases, ev.LeaseID)
			e.logger.Info("lease closed", "lease", ev.LeaseID, "reason", ev.Reason, "height", ev.EventHeight())
			e.leases.LeaseClosed(ev.LeaseID, ev.Reason, ev.EventHeight())
		}
	case chain.ProviderChanged:
		if ev.Owner != e.cfg.Provider {
			return
		}
		e.refreshProvider(ctx, st, ev.EventHeight())
	case chain.BlockDone:
		st.height = ev.EventHeight()
		e.expirePending(st)
		e.closeStaleBids(ctx, st, wg, results)
		if st.height >= st.holdUntil {
			e.bidAll(ctx, st, wg, results)
		}
		e.lastHeight.Store(st.height)
	}
}

// orderGone forgets an order that left OPEN. The chain marks the
// provider's open bid on it LOST in the same block (BidClosed follows).
func (e *Engine) orderGone(st *state, orderID uint64) {
	delete(st.orders, orderID)
	delete(st.pending, orderID)
	delete(st.retryAt, orderID)
}

func (e *Engine) refreshProvider(ctx context.Context, st *state, height int64) {
	p, err := e.chain.GetProvider(ctx, height, e.cfg.Provider)
	switch {
	case err == nil:
		st.provider, st.registered = p, true
	case errors.Is(err, chain.ErrNotFound):
		st.provider, st.registered = providertypes.Provider{}, false
	default:
		e.logger.Warn("re-read provider failed; keeping the old record", "err", err)
		return
	}
	if snap, err := e.inv.Snapshot(ctx); err == nil {
		st.local = localGPUs(snap)
	} else {
		e.logger.Warn("inventory snapshot failed; keeping the old one", "err", err)
	}
	e.logger.Info("provider record changed", "height", height, "registered", st.registered, "status", st.provider.Status,
		"gpus", len(st.provider.Gpus))
}

// closeStaleBids withdraws open bids on orders that are no longer OPEN.
// The chain marks such bids LOST itself, so this only acts if that ever
// did not happen (or the order vanished while the engine was not
// following); a bid is closed once.
func (e *Engine) closeStaleBids(ctx context.Context, st *state, wg *sync.WaitGroup, results chan<- result) {
	for orderID, b := range st.bids {
		if _, open := st.orders[orderID]; open || st.closing[b.id] {
			continue
		}
		st.closing[b.id] = true
		e.logger.Info("withdrawing bid on an order that is no longer open", "bid", b.id, "order", orderID)
		msg := &markettypes.MsgCloseBid{Provider: e.cfg.Provider, BidId: b.id}
		e.send(ctx, wg, results, result{kind: "close", orderID: orderID, bidID: b.id}, msg)
	}
}

func (e *Engine) send(ctx context.Context, wg *sync.WaitGroup, results chan<- result, r result, msg sdk.Msg) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.res, r.err = e.tx.Submit(ctx, msg)
		select {
		case results <- r:
		case <-ctx.Done():
		}
	}()
}

func (e *Engine) onResult(st *state, r result) {
	switch r.kind {
	case "close":
		delete(st.closing, r.bidID)
		if r.err != nil {
			e.logger.Warn("withdraw bid failed", "bid", r.bidID, "err", r.err)
			return
		}
		if b, ok := st.bids[r.orderID]; ok && b.id == r.bidID {
			delete(st.bids, r.orderID)
		}
	case "bid":
		if r.err != nil {
			if errors.Is(r.err, chain.ErrTxTimeout) {
				var timeoutHeight int64
				if te := (*chain.TimeoutError)(nil); errors.As(r.err, &te) {
					timeoutHeight = te.TimeoutHeight
				}
				if p, ok := st.pending[r.orderID]; ok {
					p.unconfirmed = true
					p.timeoutHeight = timeoutHeight
					st.pending[r.orderID] = p
				}
				e.logger.Warn("bid not confirmed in time; keeping its GPUs reserved until it lands or expires",
					"order", r.orderID, "timeout_height", timeoutHeight, "err", r.err)
				return
			}
			delete(st.pending, r.orderID)
			st.retryAt[r.orderID] = st.height + e.cfg.RetryBlocks
			e.logger.Warn("bid failed", "order", r.orderID, "err", r.err, "retry_at", st.retryAt[r.orderID])
			return
		}
		e.metrics.BidsPlaced.Inc()
		if _, open := st.orders[r.orderID]; !open {
			// The follower got here first: the order left OPEN (cancelled,
			// expired, or matched, perhaps to this very bid) in a block
			// already processed, and the chain closed the bid with it (or
			// the lease now holds its GPUs). Recording the bid now would
			// make a stale bid that closeStaleBids tries to withdraw on
			// every block, and the chain refuses every time.
			delete(st.pending, r.orderID)
			return
		}
		evs, _ := chain.TxEvents(r.res)
		for _, ev := range evs {
			bc, ok := ev.(chain.BidCreated)
			if !ok || bc.Bid.Provider != e.cfg.Provider || bc.Bid.OrderId != r.orderID {
				continue
			}
			st.bids[r.orderID] = ourBid{id: bc.Bid.Id, orderID: r.orderID, gpus: bc.Bid.GpuUuids}
			delete(st.pending, r.orderID)
			if o, ok := st.orders[r.orderID]; ok {
				e.logger.Info("bid placed", "order", r.orderID, "bid", bc.Bid.Id, "price", bc.Bid.Price.String(),
					"gpus", bc.Bid.GpuUuids, "height", r.res.Height, "latency_blocks", r.res.Height-o.CreatedHeight)
			}
			return
		}
		// Included, but its event is not in the response: keep the GPUs
		// reserved until the followed BidCreated (or the order's end).
		if p, ok := st.pending[r.orderID]; ok {
			p.unconfirmed = true
			st.pending[r.orderID] = p
		}
	}
}

// expirePending frees the GPUs of unconfirmed bids whose transaction can no
// longer land: the chain has committed the block at its timeout height (and
// the engine has followed it) without a BidCreated.
func (e *Engine) expirePending(st *state) {
	for orderID, p := range st.pending {
		if p.unconfirmed && p.timeoutHeight > 0 && st.height >= p.timeoutHeight {
			delete(st.pending, orderID)
			e.logger.Info("unconfirmed bid expired; its GPUs are free", "order", orderID, "timeout_height", p.timeoutHeight,
				"height", st.height)
		}
	}
}

// tenantGPUs counts, per tenant, the GPUs in the provider's OPEN bids and
// bids in flight on the tenant's OPEN orders.
func tenantGPUs(st *state) map[string]int {
	out := map[string]int{}
	for orderID, b := range st.bids {
		if o, ok := st.orders[orderID]; ok {
			out[o.Tenant] += len(b.gpus)
		}
	}
	for _, p := range st.pending {
		out[p.tenant] += len(p.gpus)
	}
	return out
}

// usedGPUs are the GPUs in the provider's OPEN bids, ACTIVE leases and
// bids in flight.
func usedGPUs(st *state) map[string]struct{} {
	used := map[string]struct{}{}
	for _, b := range st.bids {
		for _, u := range b.gpus {
			used[u] = struct{}{}
		}
	}
	for _, l := range st.leases {
		for _, u := range l.GpuUuids {
			used[u] = struct{}{}
		}
	}
	for _, p := range st.pending {
		for _, u := range p.gpus {
			used[u] = struct{}{}
		}
	}
	return used
}

// freeGPUs are the registered GPUs the host has and no bid or lease holds,
// in registration order.
func (e *Engine) freeGPUs(st *state) []providertypes.GPU {
	used := usedGPUs(st)
	var free []providertypes.GPU
	for _, g := range st.provider.Gpus {
		if _, busy := used[g.Uuid]; busy {
			continue
		}
		if _, here := st.local[g.Uuid]; !here {
			continue
		}
		free = append(free, g)
	}
	return free
}

// bidAll bids on every open order the free GPUs can serve, oldest first.
func (e *Engine) bidAll(ctx context.Context, st *state, wg *sync.WaitGroup, results chan<- result) {
	if !st.registered || st.provider.Status != providertypes.ProviderStatusActive {
		return
	}
	ids := make([]uint64, 0, len(st.orders))
	for id := range st.orders {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	perTenant := tenantGPUs(st)
	tenantCap := e.cfg.Bid.TenantGPUCap(len(st.provider.Gpus))
	for _, id := range ids {
		o := st.orders[id]
		if _, bid := st.bids[id]; bid {
			continue
		}
		if _, inFlight := st.pending[id]; inFlight {
			continue
		}
		if st.retryAt[id] > st.height {
			continue
		}
		if o.ExpiresHeight != 0 && st.height+1 >= o.ExpiresHeight {
			continue // would land past the order's expiry
		}
		// A tenant's first open bid is always allowed, whatever its size (an
		// order for more GPUs than the cap could never be served otherwise);
		// the cap bounds what its further orders hold.
		if perTenant[o.Tenant] > 0 && perTenant[o.Tenant]+int(o.Spec.Gpu.Count) > tenantCap {
			e.logger.Debug("not bidding", "order", id, "reason", "tenant's orders hold their share of the GPUs",
				"tenant", o.Tenant, "gpus", perTenant[o.Tenant], "cap", tenantCap)
			continue
		}
		gpus, price, reason := e.plan(st, o)
		if reason != "" {
			e.logger.Debug("not bidding", "order", id, "reason", reason)
			continue
		}
		st.pending[id] = pendingBid{gpus: gpus, tenant: o.Tenant}
		perTenant[o.Tenant] += len(gpus)
		msg := &markettypes.MsgCreateBid{Provider: e.cfg.Provider, OrderId: id, Price: price, Deposit: e.deposit, GpuUuids: gpus}
		e.logger.Info("bidding", "order", id, "price", price.String(), "max", o.MaxPricePerBlock.String(), "gpus", gpus, "height", st.height)
		e.send(ctx, wg, results, result{kind: "bid", orderID: id}, msg)
	}
}

// plan picks the cheapest free GPUs that serve o and prices them. reason
// says why not when it cannot bid.
func (e *Engine) plan(st *state, o markettypes.Order) (gpus []string, price sdk.Coin, reason string) {
	spec := o.Spec
	type candidate struct {
		uuid  string
		price uint64
		index int
	}
	var cands []candidate
	for i, g := range e.freeGPUs(st) {
		if !markettypes.GPUMatches(spec.Gpu, g) {
			continue
		}
		// A class the prover cannot answer in time is never bid.
		if e.cfg.CanBidClass != nil && !e.cfg.CanBidClass(g.Class) {
			continue
		}
		// The chain refuses GPUs not verified within the order's window.
		if !markettypes.GPUVerifiedWithin(g, spec.VerifiedWithinBlocks, st.height+1) {
			continue
		}
		local := st.local[g.Uuid]
		rule, ok := e.cfg.Bid.RuleFor(local.Name, local.Class)
		if !ok {
			rule, ok = e.cfg.Bid.RuleFor(g.Model, g.Class)
		}
		if !ok {
			continue // unpriced GPUs are never bid
		}
		p, err := rule.BidPrice()
		if err != nil {
			continue
		}
		cands = append(cands, candidate{uuid: g.Uuid, price: p, index: i})
	}
	if uint64(len(cands)) < uint64(spec.Gpu.Count) {
		return nil, sdk.Coin{}, fmt.Sprintf("%d free priced GPUs match, order needs %d", len(cands), spec.Gpu.Count)
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.price, b.price), cmp.Compare(a.index, b.index))
	})
	total := new(big.Int)
	for _, c := range cands[:spec.Gpu.Count] {
		gpus = append(gpus, c.uuid)
		total.Add(total, new(big.Int).SetUint64(c.price))
	}
	if err := markettypes.MatchProvider(spec, st.provider, gpus); err != nil {
		return nil, sdk.Coin{}, err.Error()
	}
	if o.MaxPricePerBlock.Denom != e.cfg.Bid.Denom {
		return nil, sdk.Coin{}, fmt.Sprintf("order pays in %s, rules price in %s", o.MaxPricePerBlock.Denom, e.cfg.Bid.Denom)
	}
	if total.Sign() <= 0 || total.BitLen() > 255 {
		return nil, sdk.Coin{}, "price out of range"
	}
	amount := sdkmath.NewIntFromBigInt(total)
	if o.MaxPricePerBlock.Amount.LT(amount) {
		return nil, sdk.Coin{}, fmt.Sprintf("price %s%s is above the order's max %s", amount, e.cfg.Bid.Denom, o.MaxPricePerBlock)
	}
	return gpus, sdk.NewCoin(e.cfg.Bid.Denom, amount), ""
}
