package keeper_test

import (
	providertestutil "github.com/crucible-network/crucible/x/provider/testutil"

	"context"
	"fmt"
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/crucible-network/crucible/x/provider/keeper"
	providermodule "github.com/crucible-network/crucible/x/provider/module"
	"github.com/crucible-network/crucible/x/provider/types"
)

const denom = "ucru"

// fakeBank is a hand-written bank keeper that tracks account and module
// balances exactly and refuses overdrafts, like x/bank.
type fakeBank struct {
	addrs    address.Codec
	accounts map[string]sdk.Coins // by raw address bytes
	modules  map[string]sdk.Coins // by module name
	burned   sdk.Coins
	calls    int
	refuse   map[string]bool // raw addresses the bank refuses to pay (blocked accounts)
}

var _ types.BankKeeper = (*fakeBank)(nil)

func newFakeBank(addrs address.Codec) *fakeBank {
	return &fakeBank{addrs: addrs, accounts: map[string]sdk.Coins{}, modules: map[string]sdk.Coins{}}
}

func (b *fakeBank) fund(addr sdk.AccAddress, amt sdk.Coins) {
	b.accounts[string(addr)] = b.accounts[string(addr)].Add(amt...)
}

func (b *fakeBank) balance(addr sdk.AccAddress) math.Int {
	return b.accounts[string(addr)].AmountOf(denom)
}

func (b *fakeBank) moduleBalance() math.Int { return b.modules[types.ModuleName].AmountOf(denom) }

func (b *fakeBank) SendCoinsFromAccountToModule(_ context.Context, from sdk.AccAddress, mod string, amt sdk.Coins) error {
	b.calls++
	if !amt.IsValid() {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidCoins, "%s", amt)
	}
	bal, neg := b.accounts[string(from)].SafeSub(amt...)
	if neg {
		return errorsmod.Wrapf(sdkerrors.ErrInsufficientFunds, "%s < %s", b.accounts[string(from)], amt)
	}
	b.accounts[string(from)] = bal
	b.modules[mod] = b.modules[mod].Add(amt...)
	return nil
}

func (b *fakeBank) SendCoinsFromModuleToAccount(_ context.Context, mod string, to sdk.AccAddress, amt sdk.Coins) error {
	b.calls++
	if b.refuse[string(to)] {
		return errorsmod.Wrapf(sdkerrors.ErrUnauthorized, "%X is not allowed to receive funds", []byte(to))
	}
	if !amt.IsValid() {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidCoins, "%s", amt)
	}
	bal, neg := b.modules[mod].SafeSub(amt...)
	if neg {
		return errorsmod.Wrapf(sdkerrors.ErrInsufficientFunds, "module %s: %s < %s", mod, b.modules[mod], amt)
	}
	b.modules[mod] = bal
	b.accounts[string(to)] = b.accounts[string(to)].Add(amt...)
	return nil
}

func (b *fakeBank) BurnCoins(_ context.Context, mod string, amt sdk.Coins) error {
	b.calls++
	if !amt.IsValid() {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidCoins, "%s", amt)
	}
	bal, neg := b.modules[mod].SafeSub(amt...)
	if neg {
		return errorsmod.Wrapf(sdkerrors.ErrInsufficientFunds, "module %s: %s < %s", mod, b.modules[mod], amt)
	}
	b.modules[mod] = bal
	b.burned = b.burned.Add(amt...)
	return nil
}

type fixture struct {
	t         *testing.T
	ctx       sdk.Context
	k         keeper.Keeper
	bank      *fakeBank
	addrs     address.Codec
	msgs      types.MsgServer
	queries   types.QueryServer
	authority string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	key := storetypes.NewKVStoreKey(types.StoreKey)
	tctx := testutil.DefaultContextWithDB(t, key, storetypes.NewTransientStoreKey("transient_test"))
	enc := moduletestutil.MakeTestEncodingConfig(providermodule.AppModule{})
	addrs := addresscodec.NewBech32Codec("cru")
	authority, err := addrs.BytesToString(authtypes.NewModuleAddress("gov"))
	require.NoError(t, err)
	bank := newFakeBank(addrs)
	k := keeper.NewKeeper(enc.Codec, runtime.NewKVStoreService(key), addrs, bank, providertestutil.DefaultClasses, authority)
	ctx := tctx.Ctx.WithBlockHeight(10)
	require.NoError(t, k.Params.Set(ctx, testParams()))
	return &fixture{
		t: t, ctx: ctx, k: k, bank: bank, addrs: addrs,
		msgs: keeper.NewMsgServerImpl(k), queries: keeper.NewQueryServerImpl(k),
		authority: authority,
	}
}

// testParams are small enough for tests: min bond 1000ucru, 20 blocks of
// unbonding, 4 GPUs, 3 attributes, 5 blocks of jail.
func testParams() types.Params {
	return types.NewParams(sdk.NewInt64Coin(denom, 1000), 20, 4, 3, 5)
}

func (f *fixture) setHeight(h int64) {
	f.ctx = f.ctx.WithBlockHeight(h).WithEventManager(sdk.NewEventManager())
}

// freshEvents resets the event manager so that the next call's events can be
// inspected alone.
func (f *fixture) freshEvents() { f.ctx = f.ctx.WithEventManager(sdk.NewEventManager()) }

func (f *fixture) addr(i int) sdk.AccAddress {
	return sdk.AccAddress(fmt.Sprintf("addr%016d", i))
}

func (f *fixture) str(a sdk.AccAddress) string {
	s, err := f.addrs.BytesToString(a)
	require.NoError(f.t, err)
	return s
}

func gpu(uuid string) types.GPU {
	return types.GPU{Uuid: uuid, Model: "NVIDIA H100 80GB HBM3", Class: "h100", MemoryMib: 81559}
}

func (f *fixture) registerMsg(owner sdk.AccAddress, bond int64) *types.MsgRegisterProvider {
	return &types.MsgRegisterProvider{
		Owner:      f.str(owner),
		HostUri:    "https://gpu1.example.com:8443",
		Region:     "eu-west",
		Tier:       "datacenter",
		Attributes: []types.Attribute{{Key: "interconnect", Value: "nvlink"}},
		Gpus:       []types.GPU{gpu("GPU-aaaa"), gpu("GPU-bbbb")},
		Bond:       sdk.NewInt64Coin(denom, bond),
	}
}

// register funds owner with exactly bond and registers it.
func (f *fixture) register(owner sdk.AccAddress, bond int64) {
	f.t.Helper()
	f.bank.fund(owner, sdk.NewCoins(sdk.NewInt64Coin(denom, bond)))
	_, err := f.msgs.RegisterProvider(f.ctx, f.registerMsg(owner, bond))
	require.NoError(f.t, err)
}

func (f *fixture) provider(owner sdk.AccAddress) types.Provider {
	f.t.Helper()
	p, err := f.k.GetProvider(f.ctx, owner)
	require.NoError(f.t, err)
	return p
}

// events returns the typed events of type T emitted on the current event manager.
func events[T proto.Message](t *testing.T, ctx sdk.Context) []T {
	t.Helper()
	var out []T
	for _, ev := range ctx.EventManager().ABCIEvents() {
		msg, err := sdk.ParseTypedEvent(ev)
		if err != nil {
			continue
		}
		if m, ok := msg.(T); ok {
			out = append(out, m)
		}
	}
	return out
}

func joinKey(h int64, owner sdk.AccAddress) collections.Pair[int64, sdk.AccAddress] {
	return collections.Join(h, owner)
}
