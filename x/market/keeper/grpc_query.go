package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/crucible-network/crucible/internal/kvpage"
	"github.com/crucible-network/crucible/x/market/types"
)

// Querier implements the x/market gRPC Query service.
type Querier struct {
	k Keeper
}

var _ types.QueryServer = Querier{}

// NewQuerier returns the x/market Query service.
func NewQuerier(k Keeper) Querier { return Querier{k: k} }

// Params returns the module parameters.
func (q Querier) Params(ctx context.Context, req *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	p, err := q.k.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryParamsResponse{Params: p}, nil
}

// Order returns one order.
func (q Querier) Order(ctx context.Context, req *types.QueryOrderRequest) (*types.QueryOrderResponse, error) {
	if req == nil || req.Id == 0 {
		return nil, status.Error(codes.InvalidArgument, "order id is required")
	}
	o, err := q.k.Orders.Get(ctx, req.Id)
	if err != nil {
		return nil, getError("order", req.Id, err)
	}
	return &types.QueryOrderResponse{Order: o}, nil
}

// Bid returns one bid.
func (q Querier) Bid(ctx context.Context, req *types.QueryBidRequest) (*types.QueryBidResponse, error) {
	if req == nil || req.Id == 0 {
		return nil, status.Error(codes.InvalidArgument, "bid id is required")
	}
	b, err := q.k.Bids.Get(ctx, req.Id)
	if err != nil {
		return nil, getError("bid", req.Id, err)
	}
	return &types.QueryBidResponse{Bid: b}, nil
}

// Lease returns one lease.
func (q Querier) Lease(ctx context.Context, req *types.QueryLeaseRequest) (*types.QueryLeaseResponse, error) {
	if req == nil || req.Id == 0 {
		return nil, status.Error(codes.InvalidArgument, "lease id is required")
	}
	l, err := q.k.Leases.Get(ctx, req.Id)
	if err != nil {
		return nil, getError("lease", req.Id, err)
	}
	return &types.QueryLeaseResponse{Lease: l}, nil
}

