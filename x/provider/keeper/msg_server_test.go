package keeper_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/provider/types"
)

func TestRegisterProvider(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	f.bank.fund(owner, sdk.NewCoins(sdk.NewInt64Coin(denom, 5000)))

	msg := f.registerMsg(owner, 1500)
	msg.Gpus[0].VerifiedHeight = 0
	_, err := f.msgs.RegisterProvider(f.ctx, msg)
	require.NoError(t, err)

	require.Equal(t, math.NewInt(3500), f.bank.balance(owner))
	require.Equal(t, math.NewInt(1500), f.bank.moduleBalance())

	p := f.provider(owner)
	require.Equal(t, types.Provider{
		Owner:            f.str(owner),
		HostUri:          "https://gpu1.example.com:8443",
		Region:           "eu-west",
		Tier:             "datacenter",
		Attributes:       []types.Attribute{{Key: "interconnect", Value: "nvlink"}},
		Gpus:             []types.GPU{gpu("GPU-aaaa"), gpu("GPU-bbbb")},
		Bond:             sdk.NewInt64Coin(denom, 1500),
		Status:           types.ProviderStatusActive,
		Reputation:       types.DefaultInitialReputation,
		RegisteredHeight: 10,
	}, p)

	evs := events[*types.EventProviderRegistered](t, f.ctx)
	require.Len(t, evs, 1)
	require.Equal(t, &types.EventProviderRegistered{
		Owner: f.str(owner), HostUri: p.HostUri, Region: "eu-west", Tier: "datacenter",
		GpuCount: 2, Bond: sdk.NewInt64Coin(denom, 1500),
	}, evs[0])

	// Registering twice is refused and moves no coin.
	f.bank.fund(owner, sdk.NewCoins(sdk.NewInt64Coin(denom, 1000)))
	_, err = f.msgs.RegisterProvider(f.ctx, f.registerMsg(owner, 1000))
	require.ErrorIs(t, err, types.ErrProviderExists)
	require.Equal(t, math.NewInt(4500), f.bank.balance(owner))
	require.Equal(t, math.NewInt(1500), f.bank.moduleBalance())
}

