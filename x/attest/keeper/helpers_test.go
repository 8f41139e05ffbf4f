package keeper_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/header"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/crucible-network/crucible/x/attest/keeper"
	attestmodule "github.com/crucible-network/crucible/x/attest/module"
	"github.com/crucible-network/crucible/x/attest/poc"
	"github.com/crucible-network/crucible/x/attest/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

const (
	denom   = "ucru"
	chainID = "crucible-test"
)

type slashCall struct {
	owner  string
	bps    uint32
	reason string
	amount sdk.Coin
}

type repCall struct {
	owner string
	score int64
}

// fakeProviders is an in-memory x/provider that records every call x/attest
// makes. Providers are kept in owner byte order, like the real store.
type fakeProviders struct {
	addrs     address.Codec
	providers map[string]*providertypes.Provider // by raw address bytes
	slashes   []slashCall
	jails     []string
	drops     []string
	reps      []repCall
	verified  []string // "owner/uuid"
	removed   []string // "owner/uuid"
	walkCalls int      // WalkActiveProviders calls
	reads     int      // provider records WalkActiveProviders read
}

func (f *fakeProviders) RemoveGPU(_ context.Context, owner sdk.AccAddress, uuid, _ string) error {
	p, err := f.get(owner)
	if err != nil {
		return err
	}
	for i := range p.Gpus {
		if p.Gpus[i].Uuid == uuid {
			p.Gpus = append(p.Gpus[:i:i], p.Gpus[i+1:]...)
			f.removed = append(f.removed, p.Owner+"/"+uuid)
			return nil
		}
	}
	return providertypes.ErrGPUNotFound
}

var _ types.ProviderKeeper = (*fakeProviders)(nil)

func (f *fakeProviders) get(owner sdk.AccAddress) (*providertypes.Provider, error) {
	p, ok := f.providers[string(owner)]
	if !ok {
		return nil, errorsmod.Wrapf(providertypes.ErrProviderNotFound, "%X", []byte(owner))
	}
	return p, nil
}

func (f *fakeProviders) WalkActiveProviders(_ context.Context, start, end []byte, fn func(providertypes.Provider) (bool, error)) ([]byte, error) {
	f.walkCalls++
	keys := make([]string, 0, len(f.providers))
	for k := range f.providers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if start != nil && bytes.Compare([]byte(k), start) < 0 || end != nil && bytes.Compare([]byte(k), end) >= 0 {
			continue
		}
		if f.providers[k].Status != providertypes.ProviderStatusActive {
			continue // like x/provider, which walks its ACTIVE index
		}
		f.reads++
		stop, err := fn(*f.providers[k])
		if err != nil || stop {
			return []byte(k), err
		}
	}
	return nil, nil
}

func (f *fakeProviders) GetProvider(_ context.Context, owner sdk.AccAddress) (providertypes.Provider, error) {
	p, err := f.get(owner)
	if err != nil {
		return providertypes.Provider{}, err
	}
	return *p, nil
}

func (f *fakeProviders) Slash(_ context.Context, owner sdk.AccAddress, bps uint32, reason string) (sdk.Coin, error) {
	p, err := f.get(owner)
	if err != nil {
		return sdk.Coin{}, err
	}
	amt := sdk.NewCoin(p.Bond.Denom, p.Bond.Amount.MulRaw(int64(bps)).QuoRaw(10_000))
	p.Bond = p.Bond.Sub(amt)
	f.slashes = append(f.slashes, slashCall{owner: p.Owner, bps: bps, reason: reason, amount: amt})
	return amt, nil
}

func (f *fakeProviders) Jail(_ context.Context, owner sdk.AccAddress, _ string) error {
	p, err := f.get(owner)
	if err != nil {
		return err
	}
	if p.Status == providertypes.ProviderStatusUnbonding {
		return providertypes.ErrProviderUnbonding
	}
	p.Status = providertypes.ProviderStatusJailed
	f.jails = append(f.jails, p.Owner)
	return nil
}

func (f *fakeProviders) DropGPUs(_ context.Context, owner sdk.AccAddress) error {
	p, err := f.get(owner)
	if err != nil {
		return err
	}
	p.Gpus = nil
	f.drops = append(f.drops, p.Owner)
	return nil
}

