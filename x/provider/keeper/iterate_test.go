package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/provider/types"
)

// WalkActiveProviders walks ACTIVE providers only, in key order, within
// [start, end); a walk stopped at p resumes at p, and the walks cover every
// active provider exactly once.
func TestWalkActiveProviders(t *testing.T) {
	f := newFixture(t)
	var active []sdk.AccAddress
	for i := 0; i < 7; i++ {
		f.register(f.addr(i), 1000)
		active = append(active, f.addr(i))
	}
	require.NoError(t, f.k.Jail(f.ctx, f.addr(3), "test"))

	seen := map[string]int{}
	var start []byte
	walks := 0
	for {
		n := 0
		next, err := f.k.WalkActiveProviders(f.ctx, start, nil, func(p types.Provider) (bool, error) {
			if n == 2 {
				return true, nil // not consumed
			}
			n++
			seen[p.Owner]++
			return false, nil
		})
		require.NoError(t, err)
		walks++
		if next == nil {
			break
		}
		start = next
	}
	require.Equal(t, 3, walks) // 6 active providers, 2 per walk
	require.Len(t, seen, 6)
	for _, a := range active {
		if a.Equals(f.addr(3)) {
			require.Zero(t, seen[f.str(a)], "jailed provider must not be listed")
			continue
		}
		require.Equal(t, 1, seen[f.str(a)])
	}

	// [start, end) bounds: the walk from the first up to active[5] sees the
	// providers before it only.
	var keys [][]byte
	_, err := f.k.WalkActiveProviders(f.ctx, nil, nil, func(p types.Provider) (bool, error) {
		a, err := f.addrs.StringToBytes(p.Owner)
		keys = append(keys, a)
		return false, err
	})
	require.NoError(t, err)
	require.Len(t, keys, 6)
	got := 0
	next, err := f.k.WalkActiveProviders(f.ctx, keys[1], keys[4], func(types.Provider) (bool, error) { got++; return false, nil })
	require.NoError(t, err)
	require.Nil(t, next)
	require.Equal(t, 3, got)
	next, err = f.k.WalkActiveProviders(f.ctx, keys[4], keys[4], func(types.Provider) (bool, error) { got++; return false, nil })
	require.NoError(t, err)
	require.Nil(t, next)
	require.Equal(t, 3, got, "an empty range walks nothing")
}
