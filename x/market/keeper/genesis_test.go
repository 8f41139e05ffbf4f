package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/market/types"
)

// populate builds a state with every kind of object: an open order with open
// and withdrawn bids, an active lease, a closed lease with a result, a
// cancelled order.
func populate(f *fixture) {
	open := f.createOrder(tenantA, 1)
	f.createBid(provA, open, 90, "GPU-A0")
	w := f.createBid(provB, open, 90, "GPU-B0")
	_, err := f.msg.CloseBid(f.ctx, &types.MsgCloseBid{Provider: f.s(provB), BidId: w})
	require.NoError(f.t, err)

	f.leased(tenantA, provA, "GPU-A1", "GPU-A2")
	closed, _ := f.leased(tenantB, provB, "GPU-B1")
	_, err = f.msg.SubmitResult(f.ctx, &types.MsgSubmitResult{
		Provider: f.s(provB), LeaseId: closed, ResultHash: manifest[:], Location: "loc", ManifestHash: manifest[:],
	})
	require.NoError(f.t, err)
	// A second result supersedes the first: both travel through genesis.
	_, err = f.msg.SubmitResult(f.ctx, &types.MsgSubmitResult{
		Provider: f.s(provB), LeaseId: closed, ResultHash: manifest[:], Location: "loc2", ManifestHash: manifest[:],
	})
	require.NoError(f.t, err)
	_, err = f.msg.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.s(provB), LeaseId: closed})
	require.NoError(f.t, err)

	cancelled := f.createOrder(tenantB, 1)
	_, err = f.msg.CancelOrder(f.ctx, &types.MsgCancelOrder{Tenant: f.s(tenantB), OrderId: cancelled})
	require.NoError(f.t, err)
}

func TestGenesisRoundTrip(t *testing.T) {
	f := setup(t)
	f.setParams(func(p *types.Params) { p.MaxBidsPerOrder = 7 })
	populate(f)

	gs, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)
	require.NoError(t, gs.Validate())
	require.Equal(t, uint32(7), gs.Params.MaxBidsPerOrder)
	require.Len(t, gs.Orders, 4)
	require.Len(t, gs.Leases, 2)
	require.Equal(t, uint64(5), gs.NextOrderId)
	require.Equal(t, uint64(5), gs.NextBidId)

	g := setup(t)
	require.NoError(t, g.k.InitGenesis(g.ctx, gs))
	gs2, err := g.k.ExportGenesis(g.ctx)
	require.NoError(t, err)
	require.Equal(t, gs, gs2)

	// Derived state is rebuilt.
	require.Equal(t, queueKeys(f, f.k.OrderExpiryQueue), queueKeys(g, g.k.OrderExpiryQueue))
	require.Equal(t, queueKeys(f, f.k.LeaseEndQueue), queueKeys(g, g.k.LeaseEndQueue))
	require.Len(t, queueKeys(g, g.k.OrderExpiryQueue), 1)
	require.Len(t, queueKeys(g, g.k.LeaseEndQueue), 1)
	assignments := func(x *fixture) map[string]uint64 {
		out := map[string]uint64{}
		require.NoError(t, x.k.GPUAssignments.Walk(x.ctx, nil, func(k collections.Pair[sdk.AccAddress, string], v uint64) (bool, error) {
			out[string(k.K1())+"/"+k.K2()] = v
			return false, nil
		}))
		return out
	}
	require.Equal(t, assignments(f), assignments(g))
	for _, u := range []string{"GPU-A1", "GPU-A2"} {
		id, ok := g.gpuAssigned(provA, u)
		require.True(t, ok)
		require.Equal(t, uint64(2), id)
	}
	_, ok := g.gpuAssigned(provB, "GPU-B1")
	require.False(t, ok, "closed lease frees its GPUs")

	// Indexes are rebuilt: the queries see the imported objects.
	res, err := g.q.Leases(g.ctx, &types.QueryLeasesRequest{Provider: g.s(provA), State: types.LeaseStateActive})
	require.NoError(t, err)
	require.Len(t, res.Leases, 1)

	// Sequences continue after the imported ids.
	require.Equal(t, uint64(5), g.createOrder(tenantA, 1))
	require.Equal(t, uint64(5), g.createBid(provA, 5, 90, "GPU-A3"))
}

func TestDefaultGenesis(t *testing.T) {
	f := setup(t)
	gs, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)
	require.Equal(t, types.DefaultGenesisState(), gs)
}

func TestGenesisValidate(t *testing.T) {
	f := setup(t)
	populate(f)
	good, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)

	cases := map[string]func(gs *types.GenesisState){
		"bad params":           func(gs *types.GenesisState) { gs.Params.MaxBidsPerOrder = 0 },
		"next order id 0":      func(gs *types.GenesisState) { gs.NextOrderId = 0 },
		"order id >= next":     func(gs *types.GenesisState) { gs.NextOrderId = 2 },
		"bid id >= next":       func(gs *types.GenesisState) { gs.NextBidId = 1 },
		"duplicate order":      func(gs *types.GenesisState) { gs.Orders = append(gs.Orders, gs.Orders[0]) },
		"duplicate bid":        func(gs *types.GenesisState) { gs.Bids = append(gs.Bids, gs.Bids[0]) },
		"order without state":  func(gs *types.GenesisState) { gs.Orders[0].State = types.OrderStateUnspecified },
		"bid of unknown order": func(gs *types.GenesisState) { gs.Bids[0].OrderId = 99 },
		"open bid on closed order": func(gs *types.GenesisState) {
			gs.Orders[0].State = types.OrderStateCancelled
		},
		"lease without matched order": func(gs *types.GenesisState) { gs.Leases[0].Id = 1 },
		"matched order without lease": func(gs *types.GenesisState) { gs.Leases = gs.Leases[1:] },
		"lease with wrong bid":        func(gs *types.GenesisState) { gs.Leases[0].BidId = 1 },
		"lease state unknown":         func(gs *types.GenesisState) { gs.Leases[0].State = 7 },
		"gpu assigned twice": func(gs *types.GenesisState) {
			gs.Leases[1].State = types.LeaseStateActive
			gs.Leases[1].Provider = gs.Leases[0].Provider
			gs.Leases[1].GpuUuids = gs.Leases[0].GpuUuids
		},
	}
	for name, mut := range cases {
		t.Run(name, func(t *testing.T) {
			gs, err := f.k.ExportGenesis(f.ctx)
			require.NoError(t, err)
			mut(gs)
			require.Error(t, gs.Validate())
		})
	}
	require.NoError(t, good.Validate())

	// InitGenesis also decodes addresses.
	bad, err := f.k.ExportGenesis(f.ctx)
	require.NoError(t, err)
	bad.Orders[0].Tenant = "not-bech32"
	g := setup(t)
	require.ErrorIs(t, g.k.InitGenesis(g.ctx, bad), types.ErrInvalidGenesis)
}

func TestUpdateParams(t *testing.T) {
	f := setup(t)
	p := types.DefaultParams()
	p.MaxBidsPerOrder = 3

	_, err := f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.s(tenantA), Params: p})
	require.ErrorIs(t, err, types.ErrInvalidAuthority)
	_, err = f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: "junk", Params: p})
	require.Error(t, err)

	bad := p
	bad.MaxStringLen = 0
	_, err = f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.authority, Params: bad})
	require.ErrorIs(t, err, types.ErrInvalidParams)
	require.Equal(t, types.DefaultParams(), f.params())

	_, err = f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.authority, Params: p})
	require.NoError(t, err)
	require.Equal(t, p, f.params())
	require.Equal(t, f.authority, f.k.GetAuthority())
}