func (f *fakeProviders) SetReputation(_ context.Context, owner sdk.AccAddress, score int64, _ string) error {
	p, err := f.get(owner)
	if err != nil {
		return err
	}
	if score < 0 || score > 10_000 {
		return providertypes.ErrInvalidReputation
	}
	p.Reputation = score
	f.reps = append(f.reps, repCall{owner: p.Owner, score: score})
	return nil
}

func (f *fakeProviders) MarkGPUVerified(ctx context.Context, owner sdk.AccAddress, uuid string) error {
	p, err := f.get(owner)
	if err != nil {
		return err
	}
	for i := range p.Gpus {
		if p.Gpus[i].Uuid == uuid {
			p.Gpus[i].VerifiedHeight = sdk.UnwrapSDKContext(ctx).BlockHeight()
			f.verified = append(f.verified, p.Owner+"/"+uuid)
			return nil
		}
	}
	return providertypes.ErrGPUNotFound
}

type closeCall struct {
	provider string
	reason   markettypes.LeaseCloseReason
}

// fakeMarket records CloseProviderLeases, CloseGPULease and DockGPU calls
// and closes the leases it was given per provider (and per GPU).
type fakeMarket struct {
	addrs     address.Codec
	leases    map[string][]uint64 // by raw address bytes
	gpuLeases map[string]uint64   // "raw address bytes/uuid" -> lease id
	closes    []closeCall
	gpuCloses []string // "owner/uuid/reason"
	docks     []dockCall
}

type dockCall struct {
	provider, uuid string
	since, at      int64
	lease          uint64
}

func (m *fakeMarket) CloseGPULease(_ context.Context, provider sdk.AccAddress, uuid string, reason markettypes.LeaseCloseReason) ([]uint64, error) {
	s, err := m.addrs.BytesToString(provider)
	if err != nil {
		return nil, err
	}
	m.gpuCloses = append(m.gpuCloses, s+"/"+uuid+"/"+reason.String())
	id, ok := m.gpuLeases[string(provider)+"/"+uuid]
	if !ok {
		return nil, nil
	}
	delete(m.gpuLeases, string(provider)+"/"+uuid)
	return []uint64{id}, nil
}

func (m *fakeMarket) DockGPU(ctx context.Context, provider sdk.AccAddress, uuid string, since int64) (uint64, error) {
	s, err := m.addrs.BytesToString(provider)
	if err != nil {
		return 0, err
	}
	id := m.gpuLeases[string(provider)+"/"+uuid]
	m.docks = append(m.docks, dockCall{provider: s, uuid: uuid, since: since, at: sdk.UnwrapSDKContext(ctx).BlockHeight(), lease: id})
	return id, nil
}

func (m *fakeMarket) CloseProviderLeases(_ context.Context, provider sdk.AccAddress, reason markettypes.LeaseCloseReason) ([]uint64, error) {
	s, err := m.addrs.BytesToString(provider)
	if err != nil {
		return nil, err
	}
	m.closes = append(m.closes, closeCall{provider: s, reason: reason})
	ids := m.leases[string(provider)]
	delete(m.leases, string(provider))
	return ids, nil
}

type fixture struct {
	t         testing.TB
	ctx       sdk.Context
	key       *storetypes.KVStoreKey
	k         keeper.Keeper
	prov      *fakeProviders
	market    *fakeMarket
	addrs     address.Codec
	msgs      types.MsgServer
	queries   types.QueryServer
	authority string
}

// Blocks in these tests are 1 s apart: block h has header time
// t0Ms + h*1000, so windows of 20 s start at heights that are multiples of
// 20.
const t0Ms int64 = 1_700_000_000_000

