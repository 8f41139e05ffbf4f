package network

import (
	"cosmossdk.io/log/v2"

	dbm "github.com/cosmos/cosmos-db"
	bip39 "github.com/cosmos/go-bip39"
	"github.com/spf13/viper"
)

func nopLogger() log.Logger { return log.NewNopLogger() }

func memDB() dbm.DB { return dbm.NewMemDB() }

// emptyAppOptions is a servertypes.AppOptions with nothing set.
type emptyAppOptions struct{}

func (emptyAppOptions) Get(string) any { return nil }

func bip39Entropy() (string, error) {
	entropy, err := bip39.NewEntropy(256)
	if err != nil {
		return "", err
	}
	return bip39.NewMnemonic(entropy)
}

func newViper() *viper.Viper { return viper.New() }