func TestRegisterProviderRejectsBadInput(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	gpus := func(n int) []types.GPU {
		out := make([]types.GPU, n)
		for i := range out {
			out[i] = gpu("GPU-" + string(rune('a'+i)))
		}
		return out
	}
	cases := []struct {
		name   string
		mutate func(f *fixture, m *types.MsgRegisterProvider)
		err    error
	}{
		{"zero bond", func(_ *fixture, m *types.MsgRegisterProvider) { m.Bond = sdk.NewInt64Coin(denom, 0) }, types.ErrInvalidBond},
		{"negative bond", func(_ *fixture, m *types.MsgRegisterProvider) {
			m.Bond = sdk.Coin{Denom: denom, Amount: math.NewInt(-5000)}
		}, types.ErrInvalidBond},
		{"nil bond amount", func(_ *fixture, m *types.MsgRegisterProvider) { m.Bond = sdk.Coin{Denom: denom} }, types.ErrInvalidBond},
		{"invalid denom", func(_ *fixture, m *types.MsgRegisterProvider) {
			m.Bond = sdk.Coin{Denom: "!!", Amount: math.NewInt(5000)}
		}, types.ErrInvalidBond},
		{"wrong denom", func(_ *fixture, m *types.MsgRegisterProvider) { m.Bond = sdk.NewInt64Coin("stake", 5000) }, types.ErrBondDenom},
		{"bond below minimum", func(_ *fixture, m *types.MsgRegisterProvider) { m.Bond = sdk.NewInt64Coin(denom, 999) }, types.ErrInsufficientBond},
		{"empty owner", func(_ *fixture, m *types.MsgRegisterProvider) { m.Owner = "" }, types.ErrInvalidAddress},
		{"bad owner address", func(_ *fixture, m *types.MsgRegisterProvider) { m.Owner = "cosmos1xyz" }, types.ErrInvalidAddress},
		{"empty host uri", func(_ *fixture, m *types.MsgRegisterProvider) { m.HostUri = "" }, types.ErrInvalidHostURI},
		{"oversized host uri", func(_ *fixture, m *types.MsgRegisterProvider) {
			m.HostUri = "https://" + long(types.MaxHostURILength) + ".com"
		}, types.ErrInvalidHostURI},
		{"host uri scheme", func(_ *fixture, m *types.MsgRegisterProvider) { m.HostUri = "ftp://gpu.example.com" }, types.ErrInvalidHostURI},
		{"host uri without host", func(_ *fixture, m *types.MsgRegisterProvider) { m.HostUri = "https:///path" }, types.ErrInvalidHostURI},
		{"host uri with user info", func(_ *fixture, m *types.MsgRegisterProvider) { m.HostUri = "https://u:p@gpu.example.com" }, types.ErrInvalidHostURI},
		{"oversized region", func(_ *fixture, m *types.MsgRegisterProvider) { m.Region = long(types.MaxRegionLength + 1) }, types.ErrInvalidField},
		{"control char in tier", func(_ *fixture, m *types.MsgRegisterProvider) { m.Tier = "data\ncenter" }, types.ErrInvalidField},
		{"oversized tier", func(_ *fixture, m *types.MsgRegisterProvider) { m.Tier = long(types.MaxTierLength + 1) }, types.ErrInvalidField},
		{"empty attribute key", func(_ *fixture, m *types.MsgRegisterProvider) {
			m.Attributes = []types.Attribute{{Key: "", Value: "x"}}
		}, types.ErrInvalidAttribute},
		{"oversized attribute value", func(_ *fixture, m *types.MsgRegisterProvider) {
			m.Attributes = []types.Attribute{{Key: "k", Value: long(types.MaxAttributeValueLength + 1)}}
		}, types.ErrInvalidAttribute},
		{"duplicate attribute key", func(_ *fixture, m *types.MsgRegisterProvider) {
			m.Attributes = []types.Attribute{{Key: "k", Value: "1"}, {Key: "k", Value: "2"}}
		}, types.ErrInvalidAttribute},
		{"too many attributes (params)", func(_ *fixture, m *types.MsgRegisterProvider) {
			m.Attributes = []types.Attribute{{Key: "a"}, {Key: "b"}, {Key: "c"}, {Key: "d"}}
		}, types.ErrTooManyAttributes},
		{"too many attributes (hard limit)", func(_ *fixture, m *types.MsgRegisterProvider) {
			m.Attributes = make([]types.Attribute, types.MaxAttributesLimit+1)
		}, types.ErrTooManyAttributes},
		{"duplicate gpu uuid", func(_ *fixture, m *types.MsgRegisterProvider) {
			m.Gpus = []types.GPU{gpu("GPU-1"), gpu("GPU-2"), gpu("GPU-1")}
		}, types.ErrDuplicateGPU},
		{"too many gpus (params)", func(_ *fixture, m *types.MsgRegisterProvider) { m.Gpus = gpus(5) }, types.ErrTooManyGPUs},
		{"too many gpus (hard limit)", func(_ *fixture, m *types.MsgRegisterProvider) {
			m.Gpus = make([]types.GPU, types.MaxGPUsLimit+1)
		}, types.ErrTooManyGPUs},
		{"empty gpu uuid", func(_ *fixture, m *types.MsgRegisterProvider) { m.Gpus = []types.GPU{gpu("")} }, types.ErrInvalidGPU},
		{"oversized gpu uuid", func(_ *fixture, m *types.MsgRegisterProvider) {
			m.Gpus = []types.GPU{gpu(long(types.MaxGPUUUIDLength + 1))}
		}, types.ErrInvalidGPU},
		{"oversized gpu model", func(_ *fixture, m *types.MsgRegisterProvider) {
			g := gpu("GPU-1")
			g.Model = long(types.MaxGPUModelLength + 1)
			m.Gpus = []types.GPU{g}
		}, types.ErrInvalidGPU},
		{"empty gpu class", func(_ *fixture, m *types.MsgRegisterProvider) {
			g := gpu("GPU-1")
			g.Class = ""
			m.Gpus = []types.GPU{g}
		}, types.ErrInvalidGPU},
		{"zero gpu memory", func(_ *fixture, m *types.MsgRegisterProvider) {
			g := gpu("GPU-1")
			g.MemoryMib = 0
			m.Gpus = []types.GPU{g}
		}, types.ErrInvalidGPU},
		{"self-verified gpu", func(_ *fixture, m *types.MsgRegisterProvider) {
			g := gpu("GPU-1")
			g.VerifiedHeight = 3
			m.Gpus = []types.GPU{g}
		}, types.ErrInvalidGPU},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			owner := f.addr(1)
			f.bank.fund(owner, sdk.NewCoins(sdk.NewInt64Coin(denom, 5000), sdk.NewInt64Coin("stake", 5000)))
			msg := f.registerMsg(owner, 5000)
			tc.mutate(f, msg)
			_, err := f.msgs.RegisterProvider(f.ctx, msg)
			require.ErrorIs(t, err, tc.err)
			require.Zero(t, f.bank.calls, "no coin may move")
			require.Equal(t, math.NewInt(5000), f.bank.balance(owner))
			require.True(t, f.bank.modules[types.ModuleName].IsZero())
			has, err := f.k.Providers.Has(f.ctx, owner)
			require.NoError(t, err)
			require.False(t, has)
			require.Empty(t, f.ctx.EventManager().Events())
		})
	}
}

