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
	"github.com/crucible-network/crucible/x/provider/types"
)

type queryServer struct {
	k Keeper
}

var _ types.QueryServer = queryServer{}

// NewQueryServerImpl returns the x/provider Query service implementation.
func NewQueryServerImpl(k Keeper) types.QueryServer { return queryServer{k: k} }

// Params returns the module params.
func (q queryServer) Params(ctx context.Context, req *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	params, err := q.k.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryParamsResponse{Params: params}, nil
}

// Provider returns one provider (NotFound if there is none).
func (q queryServer) Provider(ctx context.Context, req *types.QueryProviderRequest) (*types.QueryProviderResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	owner, err := q.k.decodeAddress("owner", req.Owner)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	p, err := q.k.GetProvider(ctx, owner)
	if err != nil {
		if errors.Is(err, types.ErrProviderNotFound) {
			return nil, status.Error(codes.NotFound, err.Error())
		}
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryProviderResponse{Provider: p}, nil
}

// Providers returns one page of providers in owner byte order, all of them or,
// with a status filter, only those in that status (through the status index,
// so a page costs the same whatever the other providers).
func (q queryServer) Providers(ctx context.Context, req *types.QueryProvidersRequest) (*types.QueryProvidersResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	pagination, err := kvpage.Bound(req.Pagination)
	if err != nil {
		return nil, err
	}
	if req.Status == types.ProviderStatusUnspecified {
		providers, page, err := query.CollectionPaginate(ctx, q.k.Providers, pagination,
			func(owner sdk.AccAddress, p types.Provider) (types.Provider, error) {
				return p, q.k.fillActiveLeases(ctx, owner, &p)
			})
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		return &types.QueryProvidersResponse{Providers: providers, Pagination: page}, nil
	}
	if !types.ValidStatus(req.Status) {
		return nil, status.Errorf(codes.InvalidArgument, "unknown provider status %d", int32(req.Status))
	}
	providers, page, err := query.CollectionPaginate(ctx, q.k.Providers.Indexes.Status, pagination,
		func(key collections.Pair[int32, sdk.AccAddress], _ collections.NoValue) (types.Provider, error) {
			return q.k.GetProvider(ctx, key.K2())
		},
		query.WithCollectionPaginationPairPrefix[int32, sdk.AccAddress](int32(req.Status)),
	)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryProvidersResponse{Providers: providers, Pagination: page}, nil
}
