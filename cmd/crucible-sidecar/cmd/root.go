// Package cmd holds the crucible-sidecar cobra commands. They only parse
// flags, load sidecar/config and call the sidecar packages.
package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/crucible-network/crucible/sidecar/config"
)

// Flag names shared by several commands.
const (
	FlagHome   = "home"
	FlagConfig = "config"
)

// HomeEnv overrides the default home directory.
const HomeEnv = "CRUCIBLE_SIDECAR_HOME"

// DefaultHome returns $CRUCIBLE_SIDECAR_HOME, else ~/.crucible-sidecar.
func DefaultHome() string {
	if h := os.Getenv(HomeEnv); h != "" {
		return h
	}
	if dir, err := os.UserHomeDir(); err == nil {
		return filepath.Join(dir, ".crucible-sidecar")
	}
	return ".crucible-sidecar"
}

// NewRootCmd builds the crucible-sidecar command tree with DefaultPlugins.
func NewRootCmd() *cobra.Command { return NewRootCmdWith(DefaultPlugins()) }

// NewRootCmdWith builds the command tree; start runs the given plugins.
func NewRootCmdWith(plugins Plugins) *cobra.Command {
	root := &cobra.Command{
		Use:   "crucible-sidecar",
		Short: "Provider sidecar for the Crucible GPU market",
		Long: `crucible-sidecar runs beside a provider's GPUs. It reports their inventory,
bids on open orders, runs leased jobs and answers challenges.

Its configuration lives in <home>/config/sidecar.yaml (or the file --config
names; a .json file is read as JSON).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String(FlagHome, DefaultHome(), "sidecar home directory (env "+HomeEnv+")")
	root.PersistentFlags().String(FlagConfig, "", "config file (default <home>/config/sidecar.yaml)")
	root.AddCommand(
		newConfigCmd(),
		newInventoryCmd(),
		newProverCmd(),
		newRegisterCmd(),
		newStartCmd(plugins),
		newDevRegistryCmd(),
	)
	return root
}

// paths returns the home directory and config file path the flags name.
func paths(cmd *cobra.Command) (home, cfgPath string, err error) {
	home, err = cmd.Flags().GetString(FlagHome)
	if err != nil {
		return "", "", err
	}
	if home == "" {
		return "", "", fmt.Errorf("--%s must not be empty", FlagHome)
	}
	cfgPath, err = cmd.Flags().GetString(FlagConfig)
	if err != nil {
		return "", "", err
	}
	if cfgPath == "" {
		cfgPath = config.DefaultPath(home)
	}
	return home, cfgPath, nil
}

// loadConfig loads the config file the flags name, with its relative paths
// under home. With allowMissing, a missing file gives the defaults and a
// note on stderr.
func loadConfig(cmd *cobra.Command, allowMissing bool) (config.Config, error) {
	home, cfgPath, err := paths(cmd)
	if err != nil {
		return config.Config{}, err
	}
	cfg, err := config.Load(cfgPath)
	if errors.Is(err, fs.ErrNotExist) && allowMissing {
		fmt.Fprintf(cmd.ErrOrStderr(), "no config file at %s; using the defaults (create one with `crucible-sidecar config init`)\n", cfgPath)
		cfg, err = config.DefaultConfig(), nil
	}
	if err != nil {
		return config.Config{}, err
	}
	cfg.SetRoot(home)
	return cfg, nil
}
