package keeper_test

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"cosmossdk.io/core/address"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/crucible-network/crucible/x/escrow/keeper"
	"github.com/crucible-network/crucible/x/escrow/types"
)

const denom = "ucru"

var (
	moduleAddr    = authtypes.NewModuleAddress(types.ModuleName)
	communityPool = authtypes.NewModuleAddress(distrtypes.ModuleName)
)

// fakeBank tracks balances exactly, per address and denom. A failed send
// changes nothing.
type fakeBank struct {
	balances map[string]map[string]sdkmath.Int
}

func newFakeBank() *fakeBank { return &fakeBank{balances: map[string]map[string]sdkmath.Int{}} }

func (b *fakeBank) get(addr sdk.AccAddress, d string) sdkmath.Int {
	if v, ok := b.balances[string(addr)][d]; ok {
		return v
	}
	return sdkmath.ZeroInt()
}

func (b *fakeBank) set(addr sdk.AccAddress, d string, v sdkmath.Int) {
	if b.balances[string(addr)] == nil {
		b.balances[string(addr)] = map[string]sdkmath.Int{}
	}
	b.balances[string(addr)][d] = v
}

func (b *fakeBank) mint(addr sdk.AccAddress, c sdk.Coin) {
	b.set(addr, c.Denom, b.get(addr, c.Denom).Add(c.Amount))
}

func (b *fakeBank) send(from, to sdk.AccAddress, amt sdk.Coins) error {
	if !amt.IsValid() {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidCoins, "%s", amt)
	}
	for _, c := range amt {
		if b.get(from, c.Denom).LT(c.Amount) {
			return errorsmod.Wrapf(sdkerrors.ErrInsufficientFunds, "%s < %s", b.get(from, c.Denom), c)
		}
	}
	for _, c := range amt {
		b.set(from, c.Denom, b.get(from, c.Denom).Sub(c.Amount))
		b.set(to, c.Denom, b.get(to, c.Denom).Add(c.Amount))
	}
	return nil
}

func (b *fakeBank) SendCoinsFromAccountToModule(_ context.Context, from sdk.AccAddress, module string, amt sdk.Coins) error {
	return b.send(from, authtypes.NewModuleAddress(module), amt)
}

func (b *fakeBank) SendCoinsFromModuleToAccount(_ context.Context, module string, to sdk.AccAddress, amt sdk.Coins) error {
	return b.send(authtypes.NewModuleAddress(module), to, amt)
}

func (b *fakeBank) GetBalance(_ context.Context, addr sdk.AccAddress, d string) sdk.Coin {
	return sdk.NewCoin(d, b.get(addr, d))
}

// total is the sum of every balance in d: conserved by every operation.
func (b *fakeBank) total(d string) sdkmath.Int {
	sum := sdkmath.ZeroInt()
	for _, m := range b.balances {
		if v, ok := m[d]; ok {
			sum = sum.Add(v)
		}
	}
	return sum
}

func (b *fakeBank) snapshot() map[string]map[string]sdkmath.Int {
	out := make(map[string]map[string]sdkmath.Int, len(b.balances))
	for k, v := range b.balances {
		out[k] = maps.Clone(v)
	}
	return out
}

// fakeDistr moves the take from the sender to the distribution module account
// in the fake bank and records the community pool.
type fakeDistr struct {
	bank *fakeBank
	pool sdk.Coins
	fail error
}

func (d *fakeDistr) FundCommunityPool(_ context.Context, amount sdk.Coins, sender sdk.AccAddress) error {
	if d.fail != nil {
		return d.fail
	}
	if err := d.bank.send(sender, communityPool, amount); err != nil {
		return err
	}
	d.pool = d.pool.Add(amount...)
	return nil
}

