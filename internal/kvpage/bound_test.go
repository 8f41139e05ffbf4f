package kvpage_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/crucible-network/crucible/internal/kvpage"
)

// Issue 15 item 8: list queries had no maximum page size and count_total
// walked every entry. Bound lowers the limit, refuses deep offsets and
// count_total, and never changes the caller's request.
func TestBound(t *testing.T) {
	got, err := kvpage.Bound(nil)
	require.NoError(t, err)
	require.Nil(t, got)

	req := &query.PageRequest{Limit: 1_000_000, Key: []byte{1}}
	got, err = kvpage.Bound(req)
	require.NoError(t, err)
	require.Equal(t, uint64(kvpage.MaxLimit), got.Limit)
	require.Equal(t, []byte{1}, got.Key)
	require.Equal(t, uint64(1_000_000), req.Limit, "the caller's request is not changed")

	got, err = kvpage.Bound(&query.PageRequest{Limit: 5, Offset: kvpage.MaxOffset})
	require.NoError(t, err)
	require.Equal(t, uint64(5), got.Limit)

	_, err = kvpage.Bound(&query.PageRequest{Offset: kvpage.MaxOffset + 1})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = kvpage.Bound(&query.PageRequest{CountTotal: true})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
}
