// Package chain is the sidecar's view of the Crucible chain: a Client that
// queries over gRPC with every query of one catch-up pinned to the same
// height, follows new blocks over CometBFT RPC and turns their typed events
// into domain events, and a Signer that owns one account's sequence and
// builds, signs, broadcasts and confirms transactions.
package chain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	grpctypes "github.com/cosmos/cosmos-sdk/types/grpc"
	"github.com/cosmos/cosmos-sdk/types/query"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/crucible-network/crucible/sidecar/config"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// PageLimit is the page size of the catch-up queries.
const PageLimit = 100

// DefaultPollInterval is how often Follow asks for a new block.
const DefaultPollInterval = time.Second

// ErrNotFound is returned by queries for an object the chain does not have.
var ErrNotFound = errors.New("not found on chain")

// Client queries the chain and follows its blocks. It is safe for
// concurrent use.
type Client struct {
	enc    Encoding
	cfg    config.ChainConfig
	conn   *grpc.ClientConn
	rpc    *rpchttp.HTTP
	logger *slog.Logger
	poll   time.Duration

	Market   markettypes.QueryClient
	Provider providertypes.QueryClient
	Auth     authtypes.QueryClient
	Tx       txtypes.ServiceClient
}

// Option changes a Client.
type Option func(*Client)

// WithPollInterval sets how often Follow polls for a new block.
func WithPollInterval(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.poll = d
		}
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.logger = l
		}
	}
}

// Dial connects to the node's gRPC server (cfg.GRPCAddr, plaintext) and
// CometBFT RPC (cfg.RPCAddr). Connections are lazy: Dial fails only on
// malformed addresses; the first call reports an unreachable node.
func Dial(cfg config.ChainConfig, opts ...Option) (*Client, error) {
	enc, err := NewEncoding()
	if err != nil {
		return nil, err
	}
	c := &Client{enc: enc, cfg: cfg, logger: slog.New(slog.DiscardHandler), poll: DefaultPollInterval}
	for _, o := range opts {
		o(c)
	}
	c.logger = c.logger.With("module", "chain")
	c.conn, err = grpc.NewClient(cfg.GRPCAddr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(codecFor(enc))),
	)
	if err != nil {
		return nil, fmt.Errorf("grpc %s: %w", cfg.GRPCAddr, err)
	}
	c.rpc, err = rpchttp.New(cfg.RPCAddr, "/websocket")
	if err != nil {
		_ = c.conn.Close()
		return nil, fmt.Errorf("cometbft rpc %s: %w", cfg.RPCAddr, err)
	}
	c.Market = markettypes.NewQueryClient(c.conn)
	c.Provider = providertypes.NewQueryClient(c.conn)
	c.Auth = authtypes.NewQueryClient(c.conn)
	c.Tx = txtypes.NewServiceClient(c.conn)
	return c, nil
}

// Encoding returns the client's codecs.
func (c *Client) Encoding() Encoding { return c.enc }

// Config returns the chain section the client was dialled with.
func (c *Client) Config() config.ChainConfig { return c.cfg }

// Conn is the gRPC connection, for query clients of other modules (it
// speaks the Cosmos codec; heights pin with AtHeight).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Close closes the gRPC connection.
func (c *Client) Close() error { return c.conn.Close() }

// LatestHeight is the height of the node's latest committed block: the
// last block the app has committed (ABCI Info), so the block's results
// (BlockEvents) and its state (queries pinned with AtHeight, simulations)
// are there to read.
//
// Not CometBFT's status: its latest_block_height is the block store's, and
// CometBFT stores a block before the app executes it, so for a moment in
// every block status names a height whose block_results do not exist yet
// ("could not find results for height") and whose state queries fail
// ("cannot query with height in the future"); a poller that hits that
// moment loses a whole poll interval.
func (c *Client) LatestHeight(ctx context.Context) (int64, error) {
	info, err := c.rpc.ABCIInfo(ctx)
	if err != nil {
		return 0, fmt.Errorf("abci info: %w", err)
	}
	return info.Response.LastBlockHeight, nil
}

// PollInterval is how often Follow asks for a new block; other pollers of
// the chain (the challenge responder) use it too.
func (c *Client) PollInterval() time.Duration { return c.poll }

// AtHeight returns ctx with the x-cosmos-block-height header: every gRPC
// query made with it reads the state as of that height, so queries issued
// one after another see one consistent state.
func AtHeight(ctx context.Context, height int64) context.Context {
	return metadata.AppendToOutgoingContext(ctx, grpctypes.GRPCBlockHeightHeader, strconv.FormatInt(height, 10))
}

// GetProvider returns the provider record of owner at height (0: latest),
// or ErrNotFound.
func (c *Client) GetProvider(ctx context.Context, height int64, owner string) (providertypes.Provider, error) {
	if height > 0 {
		ctx = AtHeight(ctx, height)
	}
	res, err := c.Provider.Provider(ctx, &providertypes.QueryProviderRequest{Owner: owner})
	if status.Code(err) == codes.NotFound {
		return providertypes.Provider{}, fmt.Errorf("provider %s: %w", owner, ErrNotFound)
	}
	if err != nil {
		return providertypes.Provider{}, fmt.Errorf("query provider %s: %w", owner, err)
	}
	return res.Provider, nil
}

