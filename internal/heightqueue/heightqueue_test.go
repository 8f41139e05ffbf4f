package heightqueue_test

import (
	"testing"

	"cosmossdk.io/collections"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/testutil"

	"github.com/crucible-network/crucible/internal/heightqueue"
)

func TestDue(t *testing.T) {
	key := storetypes.NewKVStoreKey("q")
	ctx := testutil.DefaultContext(key, storetypes.NewTransientStoreKey("tq"))
	sb := collections.NewSchemaBuilder(runtime.NewKVStoreService(key))
	q := collections.NewKeySet(sb, collections.NewPrefix(1), "q", collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key))
	_, err := sb.Build()
	require.NoError(t, err)
	for _, k := range []heightqueue.Key{collections.Join(int64(5), uint64(2)), collections.Join(int64(3), uint64(9)),
		collections.Join(int64(5), uint64(1)), collections.Join(int64(7), uint64(4))} {
		require.NoError(t, q.Set(ctx, k))
	}
	got, err := heightqueue.Due(ctx, q, 5, 10)
	require.NoError(t, err)
	require.Equal(t, []heightqueue.Key{collections.Join(int64(3), uint64(9)), collections.Join(int64(5), uint64(1)), collections.Join(int64(5), uint64(2))}, got)
	got, err = heightqueue.Due(ctx, q, 100, 2)
	require.NoError(t, err)
	require.Len(t, got, 2, "capped")
	got, err = heightqueue.Due(ctx, q, 2, 10)
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = heightqueue.Due(ctx, q, 100, 0)
	require.NoError(t, err)
	require.Empty(t, got)
}
