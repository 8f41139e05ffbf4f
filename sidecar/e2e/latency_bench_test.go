package e2e_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cmtclient "github.com/cometbft/cometbft/rpc/client"
	cmttypes "github.com/cometbft/cometbft/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/x/authz"

	"github.com/crucible-network/crucible/sidecar/chain"
	"github.com/crucible-network/crucible/sidecar/chain/chaintest"
	"github.com/crucible-network/crucible/testutil/network"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// Sample counts of BenchmarkSidecarLatency. The provider has two GPUs and
// the localnet genesis challenges each of them once per 15-block window, so
// challenges come two per window (about 5 s at the test block time).
const (
	latencyOrders     = 30
	latencyChallenges = 20
)

// watchPoll is how often the benchmark reads node0's committed height and
// its mempool; it bounds the error of every time it takes.
const watchPoll = 2 * time.Millisecond

// BenchmarkSidecarLatency measures how fast a running sidecar (the `start`
// command with the built-in plugins, as in the e2e tests) reacts to the
// chain, on the in-process localnet chain:
//
//   - OrderToBid: a tenant's MsgCreateOrder lands in block H; how long
//     until the sidecar's MsgCreateBid for that order is in node0's mempool,
//     and until it is in a committed block. Orders are placed one at a time
//     and cancelled once bid on, so each bid is an unhurried reaction.
//   - ChallengeToCommit: x/attest issues a challenge for one of the
//     provider's GPUs in block H's BeginBlock; how long until the sidecar's
//     MsgCommitProof for it is in the mempool, and in a committed block.
//     This includes the CPU prover's proof at the localnet's test size.
//
// The clock starts when node0's app has committed block H: the first of
// the benchmark's abci_info reads (every watchPoll, through the node's RPC
// functions, no HTTP in between) that reports last_block_height >= H. That
// is the first moment every answer about H exists (block_results, queries
// pinned to H, simulations against H's state), so the earliest any client
// could act on the block, and the signal the sidecar itself polls for.
// Not CometBFT's status height: CometBFT stores a block, and status reports
// it, before the app executes it. Not block H's header time: the proposer
// sets it before the block is even voted on, so it would add consensus and
// execution time the sidecar cannot influence. Not the NewBlock event:
// CometBFT publishes it only after saving its own state, at times after
// the sidecar has already answered.
//
// "In the mempool" is the first of the benchmark's mempool reads (every
// watchPoll) that lists the answer; "in a block" is when the app committed
// the block holding the answer as a successful transaction (same clock as
// the start). The NewBlock subscription only says what each block holds.
//
// Run it with
//
//	go test -run '^$' -bench BenchmarkSidecarLatency -benchtime 1x ./sidecar/e2e
func BenchmarkSidecarLatency(b *testing.B) {
	n := chaintest.Require(b)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	c := chaintest.Dial(b, n)
	p := newProvider(b, ctx, c, n, "bench-latency", "latency")
	tn := newTenant(b, c, n)
	// Start from an empty order book so the sidecar bids only on ours.
	if err := chaintest.CancelOpenOrders(ctx, c, tn.signer); err != nil {
		b.Fatal(err)
	}
	w := watchReactions(b, n, c.Encoding(), p.addr)
	sc := startInProcess(b, p)
	// Past the bid engine's start-up grace.
	waitBlocks(b, n, 3)

	b.Run("OrderToBid", func(b *testing.B) {
		var got []reactionTimes
		for range b.N {
			got = append(got, ordersToBids(b, ctx, tn, w, latencyOrders)...)
		}
		report(b, "order-to-bid", got)
		reportSetup(b, w)
	})
	b.Run("ChallengeToCommit", func(b *testing.B) {
		var got []reactionTimes
		for range b.N {
			got = append(got, challengesToCommits(b, ctx, n, c, p, w, latencyChallenges)...)
		}
		report(b, "challenge-to-commit", got)
		// Part of each commit's latency: the prover's Commit (root) time, from
		// the responder's "proof computed" log.
		reportQuantiles(b, "challenge-prover-commit", proverTimes(sc.logs.String(), got))
		reportSetup(b, w)
	})
	if counts := logCounts(sc.logs.String(), "WARN", "ERROR"); len(counts) > 0 {
		b.Logf("sidecar warnings and errors (count by message): %v", counts)
	}
	providerHealthy(b, ctx, c, p)
}

