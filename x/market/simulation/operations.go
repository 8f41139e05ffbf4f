package simulation

import (
	"crypto/sha256"
	"math/rand"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	"github.com/cosmos/cosmos-sdk/x/simulation"

	"github.com/crucible-network/crucible/x/market/keeper"
	"github.com/crucible-network/crucible/x/market/types"
	providersim "github.com/crucible-network/crucible/x/provider/simulation"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// Operation weights (keys of the simulation app params).
const (
	OpWeightMsgCreateOrder = "op_weight_msg_create_order"
	OpWeightMsgCreateBid   = "op_weight_msg_create_bid"
	OpWeightMsgCreateLease = "op_weight_msg_create_lease"
	OpWeightMsgCloseLease  = "op_weight_msg_close_lease"
	OpWeightMsgCancelOrder = "op_weight_msg_cancel_order"
	OpWeightMsgCloseBid    = "op_weight_msg_close_bid"
)

// WeightedOperations returns x/market's simulation operations.
func WeightedOperations(appParams simtypes.AppParams, txGen client.TxConfig, k keeper.Keeper) simulation.WeightedOperations {
	w := providersim.Weight
	return simulation.WeightedOperations{
		simulation.NewWeightedOperation(w(appParams, OpWeightMsgCreateOrder, 60), SimulateMsgCreateOrder(txGen, k)),
		simulation.NewWeightedOperation(w(appParams, OpWeightMsgCreateBid, 80), SimulateMsgCreateBid(txGen, k)),
		simulation.NewWeightedOperation(w(appParams, OpWeightMsgCreateLease, 50), SimulateMsgCreateLease(txGen, k)),
		simulation.NewWeightedOperation(w(appParams, OpWeightMsgCloseLease, 10), SimulateMsgCloseLease(txGen, k)),
		simulation.NewWeightedOperation(w(appParams, OpWeightMsgCancelOrder, 8), SimulateMsgCancelOrder(txGen, k)),
		simulation.NewWeightedOperation(w(appParams, OpWeightMsgCloseBid, 8), SimulateMsgCloseBid(txGen, k)),
	}
}

func noop(msg sdk.Msg, why string) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
	return simtypes.NoOpMsg(types.ModuleName, sdk.MsgTypeURL(msg), why), nil, nil
}

func openOrders(ctx sdk.Context, k keeper.Keeper) []types.Order {
	var out []types.Order
	_ = k.Orders.Walk(ctx, nil, func(_ uint64, o types.Order) (bool, error) {
		if o.State == types.OrderStateOpen {
			out = append(out, o)
		}
		return false, nil
	})
	return out
}

func activeLeases(ctx sdk.Context, k keeper.Keeper) []types.Lease {
	var out []types.Lease
	_ = k.Leases.Walk(ctx, nil, func(_ uint64, l types.Lease) (bool, error) {
		if l.State == types.LeaseStateActive {
			out = append(out, l)
		}
		return false, nil
	})
	return out
}

func openBids(ctx sdk.Context, k keeper.Keeper) []types.Bid {
	var out []types.Bid
	_ = k.Bids.Walk(ctx, nil, func(_ uint64, b types.Bid) (bool, error) {
		if b.State == types.BidStateOpen {
			out = append(out, b)
		}
		return false, nil
	})
	return out
}

func findAcc(accs []simtypes.Account, bech32 string) (simtypes.Account, bool) {
	addr, err := sdk.AccAddressFromBech32(bech32)
	if err != nil {
		return simtypes.Account{}, false
	}
	return simtypes.FindAccount(accs, addr)
}

// activeProviders lists the active providers through x/provider's query
// service.
func activeProviders(app *baseapp.BaseApp, ctx sdk.Context) []providertypes.Provider {
	var resp providertypes.QueryProvidersResponse
	if err := providersim.Query(app, ctx, "/crucible.provider.v1.Query/Providers",
		&providertypes.QueryProvidersRequest{Status: providertypes.ProviderStatusActive,
			Pagination: &query.PageRequest{Limit: 1_000}}, &resp); err != nil {
		return nil
	}
	return resp.Providers
}