func TestRegisterProviderInsufficientFunds(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	f.bank.fund(owner, sdk.NewCoins(sdk.NewInt64Coin(denom, 1200)))
	_, err := f.msgs.RegisterProvider(f.ctx, f.registerMsg(owner, 2000))
	require.Error(t, err)
	require.Equal(t, math.NewInt(1200), f.bank.balance(owner))
	_, err = f.k.GetProvider(f.ctx, owner)
	require.ErrorIs(t, err, types.ErrProviderNotFound)
}

func TestRegisterRefusedWhileJailedOrUnbonding(t *testing.T) {
	f := newFixture(t)
	jailed, leaving := f.addr(1), f.addr(2)
	f.register(jailed, 1000)
	f.register(leaving, 1000)
	require.NoError(t, f.k.Jail(f.ctx, jailed, "missed challenges"))
	_, err := f.msgs.DeregisterProvider(f.ctx, &types.MsgDeregisterProvider{Owner: f.str(leaving)})
	require.NoError(t, err)

	for owner, want := range map[string]error{f.str(jailed): types.ErrProviderJailed, f.str(leaving): types.ErrProviderUnbonding} {
		addr, _ := f.addrs.StringToBytes(owner)
		f.bank.fund(addr, sdk.NewCoins(sdk.NewInt64Coin(denom, 1000)))
		_, err := f.msgs.RegisterProvider(f.ctx, f.registerMsg(addr, 1000))
		require.ErrorIs(t, err, want)
		require.Equal(t, math.NewInt(1000), f.bank.balance(addr))
	}
	require.Equal(t, math.NewInt(2000), f.bank.moduleBalance())
}

func updateMsg(owner string, gpus ...types.GPU) *types.MsgUpdateProvider {
	return &types.MsgUpdateProvider{
		Owner:      owner,
		HostUri:    "https://gpu2.example.com",
		Region:     "us-east",
		Tier:       "community",
		Attributes: []types.Attribute{{Key: "cc", Value: "on"}},
		Gpus:       gpus,
	}
}

func TestUpdateProvider(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	f.register(owner, 1000)
	f.setHeight(12)
	require.NoError(t, f.k.MarkGPUVerified(f.ctx, owner, "GPU-aaaa"))
	require.NoError(t, f.k.MarkGPUVerified(f.ctx, owner, "GPU-bbbb"))
	f.setHeight(13)

	// GPU-aaaa unchanged (keeps verified height), GPU-bbbb changed memory
	// (reset), GPU-cccc new; a claimed verified_height is ignored.
	changed := gpu("GPU-bbbb")
	changed.MemoryMib = 40960
	added := gpu("GPU-cccc")
	added.VerifiedHeight = 99
	_, err := f.msgs.UpdateProvider(f.ctx, updateMsg(f.str(owner), added, changed, gpu("GPU-aaaa")))
	require.NoError(t, err)

	p := f.provider(owner)
	require.Equal(t, "https://gpu2.example.com", p.HostUri)
	require.Equal(t, "us-east", p.Region)
	require.Equal(t, "community", p.Tier)
	require.Equal(t, []types.Attribute{{Key: "cc", Value: "on"}}, p.Attributes)
	wantAaaa := gpu("GPU-aaaa")
	wantAaaa.VerifiedHeight = 12
	require.Equal(t, []types.GPU{gpu("GPU-cccc"), func() types.GPU { g := gpu("GPU-bbbb"); g.MemoryMib = 40960; return g }(), wantAaaa}, p.Gpus)
	require.Equal(t, sdk.NewInt64Coin(denom, 1000), p.Bond, "update never changes the bond")
	require.Equal(t, math.NewInt(1000), f.bank.moduleBalance())

	evs := events[*types.EventProviderUpdated](t, f.ctx)
	require.Len(t, evs, 1)
	require.Equal(t, &types.EventProviderUpdated{Owner: f.str(owner), HostUri: p.HostUri, Region: "us-east", Tier: "community", GpuCount: 3}, evs[0])
}

