package nodebench_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/crucible-network/crucible/sidecar/chain"
	"github.com/crucible-network/crucible/sidecar/chain/chaintest"
	markettypes "github.com/crucible-network/crucible/x/market/types"
)

// The load: senders push bank sends as fast as the node takes them, each
// with at most sendWindow transactions not yet in a block; tenants each
// run order -> (the sidecar bids) -> lease -> close cycles one after the
// other. Every key is a funded genesis account.
const (
	senders    = 4
	tenants    = 4
	sendWindow = 250
	sendGas    = 100_000 // a bank send uses ~61k
	sendFee    = 200     // ucru: clears min gas prices up to 0.002ucru
	// maxOrderPrice is above the sidecar's price for an H100 (its test
	// pricing rule).
	maxOrderPrice = 5000
)

func senderKey(i int) string { return fmt.Sprintf("sender%d", i) }
func tenantKey(i int) string { return fmt.Sprintf("tenant%d", i) }

// loadKeys are the genesis accounts the load and the sidecar sign with.
func loadKeys() []string {
	keys := []string{providerKey, hotKey}
	for i := range senders {
		keys = append(keys, senderKey(i))
	}
	for i := range tenants {
		keys = append(keys, tenantKey(i))
	}
	return keys
}

// load drives transactions at one node.
type load struct {
	client   *chain.Client
	rpc      *rpchttp.HTTP
	kr       keyring.Keyring // holds every key of loadKeys
	chainID  string
	provider string // the sidecar's provider, which bids on the tenants' orders
	sendTo   sdk.AccAddress
}

// loadStats is what one load window delivered.
type loadStats struct {
	Elapsed time.Duration // between the headers of the window's first and last blocks
	Blocks  int64
	Txs     int64 // transactions in those blocks (every kind, failed ones included)
	Sends   int64 // bank sends the mempool took
	Cycles  int64 // order -> bid -> lease -> close cycles completed
}

func (s *loadStats) add(o loadStats) {
	s.Elapsed += o.Elapsed
	s.Blocks += o.Blocks
	s.Txs += o.Txs
	s.Sends += o.Sends
	s.Cycles += o.Cycles
}

// TxPerSec is the rate at which transactions went into blocks.
func (s loadStats) TxPerSec() float64 { return float64(s.Txs) / s.Elapsed.Seconds() }

// run drives the load for d. The transaction rate is counted from the
// blocks committed in that time; tenants finish the cycle they are in
// after it, so no lease of theirs stays open.
func (l *load) run(tb testing.TB, d time.Duration) loadStats {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d+5*time.Minute)
	defer cancel()
	h0 := l.height(tb, ctx)
	deadline := time.Now().Add(d)
	var sends, cycles atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	sendCtx, stopSends := context.WithDeadline(gctx, deadline) // also ends when a sender or tenant fails
	defer stopSends()
	for i := range senders {
		from := keyAddr(tb, l.kr, senderKey(i))
		g.Go(func() error { return l.send(sendCtx, senderKey(i), from, &sends) })
	}
	for i := range tenants {
		s := newSigner(tb, l.client, l.kr, l.chainID, tenantKey(i))
		g.Go(func() error { return l.rent(gctx, s, deadline, &cycles) })
	}
	<-sendCtx.Done()
	h1 := l.height(tb, ctx)
	if err := g.Wait(); err != nil {
		tb.Fatalf("load: %v", err)
	}

	st := loadStats{Elapsed: l.blockTime(tb, ctx, h1).Sub(l.blockTime(tb, ctx, h0)), Blocks: h1 - h0,
		Sends: sends.Load(), Cycles: cycles.Load()}
	for h := h0 + 1; h <= h1; h += 20 { // the RPC returns at most 20 metas
		var res *coretypes.ResultBlockchainInfo
		rpcRetry(tb, ctx, func() (err error) {
			res, err = l.rpc.BlockchainInfo(ctx, h, min(h+19, h1))
			return err
		})
		for _, m := range res.BlockMetas {
			st.Txs += int64(m.NumTxs)
		}
	}
	return st
}

func (l *load) height(tb testing.TB, ctx context.Context) (h int64) {
	tb.Helper()
	rpcRetry(tb, ctx, func() (err error) {
		h, err = l.client.LatestHeight(ctx)
		return err
	})
	return h
}

func (l *load) blockTime(tb testing.TB, ctx context.Context, h int64) (t time.Time) {
	tb.Helper()
	rpcRetry(tb, ctx, func() error {
		res, err := l.rpc.Header(ctx, &h)
		if err == nil {
			t = res.Header.Time
		}
		return err
	})
	return t
}

// rpcRetry calls a CometBFT RPC query up to three times: the RPC server
// closes keep-alive connections idle for its read timeout, and a request
// sent on one at that moment fails with a connection reset.
func rpcRetry(tb testing.TB, ctx context.Context, call func() error) {
	tb.Helper()
	var err error
	for range 3 {
		if err = call(); err == nil || !sleep(ctx, 200*time.Millisecond) {
			break
		}
	}
	if err != nil {
		tb.Fatal(err)
	}
}

