package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/crucible-network/crucible/x/provider/types"
)

func TestQueryParams(t *testing.T) {
	f := newFixture(t)
	resp, err := f.queries.Params(f.ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, testParams(), resp.Params)
	_, err = f.queries.Params(f.ctx, nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err))
}

func TestQueryProvider(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	f.register(owner, 1000)

	resp, err := f.queries.Provider(f.ctx, &types.QueryProviderRequest{Owner: f.str(owner)})
	require.NoError(t, err)
	require.Equal(t, f.provider(owner), resp.Provider)

	_, err = f.queries.Provider(f.ctx, &types.QueryProviderRequest{Owner: f.str(f.addr(2))})
	require.Equal(t, codes.NotFound, status.Code(err))
	_, err = f.queries.Provider(f.ctx, &types.QueryProviderRequest{Owner: "nonsense"})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = f.queries.Provider(f.ctx, &types.QueryProviderRequest{})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = f.queries.Provider(f.ctx, nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err))
}

func TestQueryProvidersPaginationAndStatusFilter(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 7; i++ {
		f.register(f.addr(i), 1000)
	}
	// jailed: 1, 4, 6; unbonding: 2
	for _, i := range []int{1, 4, 6} {
		require.NoError(t, f.k.Jail(f.ctx, f.addr(i), "x"))
	}
	_, err := f.k.DeregisterProvider(f.ctx, f.addr(2))
	require.NoError(t, err)

	owners := func(ps []types.Provider) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = p.Owner
		}
		return out
	}
	strs := func(idx ...int) []string {
		out := make([]string, len(idx))
		for i, j := range idx {
			out[i] = f.str(f.addr(j))
		}
		return out
	}

	// All providers, pages of 3 with next keys.
	resp, err := f.queries.Providers(f.ctx, &types.QueryProvidersRequest{Pagination: &query.PageRequest{Limit: 3}})
	require.NoError(t, err)
	require.Equal(t, strs(0, 1, 2), owners(resp.Providers))
	var all []string
	all = append(all, owners(resp.Providers)...)
	for resp.Pagination.NextKey != nil {
		resp, err = f.queries.Providers(f.ctx, &types.QueryProvidersRequest{Pagination: &query.PageRequest{Limit: 3, Key: resp.Pagination.NextKey}})
		require.NoError(t, err)
		all = append(all, owners(resp.Providers)...)
	}
	require.Equal(t, strs(0, 1, 2, 3, 4, 5, 6), all)

	// Only jailed, pages of 2.
	resp, err = f.queries.Providers(f.ctx, &types.QueryProvidersRequest{
		Status: types.ProviderStatusJailed, Pagination: &query.PageRequest{Limit: 2},
	})
	require.NoError(t, err)
	require.Equal(t, strs(1, 4), owners(resp.Providers))
	require.NotNil(t, resp.Pagination.NextKey)
	resp, err = f.queries.Providers(f.ctx, &types.QueryProvidersRequest{
		Status: types.ProviderStatusJailed, Pagination: &query.PageRequest{Limit: 2, Key: resp.Pagination.NextKey},
	})
	require.NoError(t, err)
	require.Equal(t, strs(6), owners(resp.Providers))
	require.Nil(t, resp.Pagination.NextKey)
	for _, p := range resp.Providers {
		require.Equal(t, types.ProviderStatusJailed, p.Status)
	}

	// Offset pagination over a status.
	resp, err = f.queries.Providers(f.ctx, &types.QueryProvidersRequest{
		Status: types.ProviderStatusActive, Pagination: &query.PageRequest{Offset: 1, Limit: 10},
	})
	require.NoError(t, err)
	require.Equal(t, strs(3, 5), owners(resp.Providers))

	resp, err = f.queries.Providers(f.ctx, &types.QueryProvidersRequest{Status: types.ProviderStatusUnbonding})
	require.NoError(t, err)
	require.Equal(t, strs(2), owners(resp.Providers))

	// Status changes move providers between index entries.
	f.setHeight(100)
	_, err = f.msgs.UnjailProvider(f.ctx, &types.MsgUnjailProvider{Owner: f.str(f.addr(4))})
	require.NoError(t, err)
	resp, err = f.queries.Providers(f.ctx, &types.QueryProvidersRequest{Status: types.ProviderStatusJailed})
	require.NoError(t, err)
	require.Equal(t, strs(1, 6), owners(resp.Providers))

	_, err = f.queries.Providers(f.ctx, &types.QueryProvidersRequest{Status: 9})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = f.queries.Providers(f.ctx, nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err))
}
