package app

import (
	"testing"

	"cosmossdk.io/log/v2"
	dbm "github.com/cosmos/cosmos-db"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
)

// TestDefaultGenesisHasCRUMetadata: the genesis `crucibled init` and `testnet init-files` write
// (BasicModuleManager.DefaultGenesis) carries ucru's bank metadata, valid, display cru at 10^6.
func TestDefaultGenesisHasCRUMetadata(t *testing.T) {
	a := New(log.NewNopLogger(), dbm.NewMemDB(), true, noAppOpts{})
	state := a.BasicModuleManager.DefaultGenesis(a.AppCodec())
	var gs banktypes.GenesisState
	if err := a.AppCodec().UnmarshalJSON(state[banktypes.ModuleName], &gs); err != nil {
		t.Fatal(err)
	}
	if err := gs.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(gs.DenomMetadata) != 1 {
		t.Fatalf("denom metadata: %v", gs.DenomMetadata)
	}
	m := gs.DenomMetadata[0]
	if m.Base != BondDenom || m.Display != DisplayDenom || m.Symbol != "CRU" {
		t.Fatalf("metadata %+v", m)
	}
	for _, u := range m.DenomUnits {
		if u.Denom == DisplayDenom && u.Exponent != DisplayExponent {
			t.Fatalf("cru exponent %d", u.Exponent)
		}
	}
}
