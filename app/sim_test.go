package app_test

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cryptoenc "github.com/cometbft/cometbft/crypto/encoding"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	"cosmossdk.io/log/v2"
	sdkmath "cosmossdk.io/math"

	dbm "github.com/cosmos/cosmos-db"
	"github.com/cosmos/cosmos-sdk/baseapp"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/simulation"

	"github.com/crucible-network/crucible/app"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	escrowtypes "github.com/crucible-network/crucible/x/escrow/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// The modules whose simulated messages run: bank (transfers between the
// simulation accounts) and Crucible's own. The SDK's other modules
// (staking, gov, distribution, ...) take part in the randomized genesis only;
// their message factories are the SDK's business and would triple the run.
var simModules = []string{banktypes.ModuleName, providertypes.ModuleName, markettypes.ModuleName,
	escrowtypes.ModuleName, attesttypes.ModuleName}

const simChainID = "crucible-sim"

type simEmptyOpts struct{}

func (simEmptyOpts) Get(string) any { return nil }

func newSimApp(t *testing.T, name string) *app.App {
	t.Helper()
	db, err := dbm.NewGoLevelDB(name, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(log.NewNopLogger(), db, true, simEmptyOpts{}, baseapp.SetChainID(simChainID))
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// simParams pins the simulation app params that decide whether the chain
// outlives the run: enough initially bonded validators, and a liveness
// window longer than the run, so that random downtime and double-sign
// evidence cannot jail the whole (mock) validator set within 50 blocks.
const simParams = `{"initially_bonded_validators": 100, "signed_blocks_window": 100000, "min_signed_per_window": "0.050000000000000000"}`

func simConfig(t *testing.T, seed int64, blocks, blockSize int) simtypes.Config {
	paramsFile := filepath.Join(t.TempDir(), "sim_params.json")
	if err := os.WriteFile(paramsFile, []byte(simParams), 0o600); err != nil {
		t.Fatal(err)
	}
	// CRUCIBLE_SIM_SEED overrides the seed (some seeds let random downtime
	// and evidence jail every mock validator: the SDK then skips the run).
	if s := os.Getenv("CRUCIBLE_SIM_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = v
	}
	return simtypes.Config{
		ParamsFile:         paramsFile,
		Seed:               seed,
		InitialBlockHeight: 1,
		GenesisTime:        time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix(),
		NumBlocks:          blocks,
		BlockSize:          blockSize,
		ChainID:            simChainID,
		Commit:             true,
	}
}

// opTally counts the outcomes of the simulated operations by module and
// message.
type opTally struct {
	ok, refused, noop map[string]int
	reason            map[string]string // a refusal's reason, per message
	// check is the invariant check, queued for every block from the first
	// operation on; next is the height it is queued for.
	check simtypes.Operation
	next  int
}

// queueCheck queues the invariant check for the block after ctx's, once.
func (t *opTally) queueCheck(ctx sdk.Context, fut []simtypes.FutureOperation) []simtypes.FutureOperation {
	if h := int(ctx.BlockHeight()) + 1; h > t.next && t.check != nil {
		t.next = h
		fut = append(fut, simtypes.FutureOperation{BlockHeight: h, Op: t.check})
	}
	return fut
}

func newOpTally() *opTally {
	return &opTally{ok: map[string]int{}, refused: map[string]int{}, noop: map[string]int{}, reason: map[string]string{}}
}

func (t *opTally) wrap(mod string, op simtypes.Operation) simtypes.Operation {
	return func(r *rand.Rand, a *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, chainID string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		m, fut, err := op(r, a, ctx, accs, chainID)
		key := mod + " " + m.Name
		switch {
		case !m.OK && m.Msg != nil:
			t.refused[key]++
			if len(t.reason[key]) == 0 {
				t.reason[key] = m.Comment
			}
		case m.OK:
			t.ok[key]++
		default:
			t.noop[key]++
		}
		return m, t.queueCheck(ctx, fut), err
	}
}

func (t *opTally) report(tb testing.TB) (total map[string]int) {
	keys := map[string]bool{}
	for _, m := range []map[string]int{t.ok, t.refused, t.noop} {
		for k := range m {
			keys[k] = true
		}
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	total = map[string]int{}
	for _, k := range sorted {
		tb.Logf("%-60s ok %4d  refused %4d  no-op %4d  %.90s", k, t.ok[k], t.refused[k], t.noop[k], t.reason[k])
		total[strings.Fields(k)[0]] += t.ok[k] + t.refused[k]
	}
	return total
}

// simOperations returns the weighted operations of simModules from the app's
// simulation manager, each wrapped to be tallied, plus the invariant check.
func simOperations(t *testing.T, a *app.App, tally *opTally, checks *int) []simtypes.WeightedOperation {
	simState := module.SimulationState{
		AppParams: make(simtypes.AppParams),
		Cdc:       a.AppCodec(),
		TxConfig:  a.TxConfig(),
		BondDenom: sdk.DefaultBondDenom,
	}
	want := map[string]bool{}
	for _, m := range simModules {
		want[m] = true
	}
	var ops []simtypes.WeightedOperation
	seen := map[string]bool{}
	for _, m := range a.SimulationManager().Modules {
		named, ok := m.(module.HasName)
		if !ok || !want[named.Name()] {
			continue
		}
		seen[named.Name()] = true
		for _, op := range m.WeightedOperations(simState) {
			ops = append(ops, simulation.NewWeightedOperation(op.Weight(), tally.wrap(named.Name(), op.Op())))
		}
	}
	for _, m := range simModules {
		if !seen[m] {
			t.Fatalf("module %s is not in the simulation manager", m)
		}
	}
	// The invariant check is queued by the first operation for the next
	// block and then queues itself for every following block: queued
	// operations run at the start of each block, whatever its size, so the
	// check sees the state after every block's end-blockers (settlements,
	// expiries, slashes) and the previous block's transactions.
	tally.check = func(_ *rand.Rand, _ *baseapp.BaseApp, ctx sdk.Context, _ []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		*checks++
		if err := simCheck(ctx, a); err != nil {
			return simtypes.NoOpMsg("invariants", "check", err.Error()), nil,
				fmt.Errorf("height %d: %w", ctx.BlockHeight(), err)
		}
		return simtypes.NoOpMsg("invariants", "check", ""), tally.queueCheck(ctx, nil), nil
	}
	return ops
}

// simCheck checks that each Crucible module's coins reconcile exactly (the
// checks of checkReconciles in market_integration_test.go):
//   - escrow: EscrowKeeper.CheckBalances (module balance == account balances
//     plus unwithdrawn earnings, per denom, and every account valid);
//   - market's module balance == deposits of OPEN bids + WON bids of ACTIVE
//     leases;
//   - provider's module balance == sum of provider bonds.
func simCheck(ctx sdk.Context, a *app.App) error {
	if err := a.EscrowKeeper.CheckBalances(ctx); err != nil {
		return fmt.Errorf("escrow: %w", err)
	}
	bal := func(module string) sdkmath.Int {
		return a.BankKeeper.GetBalance(ctx, authtypes.NewModuleAddress(module), app.BondDenom).Amount
	}
	active := map[uint64]bool{}
	if err := a.MarketKeeper.Leases.Walk(ctx, nil, func(_ uint64, l markettypes.Lease) (bool, error) {
		if l.State == markettypes.LeaseStateActive {
			active[l.BidId] = true
		}
		return false, nil
	}); err != nil {
		return err
	}
	held := sdkmath.ZeroInt()
	if err := a.MarketKeeper.Bids.Walk(ctx, nil, func(id uint64, b markettypes.Bid) (bool, error) {
		if b.State == markettypes.BidStateOpen || (b.State == markettypes.BidStateWon && active[id]) {
			held = held.Add(b.Deposit.Amount)
		}
		return false, nil
	}); err != nil {
		return err
	}
	if got := bal(markettypes.ModuleName); !got.Equal(held) {
		return fmt.Errorf("market module holds %s, bids hold %s", got, held)
	}
	bonds := sdkmath.ZeroInt()
	if err := a.ProviderKeeper.Providers.Walk(ctx, nil, func(_ sdk.AccAddress, p providertypes.Provider) (bool, error) {
		bonds = bonds.Add(p.Bond.Amount)
		return false, nil
	}); err != nil {
		return err
	}
	if got := bal(providertypes.ModuleName); !got.Equal(bonds) {
		return fmt.Errorf("provider module holds %s, bonds sum to %s", got, bonds)
	}
	return nil
}

// runSim runs the SDK's random-message simulation on a fresh app and checks
// the invariants after every block and at the end.
func runSim(t *testing.T, seed int64, blocks, blockSize int) (*app.App, *opTally) {
	t.Helper()
	a := newSimApp(t, "sim")
	tally := newOpTally()
	checks := 0
	ops := simOperations(t, a, tally, &checks)
	var stats bytes.Buffer
	cfg := simConfig(t, seed, blocks, blockSize)
	start := time.Now()
	_, _, err := simulation.SimulateFromSeed(t, &stats, a.BaseApp,
		simtestutil.AppStateFn(a.AppCodec(), a.SimulationManager(), a.DefaultGenesis()),
		simtypes.RandomAccounts, ops, app.BlockedAddresses(), cfg, a.AppCodec())
	if err != nil {
		t.Fatal(err)
	}
	ctx := a.NewContextLegacy(true, cmtproto.Header{Height: a.LastBlockHeight(), ChainID: simChainID})
	if err := simCheck(ctx, a); err != nil {
		t.Fatalf("after the last block: %v", err)
	}
	t.Logf("%d blocks (average block size %d), height %d, %d invariant checks, %s",
		blocks, blockSize, a.LastBlockHeight(), checks, time.Since(start).Round(time.Millisecond))
	if checks < blocks-5 {
		t.Fatalf("the invariants were checked after only %d of %d blocks", checks, blocks)
	}
	return a, tally
}

// TestAppSimulation runs the SDK simulation framework over the whole app: a
// randomized genesis (every module with a simulation, Crucible's with random
// params) and random bank, provider, market, escrow and attest messages from
// the simulation accounts, checking after every block that escrow, market and
// provider module balances reconcile with their state.
func TestAppSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation: skipped under -short")
	}
	_, tally := runSim(t, 2, 50, 40)
	total := tally.report(t)
	t.Logf("delivered per module: %v", total)
	for _, m := range []string{providertypes.ModuleName, markettypes.ModuleName, escrowtypes.ModuleName} {
		if total[m] == 0 {
			t.Errorf("no %s message was delivered", m)
		}
	}
	leases := 0
	for k, n := range tally.ok {
		if strings.Contains(k, "MsgCreateLease") {
			leases += n
		}
	}
	if leases == 0 {
		t.Errorf("no lease was created: the simulation did not reach the escrow paths")
	}
}

// TestAppImportExport simulates, exports the genesis, imports it into a
// fresh app and compares the Crucible modules' stores key by key.
func TestAppImportExport(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation: skipped under -short")
	}
	a, _ := runSim(t, 23, 30, 30)
	exported, err := a.ExportAppStateAndValidators(false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := newSimApp(t, "imported")
	vals := make([]abci.ValidatorUpdate, 0, len(exported.Validators))
	for _, v := range exported.Validators {
		pk, err := cryptoenc.PubKeyToProto(v.PubKey)
		if err != nil {
			t.Fatal(err)
		}
		vals = append(vals, abci.ValidatorUpdate{PubKey: pk, Power: v.Power})
	}
	cp := exported.ConsensusParams
	if _, err := b.InitChain(&abci.RequestInitChain{
		ChainId: simChainID, ConsensusParams: &cp, Validators: vals,
		AppStateBytes: exported.AppState, InitialHeight: exported.Height + 1,
	}); err != nil {
		t.Fatal(err)
	}
	ctxA := a.NewContextLegacy(true, cmtproto.Header{Height: a.LastBlockHeight(), ChainID: simChainID})
	ctxB := b.NewContextLegacy(false, cmtproto.Header{Height: a.LastBlockHeight(), ChainID: simChainID})
	for _, key := range []string{providertypes.StoreKey, markettypes.StoreKey, escrowtypes.StoreKey, attesttypes.StoreKey} {
		storeA, storeB := ctxA.KVStore(a.GetKey(key)), ctxB.KVStore(b.GetKey(key))
		diffA, diffB := simtestutil.DiffKVStores(storeA, storeB, nil)
		if len(diffA) != 0 || len(diffB) != 0 {
			t.Errorf("store %s differs after export -> import: %d/%d keys\n%s", key, len(diffA), len(diffB),
				simtestutil.GetSimulationLog(key, a.SimulationManager().StoreDecoders, diffA, diffB))
			continue
		}
		n := 0
		it := storeA.Iterator(nil, nil)
		for ; it.Valid(); it.Next() {
			n++
		}
		_ = it.Close()
		t.Logf("store %s: %d keys, identical after export -> import", key, n)
	}
	if err := simCheck(ctxB, b); err != nil {
		t.Fatalf("imported app: %v", err)
	}
}
