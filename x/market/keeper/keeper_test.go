package keeper_test

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/core/address"
	"cosmossdk.io/math"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/crucible-network/crucible/x/market/keeper"
	"github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

const (
	denom    = types.DefaultDenom
	h100     = "h100"
	h100Name = "NVIDIA H100 80GB HBM3"
	startH   = int64(100)
)

var (
	tenantA  = sdk.AccAddress("tenant_a____________")
	tenantB  = sdk.AccAddress("tenant_b____________")
	provA    = sdk.AccAddress("provider_a__________")
	provB    = sdk.AccAddress("provider_b__________")
	provC    = sdk.AccAddress("provider_c__________")
	stranger = sdk.AccAddress("stranger____________")

	manifest = sha256.Sum256([]byte("job manifest"))
	initial  = sdk.NewCoins(sdk.NewInt64Coin(denom, 1_000_000_000))
)

func coin(n int64) sdk.Coin { return sdk.NewInt64Coin(denom, n) }

type fixture struct {
	t         *testing.T
	ctx       sdk.Context
	k         keeper.Keeper
	msg       types.MsgServer
	q         types.QueryServer
	bank      *fakeBank
	escrow    *fakeEscrow
	providers *fakeProviders
	ac        address.Codec
	authority string
}

func setup(t *testing.T) *fixture {
	t.Helper()
	key := storetypes.NewKVStoreKey(types.StoreKey)
	tctx := testutil.DefaultContextWithDB(t, key, storetypes.NewTransientStoreKey("transient_test"))
	enc := moduletestutil.MakeTestEncodingConfig()
	ac := addresscodec.NewBech32Codec("cru")
	authority, err := ac.BytesToString(authtypes.NewModuleAddress("gov"))
	require.NoError(t, err)

	bank := newFakeBank()
	esc := newFakeEscrow(bank)
	prov := newFakeProviders()
	prov.bank = bank
	k := keeper.NewKeeper(enc.Codec, runtime.NewKVStoreService(key), ac, bank, prov, esc, authority)

	f := &fixture{
		t: t, ctx: tctx.Ctx.WithBlockHeight(startH), k: k,
		msg: keeper.NewMsgServerImpl(k), q: keeper.NewQuerier(k),
		bank: bank, escrow: esc, providers: prov, ac: ac, authority: authority,
	}
	require.NoError(t, k.InitGenesis(f.ctx, types.DefaultGenesisState()))
	for _, a := range []sdk.AccAddress{tenantA, tenantB, provA, provB, provC, stranger} {
		bank.fund(a, initial)
	}
	f.registerProvider(provA, gpus("A", 4, h100, h100Name, 81559))
	f.registerProvider(provB, gpus("B", 4, h100, h100Name, 81559))
	return f
}

func (f *fixture) s(a sdk.AccAddress) string {
	s, err := f.ac.BytesToString(a)
	require.NoError(f.t, err)
	return s
}

func gpus(prefix string, n int, class, model string, mem uint64) []providertypes.GPU {
	out := make([]providertypes.GPU, n)
	for i := range out {
		out[i] = providertypes.GPU{Uuid: fmt.Sprintf("GPU-%s%d", prefix, i), Class: class, Model: model, MemoryMib: mem}
	}
	return out
}

func (f *fixture) registerProvider(owner sdk.AccAddress, g []providertypes.GPU) {
	f.providers.set(owner, providertypes.Provider{
		Owner:      f.s(owner),
		Region:     "eu-west",
		Tier:       "datacenter",
		Attributes: []providertypes.Attribute{{Key: "cc", Value: "on"}, {Key: "interconnect", Value: "nvlink"}},
		Gpus:       g,
		Status:     providertypes.ProviderStatusActive,
		Reputation: 5000,
	})
}

func (f *fixture) setHeight(h int64) {
	f.ctx = f.ctx.WithBlockHeight(h).WithEventManager(sdk.NewEventManager())
}

func (f *fixture) params() types.Params {
	p, err := f.k.Params.Get(f.ctx)
	require.NoError(f.t, err)
	return p
}

func (f *fixture) setParams(mut func(*types.Params)) {
	p := f.params()
	mut(&p)
	_, err := f.msg.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.authority, Params: p})
	require.NoError(f.t, err)
}

