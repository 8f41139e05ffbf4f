package app

import (
	"context"

	"cosmossdk.io/core/address"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	attestkeeper "github.com/crucible-network/crucible/x/attest/keeper"
	attestmodule "github.com/crucible-network/crucible/x/attest/module"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	escrowkeeper "github.com/crucible-network/crucible/x/escrow/keeper"
	escrowmodule "github.com/crucible-network/crucible/x/escrow/module"
	escrowtypes "github.com/crucible-network/crucible/x/escrow/types"
	marketkeeper "github.com/crucible-network/crucible/x/market/keeper"
	marketmodule "github.com/crucible-network/crucible/x/market/module"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providerkeeper "github.com/crucible-network/crucible/x/provider/keeper"
	providermodule "github.com/crucible-network/crucible/x/provider/module"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// crucibleKeepers holds the keepers of Crucible's own modules. It is embedded
// in App so that they read as app.ProviderKeeper, app.MarketKeeper, ...
//
// Dependencies run one way: market -> provider, escrow; attest -> provider,
// market. Escrow settles lazily and never calls market: market's EndBlocker
// asks escrow which accounts ran dry (ProcessDue) and closes those leases.
type crucibleKeepers struct {
	ProviderKeeper providerkeeper.Keeper
	EscrowKeeper   escrowkeeper.Keeper
	MarketKeeper   marketkeeper.Keeper
	AttestKeeper   attestkeeper.Keeper
}

// crucibleMaccPerms are the module accounts of Crucible's modules: provider
// holds bonds and burns slashed ones; escrow holds tenant funds and
// unwithdrawn earnings; market holds bid deposits.
var crucibleMaccPerms = map[string][]string{
	providertypes.ModuleName: {authtypes.Burner},
	escrowtypes.ModuleName:   nil,
	markettypes.ModuleName:   nil,
}

// crucibleStoreKeys lists the store keys of Crucible's own modules.
func crucibleStoreKeys() []string {
	return []string{providertypes.StoreKey, escrowtypes.StoreKey, markettypes.StoreKey, attesttypes.StoreKey}
}

// initCrucibleKeepers builds the keepers of Crucible's own modules.
func (app *App) initCrucibleKeepers(cdc codec.Codec, keys map[string]*storetypes.KVStoreKey, authority string, ac address.Codec) {
	// x/provider checks GPU classes against x/attest's class_sizes; the
	// attest keeper is built below (it needs the provider keeper), so the
	// provider keeper gets a handle that reads it through the app.
	app.ProviderKeeper = providerkeeper.NewKeeper(cdc,
		runtime.NewKVStoreService(keys[providertypes.StoreKey]), ac, app.BankKeeper, attestClasses{&app.AttestKeeper}, authority)
	app.EscrowKeeper = escrowkeeper.NewKeeper(cdc,
		runtime.NewKVStoreService(keys[escrowtypes.StoreKey]), ac, app.BankKeeper, app.DistrKeeper, authority)
	app.MarketKeeper = marketkeeper.NewKeeper(cdc,
		runtime.NewKVStoreService(keys[markettypes.StoreKey]), ac, app.BankKeeper,
		app.ProviderKeeper, app.EscrowKeeper, authority)
	app.AttestKeeper = attestkeeper.NewKeeper(cdc,
		runtime.NewKVStoreService(keys[attesttypes.StoreKey]), ac, app.ProviderKeeper, app.MarketKeeper, authority)
}

// attestClasses gives x/provider x/attest's GPU class check.
type attestClasses struct{ k *attestkeeper.Keeper }

func (a attestClasses) CheckGPUClass(ctx context.Context, class string) error {
	return a.k.CheckGPUClass(ctx, class)
}

// crucibleModules returns the app modules of Crucible's own modules.
func (app *App) crucibleModules(cdc codec.Codec) []module.AppModule {
	return []module.AppModule{
		providermodule.NewAppModule(cdc, app.ProviderKeeper),
		escrowmodule.NewAppModule(app.EscrowKeeper),
		marketmodule.NewAppModule(cdc, app.MarketKeeper),
		attestmodule.NewAppModule(cdc, app.AttestKeeper),
	}
}

// Attest's BeginBlocker records the block hash (challenge seeds and samples
// come from it) and schedules the window's challenges.
func crucibleBeginBlockers() []string { return []string{attesttypes.ModuleName} }

// Attest's EndBlocker expires missed deadlines first (a fraud closes the
// provider's leases and slashes its bond before anything else moves); then
// market closes expired orders and leases and the leases whose escrow ran
// dry; provider releases matured bonds last, after any slash.
func crucibleEndBlockers() []string {
	return []string{attesttypes.ModuleName, markettypes.ModuleName, providertypes.ModuleName}
}

// Genesis: providers first (market checks them), then escrow (accounts), then
// market (orders, bids, leases reference both).
func crucibleGenesisOrder() []string {
	return []string{providertypes.ModuleName, escrowtypes.ModuleName, markettypes.ModuleName, attesttypes.ModuleName}
}

func init() {
	for name, perms := range crucibleMaccPerms {
		maccPerms[name] = perms
	}
}