// GetOrder returns an order at height (0: latest), or ErrNotFound.
func (c *Client) GetOrder(ctx context.Context, height int64, id uint64) (markettypes.Order, error) {
	if height > 0 {
		ctx = AtHeight(ctx, height)
	}
	res, err := c.Market.Order(ctx, &markettypes.QueryOrderRequest{Id: id})
	if status.Code(err) == codes.NotFound {
		return markettypes.Order{}, fmt.Errorf("order %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return markettypes.Order{}, fmt.Errorf("query order %d: %w", id, err)
	}
	return res.Order, nil
}

// Orders pages through the orders in state at height (which must be set).
func (c *Client) Orders(ctx context.Context, height int64, state markettypes.OrderState) ([]markettypes.Order, error) {
	ctx = AtHeight(ctx, height)
	var out []markettypes.Order
	err := paginate(func(page *query.PageRequest) (*query.PageResponse, error) {
		res, err := c.Market.Orders(ctx, &markettypes.QueryOrdersRequest{State: state, Pagination: page})
		if err != nil {
			return nil, fmt.Errorf("query %s orders: %w", state, err)
		}
		out = append(out, res.Orders...)
		return res.Pagination, nil
	})
	return out, err
}

// Bids pages through the bids filtered by order (0: any), provider ("":
// any) and state (unspecified: any) at height (which must be set).
func (c *Client) Bids(ctx context.Context, height int64, orderID uint64, provider string, state markettypes.BidState) ([]markettypes.Bid, error) {
	ctx = AtHeight(ctx, height)
	var out []markettypes.Bid
	err := paginate(func(page *query.PageRequest) (*query.PageResponse, error) {
		res, err := c.Market.Bids(ctx, &markettypes.QueryBidsRequest{OrderId: orderID, Provider: provider, State: state, Pagination: page})
		if err != nil {
			return nil, fmt.Errorf("query bids: %w", err)
		}
		out = append(out, res.Bids...)
		return res.Pagination, nil
	})
	return out, err
}

// Leases pages through the leases of provider in state at height (which
// must be set).
func (c *Client) Leases(ctx context.Context, height int64, provider string, state markettypes.LeaseState) ([]markettypes.Lease, error) {
	ctx = AtHeight(ctx, height)
	var out []markettypes.Lease
	err := paginate(func(page *query.PageRequest) (*query.PageResponse, error) {
		res, err := c.Market.Leases(ctx, &markettypes.QueryLeasesRequest{Provider: provider, State: state, Pagination: page})
		if err != nil {
			return nil, fmt.Errorf("query leases: %w", err)
		}
		out = append(out, res.Leases...)
		return res.Pagination, nil
	})
	return out, err
}

// paginate calls fetch with successive page keys until the last page.
func paginate(fetch func(*query.PageRequest) (*query.PageResponse, error)) error {
	page := &query.PageRequest{Limit: PageLimit}
	for {
		res, err := fetch(page)
		if err != nil {
			return err
		}
		if res == nil || len(res.NextKey) == 0 {
			return nil
		}
		page = &query.PageRequest{Key: res.NextKey, Limit: PageLimit}
	}
}

// Account returns the account number and sequence of addr (latest state),
// or an error wrapping ErrNotFound for an account the chain has not seen.
func (c *Client) Account(ctx context.Context, addr sdk.AccAddress) (accNum, seq uint64, err error) {
	res, err := c.Auth.Account(ctx, &authtypes.QueryAccountRequest{Address: addr.String()})
	if status.Code(err) == codes.NotFound {
		return 0, 0, fmt.Errorf("account %s: %w", addr, ErrNotFound)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("query account %s: %w", addr, err)
	}
	var acc sdk.AccountI
	if err := c.enc.InterfaceRegistry.UnpackAny(res.Account, &acc); err != nil {
		return 0, 0, fmt.Errorf("decode account %s: %w", addr, err)
	}
	return acc.GetAccountNumber(), acc.GetSequence(), nil
}

// State is what one provider needs to know about the chain, read at one
// height.
type State struct {
	// Height is the height every query was pinned to.
	Height int64
	// Provider is the provider record; Registered is false when there is none.
	Provider   providertypes.Provider
	Registered bool
	// OpenOrders are every OPEN order.
	OpenOrders []markettypes.Order
	// OpenBids are the provider's OPEN bids.
	OpenBids []markettypes.Bid
	// ActiveLeases are the provider's ACTIVE leases.
	ActiveLeases []markettypes.Lease
}

// CatchUp reads the provider's state at the latest height, every query
// pinned to that height so the result is one consistent snapshot; follow
// with Follow(ctx, state.Height+1, ...) to miss nothing.
func (c *Client) CatchUp(ctx context.Context, provider string) (State, error) {
	h, err := c.LatestHeight(ctx)
	if err != nil {
		return State{}, err
	}
	return c.CatchUpAt(ctx, h, provider)
}

// CatchUpAt is CatchUp at a given height.
func (c *Client) CatchUpAt(ctx context.Context, height int64, provider string) (State, error) {
	st := State{Height: height}
	p, err := c.GetProvider(ctx, height, provider)
	switch {
	case err == nil:
		st.Provider, st.Registered = p, true
	case errors.Is(err, ErrNotFound):
	default:
		return State{}, err
	}
	if st.OpenOrders, err = c.Orders(ctx, height, markettypes.OrderStateOpen); err != nil {
		return State{}, err
	}
	if st.OpenBids, err = c.Bids(ctx, height, 0, provider, markettypes.BidStateOpen); err != nil {
		return State{}, err
	}
	if st.ActiveLeases, err = c.Leases(ctx, height, provider, markettypes.LeaseStateActive); err != nil {
		return State{}, err
	}
	c.logger.Debug("caught up", "height", height, "registered", st.Registered, "open_orders", len(st.OpenOrders),
		"open_bids", len(st.OpenBids), "active_leases", len(st.ActiveLeases))
	return st, nil
}
