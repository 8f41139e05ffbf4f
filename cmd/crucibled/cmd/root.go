// Package cmd wires the crucibled command tree: node commands (init, start,
// export, comet, testnet), client commands (keys, tx, query, status) and the
// autocli commands generated from every module's gRPC services.
package cmd

import (
	"os"
	"path/filepath"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/spf13/cobra"

	"cosmossdk.io/log/v2"

	dbm "github.com/cosmos/cosmos-db"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/config"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/server"
	serverconfig "github.com/cosmos/cosmos-sdk/server/config"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/crucible-network/crucible/app"
)

// NewRootCmd returns the root command of crucibled.
func NewRootCmd() *cobra.Command {
	// A throw-away app gives the codecs, the module basics and the autocli
	// options; it opens no store.
	tempApp := app.New(log.NewNopLogger(), dbm.NewMemDB(), false, simtestutil.EmptyAppOptions{})

	initClientCtx := client.Context{}.
		WithCodec(tempApp.AppCodec()).
		WithInterfaceRegistry(tempApp.InterfaceRegistry()).
		WithTxConfig(tempApp.TxConfig()).
		WithLegacyAmino(tempApp.LegacyAmino()).
		WithInput(os.Stdin).
		WithAccountRetriever(authtypes.AccountRetriever{}).
		WithHomeDir(app.DefaultNodeHome).
		WithViper("CRUCIBLED")

	rootCmd := &cobra.Command{
		Use:           "crucibled",
		Short:         "Crucible: a Cosmos chain where tenants rent GPUs and providers prove their compute",
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(cmd.OutOrStdout())
			cmd.SetErr(cmd.ErrOrStderr())

			clientCtx := initClientCtx.WithCmdContext(cmd.Context())
			clientCtx, err := client.ReadPersistentCommandFlags(clientCtx, cmd.Flags())
			if err != nil {
				return err
			}
			clientCtx, err = config.ReadFromClientConfig(clientCtx)
			if err != nil {
				return err
			}
			if err := client.SetCmdClientContextHandler(clientCtx, cmd); err != nil {
				return err
			}
			appTemplate, appConfig := initAppConfig()
			return interceptConfigs(cmd, appTemplate, appConfig)
		},
	}

	initRootCmd(rootCmd, tempApp)

	autoCliOpts := tempApp.AutoCliOpts()
	autoCliOpts.ClientCtx = initClientCtx
	if err := autoCliOpts.EnhanceRootCommand(rootCmd); err != nil {
		panic(err)
	}
	return rootCmd
}

// interceptConfigs is server.InterceptConfigsPreRunHandler with Crucible's
// block time kept: when it writes a fresh config.toml, the SDK replaces a
// timeout_commit equal to CometBFT's default (1 s, ours too) with 5 s, so a
// node made by `crucibled init` would run 5 s blocks. Here a config.toml
// created by this call gets DefaultTimeoutCommit back; an operator's own
// config file is never touched.
func interceptConfigs(cmd *cobra.Command, appTemplate string, appConfig any) error {
	home, _ := cmd.Flags().GetString(flags.FlagHome)
	if home == "" {
		home = app.DefaultNodeHome
	}
	cfgFile := filepath.Join(home, "config", "config.toml")
	_, statErr := os.Stat(cfgFile)
	fresh := os.IsNotExist(statErr)
	if err := server.InterceptConfigsPreRunHandler(cmd, appTemplate, appConfig, initCometConfig()); err != nil {
		return err
	}
	if !fresh {
		return nil
	}
	sctx := server.GetServerContextFromCmd(cmd)
	if sctx.Config.Consensus.TimeoutCommit == DefaultTimeoutCommit {
		return nil
	}
	if _, err := os.Stat(cfgFile); err != nil {
		return nil // not written by this command
	}
	sctx.Config.Consensus.TimeoutCommit = DefaultTimeoutCommit
	cmtcfg.WriteConfigFile(cfgFile, sctx.Config)
	return server.SetCmdServerContext(cmd, sctx)
}

// initCometConfig returns CometBFT's defaults with Crucible's block timing:
// one-second blocks keep leases and challenges responsive.
func initCometConfig() *cmtcfg.Config {
	cfg := cmtcfg.DefaultConfig()
	cfg.Consensus.TimeoutCommit = DefaultTimeoutCommit
	return cfg
}

// initAppConfig returns the app.toml template and defaults: a minimum gas
// price in ucru so that a fresh node does not accept free transactions, and
// the pebble application database (see AppDBBackend).
func initAppConfig() (string, any) {
	cfg := serverconfig.DefaultConfig()
	cfg.MinGasPrices = DefaultMinGasPrices
	cfg.AppDBBackend = AppDBBackend
	return serverconfig.DefaultConfigTemplate, cfg
}
