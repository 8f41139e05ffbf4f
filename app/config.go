package app

import (
	"os"
	"path/filepath"
	"sync"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

const (
	// AppName is the name of the application as reported by ABCI Info.
	AppName = "crucible"
	// AccountAddressPrefix is the bech32 human readable part of account addresses.
	AccountAddressPrefix = "cru"
	// BondDenom is the staking and fee denomination (1 CRU = 10^6 ucru).
	BondDenom = "ucru"
	// DisplayDenom is the human-facing denomination.
	DisplayDenom = "cru"
)

// DefaultNodeHome is the default home directory of crucibled.
var DefaultNodeHome = func() string {
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, ".crucible")
}()

var configOnce sync.Once

// SetConfig installs the bech32 prefixes and the bond denomination into the
// SDK's global configuration. It is idempotent and safe to call from tests and
// from the CLI; the configuration is sealed after the first call.
func SetConfig() {
	configOnce.Do(func() {
		sdk.DefaultBondDenom = BondDenom
		cfg := sdk.GetConfig()
		cfg.SetBech32PrefixForAccount(AccountAddressPrefix, AccountAddressPrefix+sdk.PrefixPublic)
		cfg.SetBech32PrefixForValidator(
			AccountAddressPrefix+sdk.PrefixValidator+sdk.PrefixOperator,
			AccountAddressPrefix+sdk.PrefixValidator+sdk.PrefixOperator+sdk.PrefixPublic,
		)
		cfg.SetBech32PrefixForConsensusNode(
			AccountAddressPrefix+sdk.PrefixValidator+sdk.PrefixConsensus,
			AccountAddressPrefix+sdk.PrefixValidator+sdk.PrefixConsensus+sdk.PrefixPublic,
		)
		cfg.Seal()
	})
}

func init() { SetConfig() }