type fixture struct {
	t         *testing.T
	ctx       sdk.Context
	k         keeper.Keeper
	bank      *fakeBank
	distr     *fakeDistr
	ac        address.Codec
	msgs      types.MsgServer
	query     keeper.Querier
	authority string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	key := storetypes.NewKVStoreKey(types.StoreKey)
	tctx := testutil.DefaultContextWithDB(t, key, storetypes.NewTransientStoreKey("transient_test"))
	enc := moduletestutil.MakeTestEncodingConfig()
	ac := addresscodec.NewBech32Codec("cru")
	authority, err := ac.BytesToString(authtypes.NewModuleAddress(govtypes.ModuleName))
	require.NoError(t, err)

	bank := newFakeBank()
	distr := &fakeDistr{bank: bank}
	k := keeper.NewKeeper(enc.Codec, runtime.NewKVStoreService(key), ac, bank, distr, authority)
	f := &fixture{
		t: t, ctx: tctx.Ctx.WithBlockHeight(1), k: k, bank: bank, distr: distr, ac: ac,
		msgs: keeper.NewMsgServerImpl(k), query: keeper.NewQuerier(k), authority: authority,
	}
	require.NoError(t, k.InitGenesis(f.ctx, types.DefaultGenesisState()))
	return f
}

// addr returns a deterministic test address.
func addr(name string) sdk.AccAddress {
	return authtypes.NewModuleAddress("test/" + name)
}

func (f *fixture) str(a sdk.AccAddress) string {
	s, err := f.ac.BytesToString(a)
	require.NoError(f.t, err)
	return s
}

func coin(n int64) sdk.Coin { return sdk.NewInt64Coin(denom, n) }

func (f *fixture) setHeight(h int64) { f.ctx = f.ctx.WithBlockHeight(h) }

func (f *fixture) advance(n int64) { f.setHeight(f.ctx.BlockHeight() + n) }

func (f *fixture) balance(a sdk.AccAddress) sdkmath.Int { return f.bank.get(a, denom) }

func (f *fixture) account(id uint64) types.Account {
	acc, err := f.k.GetAccount(f.ctx, id)
	require.NoError(f.t, err)
	return acc
}

// setTakeRate sets the take rate param.
func (f *fixture) setTakeRate(bps uint32) {
	p, err := f.k.Params.Get(f.ctx)
	require.NoError(f.t, err)
	p.TakeRateBps = bps
	require.NoError(f.t, f.k.SetParams(f.ctx, p))
}

// open mints deposit to owner and opens account id.
func (f *fixture) open(id uint64, owner sdk.AccAddress, deposit int64) {
	f.bank.mint(owner, coin(deposit))
	require.NoError(f.t, f.k.OpenAccount(f.ctx, id, owner, coin(deposit)))
}

// openActive opens and activates account id at the current height.
func (f *fixture) openActive(id uint64, owner, provider sdk.AccAddress, deposit, rate int64) {
	f.open(id, owner, deposit)
	require.NoError(f.t, f.k.ActivateAccount(f.ctx, id, provider, coin(rate), 0))
}

// checkInvariants asserts the balance and queue invariants.
func (f *fixture) checkInvariants() {
	f.t.Helper()
	require.NoError(f.t, f.k.CheckBalances(f.ctx))
	require.NoError(f.t, f.k.CheckQueue(f.ctx))
	msg, broken := keeper.AccountsInvariant(f.k)(f.ctx)
	require.False(f.t, broken, msg)
}

// queue returns the settlement queue as "height/id" strings.
func (f *fixture) queue() []string {
	var out []string
	it, err := f.k.Queue.Iterate(f.ctx, nil)
	require.NoError(f.t, err)
	defer it.Close()
	keys, err := it.Keys()
	require.NoError(f.t, err)
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%d/%d", k.K1(), k.K2()))
	}
	return out
}

// freshEvents gives the context a new event manager and returns it.
func (f *fixture) freshEvents() *sdk.EventManager {
	em := sdk.NewEventManager()
	f.ctx = f.ctx.WithEventManager(em)
	return em
}

func eventTypes(em *sdk.EventManager) []string {
	var out []string
	for _, e := range em.Events() {
		out = append(out, e.Type)
	}
	return out
}