func TestUpdateProviderErrors(t *testing.T) {
	f := newFixture(t)
	owner, other := f.addr(1), f.addr(2)
	f.register(owner, 1000)
	before := f.provider(owner)

	// Another account cannot reach the owner's provider: its message names
	// itself (the signer), which has no provider.
	_, err := f.msgs.UpdateProvider(f.ctx, updateMsg(f.str(other), gpu("GPU-x")))
	require.ErrorIs(t, err, types.ErrProviderNotFound)
	require.Equal(t, before, f.provider(owner))

	_, err = f.msgs.UpdateProvider(f.ctx, updateMsg(f.str(owner), gpu("GPU-x"), gpu("GPU-x")))
	require.ErrorIs(t, err, types.ErrDuplicateGPU)
	_, err = f.msgs.UpdateProvider(f.ctx, updateMsg(f.str(owner), gpu("1"), gpu("2"), gpu("3"), gpu("4"), gpu("5")))
	require.ErrorIs(t, err, types.ErrTooManyGPUs)
	bad := updateMsg(f.str(owner))
	bad.Region = strings.Repeat("r", types.MaxRegionLength+1)
	_, err = f.msgs.UpdateProvider(f.ctx, bad)
	require.ErrorIs(t, err, types.ErrInvalidField)
	require.Equal(t, before, f.provider(owner))

	// With an active lease the inventory is frozen but the description is not.
	require.NoError(t, f.k.AddActiveLease(f.ctx, owner))
	_, err = f.msgs.UpdateProvider(f.ctx, updateMsg(f.str(owner), gpu("GPU-aaaa")))
	require.ErrorIs(t, err, types.ErrGPUsLeased)
	changed := gpu("GPU-bbbb")
	changed.Class = "a100"
	_, err = f.msgs.UpdateProvider(f.ctx, updateMsg(f.str(owner), gpu("GPU-aaaa"), changed))
	require.ErrorIs(t, err, types.ErrGPUsLeased)
	_, err = f.msgs.UpdateProvider(f.ctx, updateMsg(f.str(owner), gpu("GPU-bbbb"), gpu("GPU-aaaa")))
	require.NoError(t, err, "same inventory in another order is not a change")
	require.Equal(t, "us-east", f.provider(owner).Region)
	require.NoError(t, f.k.RemoveActiveLease(f.ctx, owner))

	// A jailed provider may still fix its description.
	require.NoError(t, f.k.Jail(f.ctx, owner, "test"))
	_, err = f.msgs.UpdateProvider(f.ctx, updateMsg(f.str(owner), gpu("GPU-z")))
	require.NoError(t, err)

	// An unbonding provider may not.
	f.setHeight(100)
	_, err = f.msgs.DeregisterProvider(f.ctx, &types.MsgDeregisterProvider{Owner: f.str(owner)})
	require.NoError(t, err)
	_, err = f.msgs.UpdateProvider(f.ctx, updateMsg(f.str(owner), gpu("GPU-z")))
	require.ErrorIs(t, err, types.ErrProviderUnbonding)
}

