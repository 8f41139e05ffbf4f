package chain

import (
	"context"
	"fmt"
	"strings"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// Event is a typed chain event at a height. The concrete types are the
// structs below; a consumer switches on them.
type Event interface {
	// EventHeight is the height of the block that emitted the event.
	EventHeight() int64
}

// Height is embedded by every event.
type Height int64

// EventHeight implements Event.
func (h Height) EventHeight() int64 { return int64(h) }

// OrderCreated: a new OPEN order. Order is built from the event and carries
// everything a bidder needs (no query).
type OrderCreated struct {
	Height
	Order markettypes.Order
}

// OrderCancelled: the tenant cancelled an OPEN order; its open bids are LOST.
type OrderCancelled struct {
	Height
	OrderID uint64
}

// OrderExpired: an OPEN order passed its expiry; its open bids are LOST.
type OrderExpired struct {
	Height
	OrderID uint64
}

// BidCreated: a provider bid on an order.
type BidCreated struct {
	Height
	Bid markettypes.Bid
}

// BidClosed: a bid left the OPEN state (LOST, WITHDRAWN, or DISPLACED by a
// better bid on a full order; a winning bid shows up as LeaseCreated).
type BidClosed struct {
	Height
	BidID    uint64
	OrderID  uint64
	Provider string
	State    markettypes.BidState
}

// LeaseCreated: a tenant accepted a bid; the order is MATCHED. Lease is
// built from the event (ACTIVE).
type LeaseCreated struct {
	Height
	Lease markettypes.Lease
}

// LeaseClosed: an ACTIVE lease closed.
type LeaseClosed struct {
	Height
	LeaseID  uint64
	Provider string
	Tenant   string
	Reason   markettypes.LeaseCloseReason
}

// ProviderChanged: any x/provider event about one provider (registered,
// updated, jailed, unjailed, slashed, GPUs dropped or verified, ...).
// Consumers that care re-read the provider record at Height.
type ProviderChanged struct {
	Height
	Owner string
	Event proto.Message
}

// Other is any other typed event of the chain (x/attest, x/escrow, the
// remaining x/market events); the challenge responder consumes x/attest
// events from here.
type Other struct {
	Height
	Event proto.Message
}

// BlockDone follows the last event of a block: every event of Height has
// been delivered.
type BlockDone struct {
	Height
}

// ownerEvent is implemented by every x/provider event.
type ownerEvent interface{ GetOwner() string }

// Decode turns one typed ABCI event of the block at height into a domain
// event. ok is false for events that are not typed (plain SDK events such
// as "message" or "transfer").
func Decode(height int64, ev abci.Event) (Event, bool, error) {
	if proto.MessageType(ev.Type) == nil {
		return nil, false, nil
	}
	msg, err := sdk.ParseTypedEvent(stripBaseAppAttributes(ev))
	if err != nil {
		return nil, false, fmt.Errorf("decode %s at height %d: %w", ev.Type, height, err)
	}
	h := Height(height)
	switch e := msg.(type) {
	case *markettypes.EventOrderCreated:
		return OrderCreated{Height: h, Order: markettypes.Order{
			Id: e.OrderId, Tenant: e.Tenant, Spec: e.Spec, MaxPricePerBlock: e.MaxPricePerBlock,
			DurationBlocks: e.DurationBlocks, State: markettypes.OrderStateOpen,
			CreatedHeight: height, ExpiresHeight: e.ExpiresHeight,
		}}, true, nil
	case *markettypes.EventOrderCancelled:
		return OrderCancelled{Height: h, OrderID: e.OrderId}, true, nil
	case *markettypes.EventOrderExpired:
		return OrderExpired{Height: h, OrderID: e.OrderId}, true, nil
	case *markettypes.EventBidCreated:
		return BidCreated{Height: h, Bid: markettypes.Bid{
			Id: e.BidId, OrderId: e.OrderId, Provider: e.Provider, Price: e.Price,
			GpuUuids: e.GpuUuids, State: markettypes.BidStateOpen, CreatedHeight: height,
		}}, true, nil
	case *markettypes.EventBidClosed:
		return BidClosed{Height: h, BidID: e.BidId, OrderID: e.OrderId, Provider: e.Provider, State: e.State}, true, nil
	case *markettypes.EventLeaseCreated:
		return LeaseCreated{Height: h, Lease: markettypes.Lease{
			Id: e.LeaseId, BidId: e.BidId, Tenant: e.Tenant, Provider: e.Provider, Price: e.Price,
			GpuUuids: e.GpuUuids, StartHeight: e.StartHeight, EndHeight: e.EndHeight,
			State: markettypes.LeaseStateActive,
		}}, true, nil
	case *markettypes.EventLeaseClosed:
		return LeaseClosed{Height: h, LeaseID: e.LeaseId, Provider: e.Provider, Tenant: e.Tenant, Reason: e.Reason}, true, nil
	}
	if oe, isOwner := msg.(ownerEvent); isOwner && isProviderEvent(ev.Type) {
		return ProviderChanged{Height: h, Owner: oe.GetOwner(), Event: msg}, true, nil
	}
	return Other{Height: h, Event: msg}, true, nil
}

// isProviderEvent reports whether a typed event type name belongs to x/provider.
func isProviderEvent(typ string) bool {
	return strings.HasPrefix(typ, providerEventPrefix)
}

// providerEventPrefix is the proto package of x/provider's events.
var providerEventPrefix = strings.TrimSuffix(proto.MessageName(&providertypes.EventProviderRegistered{}), "EventProviderRegistered")

// stripBaseAppAttributes drops the attributes BaseApp appends to module
// events ("msg_index" on tx events, "mode" on begin/end block events): they
// are not fields of the typed event, and "mode" is not JSON.
func stripBaseAppAttributes(ev abci.Event) abci.Event {
	out := abci.Event{Type: ev.Type, Attributes: make([]abci.EventAttribute, 0, len(ev.Attributes))}
	for _, a := range ev.Attributes {
		if a.Key == "msg_index" || a.Key == "mode" {
			continue
		}
		out.Attributes = append(out.Attributes, a)
	}
	return out
}

// BlockEvents fetches the results of the block at height and decodes its
// typed events in execution order: begin-block events, the events of each
// successful transaction, then the end-block events, followed by BlockDone.
//
// A typed event that does not decode is reported through the returned error
// after the rest are decoded, so one unknown event cannot hide the others.
func (c *Client) BlockEvents(ctx context.Context, height int64) ([]Event, error) {
	res, err := c.rpc.BlockResults(ctx, &height)
	if err != nil {
		return nil, fmt.Errorf("block results %d: %w", height, err)
	}
	var (
		begin, end []abci.Event
		txs        []abci.Event
	)
	for _, ev := range res.FinalizeBlockEvents {
		if modeOf(ev) == "BeginBlock" || modeOf(ev) == "PreBlock" {
			begin = append(begin, ev)
		} else {
			end = append(end, ev)
		}
	}
	for _, tx := range res.TxsResults {
		if tx == nil || tx.Code != 0 {
			continue // a failed tx changed no state and emitted no module event
		}
		txs = append(txs, tx.Events...)
	}
	var (
		out     []Event
		decErrs []error
	)
	for _, group := range [][]abci.Event{begin, txs, end} {
		for _, ev := range group {
			e, ok, err := Decode(height, ev)
			if err != nil {
				decErrs = append(decErrs, err)
				continue
			}
			if ok {
				out = append(out, e)
			}
		}
	}
	out = append(out, BlockDone{Height: Height(height)})
	if len(decErrs) > 0 {
		return out, fmt.Errorf("%d undecodable events, first: %w", len(decErrs), decErrs[0])
	}
	return out, nil
}

func modeOf(ev abci.Event) string {
	for _, a := range ev.Attributes {
		if a.Key == "mode" {
			return a.Value
		}
	}
	return ""
}

// Follow delivers the events of every block from height from onwards, in
// order, each block closed by BlockDone, until ctx is done (it then returns
// ctx.Err()). Delivery blocks: a slow consumer slows the follower, and no
// event is dropped.
//
// Why polling block_results rather than a CometBFT websocket subscription:
// a subscription only delivers what happens while it is connected, CometBFT
// cancels subscribers that fall behind ("client is not pulling messages fast
// enough"), and after a reconnect or a sidecar restart there is no way to ask
// it for the blocks in between. Polling the results of each height is
// idempotent and resumable: the follower knows the last height it delivered,
// continues at the next one whatever happened in between, and so joins the
// height-pinned catch-up (state at H, events from H+1) without a gap or a
// duplicate. The cost is one abci_info call per poll interval and one
// block_results call per block, which is nothing at block times of seconds.
func (c *Client) Follow(ctx context.Context, from int64, out chan<- Event) error {
	next := from
	ticker := time.NewTicker(c.poll)
	defer ticker.Stop()
	for {
		latest, err := c.LatestHeight(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c.logger.Warn("follow: latest height failed; retrying", "err", err)
		}
		for err == nil && next <= latest {
			evs, berr := c.BlockEvents(ctx, next)
			if berr != nil && evs == nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				c.logger.Warn("follow: block results failed; retrying", "height", next, "err", berr)
				break
			}
			if berr != nil {
				c.logger.Error("follow: skipped undecodable events", "height", next, "err", berr)
			}
			for _, e := range evs {
				select {
				case out <- e:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			next++
		}
		select {
		case <-ticker.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// TxEvents decodes the typed events of a delivered transaction.
func TxEvents(res *sdk.TxResponse) ([]Event, error) {
	var out []Event
	for _, ev := range res.Events {
		e, ok, err := Decode(res.Height, ev)
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, e)
		}
	}
	return out, nil
}