// ordersToBids places count orders one after the other and returns the
// times of the provider's bid on each. Each order is cancelled once its bid
// is in a block, which frees the bid's GPU.
func ordersToBids(b *testing.B, ctx context.Context, tn tenant, w *reactionWatch, count int) []reactionTimes {
	b.Helper()
	out := make([]reactionTimes, 0, count)
	for range count {
		order, err := chaintest.CreateOrder(ctx, tn.signer, chaintest.Spec("h100", 1), 5000)
		if err != nil {
			b.Fatal(err)
		}
		var rt reactionTimes
		waitFor(b, fmt.Sprintf("the bid on order %d in a block", order.Id), 30*time.Second, func() bool {
			var ok bool
			rt, ok = w.done(reaction{kind: orderToBid, id: order.Id})
			return ok
		})
		out = append(out, rt)
		if _, err := tn.signer.Submit(ctx, &markettypes.MsgCancelOrder{Tenant: tn.signer.Actor(), OrderId: order.Id}); err != nil {
			b.Fatalf("cancel order %d: %v", order.Id, err)
		}
	}
	return out
}

// challengesToCommits waits for count of the provider's challenges issued
// from the next block on to be committed and returns their times. The
// chain challenges only ACTIVE providers, so it gives up if p is jailed.
func challengesToCommits(b *testing.B, ctx context.Context, n *network.Network, c *chain.Client, p provider, w *reactionWatch, count int) []reactionTimes {
	b.Helper()
	from, err := n.LatestHeight()
	if err != nil {
		b.Fatal(err)
	}
	var out []reactionTimes
	waitFor(b, fmt.Sprintf("%d challenges committed", count), 4*time.Minute, func() bool {
		if prov, err := c.GetProvider(ctx, 0, p.addr); err != nil || prov.Status != providertypes.ProviderStatusActive {
			b.Fatalf("provider %s: %v %s", p.addr, err, prov.Status)
		}
		out = w.completed(challengeToCommit, from+1)
		return len(out) >= count
	})
	return out[:count]
}

// ------------------------------------------------------------- reporting

// report logs the samples and reports p50, p90 and max of both latencies
// in milliseconds, and the sample count. (A benchmark's log keeps only its
// first lines, so the samples go on one line each.)
func report(b *testing.B, name string, got []reactionTimes) {
	b.Helper()
	var toPool, toBlock []time.Duration
	var pools, blocks []string
	for _, rt := range got {
		toBlock = append(toBlock, rt.block.Sub(rt.trigger))
		blocks = append(blocks, fmt.Sprintf("%.0f(+%d)", ms(rt.block.Sub(rt.trigger)), rt.blockHeight-rt.height))
		if rt.pool.IsZero() {
			pools = append(pools, "-") // from CheckTx into a block between two mempool reads
			continue
		}
		toPool = append(toPool, rt.pool.Sub(rt.trigger))
		pools = append(pools, fmt.Sprintf("%.0f", ms(rt.pool.Sub(rt.trigger))))
	}
	b.Logf("%s: %d samples; ms to the mempool: %s", name, len(got), strings.Join(pools, " "))
	b.Logf("%s: ms (blocks) to a block: %s", name, strings.Join(blocks, " "))
	reportQuantiles(b, name+"-mempool", toPool)
	reportQuantiles(b, name+"-block", toBlock)
	b.ReportMetric(float64(len(got)), name+"-samples")
	b.ReportMetric(0, "ns/op") // the wall time of the whole run means nothing here
}

func reportSetup(b *testing.B, w *reactionWatch) {
	b.Helper()
	b.ReportMetric(ms(pollInterval), "sidecar-poll-ms")
	b.ReportMetric(ms(quantile(w.blockIntervals(), 0.5)), "block-interval-ms-p50")
}

// reportQuantiles reports p50, p90 and max of ds (nearest rank).
func reportQuantiles(b *testing.B, name string, ds []time.Duration) {
	b.Helper()
	if len(ds) == 0 {
		return
	}
	b.ReportMetric(ms(quantile(ds, 0.5)), name+"-ms-p50")
	b.ReportMetric(ms(quantile(ds, 0.9)), name+"-ms-p90")
	b.ReportMetric(ms(quantile(ds, 1)), name+"-ms-max")
}

// quantile is the nearest-rank q-quantile of ds (0 for none).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(i, 0)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// proverTimes are the prover's Commit times of the challenges in got, from
// the responder's "proof computed" log lines (slog writes a duration as
// integer nanoseconds).
func proverTimes(logs string, got []reactionTimes) []time.Duration {
	ids := map[uint64]bool{}
	for _, rt := range got {
		ids[rt.id] = true
	}
	var out []time.Duration
	for _, l := range strings.Split(logs, "\n") {
		var rec struct {
			Msg       string
			Challenge uint64
			Took      time.Duration
		}
		if json.Unmarshal([]byte(l), &rec) == nil && rec.Msg == "proof computed" && ids[rec.Challenge] {
			out = append(out, rec.Took)
		}
	}
	return out
}