func TestDeregisterProvider(t *testing.T) {
	f := newFixture(t)
	owner, other := f.addr(1), f.addr(2)
	f.register(owner, 1000)

	_, err := f.msgs.DeregisterProvider(f.ctx, &types.MsgDeregisterProvider{Owner: f.str(other)})
	require.ErrorIs(t, err, types.ErrProviderNotFound)
	_, err = f.msgs.DeregisterProvider(f.ctx, &types.MsgDeregisterProvider{Owner: ""})
	require.ErrorIs(t, err, types.ErrInvalidAddress)

	require.NoError(t, f.k.AddActiveLease(f.ctx, owner))
	_, err = f.msgs.DeregisterProvider(f.ctx, &types.MsgDeregisterProvider{Owner: f.str(owner)})
	require.ErrorIs(t, err, types.ErrActiveLeases)
	require.Equal(t, types.ProviderStatusActive, f.provider(owner).Status)
	require.NoError(t, f.k.RemoveActiveLease(f.ctx, owner))

	f.setHeight(30)
	res, err := f.msgs.DeregisterProvider(f.ctx, &types.MsgDeregisterProvider{Owner: f.str(owner)})
	require.NoError(t, err)
	require.Equal(t, int64(50), res.UnbondingHeight)
	p := f.provider(owner)
	require.Equal(t, types.ProviderStatusUnbonding, p.Status)
	require.Equal(t, int64(50), p.UnbondingHeight)
	has, err := f.k.Unbonding.Has(f.ctx, joinKey(50, owner))
	require.NoError(t, err)
	require.True(t, has)
	require.Equal(t, []*types.EventProviderDeregistered{{Owner: f.str(owner), UnbondingHeight: 50}},
		events[*types.EventProviderDeregistered](t, f.ctx))
	require.Equal(t, math.NewInt(1000), f.bank.moduleBalance(), "the bond stays locked while unbonding")

	_, err = f.msgs.DeregisterProvider(f.ctx, &types.MsgDeregisterProvider{Owner: f.str(owner)})
	require.ErrorIs(t, err, types.ErrProviderUnbonding)
	require.ErrorIs(t, f.k.AddActiveLease(f.ctx, owner), types.ErrProviderUnbonding)
	f.bank.fund(owner, sdk.NewCoins(sdk.NewInt64Coin(denom, 10)))
	_, err = f.msgs.AddBond(f.ctx, &types.MsgAddBond{Owner: f.str(owner), Amount: sdk.NewInt64Coin(denom, 10)})
	require.ErrorIs(t, err, types.ErrProviderUnbonding)
	require.Equal(t, math.NewInt(10), f.bank.balance(owner))
}

func TestDeregisterWhileJailedWaitsOutTheJail(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	f.register(owner, 1000)
	params := testParams()
	params.JailBlocks = 100
	require.NoError(t, f.k.SetParams(f.ctx, params))
	require.NoError(t, f.k.Jail(f.ctx, owner, "missed challenges")) // jailed until 110
	res, err := f.msgs.DeregisterProvider(f.ctx, &types.MsgDeregisterProvider{Owner: f.str(owner)})
	require.NoError(t, err)
	require.Equal(t, int64(110), res.UnbondingHeight, "max(now+unbonding_blocks=30, jailed_until=110)")
}

func TestUnjailProvider(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	f.register(owner, 1000)

	_, err := f.msgs.UnjailProvider(f.ctx, &types.MsgUnjailProvider{Owner: f.str(owner)})
	require.ErrorIs(t, err, types.ErrNotJailed)

	require.NoError(t, f.k.Jail(f.ctx, owner, "missed challenges")) // height 10 + 5
	p := f.provider(owner)
	require.Equal(t, types.ProviderStatusJailed, p.Status)
	require.Equal(t, int64(15), p.JailedUntil)
	require.Equal(t, []*types.EventProviderJailed{{Owner: f.str(owner), JailedUntil: 15, Reason: "missed challenges"}},
		events[*types.EventProviderJailed](t, f.ctx))
	require.ErrorIs(t, f.k.AddActiveLease(f.ctx, owner), types.ErrProviderJailed)
	_, err = f.k.CheckCanBid(f.ctx, owner)
	require.ErrorIs(t, err, types.ErrProviderJailed)

	f.setHeight(14)
	_, err = f.msgs.UnjailProvider(f.ctx, &types.MsgUnjailProvider{Owner: f.str(owner)})
	require.ErrorIs(t, err, types.ErrStillJailed)

	// Jailing again never shortens the jail.
	f.setHeight(12)
	params := testParams()
	params.JailBlocks = 1
	require.NoError(t, f.k.SetParams(f.ctx, params))
	require.NoError(t, f.k.Jail(f.ctx, owner, "again"))
	require.Equal(t, int64(15), f.provider(owner).JailedUntil)

	// Slashed below the minimum: unjail needs more bond first.
	_, err = f.k.Slash(f.ctx, owner, 5000, "failed challenge")
	require.NoError(t, err)
	f.setHeight(15)
	_, err = f.msgs.UnjailProvider(f.ctx, &types.MsgUnjailProvider{Owner: f.str(owner)})
	require.ErrorIs(t, err, types.ErrInsufficientBond)
	f.bank.fund(owner, sdk.NewCoins(sdk.NewInt64Coin(denom, 500)))
	res, err := f.msgs.AddBond(f.ctx, &types.MsgAddBond{Owner: f.str(owner), Amount: sdk.NewInt64Coin(denom, 500)})
	require.NoError(t, err)
	require.Equal(t, sdk.NewInt64Coin(denom, 1000), res.Bond)

	f.freshEvents()
	_, err = f.msgs.UnjailProvider(f.ctx, &types.MsgUnjailProvider{Owner: f.str(owner)})
	require.NoError(t, err)
	require.Equal(t, types.ProviderStatusActive, f.provider(owner).Status)
	require.Len(t, events[*types.EventProviderUnjailed](t, f.ctx), 1)
	require.NoError(t, f.k.AddActiveLease(f.ctx, owner))

	_, err = f.msgs.UnjailProvider(f.ctx, &types.MsgUnjailProvider{Owner: f.str(f.addr(9))})
	require.ErrorIs(t, err, types.ErrProviderNotFound)
}