// testParams: windows of 20 s (20 blocks), every provider drawn, the test
// class only (reference 1 s: commit deadline 1.3 s + 1.7 s slack = 3 s =
// 3 blocks after the issuing one), 4 s (blocks) to reveal after the commit.
func testParams() types.Params {
	p := types.DefaultParams()
	p.WindowMs = 20_000
	p.ChallengeRateBps = 10_000
	p.CommitSlackMs = 1_700
	p.RevealWindowMs = 4_000
	p.ClassSizes = []types.ClassSize{types.TestClassSize()}
	p.MaxScheduleGpusPerBlock = 10
	p.MaxExpiriesPerBlock = 100
	p.BlockHashRetention = 20
	return p
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	key := storetypes.NewKVStoreKey(types.StoreKey)
	tctx := testutil.DefaultContextWithDB(t, key, storetypes.NewTransientStoreKey("transient_test"))
	enc := moduletestutil.MakeTestEncodingConfig(attestmodule.AppModule{})
	addrs := addresscodec.NewBech32Codec("cru")
	authority, err := addrs.BytesToString(authtypes.NewModuleAddress("gov"))
	require.NoError(t, err)
	prov := &fakeProviders{addrs: addrs, providers: map[string]*providertypes.Provider{}}
	market := &fakeMarket{addrs: addrs, leases: map[string][]uint64{}, gpuLeases: map[string]uint64{}}
	k := keeper.NewKeeper(enc.Codec, runtime.NewKVStoreService(key), addrs, prov, market, authority)
	f := &fixture{
		t: t, key: key, k: k, prov: prov, market: market, addrs: addrs,
		msgs: keeper.NewMsgServerImpl(k), queries: keeper.NewQueryServerImpl(k), authority: authority,
	}
	f.ctx = tctx.Ctx.WithChainID(chainID).WithGasMeter(storetypes.NewInfiniteGasMeter())
	gs := types.DefaultGenesis()
	gs.Params = testParams()
	require.NoError(t, k.InitGenesis(f.ctx, gs))
	return f
}

func (f *fixture) setParams(mut func(*types.Params)) {
	f.t.Helper()
	p, err := f.k.Params.Get(f.ctx)
	require.NoError(f.t, err)
	mut(&p)
	require.NoError(f.t, f.k.SetParams(f.ctx, p))
}

func blockHash(h int64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(h))
	s := sha256.Sum256(append([]byte("block"), b[:]...))
	return s[:]
}

// blockTime is the header time of block h.
func blockTime(h int64) time.Time { return time.UnixMilli(t0Ms + h*1000).UTC() }

// begin starts block h: height, header hash and time, fresh events,
// BeginBlocker.
func (f *fixture) begin(h int64) {
	f.t.Helper()
	f.ctx = f.ctx.WithBlockHeight(h).WithHeaderHash(blockHash(h)).WithBlockTime(blockTime(h)).
		WithHeaderInfo(header.Info{Height: h, Hash: blockHash(h), Time: blockTime(h), ChainID: chainID}).
		WithEventManager(sdk.NewEventManager())
	require.NoError(f.t, f.k.BeginBlocker(f.ctx))
}

// end runs EndBlocker for the current block.
func (f *fixture) end() {
	f.t.Helper()
	require.NoError(f.t, f.k.EndBlocker(f.ctx))
}

// advance runs full blocks from the current height + 1 up to and including h
// (BeginBlocker then EndBlocker), leaving the context at h after EndBlocker.
func (f *fixture) advance(h int64) {
	f.t.Helper()
	for cur := f.ctx.BlockHeight() + 1; cur <= h; cur++ {
		f.begin(cur)
		f.end()
	}
}

func (f *fixture) addr(i int) sdk.AccAddress {
	return sdk.AccAddress(fmt.Sprintf("prov%016d", i))
}

func (f *fixture) str(a sdk.AccAddress) string {
	s, err := f.addrs.BytesToString(a)
	require.NoError(f.t, err)
	return s
}

// addProvider registers an ACTIVE provider with gpus GPUs of class "test",
// a bond of 10000ucru and reputation 5000.
func (f *fixture) addProvider(i, gpus int) sdk.AccAddress {
	a := f.addr(i)
	p := &providertypes.Provider{
		Owner: f.str(a), HostUri: "https://p.example.com", Bond: sdk.NewInt64Coin(denom, 10_000),
		Status: providertypes.ProviderStatusActive, Reputation: 5_000,
	}
	for g := 0; g < gpus; g++ {
		p.Gpus = append(p.Gpus, providertypes.GPU{Uuid: fmt.Sprintf("GPU-%d-%d", i, g), Model: "sim", Class: types.ClassTest, MemoryMib: 1024})
	}
	f.prov.providers[string(a)] = p
	return a
}

func (f *fixture) challenge(id uint64) types.Challenge {
	f.t.Helper()
	c, err := f.k.GetChallenge(f.ctx, id)
	require.NoError(f.t, err)
	return c
}

func (f *fixture) record(a sdk.AccAddress) types.Record {
	f.t.Helper()
	r, err := f.k.GetRecord(f.ctx, a)
	require.NoError(f.t, err)
	return r
}

