package app

import (
	"cosmossdk.io/core/address"

	"github.com/cosmos/cosmos-sdk/codec"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/types/module"
)

// crucibleKeepers holds the keepers of Crucible's own modules. It is embedded
// in App so that they read as app.ProviderKeeper, app.MarketKeeper, ...
type crucibleKeepers struct{}

// crucibleStoreKeys lists the store keys of Crucible's own modules.
func crucibleStoreKeys() []string { return nil }

// initCrucibleKeepers builds the keepers of Crucible's own modules.
func (app *App) initCrucibleKeepers(_ codec.Codec, _ map[string]*storetypes.KVStoreKey, _ string, _ address.Codec) {
}

// crucibleModules returns the app modules of Crucible's own modules.
func (app *App) crucibleModules(_ codec.Codec) []module.AppModule { return nil }

func crucibleBeginBlockers() []string { return nil }
func crucibleEndBlockers() []string   { return nil }
func crucibleGenesisOrder() []string  { return nil }
