package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/sidecar/inventory"
)

// Output formats of the inventory command.
const (
	OutputText = "text"
	OutputJSON = "json"
)

func newInventoryCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "inventory",
		Short: "Print the GPUs the sidecar sees",
		Long: `Print the GPUs the configured inventory backend reports. --backend overrides
the config file's inventory.backend. Without a config file the defaults apply.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			output, err := cmd.Flags().GetString("output")
			if err != nil {
				return err
			}
			if output != OutputText && output != OutputJSON {
				return fmt.Errorf("--output %q: want %s or %s", output, OutputText, OutputJSON)
			}
			cfg, err := loadConfig(cmd, true)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("backend") {
				cfg.Inventory.Backend, err = cmd.Flags().GetString("backend")
				if err != nil {
					return err
				}
				if err := cfg.Inventory.ValidateBasic(); err != nil {
					return fmt.Errorf("--backend: inventory.%w", err)
				}
			}
			backend, err := inventory.Open(cmd.Context(), cfg.Inventory, nil)
			if err != nil {
				return err
			}
			defer backend.Close()
			snap, err := backend.Snapshot(cmd.Context())
			if err != nil {
				return err
			}
			if output == OutputJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(snap)
			}
			return writeText(cmd.OutOrStdout(), snap)
		},
	}
	c.Flags().StringP("output", "o", OutputText, "output format: text or json")
	c.Flags().String("backend", config.InventoryBackendAuto, "inventory backend: sim, nvml or auto (default: the config file's)")
	return c
}

func writeText(w io.Writer, snap inventory.Snapshot) error {
	fmt.Fprintf(w, "backend: %s", snap.Backend)
	if snap.DriverVersion != "" {
		fmt.Fprintf(w, "  driver: %s", snap.DriverVersion)
	}
	if snap.CUDAVersion != "" {
		fmt.Fprintf(w, "  cuda: %s", snap.CUDAVersion)
	}
	fmt.Fprintf(w, "  confidential computing: %s  gpus: %d\n", snap.ConfidentialCompute, len(snap.GPUs))
	for _, warning := range snap.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
	if len(snap.GPUs) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INDEX\tUUID\tNAME\tCLASS\tMEMORY MiB\tMIG\tECC\tUTIL GPU/MEM\tTEMP\tPOWER\tPROCESSES")
	for _, g := range snap.GPUs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\t%s\t%s\t%s\n",
			g.Index, g.UUID, g.Name, orNA(g.Class), g.MemoryUsedMiB, g.MemoryTotalMiB,
			g.MIGMode, g.ECCMode, utilText(g.Utilization), unitText(g.TemperatureC, "C", 1),
			unitText(g.PowerMW, "W", 1000), processText(g.Processes))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, g := range snap.GPUs {
		for _, warning := range g.Warnings {
			fmt.Fprintf(w, "warning: gpu %d: %s\n", g.Index, warning)
		}
	}
	return nil
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

func utilText(u *inventory.Utilization) string {
	if u == nil {
		return "n/a"
	}
	return fmt.Sprintf("%d%%/%d%%", u.GPUPercent, u.MemoryPercent)
}

func unitText(v *uint32, unit string, div uint32) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%d%s", *v/div, unit)
}

func processText(ps []inventory.Process) string {
	if ps == nil {
		return "n/a"
	}
	if len(ps) == 0 {
		return "none"
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("%d(%dMiB)", p.PID, p.UsedMemoryMiB)
	}
	return strings.Join(parts, ",")
}
