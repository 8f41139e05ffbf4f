package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/provider/types"
)

// populate builds a state with providers in every status.
func populate(t *testing.T, f *fixture) {
	t.Helper()
	for i := 0; i < 6; i++ {
		f.register(f.addr(i), int64(1000+i))
	}
	require.NoError(t, f.k.AddActiveLease(f.ctx, f.addr(0)))
	require.NoError(t, f.k.MarkGPUVerified(f.ctx, f.addr(0), "GPU-aaaa"))
	require.NoError(t, f.k.SetReputation(f.ctx, f.addr(1), 7777, "x"))
	require.NoError(t, f.k.Jail(f.ctx, f.addr(2), "x"))
	_, err := f.k.Slash(f.ctx, f.addr(2), 2500, "x")
	require.NoError(t, err)
	_, err = f.k.DeregisterProvider(f.ctx, f.addr(3))
	require.NoError(t, err)
	f.setHeight(12)
	_, err = f.k.DeregisterProvider(f.ctx, f.addr(4))
	require.NoError(t, err)
	require.NoError(t, f.k.DropGPUs(f.ctx, f.addr(5)))
}

func TestGenesisRoundTrip(t *testing.T) {
	f := newFixture(t)
	populate(t, f)
	exported, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)
	require.NoError(t, exported.Validate())
	require.Len(t, exported.Providers, 6)
	require.Equal(t, []types.UnbondingEntry{
		{Owner: f.str(f.addr(3)), Height: 30},
		{Owner: f.str(f.addr(4)), Height: 32},
	}, exported.UnbondingQueue)

	g := newFixture(t)
	require.NoError(t, g.k.InitGenesis(g.ctx, exported))
	again, err := g.k.ExportGenesis(g.ctx)
	require.NoError(t, err)
	require.Equal(t, exported, again)

	// The imported state behaves: indexes and queue were rebuilt.
	resp, err := g.queries.Providers(g.ctx, &types.QueryProvidersRequest{Status: types.ProviderStatusUnbonding})
	require.NoError(t, err)
	require.Len(t, resp.Providers, 2)
	g.bank.modules[types.ModuleName] = f.bank.modules[types.ModuleName]
	g.setHeight(30)
	require.NoError(t, g.k.EndBlocker(g.ctx))
	require.Equal(t, int64(1003), g.bank.balance(g.addr(3)).Int64())
	_, err = g.k.GetProvider(g.ctx, g.addr(3))
	require.ErrorIs(t, err, types.ErrProviderNotFound)
}

func TestDefaultGenesis(t *testing.T) {
	f := newFixture(t)
	gs := types.DefaultGenesis()
	require.NoError(t, gs.Validate())
	require.NoError(t, f.k.InitGenesis(f.ctx, gs))
	out, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)
	require.Equal(t, gs, out)
}

func TestGenesisValidate(t *testing.T) {
	f := newFixture(t)
	populate(t, f)
	valid, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)

	clone := func() *types.GenesisState {
		gs := *valid
		gs.Providers = append([]types.Provider(nil), valid.Providers...)
		gs.UnbondingQueue = append([]types.UnbondingEntry(nil), valid.UnbondingQueue...)
		return &gs
	}
	idx := func(gs *types.GenesisState, s types.ProviderStatus) int {
		for i, p := range gs.Providers {
			if p.Status == s {
				return i
			}
		}
		t.Fatalf("no provider in %s", s)
		return -1
	}
	cases := []struct {
		name   string
		mutate func(gs *types.GenesisState)
		err    error
	}{
		{"bad params", func(gs *types.GenesisState) { gs.Params.UnbondingBlocks = 0 }, types.ErrInvalidParams},
		{"duplicate provider", func(gs *types.GenesisState) { gs.Providers = append(gs.Providers, gs.Providers[0]) }, types.ErrInvalidGenesis},
		{"unspecified status", func(gs *types.GenesisState) { gs.Providers[0].Status = types.ProviderStatusUnspecified }, types.ErrInvalidGenesis},
		{"unknown status", func(gs *types.GenesisState) { gs.Providers[0].Status = 42 }, types.ErrInvalidGenesis},
		{"reputation out of range", func(gs *types.GenesisState) { gs.Providers[0].Reputation = 10_001 }, types.ErrInvalidGenesis},
		{"duplicate gpus", func(gs *types.GenesisState) {
			gs.Providers[0].Gpus = []types.GPU{gpu("A"), gpu("A")}
		}, types.ErrInvalidGenesis},
		{"queue entry for active provider", func(gs *types.GenesisState) {
			gs.UnbondingQueue = append(gs.UnbondingQueue, types.UnbondingEntry{Owner: gs.Providers[idx(gs, types.ProviderStatusActive)].Owner, Height: 5})
		}, types.ErrInvalidGenesis},
		{"missing queue entry", func(gs *types.GenesisState) { gs.UnbondingQueue = gs.UnbondingQueue[:1] }, types.ErrInvalidGenesis},
		{"queue height mismatch", func(gs *types.GenesisState) { gs.UnbondingQueue[0].Height++ }, types.ErrInvalidGenesis},
		{"duplicate queue entry", func(gs *types.GenesisState) {
			gs.UnbondingQueue = append(gs.UnbondingQueue, gs.UnbondingQueue[0])
		}, types.ErrInvalidGenesis},
		{"jailed without jailed_until", func(gs *types.GenesisState) {
			gs.Providers[idx(gs, types.ProviderStatusJailed)].JailedUntil = 0
		}, types.ErrInvalidGenesis},
		{"negative bond", func(gs *types.GenesisState) {
			gs.Providers[0].Bond = sdk.Coin{Denom: denom, Amount: math.NewInt(-1)}
		}, types.ErrInvalidGenesis},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gs := clone()
			tc.mutate(gs)
			require.ErrorIs(t, gs.Validate(), tc.err)
			g := newFixture(t)
			require.Error(t, g.k.InitGenesis(g.ctx, gs))
		})
	}

	t.Run("undecodable owner", func(t *testing.T) {
		gs := types.DefaultGenesis()
		p := valid.Providers[idx(valid, types.ProviderStatusActive)]
		p.Owner = "cosmos1notcru"
		gs.Providers = []types.Provider{p}
		g := newFixture(t)
		require.ErrorIs(t, g.k.InitGenesis(g.ctx, gs), types.ErrInvalidGenesis)
	})
}