// logCounts counts the log lines of the given JSON log levels by level
// and message.
func logCounts(logs string, levels ...string) map[string]int {
	out := map[string]int{}
	for _, l := range strings.Split(logs, "\n") {
		var rec struct{ Level, Msg string }
		if json.Unmarshal([]byte(l), &rec) == nil && slices.Contains(levels, rec.Level) {
			out[rec.Level+" "+rec.Msg]++
		}
	}
	return out
}

// ---------------------------------------------------------------- watcher

type reactionKind int

const (
	orderToBid        reactionKind = iota // id: order id
	challengeToCommit                     // id: challenge id
)

// reaction is one thing the sidecar answers: an order or a challenge.
type reaction struct {
	kind reactionKind
	id   uint64
}

// reactionTimes are the heights and wall-clock times of one reaction
// (zero: not yet).
type reactionTimes struct {
	reaction
	height      int64     // the block that created the order or issued the challenge
	blockHeight int64     // the block that includes the answer
	trigger     time.Time // when the app committed height
	pool        time.Time // first mempool read that lists the answer
	block       time.Time // when the app committed blockHeight
}

// reactionWatch timestamps, on node0, the blocks as the app commits them,
// what they hold (the orders and the provider's challenges they create,
// the provider's bids and commits they include), and the provider's bids
// and commits as they enter the mempool. It reads node0 through its
// in-process RPC client: abci_info and the mempool every watchPoll, and a
// NewBlock subscription for the blocks' contents.
type reactionWatch struct {
	rpc      cmtclient.Client
	decode   sdk.TxDecoder
	provider string

	mu        sync.Mutex
	times     map[reaction]*reactionTimes
	committed map[int64]time.Time   // first abci_info read that reports the height
	inPool    map[string][]reaction // the answers of the txs in the last mempool read, by tx hash
}

const watchSubscriber = "sidecar-latency-bench"

// watchReactions starts watching; the benchmark's cleanup stops it.
func watchReactions(b *testing.B, n *network.Network, enc chain.Encoding, provider string) *reactionWatch {
	b.Helper()
	w := &reactionWatch{
		rpc: n.Nodes[0].RPCClient, decode: enc.TxConfig.TxDecoder(), provider: provider,
		times: map[reaction]*reactionTimes{}, committed: map[int64]time.Time{}, inPool: map[string][]reaction{},
	}
	ctx, cancel := context.WithCancel(context.Background())
	query := cmttypes.QueryForEvent(cmttypes.EventNewBlock).String()
	blocks, err := w.rpc.Subscribe(ctx, watchSubscriber, query, 64)
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	every := func(f func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(watchPoll)
			defer t.Stop()
			for {
				f(ctx)
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	// Separate loops: abci_info waits while the app executes a block, the
	// mempool read does not.
	every(w.readHeight())
	every(w.readMempool)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-blocks:
				if nb, ok := ev.Data.(cmttypes.EventDataNewBlock); ok {
					w.onBlock(nb)
				}
			}
		}
	}()
	b.Cleanup(func() {
		cancel()
		wg.Wait()
		if err := w.rpc.Unsubscribe(context.Background(), watchSubscriber, query); err != nil {
			b.Errorf("unsubscribe: %v", err)
		}
	})
	return w
}

// answers are the reactions tx answers: the provider's bids and commits,
// sent directly or (as the sidecar does) in an authz MsgExec.
func (w *reactionWatch) answers(bz []byte) []reaction {
	tx, err := w.decode(bz)
	if err != nil {
		return nil
	}
	var out []reaction
	var visit func(msgs []sdk.Msg)
	visit = func(msgs []sdk.Msg) {
		for _, m := range msgs {
			switch m := m.(type) {
			case *authz.MsgExec:
				inner, err := m.GetMessages()
				if err == nil {
					visit(inner)
				}
			case *markettypes.MsgCreateBid:
				if m.Provider == w.provider {
					out = append(out, reaction{kind: orderToBid, id: m.OrderId})
				}
			case *attesttypes.MsgCommitProof:
				if m.Provider == w.provider {
					out = append(out, reaction{kind: challengeToCommit, id: m.ChallengeId})
				}
			}
		}
	}
	visit(tx.GetMsgs())
	return out
}