// openChallenges returns the ids of a provider's challenges in state st.
func (f *fixture) challengesOf(a sdk.AccAddress, st types.ChallengeState) []uint64 {
	f.t.Helper()
	resp, err := f.queries.Challenges(f.ctx, &types.QueryChallengesRequest{Provider: f.str(a), State: st})
	require.NoError(f.t, err)
	ids := make([]uint64, len(resp.Challenges))
	for i, c := range resp.Challenges {
		ids[i] = c.Id
	}
	return ids
}

// export returns the module's exported genesis, to compare whole states.
func (f *fixture) export() *types.GenesisState {
	f.t.Helper()
	gs, err := f.k.ExportGenesis(f.ctx)
	require.NoError(f.t, err)
	return gs
}

// prover is an honest (or, with corrupt, dishonest) CPU prover for one
// challenge, built from poc's exported unit functions so that tests can
// commit to a wrong product.
type prover struct {
	p       poc.Params
	seed    [32]byte
	corrupt func(u uint32, c []int32)
	roots   []poc.Hash
	root    poc.Hash
}

func newProver(t testing.TB, c types.Challenge, corrupt func(u uint32, c []int32)) *prover {
	t.Helper()
	pr := &prover{p: c.ProofSize.PocParams(), corrupt: corrupt}
	copy(pr.seed[:], c.Seed)
	for u := uint32(0); u < pr.p.M; u++ {
		cu := pr.unit(t, u)
		r, err := poc.UnitRoot(pr.p, cu)
		require.NoError(t, err)
		pr.roots = append(pr.roots, r)
	}
	root, err := poc.InstanceRoot(pr.p, pr.roots)
	require.NoError(t, err)
	pr.root = root
	return pr
}

func (pr *prover) unit(t testing.TB, u uint32) []int32 {
	cu, err := poc.ComputeUnit(pr.p, pr.seed, u)
	require.NoError(t, err)
	if pr.corrupt != nil {
		pr.corrupt(u, cu)
	}
	return cu
}

// reveal opens the positions sampled from the header hash of the block
// after the commit.
func (pr *prover) reveal(t testing.TB, sampleHash []byte) *poc.Reveal {
	t.Helper()
	positions, err := poc.SamplePositions(pr.p, poc.SampleSeed(pr.root, sampleHash))
	require.NoError(t, err)
	units := map[uint32][]int32{}
	r := &poc.Reveal{}
	for _, pos := range positions {
		cu, ok := units[pos.Unit]
		if !ok {
			cu = pr.unit(t, pos.Unit)
			units[pos.Unit] = cu
		}
		o, err := poc.OpenUnit(pr.p, pos, cu, pr.roots)
		require.NoError(t, err)
		r.Openings = append(r.Openings, o)
	}
	return r
}

func encode(t testing.TB, r *poc.Reveal) []byte {
	t.Helper()
	b, err := r.MarshalBinary()
	require.NoError(t, err)
	return b
}

// commit sends MsgCommitProof for c with the prover's root.
func (f *fixture) commit(a sdk.AccAddress, c types.Challenge, pr *prover) {
	f.t.Helper()
	_, err := f.msgs.CommitProof(f.ctx, &types.MsgCommitProof{Provider: f.str(a), ChallengeId: c.Id, Root: pr.root[:]})
	require.NoError(f.t, err)
}

// answer commits in the current block, moves to the next block (whose hash
// seeds the sample) and returns the encoded reveal for the block after.
func (f *fixture) answer(a sdk.AccAddress, id uint64, corrupt func(u uint32, c []int32)) []byte {
	f.t.Helper()
	c := f.challenge(id)
	pr := newProver(f.t, c, corrupt)
	f.commit(a, c, pr)
	f.end()
	f.begin(f.ctx.BlockHeight() + 1)
	r := pr.reveal(f.t, f.ctx.HeaderHash())
	return encode(f.t, r)
}

func (f *fixture) reveal(a sdk.AccAddress, id uint64, b []byte) (*types.MsgRevealProofResponse, error) {
	return f.msgs.RevealProof(f.ctx, &types.MsgRevealProof{Provider: f.str(a), ChallengeId: id, Reveal: b})
}

// events returns the typed events of type T emitted on the current event manager.
func events[T proto.Message](t testing.TB, ctx sdk.Context) []T {
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

func coin(n int64) sdk.Coin { return sdk.NewCoin(denom, math.NewInt(n)) }

type collectionsPair = collections.Pair[int64, uint64]

func hexs(b []byte) string { return hex.EncodeToString(b) }