// Orders returns a page of orders, filtered by tenant and/or state through
// the (state, tenant, id) index: the exact prefix for a state with or without
// a tenant, and for a tenant alone its prefixes under every state, merged by
// id.
func (q Querier) Orders(ctx context.Context, req *types.QueryOrdersRequest) (*types.QueryOrdersResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	pagination, err := kvpage.Bound(req.Pagination)
	if err != nil {
		return nil, err
	}
	if _, ok := types.OrderState_name[int32(req.State)]; !ok {
		return nil, status.Errorf(codes.InvalidArgument, "invalid order state %d", req.State)
	}
	tenant, err := q.optionalAddress("tenant", req.Tenant)
	if err != nil {
		return nil, err
	}
	var (
		orders []types.Order
		page   *query.PageResponse
	)
	if tenant == nil && req.State == 0 {
		orders, page, err = query.CollectionPaginate(ctx, q.k.Orders, pagination,
			func(_ uint64, o types.Order) (types.Order, error) { return o, nil })
	} else {
		var prefixes [][]byte
		if prefixes, err = stateAddrPrefixes(q.k.OrdersByStateTenant, statesOr(int32(req.State), orderStates), tenant); err == nil {
			orders, page, err = kvpage.Prefixes(ctx, q.k.OrdersByStateTenant, prefixes, pagination, stateAddrKey.K3,
				func(key stateAddrKey) (types.Order, bool, error) {
					o, err := q.k.Orders.Get(ctx, key.K3())
					return o, err == nil, err
				})
		}
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryOrdersResponse{Orders: orders, Pagination: page}, nil
}

// Bids returns a page of bids, filtered by order, provider and/or state. With
// an order it pages through the (order, provider, id) index (the order's
// prefix, or the order and provider's) and filters the state inside that
// prefix; the open bids of an order come from the open-bid index. Otherwise
// it pages through the (state, provider, id) index: the exact prefix for a
// state with or without a provider, and for a provider alone its prefixes
// under every state, merged by id.
func (q Querier) Bids(ctx context.Context, req *types.QueryBidsRequest) (*types.QueryBidsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	pagination, err := kvpage.Bound(req.Pagination)
	if err != nil {
		return nil, err
	}
	if _, ok := types.BidState_name[int32(req.State)]; !ok {
		return nil, status.Errorf(codes.InvalidArgument, "invalid bid state %d", req.State)
	}
	provider, err := q.optionalAddress("provider", req.Provider)
	if err != nil {
		return nil, err
	}
	state := int32(req.State)
	order := req.OrderId
	load := func(id uint64) (types.Bid, bool, error) {
		b, err := q.k.Bids.Get(ctx, id)
		if err != nil {
			return b, false, err
		}
		return b, state == 0 || int32(b.State) == state, nil
	}
	var (
		bids []types.Bid
		page *query.PageResponse
		p    []byte
	)
	switch {
	case order != 0 && provider == nil && state == int32(types.BidStateOpen):
		if p, err = kvpage.EncodePrefix(q.k.OpenBidsByOrder, collections.PairPrefix[uint64, uint64](order)); err == nil {
			bids, page, err = kvpage.Prefixes(ctx, q.k.OpenBidsByOrder, [][]byte{p}, pagination,
				collections.Pair[uint64, uint64].K2,
				func(key collections.Pair[uint64, uint64]) (types.Bid, bool, error) { return load(key.K2()) })
		}
	case order != 0:
		partial := collections.TriplePrefix[uint64, sdk.AccAddress, uint64](order)
		if provider != nil {
			partial = collections.TripleSuperPrefix[uint64, sdk.AccAddress, uint64](order, provider)
		}
		if p, err = kvpage.EncodePrefix(q.k.BidsByOrderProvider, partial); err == nil {
			bids, page, err = kvpage.Prefixes(ctx, q.k.BidsByOrderProvider, [][]byte{p}, pagination, orderAddrKey.K3,
				func(key orderAddrKey) (types.Bid, bool, error) { return load(key.K3()) })
		}
	case provider != nil || state != 0:
		var prefixes [][]byte
		if prefixes, err = stateAddrPrefixes(q.k.BidsByStateProvider, statesOr(state, bidStates), provider); err == nil {
			bids, page, err = kvpage.Prefixes(ctx, q.k.BidsByStateProvider, prefixes, pagination, stateAddrKey.K3,
				func(key stateAddrKey) (types.Bid, bool, error) { return load(key.K3()) })
		}
	default:
		bids, page, err = query.CollectionPaginate(ctx, q.k.Bids, pagination,
			func(_ uint64, b types.Bid) (types.Bid, error) { return b, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryBidsResponse{Bids: bids, Pagination: page}, nil
}

// Leases returns a page of leases, filtered by tenant, provider and/or state.
// A lease has the id of its order, and a tenant's MATCHED orders are exactly
// its leases: with a tenant it pages through the orders index under
// (MATCHED, tenant) and filters provider and state on the way. Otherwise it
// pages through the (state, provider, id) index: the exact prefix for a state
// with or without a provider, and for a provider alone its prefixes under
// every state, merged by id.
func (q Querier) Leases(ctx context.Context, req *types.QueryLeasesRequest) (*types.QueryLeasesResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	pagination, err := kvpage.Bound(req.Pagination)
	if err != nil {
		return nil, err
	}
	if _, ok := types.LeaseState_name[int32(req.State)]; !ok {
		return nil, status.Errorf(codes.InvalidArgument, "invalid lease state %d", req.State)
	}
	tenant, err := q.optionalAddress("tenant", req.Tenant)
	if err != nil {
		return nil, err
	}
	provider, err := q.optionalAddress("provider", req.Provider)
	if err != nil {
		return nil, err
	}
	state := int32(req.State)
	load := func(id uint64) (types.Lease, bool, error) {
		l, err := q.k.Leases.Get(ctx, id)
		if err != nil {
			return l, false, err
		}
		return l, (state == 0 || int32(l.State) == state) && (req.Provider == "" || l.Provider == req.Provider), nil
	}
	var (
		leases   []types.Lease
		page     *query.PageResponse
		prefixes [][]byte
	)
	switch {
	case tenant != nil:
		if prefixes, err = stateAddrPrefixes(q.k.OrdersByStateTenant, []int32{int32(types.OrderStateMatched)}, tenant); err == nil {
			leases, page, err = kvpage.Prefixes(ctx, q.k.OrdersByStateTenant, prefixes, pagination, stateAddrKey.K3,
				func(key stateAddrKey) (types.Lease, bool, error) { return load(key.K3()) })
		}
	case provider != nil || state != 0:
		if prefixes, err = stateAddrPrefixes(q.k.LeasesByStateProvider, statesOr(state, leaseStates), provider); err == nil {
			leases, page, err = kvpage.Prefixes(ctx, q.k.LeasesByStateProvider, prefixes, pagination, stateAddrKey.K3,
				func(key stateAddrKey) (types.Lease, bool, error) { return load(key.K3()) })
		}
	default:
		leases, page, err = query.CollectionPaginate(ctx, q.k.Leases, pagination,
			func(_ uint64, l types.Lease) (types.Lease, error) { return l, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryLeasesResponse{Leases: leases, Pagination: page}, nil
}

// The states of each object, in enum order, for the filters that page
// through every state's prefix.
var (
	orderStates = []int32{int32(types.OrderStateOpen), int32(types.OrderStateMatched),
		int32(types.OrderStateCancelled), int32(types.OrderStateExpired)}
	bidStates = []int32{int32(types.BidStateOpen), int32(types.BidStateWon),
		int32(types.BidStateLost), int32(types.BidStateWithdrawn)}
	leaseStates = []int32{int32(types.LeaseStateActive), int32(types.LeaseStateClosed)}
)

// statesOr returns [state] when a state is set, else every state.
func statesOr(state int32, all []int32) []int32 {
	if state != 0 {
		return []int32{state}
	}
	return all
}

// stateAddrPrefixes encodes one prefix of a (state, address, id) index per
// state: (state) alone when addr is nil, else (state, addr).
func stateAddrPrefixes(set collections.KeySet[stateAddrKey], states []int32, addr sdk.AccAddress) ([][]byte, error) {
	out := make([][]byte, 0, len(states))
	for _, st := range states {
		partial := collections.TriplePrefix[int32, sdk.AccAddress, uint64](st)
		if addr != nil {
			partial = collections.TripleSuperPrefix[int32, sdk.AccAddress, uint64](st, addr)
		}
		p, err := kvpage.EncodePrefix(set, partial)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (q Querier) optionalAddress(field, s string) (sdk.AccAddress, error) {
	if s == "" {
		return nil, nil
	}
	bz, err := q.k.addressCodec.StringToBytes(s)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid %s address %q: %s", field, s, err)
	}
	return bz, nil
}

func getError(what string, id uint64, err error) error {
	if errors.Is(err, collections.ErrNotFound) {
		return status.Errorf(codes.NotFound, "%s %d not found", what, id)
	}
	return status.Error(codes.Internal, err.Error())
}
