package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/indexes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

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
// the matching index.
func (q Querier) Orders(ctx context.Context, req *types.QueryOrdersRequest) (*types.QueryOrdersResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	if _, ok := types.OrderState_name[int32(req.State)]; !ok {
		return nil, status.Errorf(codes.InvalidArgument, "invalid order state %d", req.State)
	}
	tenant, err := q.optionalAddress("tenant", req.Tenant)
	if err != nil {
		return nil, err
	}
	state := int32(req.State)
	get := q.k.Orders.Get
	idx := q.k.Orders.Indexes
	var (
		orders []types.Order
		page   *query.PageResponse
	)
	switch {
	case tenant != nil && state != 0:
		orders, page, err = paginateIndex(ctx, idx.ByTenantState, collections.Join(tenant, state), req.Pagination, get, nil)
	case tenant != nil:
		orders, page, err = paginateIndex(ctx, idx.ByTenant, tenant, req.Pagination, get, nil)
	case state != 0:
		orders, page, err = paginateIndex(ctx, idx.ByState, state, req.Pagination, get, nil)
	default:
		orders, page, err = query.CollectionPaginate(ctx, q.k.Orders, req.Pagination,
			func(_ uint64, o types.Order) (types.Order, error) { return o, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryOrdersResponse{Orders: orders, Pagination: page}, nil
}

// Bids returns a page of bids, filtered by order, provider and/or state
// through the matching index.
func (q Querier) Bids(ctx context.Context, req *types.QueryBidsRequest) (*types.QueryBidsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
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
	get := q.k.Bids.Get
	idx := q.k.Bids.Indexes
	var (
		bids []types.Bid
		page *query.PageResponse
	)
	switch {
	case order != 0 && provider != nil:
		var keep func(types.Bid) bool
		if state != 0 {
			keep = func(b types.Bid) bool { return int32(b.State) == state }
		}
		bids, page, err = paginateIndex(ctx, idx.ByOrderProvider, collections.Join(order, provider), req.Pagination, get, keep)
	case order != 0 && state != 0:
		bids, page, err = paginateIndex(ctx, idx.ByOrderState, collections.Join(order, state), req.Pagination, get, nil)
	case order != 0:
		bids, page, err = paginateIndex(ctx, idx.ByOrder, order, req.Pagination, get, nil)
	case provider != nil && state != 0:
		bids, page, err = paginateIndex(ctx, idx.ByProviderState, collections.Join(provider, state), req.Pagination, get, nil)
	case provider != nil:
		bids, page, err = paginateIndex(ctx, idx.ByProvider, provider, req.Pagination, get, nil)
	case state != 0:
		bids, page, err = paginateIndex(ctx, idx.ByState, state, req.Pagination, get, nil)
	default:
		bids, page, err = query.CollectionPaginate(ctx, q.k.Bids, req.Pagination,
			func(_ uint64, b types.Bid) (types.Bid, error) { return b, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryBidsResponse{Bids: bids, Pagination: page}, nil
}

// Leases returns a page of leases, filtered by tenant, provider and/or state
// through the matching index.
func (q Querier) Leases(ctx context.Context, req *types.QueryLeasesRequest) (*types.QueryLeasesResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
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
	get := q.k.Leases.Get
	idx := q.k.Leases.Indexes
	var (
		leases []types.Lease
		page   *query.PageResponse
	)
	switch {
	case tenant != nil && provider != nil:
		var keep func(types.Lease) bool
		if state != 0 {
			keep = func(l types.Lease) bool { return int32(l.State) == state }
		}
		leases, page, err = paginateIndex(ctx, idx.ByTenantProvider, collections.Join(tenant, provider), req.Pagination, get, keep)
	case tenant != nil && state != 0:
		leases, page, err = paginateIndex(ctx, idx.ByTenantState, collections.Join(tenant, state), req.Pagination, get, nil)
	case tenant != nil:
		leases, page, err = paginateIndex(ctx, idx.ByTenant, tenant, req.Pagination, get, nil)
	case provider != nil && state != 0:
		leases, page, err = paginateIndex(ctx, idx.ByProviderState, collections.Join(provider, state), req.Pagination, get, nil)
	case provider != nil:
		leases, page, err = paginateIndex(ctx, idx.ByProvider, provider, req.Pagination, get, nil)
	case state != 0:
		leases, page, err = paginateIndex(ctx, idx.ByState, state, req.Pagination, get, nil)
	default:
		leases, page, err = query.CollectionPaginate(ctx, q.k.Leases, req.Pagination,
			func(_ uint64, l types.Lease) (types.Lease, error) { return l, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryLeasesResponse{Leases: leases, Pagination: page}, nil
}

// paginateIndex pages through the primary keys under prefix in a Multi index
// and loads each value. keep, when not nil, filters the values (used only
// within an already narrow prefix).
func paginateIndex[R, V any](
	ctx context.Context,
	idx *indexes.Multi[R, uint64, V],
	prefix R,
	pageReq *query.PageRequest,
	get func(context.Context, uint64) (V, error),
	keep func(V) bool,
) ([]V, *query.PageResponse, error) {
	var pred func(collections.Pair[R, uint64], collections.NoValue) (bool, error)
	if keep != nil {
		pred = func(key collections.Pair[R, uint64], _ collections.NoValue) (bool, error) {
			v, err := get(ctx, key.K2())
			if err != nil {
				return false, err
			}
			return keep(v), nil
		}
	}
	return query.CollectionFilteredPaginate(ctx, idx, pageReq, pred,
		func(key collections.Pair[R, uint64], _ collections.NoValue) (V, error) { return get(ctx, key.K2()) },
		query.WithCollectionPaginationPairPrefix[R, uint64](prefix))
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
