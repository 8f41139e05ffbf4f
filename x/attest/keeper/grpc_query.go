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
	"github.com/crucible-network/crucible/x/attest/types"
)

type queryServer struct {
	k Keeper
}

var _ types.QueryServer = queryServer{}

// NewQueryServerImpl returns the x/attest Query service implementation.
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

// Challenge returns one challenge (NotFound if there is none).
func (q queryServer) Challenge(ctx context.Context, req *types.QueryChallengeRequest) (*types.QueryChallengeResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	c, err := q.k.GetChallenge(ctx, req.Id)
	if err != nil {
		if errors.Is(err, types.ErrChallengeNotFound) {
			return nil, status.Error(codes.NotFound, err.Error())
		}
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryChallengeResponse{Challenge: c}, nil
}

// Challenges returns one page of challenges in id order. Each filter
// combination reads one index prefix, so a page costs the same whatever the
// other challenges.
func (q queryServer) Challenges(ctx context.Context, req *types.QueryChallengesRequest) (*types.QueryChallengesResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	pagination, err := kvpage.Bound(req.Pagination)
	if err != nil {
		return nil, err
	}
	if req.State != types.ChallengeStateUnspecified && !types.ValidState(req.State) {
		return nil, status.Errorf(codes.InvalidArgument, "unknown challenge state %d", int32(req.State))
	}
	var provider sdk.AccAddress
	if req.Provider != "" {
		var err error
		if provider, err = q.k.decodeAddress("provider", req.Provider); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
	}
	var (
		out  []types.Challenge
		page *query.PageResponse
	)
	switch {
	case provider == nil && req.State == types.ChallengeStateUnspecified:
		out, page, err = query.CollectionPaginate(ctx, q.k.Challenges, pagination,
			func(_ uint64, c types.Challenge) (types.Challenge, error) { return c, nil })
	case provider == nil:
		out, page, err = query.CollectionPaginate(ctx, q.k.Challenges.Indexes.ByState, pagination,
			func(key collections.Pair[int32, uint64], _ collections.NoValue) (types.Challenge, error) {
				return q.k.Challenges.Get(ctx, key.K2())
			},
			query.WithCollectionPaginationPairPrefix[int32, uint64](int32(req.State)))
	case req.State == types.ChallengeStateUnspecified:
		out, page, err = query.CollectionPaginate(ctx, q.k.Challenges.Indexes.ByProvider, pagination,
			func(key collections.Pair[sdk.AccAddress, uint64], _ collections.NoValue) (types.Challenge, error) {
				return q.k.Challenges.Get(ctx, key.K2())
			},
			query.WithCollectionPaginationPairPrefix[sdk.AccAddress, uint64](provider))
	default:
		out, page, err = query.CollectionPaginate(ctx, q.k.Challenges.Indexes.ByProviderState, pagination,
			func(key collections.Pair[collections.Pair[sdk.AccAddress, int32], uint64], _ collections.NoValue) (types.Challenge, error) {
				return q.k.Challenges.Get(ctx, key.K2())
			},
			query.WithCollectionPaginationPairPrefix[collections.Pair[sdk.AccAddress, int32], uint64](
				collections.Join(provider, int32(req.State))))
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryChallengesResponse{Challenges: out, Pagination: page}, nil
}

// Record returns a provider's record (zero counters if it has none).
func (q queryServer) Record(ctx context.Context, req *types.QueryRecordRequest) (*types.QueryRecordResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	provider, err := q.k.decodeAddress("provider", req.Provider)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	r, err := q.k.GetRecord(ctx, provider)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryRecordResponse{Record: r}, nil
}

// Records returns one page of records in provider address byte order.
func (q queryServer) Records(ctx context.Context, req *types.QueryRecordsRequest) (*types.QueryRecordsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	pagination, err := kvpage.Bound(req.Pagination)
	if err != nil {
		return nil, err
	}
	out, page, err := query.CollectionPaginate(ctx, q.k.Records, pagination,
		func(_ sdk.AccAddress, r types.Record) (types.Record, error) { return r, nil })
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryRecordsResponse{Records: out, Pagination: page}, nil
}
