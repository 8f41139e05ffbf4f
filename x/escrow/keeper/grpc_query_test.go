package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/crucible-network/crucible/x/escrow/types"
)

// queryFixture: owners A (1,2,3,4) and B (5,6,7); providers P (1,2,5) and
// Q (3,6); 4 and 7 pending; 2 closed.
func queryFixture(t *testing.T) *fixture {
	f := newFixture(t)
	a, b := addr("A"), addr("B")
	p, q := addr("P"), addr("Q")
	for id, spec := range map[uint64]struct {
		owner, provider []byte
	}{
		1: {a, p}, 2: {a, p}, 3: {a, q}, 4: {a, nil},
		5: {b, p}, 6: {b, q}, 7: {b, nil},
	} {
		f.open(id, spec.owner, 1000)
		if spec.provider != nil {
			require.NoError(t, f.k.ActivateAccount(f.ctx, id, spec.provider, coin(1), 0))
		}
	}
	_, err := f.k.CloseAccount(f.ctx, 2, "test")
	require.NoError(t, err)
	return f
}

func ids(accs []types.Account) []uint64 {
	out := make([]uint64, 0, len(accs))
	for _, a := range accs {
		out = append(out, a.Id)
	}
	return out
}

func TestQueryParamsAndAccount(t *testing.T) {
	f := queryFixture(t)
	res, err := f.query.Params(f.ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, types.DefaultParams(), res.Params)

	acc, err := f.query.Account(f.ctx, &types.QueryAccountRequest{Id: 3})
	require.NoError(t, err)
	require.Equal(t, f.account(3), acc.Account)

	_, err = f.query.Account(f.ctx, &types.QueryAccountRequest{Id: 42})
	require.Equal(t, codes.NotFound, status.Code(err))
	_, err = f.query.Account(f.ctx, nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = f.query.Params(f.ctx, nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err))
}

func TestQueryAccountsFilters(t *testing.T) {
	f := queryFixture(t)
	A, B, P, Q := f.str(addr("A")), f.str(addr("B")), f.str(addr("P")), f.str(addr("Q"))
	for name, tc := range map[string]struct {
		req  types.QueryAccountsRequest
		want []uint64
	}{
		"all":               {types.QueryAccountsRequest{}, []uint64{1, 2, 3, 4, 5, 6, 7}},
		"owner A":           {types.QueryAccountsRequest{Owner: A}, []uint64{1, 2, 3, 4}},
		"owner A active":    {types.QueryAccountsRequest{Owner: A, State: types.AccountStateActive}, []uint64{1, 3}},
		"provider P":        {types.QueryAccountsRequest{Provider: P}, []uint64{1, 2, 5}},
		"provider P closed": {types.QueryAccountsRequest{Provider: P, State: types.AccountStateClosed}, []uint64{2}},
		"pending":           {types.QueryAccountsRequest{State: types.AccountStatePending}, []uint64{4, 7}},
		// A state alone pages the (state, provider, id) index: provider Q's
		// address sorts before P's.
		"active":             {types.QueryAccountsRequest{State: types.AccountStateActive}, []uint64{3, 6, 1, 5}},
		"owner B provider Q": {types.QueryAccountsRequest{Owner: B, Provider: Q}, []uint64{6}},
		"owner B provider P": {types.QueryAccountsRequest{Owner: B, Provider: P}, []uint64{5}},
		"owner B closed":     {types.QueryAccountsRequest{Owner: B, State: types.AccountStateClosed}, []uint64{}},
		"unknown owner":      {types.QueryAccountsRequest{Owner: f.str(addr("nobody"))}, []uint64{}},
		"owner A provider Q": {types.QueryAccountsRequest{Owner: A, Provider: Q}, []uint64{3}},
		"provider Q pending": {types.QueryAccountsRequest{Provider: Q, State: types.AccountStatePending}, []uint64{}},
	} {
		res, err := f.query.Accounts(f.ctx, &tc.req)
		require.NoError(t, err, name)
		require.Equal(t, tc.want, ids(res.Accounts), name)
	}

	for name, req := range map[string]*types.QueryAccountsRequest{
		"bad owner":      {Owner: "cosmos1bad"},
		"bad provider":   {Provider: "xyz"},
		"bad state":      {State: types.AccountState(9)},
		"nil":            nil,
		"key and offset": {Pagination: &query.PageRequest{Key: []byte{1}, Offset: 1}},
	} {
		_, err := f.query.Accounts(f.ctx, req)
		require.Equal(t, codes.InvalidArgument, status.Code(err), name)
	}
}