// at returns the times of r, creating them (caller holds mu).
func (w *reactionWatch) at(r reaction) *reactionTimes {
	rt := w.times[r]
	if rt == nil {
		rt = &reactionTimes{reaction: r}
		w.times[r] = rt
	}
	return rt
}

// onBlock records what a published block holds: the orders its
// transactions created and the provider's challenges its BeginBlock issued
// (triggers), and the answers among its successful transactions.
func (w *reactionWatch) onBlock(nb cmttypes.EventDataNewBlock) {
	h := nb.Block.Height
	res := nb.ResultFinalizeBlock
	var triggers []reaction
	events := res.Events
	for _, tr := range res.TxResults {
		if tr.Code == 0 {
			events = append(events, tr.Events...)
		}
	}
	for _, ev := range events {
		e, ok, err := chain.Decode(h, ev)
		if err != nil || !ok {
			continue
		}
		switch e := e.(type) {
		case chain.OrderCreated:
			triggers = append(triggers, reaction{kind: orderToBid, id: e.Order.Id})
		case chain.Other:
			if ci, ok := e.Event.(*attesttypes.EventChallengeIssued); ok && ci.Provider == w.provider {
				triggers = append(triggers, reaction{kind: challengeToCommit, id: ci.Id})
			}
		}
	}
	var included []reaction
	for i, tx := range nb.Block.Txs {
		if i < len(res.TxResults) && res.TxResults[i].Code == 0 {
			included = append(included, w.answers(tx)...)
		}
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range triggers {
		w.at(r).height = h
	}
	for _, a := range included {
		if rt := w.at(a); rt.blockHeight == 0 {
			rt.blockHeight = h
		}
	}
}

// readHeight returns a poll of the app's last committed height (abci_info,
// what the sidecar follows) that stamps each new height. Heights committed
// before the first read get no time.
func (w *reactionWatch) readHeight() func(context.Context) {
	var last int64
	return func(ctx context.Context) {
		info, err := w.rpc.ABCIInfo(ctx)
		if err != nil {
			return
		}
		now, h := time.Now(), info.Response.LastBlockHeight
		w.mu.Lock()
		defer w.mu.Unlock()
		if last != 0 {
			for hh := last + 1; hh <= h; hh++ {
				w.committed[hh] = now
			}
		}
		last = max(last, h)
	}
}

// readMempool reads node0's mempool and stamps the answers seen there for
// the first time. Transactions of the previous read are not decoded again.
func (w *reactionWatch) readMempool(ctx context.Context) {
	limit := 1000
	res, err := w.rpc.UnconfirmedTxs(ctx, &limit)
	if err != nil {
		return
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	pool := make(map[string][]reaction, len(res.Txs))
	for _, tx := range res.Txs {
		key := string(tx.Hash())
		as, known := w.inPool[key]
		if !known {
			as = w.answers(tx)
		}
		pool[key] = as
		for _, a := range as {
			if rt := w.at(a); rt.pool.IsZero() && rt.blockHeight == 0 {
				rt.pool = now
			}
		}
	}
	w.inPool = pool
}

// resolved returns rt with its block times once both of its blocks are
// known and committed (caller holds mu).
func (w *reactionWatch) resolved(rt *reactionTimes) (reactionTimes, bool) {
	out := *rt
	var ok1, ok2 bool
	out.trigger, ok1 = w.committed[rt.height]
	out.block, ok2 = w.committed[rt.blockHeight]
	return out, rt.height != 0 && rt.blockHeight != 0 && ok1 && ok2
}

// done returns the times of r once they are all known.
func (w *reactionWatch) done(r reaction) (reactionTimes, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	rt, ok := w.times[r]
	if !ok {
		return reactionTimes{}, false
	}
	return w.resolved(rt)
}

// completed returns the done reactions of kind triggered at or after
// height from, by trigger height and id.
func (w *reactionWatch) completed(kind reactionKind, from int64) []reactionTimes {
	w.mu.Lock()
	var out []reactionTimes
	for r, rt := range w.times {
		if r.kind != kind || rt.height < from {
			continue
		}
		if res, ok := w.resolved(rt); ok {
			out = append(out, res)
		}
	}
	w.mu.Unlock()
	slices.SortFunc(out, func(a, b reactionTimes) int {
		return cmp.Or(cmp.Compare(a.height, b.height), cmp.Compare(a.id, b.id))
	})
	return out
}

// blockIntervals are the times between the commits of consecutive blocks.
func (w *reactionWatch) blockIntervals() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []time.Duration
	for h, t := range w.committed {
		if prev, ok := w.committed[h-1]; ok {
			out = append(out, t.Sub(prev))
		}
	}
	return out
}
