package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// ProvidersFrom pages through ACTIVE providers only, in key order, and the
// pages cover every active provider exactly once.
func TestProvidersFromPagesActiveProviders(t *testing.T) {
	f := newFixture(t)
	var active []sdk.AccAddress
	for i := 0; i < 7; i++ {
		f.register(f.addr(i), 1000)
		active = append(active, f.addr(i))
	}
	require.NoError(t, f.k.Jail(f.ctx, f.addr(3), "test"))

	seen := map[string]int{}
	var start []byte
	pages := 0
	for {
		ps, next, err := f.k.ProvidersFrom(f.ctx, start, 2)
		require.NoError(t, err)
		require.LessOrEqual(t, len(ps), 2)
		for _, p := range ps {
			seen[p.Owner]++
		}
		pages++
		if next == nil {
			break
		}
		start = next
	}
	require.Equal(t, 3, pages) // 6 active providers, 2 per page
	require.Len(t, seen, 6)
	for _, a := range active {
		if a.Equals(f.addr(3)) {
			require.Zero(t, seen[f.str(a)], "jailed provider must not be listed")
			continue
		}
		require.Equal(t, 1, seen[f.str(a)])
	}

	ps, next, err := f.k.ProvidersFrom(f.ctx, nil, 0)
	require.NoError(t, err)
	require.Empty(t, ps)
	require.Nil(t, next)
}