// send broadcasts bank sends of 1ucru from key name until ctx ends: signed
// locally with a fixed gas limit (no simulation), broadcast in sync mode
// (CheckTx), at most sendWindow ahead of the account's committed sequence.
func (l *load) send(ctx context.Context, name string, from sdk.AccAddress, sent *atomic.Int64) error {
	accNum, committed, err := l.client.Account(ctx, from)
	if err != nil {
		return err
	}
	next := committed
	msg := banktypes.NewMsgSend(from, l.sendTo, sdk.NewCoins(sdk.NewInt64Coin(chaintest.Denom, 1)))
	for ctx.Err() == nil {
		if next-committed >= sendWindow {
			if !sleep(ctx, 100*time.Millisecond) {
				break
			}
			if _, committed, err = l.client.Account(ctx, from); err != nil {
				if ended(ctx, err) {
					break
				}
				return err
			}
			continue
		}
		bz, err := l.sign(ctx, name, accNum, next, msg)
		if err != nil {
			return err
		}
		res, err := l.client.Tx.BroadcastTx(ctx, &txtypes.BroadcastTxRequest{TxBytes: bz, Mode: txtypes.BroadcastMode_BROADCAST_MODE_SYNC})
		if err != nil {
			if ended(ctx, err) {
				break
			}
			return fmt.Errorf("%s: broadcast: %w", name, err)
		}
		r := res.TxResponse
		cause := errorsmod.ABCIError(r.Codespace, r.Code, r.RawLog)
		switch {
		case r.Code == 0, errors.Is(cause, sdkerrors.ErrTxInMempoolCache):
			next++
			sent.Add(1)
		case errors.Is(cause, sdkerrors.ErrMempoolIsFull):
			sleep(ctx, 200*time.Millisecond)
		case errors.Is(cause, sdkerrors.ErrWrongSequence):
			if next, err = expectedSequence(r.RawLog); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		default:
			return fmt.Errorf("%s: send refused by CheckTx: %s", name, r.RawLog)
		}
	}
	return nil
}

// expectedSequence reads the sequence the node expects from its "account
// sequence mismatch, expected N, got M" log.
func expectedSequence(log string) (uint64, error) {
	_, rest, ok := strings.Cut(log, "expected ")
	var seq uint64
	if !ok {
		return 0, fmt.Errorf("no expected sequence in %q", log)
	}
	if _, err := fmt.Sscanf(rest, "%d", &seq); err != nil {
		return 0, fmt.Errorf("expected sequence in %q: %w", log, err)
	}
	return seq, nil
}

func (l *load) sign(ctx context.Context, name string, accNum, seq uint64, msgs ...sdk.Msg) ([]byte, error) {
	enc := l.client.Encoding()
	f := tx.Factory{}.
		WithTxConfig(enc.TxConfig).
		WithKeybase(l.kr).
		WithChainID(l.chainID).
		WithAccountNumber(accNum).
		WithSequence(seq).
		WithGas(sendGas).
		WithFees(fmt.Sprintf("%d%s", sendFee, chaintest.Denom))
	b, err := f.BuildUnsignedTx(msgs...)
	if err != nil {
		return nil, err
	}
	if err := tx.Sign(ctx, f, name, b, true); err != nil {
		return nil, err
	}
	return enc.TxConfig.TxEncoder()(b.GetTx())
}

// rent runs order -> bid -> lease -> close cycles as the tenant s signs
// for, with the sidecar's signer path (simulate, sign, broadcast, wait for
// the block), until deadline; the cycle under way at the deadline is
// finished.
func (l *load) rent(ctx context.Context, s *chain.Signer, deadline time.Time, cycles *atomic.Int64) error {
	name := s.Actor()
	for time.Now().Before(deadline) {
		order, err := chaintest.CreateOrder(ctx, s, chaintest.Spec("h100", 1), maxOrderPrice)
		if err != nil {
			return fmt.Errorf("%s: create order: %w", name, err)
		}
		bid, err := l.awaitBid(ctx, order.Id)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if _, err := s.Submit(ctx, &markettypes.MsgCreateLease{Tenant: s.Actor(), BidId: bid.Id}); err != nil {
			return fmt.Errorf("%s: create lease from bid %d: %w", name, bid.Id, err)
		}
		// The lease id is the order id.
		if _, err := s.Submit(ctx, &markettypes.MsgCloseLease{Sender: s.Actor(), LeaseId: order.Id}); err != nil {
			return fmt.Errorf("%s: close lease %d: %w", name, order.Id, err)
		}
		cycles.Add(1)
	}
	return nil
}

// awaitBid waits up to a minute for the sidecar's bid on an order.
func (l *load) awaitBid(ctx context.Context, orderID uint64) (markettypes.Bid, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		res, err := l.client.Market.Bids(ctx, &markettypes.QueryBidsRequest{OrderId: orderID, Provider: l.provider,
			State: markettypes.BidStateOpen})
		if err == nil && len(res.Bids) > 0 {
			return res.Bids[0], nil
		}
		if !sleep(ctx, 200*time.Millisecond) {
			return markettypes.Bid{}, fmt.Errorf("no bid from the sidecar on order %d within a minute (last query error: %v)", orderID, err)
		}
	}
}

// ended reports whether err is ctx ending (gRPC may report its deadline
// a moment before ctx.Err does).
func ended(ctx context.Context, err error) bool {
	c := status.Code(err)
	return ctx.Err() != nil || c == codes.DeadlineExceeded || c == codes.Canceled
}

// sleep waits for d; false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