// SimulateMsgCreateOrder creates an order from a random account for one or
// two GPUs of a simulated class.
func SimulateMsgCreateOrder(txGen client.TxConfig, k keeper.Keeper) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		params, err := k.Params.Get(ctx)
		if err != nil {
			return noop(&types.MsgCreateOrder{}, "no params")
		}
		acc, _ := simtypes.RandomAcc(r, accs)
		denom := params.MinOrderDeposit.Denom
		h := sha256.Sum256([]byte{byte(r.Intn(256)), byte(r.Intn(256))})
		region := ""
		if r.Intn(2) == 0 {
			region = providersim.Regions[r.Intn(len(providersim.Regions))]
		}
		deposit := params.MinOrderDeposit.AddAmount(sdkmath.NewInt(r.Int63n(2_000_000)))
		msg := &types.MsgCreateOrder{
			Tenant: acc.Address.String(),
			Spec: types.OrderSpec{
				Gpu: types.GPUSpec{
					Class:        providersim.GPUClasses[r.Intn(len(providersim.GPUClasses))],
					Count:        uint32(1 + r.Intn(2)),
					MinMemoryMib: uint64(r.Intn(81_560)),
				},
				Region:       region,
				ManifestHash: h[:],
			},
			MaxPricePerBlock: sdk.NewCoin(denom, sdkmath.NewInt(1+r.Int63n(1_000))),
			DurationBlocks:   uint64(1 + r.Int63n(int64(params.MaxLeaseBlocks))),
			Deposit:          deposit,
		}
		return providersim.Deliver(r, app, ctx, txGen, acc, msg, types.ModuleName, denom, deposit.Amount)
	}
}

// SimulateMsgCreateBid bids on an open order from an active provider with
// enough free GPUs of the order's class (region and memory match too).
func SimulateMsgCreateBid(txGen client.TxConfig, k keeper.Keeper) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		params, err := k.Params.Get(ctx)
		if err != nil {
			return noop(&types.MsgCreateBid{}, "no params")
		}
		orders := openOrders(ctx, k)
		if len(orders) == 0 {
			return noop(&types.MsgCreateBid{}, "no open order")
		}
		o := orders[r.Intn(len(orders))]
		type cand struct {
			acc  simtypes.Account
			gpus []string
		}
		var cands []cand
		for _, p := range activeProviders(app, ctx) {
			if o.Spec.Region != "" && p.Region != o.Spec.Region {
				continue
			}
			acc, ok := findAcc(accs, p.Owner)
			if !ok || acc.Address.String() == o.Tenant {
				continue
			}
			if hasBid(ctx, k, o.Id, acc.Address) {
				continue
			}
			var free []string
			for _, g := range p.Gpus {
				if g.Class != o.Spec.Gpu.Class || g.MemoryMib < o.Spec.Gpu.MinMemoryMib {
					continue
				}
				if used, _ := k.GPUAssignments.Has(ctx, collections.Join(acc.Address, g.Uuid)); used {
					continue
				}
				free = append(free, g.Uuid)
			}
			if len(free) >= int(o.Spec.Gpu.Count) {
				r.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
				cands = append(cands, cand{acc, free[:o.Spec.Gpu.Count]})
			}
		}
		if len(cands) == 0 {
			return noop(&types.MsgCreateBid{}, "no provider with free matching GPUs")
		}
		c := cands[r.Intn(len(cands))]
		deposit := params.MinBidDeposit.AddAmount(sdkmath.NewInt(r.Int63n(100_000)))
		msg := &types.MsgCreateBid{
			Provider: c.acc.Address.String(),
			OrderId:  o.Id,
			Price:    sdk.NewCoin(o.MaxPricePerBlock.Denom, sdkmath.NewInt(1+r.Int63n(o.MaxPricePerBlock.Amount.Int64()))),
			Deposit:  deposit,
			GpuUuids: c.gpus,
		}
		return providersim.Deliver(r, app, ctx, txGen, c.acc, msg, types.ModuleName, deposit.Denom, deposit.Amount)
	}
}

