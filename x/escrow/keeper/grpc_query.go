package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/crucible-network/crucible/x/escrow/types"
)

// Querier implements the x/escrow Query service.
type Querier struct {
	k Keeper
}

var _ types.QueryServer = Querier{}

// NewQuerier returns the x/escrow Query service implementation.
func NewQuerier(k Keeper) Querier { return Querier{k: k} }

// Params returns the module parameters.
func (q Querier) Params(ctx context.Context, req *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	params, err := q.k.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryParamsResponse{Params: params}, nil
}

// Account returns one account as stored.
func (q Querier) Account(ctx context.Context, req *types.QueryAccountRequest) (*types.QueryAccountResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	acc, err := q.k.Accounts.Get(ctx, req.Id)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "escrow account %d not found", req.Id)
	} else if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryAccountResponse{Account: acc}, nil
}

// Accounts returns one page of accounts, filtered by owner, provider and
// state. It walks the owner index when owner is set, else the provider index,
// else the state index, else all accounts; the other filters are applied to
// each account on the way.
func (q Querier) Accounts(ctx context.Context, req *types.QueryAccountsRequest) (*types.QueryAccountsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	var owner, provider sdk.AccAddress
	var err error
	if req.Owner != "" {
		if owner, err = q.k.addressCodec.StringToBytes(req.Owner); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "invalid owner: %v", err)
		}
	}
	if req.Provider != "" {
		if provider, err = q.k.addressCodec.StringToBytes(req.Provider); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "invalid provider: %v", err)
		}
	}
	if _, ok := types.AccountState_name[int32(req.State)]; !ok {
		return nil, status.Errorf(codes.InvalidArgument, "invalid state %d", req.State)
	}
	match := func(acc types.Account) bool {
		return (req.Owner == "" || acc.Owner == req.Owner) &&
			(req.Provider == "" || acc.Provider == req.Provider) &&
			(req.State == types.AccountStateUnspecified || acc.State == req.State)
	}

	var (
		accounts []types.Account
		page     *query.PageResponse
	)
	switch {
	case owner != nil:
		accounts, page, err = paginateIndex(ctx, q.k, q.k.Accounts.Indexes.Owner, owner, req.Pagination, match)
	case provider != nil:
		accounts, page, err = paginateIndex(ctx, q.k, q.k.Accounts.Indexes.Provider, provider, req.Pagination, match)
	case req.State != types.AccountStateUnspecified:
		accounts, page, err = paginateIndex(ctx, q.k, q.k.Accounts.Indexes.State, int32(req.State), req.Pagination, match)
	default:
		accounts, page, err = query.CollectionPaginate(ctx, q.k.Accounts, req.Pagination,
			func(_ uint64, acc types.Account) (types.Account, error) { return acc, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryAccountsResponse{Accounts: accounts, Pagination: page}, nil
}

// multiIndex is the part of indexes.Multi that pagination needs.
type multiIndex[R any] interface {
	query.Collection[collections.Pair[R, uint64], collections.NoValue]
}

// paginateIndex pages through the accounts under ref in a Multi index,
// keeping those that match.
func paginateIndex[R any](
	ctx context.Context,
	k Keeper,
	idx multiIndex[R],
	ref R,
	pageReq *query.PageRequest,
	match func(types.Account) bool,
) ([]types.Account, *query.PageResponse, error) {
	return query.CollectionFilteredPaginate(ctx, idx, pageReq,
		func(key collections.Pair[R, uint64], _ collections.NoValue) (bool, error) {
			acc, err := k.Accounts.Get(ctx, key.K2())
			if err != nil {
				return false, err
			}
			return match(acc), nil
		},
		func(key collections.Pair[R, uint64], _ collections.NoValue) (types.Account, error) {
			return k.Accounts.Get(ctx, key.K2())
		},
		query.WithCollectionPaginationPairPrefix[R, uint64](ref),
	)
}