func TestAddBond(t *testing.T) {
	f := newFixture(t)
	owner := f.addr(1)
	f.register(owner, 1000)
	f.bank.fund(owner, sdk.NewCoins(sdk.NewInt64Coin(denom, 700), sdk.NewInt64Coin("stake", 700)))

	f.freshEvents()
	res, err := f.msgs.AddBond(f.ctx, &types.MsgAddBond{Owner: f.str(owner), Amount: sdk.NewInt64Coin(denom, 300)})
	require.NoError(t, err)
	require.Equal(t, sdk.NewInt64Coin(denom, 1300), res.Bond)
	require.Equal(t, sdk.NewInt64Coin(denom, 1300), f.provider(owner).Bond)
	require.Equal(t, math.NewInt(400), f.bank.balance(owner))
	require.Equal(t, math.NewInt(1300), f.bank.moduleBalance())
	require.Equal(t, []*types.EventBondAdded{{Owner: f.str(owner), Amount: sdk.NewInt64Coin(denom, 300), Bond: sdk.NewInt64Coin(denom, 1300)}},
		events[*types.EventBondAdded](t, f.ctx))

	calls := f.bank.calls
	for _, tc := range []struct {
		msg *types.MsgAddBond
		err error
	}{
		{&types.MsgAddBond{Owner: f.str(owner), Amount: sdk.NewInt64Coin(denom, 0)}, types.ErrInvalidBond},
		{&types.MsgAddBond{Owner: f.str(owner), Amount: sdk.Coin{Denom: denom, Amount: math.NewInt(-1)}}, types.ErrInvalidBond},
		{&types.MsgAddBond{Owner: f.str(owner), Amount: sdk.NewInt64Coin("stake", 100)}, types.ErrBondDenom},
		{&types.MsgAddBond{Owner: f.str(f.addr(2)), Amount: sdk.NewInt64Coin(denom, 100)}, types.ErrProviderNotFound},
	} {
		_, err := f.msgs.AddBond(f.ctx, tc.msg)
		require.ErrorIs(t, err, tc.err)
	}
	_, err = f.msgs.AddBond(f.ctx, &types.MsgAddBond{Owner: f.str(owner), Amount: sdk.NewInt64Coin(denom, 401)})
	require.Error(t, err, "more than the balance")
	require.Equal(t, calls+1, f.bank.calls, "only the overdraft reached the bank")
	require.Equal(t, math.NewInt(400), f.bank.balance(owner))
	require.Equal(t, sdk.NewInt64Coin(denom, 1300), f.provider(owner).Bond)
}

func TestUpdateParams(t *testing.T) {
	f := newFixture(t)
	newParams := types.NewParams(sdk.NewInt64Coin(denom, 5), 7, 8, 9, 10)

	_, err := f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.str(f.addr(1)), Params: newParams})
	require.ErrorIs(t, err, types.ErrInvalidSigner)
	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: "", Params: newParams})
	require.ErrorIs(t, err, types.ErrInvalidAddress)
	invalid := newParams
	invalid.MaxGpus = 0
	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.authority, Params: invalid})
	require.ErrorIs(t, err, types.ErrInvalidParams)
	got, err := f.k.GetParams(f.ctx)
	require.NoError(t, err)
	require.Equal(t, testParams(), got)

	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.authority, Params: newParams})
	require.NoError(t, err)
	got, err = f.k.GetParams(f.ctx)
	require.NoError(t, err)
	require.Equal(t, newParams, got)
}