// pageAll pages through req with limit and returns the ids, checking that
// every page but the last is full.
func pageAll(t *testing.T, f *fixture, req types.QueryAccountsRequest, limit uint64) []uint64 {
	var got []uint64
	var key []byte
	for i := 0; ; i++ {
		require.Less(t, i, 20, "too many pages")
		req.Pagination = &query.PageRequest{Key: key, Limit: limit}
		res, err := f.query.Accounts(f.ctx, &req)
		require.NoError(t, err)
		got = append(got, ids(res.Accounts)...)
		if len(res.Pagination.NextKey) == 0 {
			return got
		}
		require.Len(t, res.Accounts, int(limit))
		key = res.Pagination.NextKey
	}
}

func TestQueryAccountsPagination(t *testing.T) {
	f := queryFixture(t)
	A, P := f.str(addr("A")), f.str(addr("P"))

	require.Equal(t, []uint64{1, 2, 3, 4, 5, 6, 7}, pageAll(t, f, types.QueryAccountsRequest{}, 3))
	require.Equal(t, []uint64{1, 2, 3, 4}, pageAll(t, f, types.QueryAccountsRequest{Owner: A}, 3))
	require.Equal(t, []uint64{1, 3}, pageAll(t, f, types.QueryAccountsRequest{Owner: A, State: types.AccountStateActive}, 1))
	require.Equal(t, []uint64{1, 2, 5}, pageAll(t, f, types.QueryAccountsRequest{Provider: P}, 2))
	require.Equal(t, []uint64{3, 6, 1, 5}, pageAll(t, f, types.QueryAccountsRequest{State: types.AccountStateActive}, 3))
	require.Equal(t, []uint64{1, 2, 5}, pageAll(t, f, types.QueryAccountsRequest{Provider: P}, 1))
	require.Equal(t, []uint64{2}, pageAll(t, f, types.QueryAccountsRequest{Provider: P, State: types.AccountStateClosed}, 1))

	// Offset; count_total is refused (it walks every account).
	res, err := f.query.Accounts(f.ctx, &types.QueryAccountsRequest{
		Pagination: &query.PageRequest{Offset: 2, Limit: 2},
	})
	require.NoError(t, err)
	require.Equal(t, []uint64{3, 4}, ids(res.Accounts))
	_, err = f.query.Accounts(f.ctx, &types.QueryAccountsRequest{
		Owner: A, Pagination: &query.PageRequest{Limit: 1, CountTotal: true},
	})
	require.ErrorContains(t, err, "count_total is not served")

	res, err = f.query.Accounts(f.ctx, &types.QueryAccountsRequest{
		Owner: A, Pagination: &query.PageRequest{Limit: 1},
	})
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, ids(res.Accounts))

	// Reverse.
	res, err = f.query.Accounts(f.ctx, &types.QueryAccountsRequest{
		State: types.AccountStateActive, Pagination: &query.PageRequest{Reverse: true},
	})
	require.NoError(t, err)
	require.Equal(t, []uint64{5, 1, 6, 3}, ids(res.Accounts))

	// Reverse, merged over the states, then the rest from a page key.
	res, err = f.query.Accounts(f.ctx, &types.QueryAccountsRequest{
		Provider: P, Pagination: &query.PageRequest{Reverse: true, Limit: 2},
	})
	require.NoError(t, err)
	require.Equal(t, []uint64{5, 2}, ids(res.Accounts))
	res, err = f.query.Accounts(f.ctx, &types.QueryAccountsRequest{
		Provider: P, Pagination: &query.PageRequest{Reverse: true, Key: res.Pagination.NextKey},
	})
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, ids(res.Accounts))
	require.Empty(t, res.Pagination.NextKey)

	// Offset over merged prefixes.
	res, err = f.query.Accounts(f.ctx, &types.QueryAccountsRequest{
		Provider: P, Pagination: &query.PageRequest{Offset: 1, Limit: 1},
	})
	require.NoError(t, err)
	require.Equal(t, []uint64{2}, ids(res.Accounts))
}