func (f *fixture) orderMsg(tenant sdk.AccAddress, count uint32) *types.MsgCreateOrder {
	return &types.MsgCreateOrder{
		Tenant: f.s(tenant),
		Spec: types.OrderSpec{
			Gpu:           types.GPUSpec{Class: h100, Count: count, MinMemoryMib: 80_000},
			Region:        "eu-west",
			Tier:          "datacenter",
			MinReputation: 1000,
			Attributes:    []providertypes.Attribute{{Key: "cc", Value: "on"}},
			ManifestHash:  manifest[:],
		},
		MaxPricePerBlock: coin(100),
		DurationBlocks:   1000,
		Deposit:          coin(1_000_000),
	}
}

func (f *fixture) createOrder(tenant sdk.AccAddress, count uint32) uint64 {
	res, err := f.msg.CreateOrder(f.ctx, f.orderMsg(tenant, count))
	require.NoError(f.t, err)
	return res.OrderId
}

func (f *fixture) bidMsg(provider sdk.AccAddress, orderID uint64, price int64, uuids ...string) *types.MsgCreateBid {
	return &types.MsgCreateBid{
		Provider: f.s(provider), OrderId: orderID, Price: coin(price), Deposit: coin(500_000), GpuUuids: uuids,
	}
}

func (f *fixture) createBid(provider sdk.AccAddress, orderID uint64, price int64, uuids ...string) uint64 {
	res, err := f.msg.CreateBid(f.ctx, f.bidMsg(provider, orderID, price, uuids...))
	require.NoError(f.t, err)
	return res.BidId
}

func (f *fixture) createLease(tenant sdk.AccAddress, bidID uint64) uint64 {
	res, err := f.msg.CreateLease(f.ctx, &types.MsgCreateLease{Tenant: f.s(tenant), BidId: bidID})
	require.NoError(f.t, err)
	return res.LeaseId
}

// leased creates an order of tenant, a bid of provider with uuids and the
// lease, and returns the lease id and bid id.
func (f *fixture) leased(tenant, provider sdk.AccAddress, uuids ...string) (uint64, uint64) {
	orderID := f.createOrder(tenant, uint32(len(uuids)))
	bidID := f.createBid(provider, orderID, 50, uuids...)
	return f.createLease(tenant, bidID), bidID
}

func (f *fixture) order(id uint64) types.Order {
	o, err := f.k.GetOrder(f.ctx, id)
	require.NoError(f.t, err)
	return o
}

func (f *fixture) bid(id uint64) types.Bid {
	b, err := f.k.GetBid(f.ctx, id)
	require.NoError(f.t, err)
	return b
}

func (f *fixture) lease(id uint64) types.Lease {
	l, err := f.k.GetLease(f.ctx, id)
	require.NoError(f.t, err)
	return l
}

func (f *fixture) balance(a sdk.AccAddress) math.Int { return f.bank.balance(a).AmountOf(denom) }

func (f *fixture) moduleBalance(name string) math.Int {
	return f.bank.balance(moduleAddr(name)).AmountOf(denom)
}

// failsWithoutMovingCoins runs fn, requires an error wrapping target, and
// requires every balance to be unchanged.
func (f *fixture) failsWithoutMovingCoins(target error, fn func() error) {
	f.t.Helper()
	before := f.bank.snapshot()
	err := fn()
	require.Error(f.t, err)
	require.ErrorIs(f.t, err, target)
	require.Equal(f.t, before, f.bank.snapshot(), "a failed message moved coins")
}

// events returns the typed events emitted since the last setHeight, by type.
func (f *fixture) eventTypes() []string {
	var out []string
	for _, e := range f.ctx.EventManager().Events() {
		out = append(out, e.Type)
	}
	return out
}

func (f *fixture) requireEvent(name string) {
	f.t.Helper()
	require.Contains(f.t, f.eventTypes(), "crucible.market.v1."+name)
}

func (f *fixture) gpuAssigned(provider sdk.AccAddress, uuid string) (uint64, bool) {
	id, err := f.k.GPUAssignments.Get(f.ctx, joinGPU(provider, uuid))
	if err != nil {
		return 0, false
	}
	return id, true
}