// SimulateMsgCreateLease accepts an open bid of an open order, as the
// order's tenant.
func SimulateMsgCreateLease(txGen client.TxConfig, k keeper.Keeper) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		bids := openBids(ctx, k)
		if len(bids) == 0 {
			return noop(&types.MsgCreateLease{}, "no open bid")
		}
		b := bids[r.Intn(len(bids))]
		o, err := k.Orders.Get(ctx, b.OrderId)
		if err != nil || o.State != types.OrderStateOpen {
			return noop(&types.MsgCreateLease{}, "bid's order is not open")
		}
		acc, ok := findAcc(accs, o.Tenant)
		if !ok {
			return noop(&types.MsgCreateLease{}, "tenant is not a simulation account")
		}
		msg := &types.MsgCreateLease{Tenant: o.Tenant, BidId: b.Id}
		return providersim.Deliver(r, app, ctx, txGen, acc, msg, types.ModuleName, b.Price.Denom, sdkmath.ZeroInt())
	}
}

// SimulateMsgCloseLease closes an active lease as its tenant or provider.
func SimulateMsgCloseLease(txGen client.TxConfig, k keeper.Keeper) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		leases := activeLeases(ctx, k)
		if len(leases) == 0 {
			return noop(&types.MsgCloseLease{}, "no active lease")
		}
		l := leases[r.Intn(len(leases))]
		who := l.Tenant
		if r.Intn(2) == 0 {
			who = l.Provider
		}
		acc, ok := findAcc(accs, who)
		if !ok {
			return noop(&types.MsgCloseLease{}, "party is not a simulation account")
		}
		msg := &types.MsgCloseLease{Sender: who, LeaseId: l.Id}
		return providersim.Deliver(r, app, ctx, txGen, acc, msg, types.ModuleName, l.Price.Denom, sdkmath.ZeroInt())
	}
}

// SimulateMsgCancelOrder cancels an open order as its tenant.
func SimulateMsgCancelOrder(txGen client.TxConfig, k keeper.Keeper) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		orders := openOrders(ctx, k)
		if len(orders) == 0 {
			return noop(&types.MsgCancelOrder{}, "no open order")
		}
		o := orders[r.Intn(len(orders))]
		acc, ok := findAcc(accs, o.Tenant)
		if !ok {
			return noop(&types.MsgCancelOrder{}, "tenant is not a simulation account")
		}
		msg := &types.MsgCancelOrder{Tenant: o.Tenant, OrderId: o.Id}
		return providersim.Deliver(r, app, ctx, txGen, acc, msg, types.ModuleName, o.Deposit.Denom, sdkmath.ZeroInt())
	}
}

// SimulateMsgCloseBid withdraws an open bid as its provider.
func SimulateMsgCloseBid(txGen client.TxConfig, k keeper.Keeper) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		bids := openBids(ctx, k)
		if len(bids) == 0 {
			return noop(&types.MsgCloseBid{}, "no open bid")
		}
		b := bids[r.Intn(len(bids))]
		acc, ok := findAcc(accs, b.Provider)
		if !ok {
			return noop(&types.MsgCloseBid{}, "provider is not a simulation account")
		}
		msg := &types.MsgCloseBid{Provider: b.Provider, BidId: b.Id}
		return providersim.Deliver(r, app, ctx, txGen, acc, msg, types.ModuleName, b.Deposit.Denom, sdkmath.ZeroInt())
	}
}

// hasBid reports whether provider already bid on order.
func hasBid(ctx sdk.Context, k keeper.Keeper, order uint64, provider sdk.AccAddress) bool {
	rng := collections.NewSuperPrefixedTripleRange[uint64, sdk.AccAddress, uint64](order, provider)
	it, err := k.BidsByOrderProvider.Iterate(ctx, rng)
	if err != nil {
		return true
	}
	defer it.Close()
	return it.Valid()
}
