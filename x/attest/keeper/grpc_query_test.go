package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/crucible-network/crucible/x/attest/types"
)

func TestQueries(t *testing.T) {
	f := newFixture(t)
	a := f.addProvider(1, 3)
	b := f.addProvider(2, 2)
	f.advance(19)
	f.begin(20)
	good := f.answer(a, 2, nil)
	_, err := f.reveal(a, 2, good)
	require.NoError(t, err)

	p, err := f.queries.Params(f.ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, testParams(), p.Params)

	c, err := f.queries.Challenge(f.ctx, &types.QueryChallengeRequest{Id: 2})
	require.NoError(t, err)
	require.Equal(t, types.ChallengeStatePassed, c.Challenge.State)
	_, err = f.queries.Challenge(f.ctx, &types.QueryChallengeRequest{Id: 99})
	require.Equal(t, codes.NotFound, status.Code(err))

	ids := func(req *types.QueryChallengesRequest) []uint64 {
		t.Helper()
		resp, err := f.queries.Challenges(f.ctx, req)
		require.NoError(t, err)
		var out []uint64
		for _, c := range resp.Challenges {
			out = append(out, c.Id)
		}
		return out
	}
	require.Equal(t, []uint64{1, 2, 3, 4, 5}, ids(&types.QueryChallengesRequest{}))
	require.Equal(t, []uint64{1, 2, 3}, ids(&types.QueryChallengesRequest{Provider: f.str(a)}))
	require.Equal(t, []uint64{4, 5}, ids(&types.QueryChallengesRequest{Provider: f.str(b)}))
	require.Equal(t, []uint64{1, 3, 4, 5}, ids(&types.QueryChallengesRequest{State: types.ChallengeStatePendingCommit}))
	require.Equal(t, []uint64{2}, ids(&types.QueryChallengesRequest{Provider: f.str(a), State: types.ChallengeStatePassed}))
	require.Empty(t, ids(&types.QueryChallengesRequest{Provider: f.str(b), State: types.ChallengeStatePassed}))

	// Pagination.
	_, err = f.queries.Challenges(f.ctx, &types.QueryChallengesRequest{Pagination: &query.PageRequest{Limit: 2, CountTotal: true}})
	require.ErrorContains(t, err, "count_total is not served")
	resp, err := f.queries.Challenges(f.ctx, &types.QueryChallengesRequest{Pagination: &query.PageRequest{Limit: 2}})
	require.NoError(t, err)
	require.Len(t, resp.Challenges, 2)
	resp, err = f.queries.Challenges(f.ctx, &types.QueryChallengesRequest{Pagination: &query.PageRequest{Key: resp.Pagination.NextKey, Limit: 2}})
	require.NoError(t, err)
	require.Equal(t, uint64(3), resp.Challenges[0].Id)
	resp, err = f.queries.Challenges(f.ctx, &types.QueryChallengesRequest{
		State: types.ChallengeStatePendingCommit, Pagination: &query.PageRequest{Limit: 3},
	})
	require.NoError(t, err)
	require.Len(t, resp.Challenges, 3)
	resp, err = f.queries.Challenges(f.ctx, &types.QueryChallengesRequest{
		State: types.ChallengeStatePendingCommit, Pagination: &query.PageRequest{Key: resp.Pagination.NextKey, Limit: 3},
	})
	require.NoError(t, err)
	require.Equal(t, uint64(5), resp.Challenges[0].Id)
	require.Nil(t, resp.Pagination.NextKey)

	_, err = f.queries.Challenges(f.ctx, &types.QueryChallengesRequest{State: types.ChallengeState(42)})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = f.queries.Challenges(f.ctx, &types.QueryChallengesRequest{Provider: "nope"})
	require.Equal(t, codes.InvalidArgument, status.Code(err))

	r, err := f.queries.Record(f.ctx, &types.QueryRecordRequest{Provider: f.str(a)})
	require.NoError(t, err)
	require.Equal(t, uint64(1), r.Record.Passes)
	require.Equal(t, types.PassScore(5_000), r.Record.Score)
	r, err = f.queries.Record(f.ctx, &types.QueryRecordRequest{Provider: f.str(b)})
	require.NoError(t, err)
	require.Equal(t, types.Record{Provider: f.str(b)}, r.Record)

	rs, err := f.queries.Records(f.ctx, &types.QueryRecordsRequest{})
	require.NoError(t, err)
	require.Len(t, rs.Records, 1)
}
