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

// Account returns one account as stored and projected to the query's height.
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
	projected, err := q.k.ProjectedAccount(ctx, acc, sdk.UnwrapSDKContext(ctx).BlockHeight())
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryAccountResponse{Account: acc, Projected: projected}, nil
}

// Accounts returns one page of accounts in id order, filtered by owner,
// provider and state. With an owner it walks that owner's entries of the owner
// index; otherwise the (state, provider) index: the exact prefix for state
// and/or provider, or with a provider and no state that provider's prefixes
// under every state, merged by id. The filters the walked prefix does not
// select are applied to each account on the way.
func (q Querier) Accounts(ctx context.Context, req *types.QueryAccountsRequest) (*types.QueryAccountsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	pagination, err := kvpage.Bound(req.Pagination)
	if err != nil {
		return nil, err
	}
	var owner, provider sdk.AccAddress
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
	load := func(id uint64) (types.Account, bool, error) {
		acc, err := q.k.Accounts.Get(ctx, id)
		if err != nil {
			return acc, false, err
		}
		return acc, match(acc), nil
	}

	var (
		accounts []types.Account
		page     *query.PageResponse
		prefixes [][]byte
	)
	state := int32(req.State)
	byState := q.k.AccountsByStateProvider
	switch {
	case owner != nil:
		var p []byte
		if p, err = kvpage.EncodePrefix(q.k.AccountsByOwner, collections.PairPrefix[sdk.AccAddress, uint64](owner)); err == nil {
			accounts, page, err = kvpage.Prefixes(ctx, q.k.AccountsByOwner, [][]byte{p}, pagination,
				collections.Pair[sdk.AccAddress, uint64].K2,
				func(key collections.Pair[sdk.AccAddress, uint64]) (types.Account, bool, error) { return load(key.K2()) })
		}
	case provider != nil && state != 0:
		prefixes, err = triplePrefixes(byState, []int32{state}, provider)
	case provider != nil:
		prefixes, err = triplePrefixes(byState, accountStates(), provider)
	case state != 0:
		prefixes, err = triplePrefixes(byState, []int32{state}, nil)
	default:
		accounts, page, err = query.CollectionPaginate(ctx, q.k.Accounts, pagination,
			func(_ uint64, acc types.Account) (types.Account, error) { return acc, nil })
	}
	if err == nil && prefixes != nil {
		accounts, page, err = kvpage.Prefixes(ctx, byState, prefixes, pagination,
			collections.Triple[int32, sdk.AccAddress, uint64].K3,
			func(key collections.Triple[int32, sdk.AccAddress, uint64]) (types.Account, bool, error) {
				return load(key.K3())
			})
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryAccountsResponse{Accounts: accounts, Pagination: page}, nil
}

// accountStates lists the account states in enum order.
func accountStates() []int32 {
	return []int32{int32(types.AccountStatePending), int32(types.AccountStateActive), int32(types.AccountStateClosed)}
}

// triplePrefixes encodes (state) or (state, provider) prefixes of the
// (state, provider, id) index, one per state.
func triplePrefixes(set collections.KeySet[collections.Triple[int32, sdk.AccAddress, uint64]], states []int32, provider sdk.AccAddress) ([][]byte, error) {
	out := make([][]byte, 0, len(states))
	for _, st := range states {
		partial := collections.TriplePrefix[int32, sdk.AccAddress, uint64](st)
		if provider != nil {
			partial = collections.TripleSuperPrefix[int32, sdk.AccAddress, uint64](st, provider)
		}
		p, err := kvpage.EncodePrefix(set, partial)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
