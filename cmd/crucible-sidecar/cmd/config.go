package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/crucible-network/crucible/sidecar/config"
)

func newConfigCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Create and check the sidecar configuration",
	}
	c.AddCommand(newConfigInitCmd(), newConfigValidateCmd())
	return c
}

func newConfigInitCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "init",
		Short: "Write the default configuration file",
		Long: `Write the default configuration to <home>/config/sidecar.yaml (or --config).
An existing file is left alone unless --force is given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, cfgPath, err := paths(cmd)
			if err != nil {
				return err
			}
			force, err := cmd.Flags().GetBool("force")
			if err != nil {
				return err
			}
			if force {
				err = config.Write(cfgPath, config.DefaultConfig())
			} else {
				err = config.WriteDefault(cfgPath)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", cfgPath)
			return nil
		},
	}
	c.Flags().Bool("force", false, "replace an existing file")
	return c
}

func newConfigValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, cfgPath, err := paths(cmd)
			if err != nil {
				return err
			}
			if _, err := loadConfig(cmd, false); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is valid\n", cfgPath)
			return nil
		},
	}
}
