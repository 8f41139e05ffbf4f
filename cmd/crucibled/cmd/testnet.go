package cmd

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/crucible-network/crucible/app"
	"github.com/crucible-network/crucible/testutil/network"
)

const (
	flagValidators    = "validators"
	flagOutputDir     = "output-dir"
	flagChainID       = "chain-id"
	flagBasePort      = "base-port"
	flagTimeoutCommit = "timeout-commit"
	flagMinGasPrices  = "node-min-gas-prices" // not minimum-gas-prices: the server binds that name to app.toml of --home
	flagAccounts      = "accounts"
	flagProduction    = "production-params"
)

// NewTestnetCmd returns `crucibled testnet`: lay out (init-files) or run
// (start) a multi-validator network on the loopback interface.
func NewTestnetCmd(_ *app.App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "testnet",
		Short: "Multi-validator test networks on 127.0.0.1",
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(testnetInitFilesCmd(), testnetStartCmd())
	return cmd
}

func addTestnetFlags(cmd *cobra.Command) {
	cmd.Flags().Int(flagValidators, 4, "number of validators")
	cmd.Flags().String(flagOutputDir, "./build/testnet", "directory for the node homes (node0, node1, ...)")
	cmd.Flags().String(flagChainID, "crucible-localnet", "chain id")
	cmd.Flags().Int(flagBasePort, 26600, "node i uses base+10i (p2p), +1 (rpc), +2 (grpc), +3 (api); 0 = free ports")
	cmd.Flags().Duration(flagTimeoutCommit, time.Second, "pause after each block")
	cmd.Flags().String(flagMinGasPrices, "0"+app.BondDenom, "minimum gas prices of every validator")
	cmd.Flags().StringSlice(flagAccounts, []string{"alice", "bob"}, "extra funded accounts in every node's test keyring")
	cmd.Flags().Bool(flagProduction, false, "keep the modules' production params (default: test-size challenges, short windows and periods)")
}

func testnetOptions(cmd *cobra.Command) (network.Options, error) {
	dir, _ := cmd.Flags().GetString(flagOutputDir)
	opts := network.DefaultOptions(dir)
	opts.Validators, _ = cmd.Flags().GetInt(flagValidators)
	opts.ChainID, _ = cmd.Flags().GetString(flagChainID)
	opts.BasePort, _ = cmd.Flags().GetInt(flagBasePort)
	opts.TimeoutCommit, _ = cmd.Flags().GetDuration(flagTimeoutCommit)
	opts.MinGasPrices, _ = cmd.Flags().GetString(flagMinGasPrices)
	production, _ := cmd.Flags().GetBool(flagProduction)
	opts.Localnet = !production
	names, _ := cmd.Flags().GetStringSlice(flagAccounts)
	coins := opts.Accounts[0].Coins
	opts.Accounts = nil
	for _, n := range names {
		opts.Accounts = append(opts.Accounts, network.Account{Name: n, Coins: coins})
	}
	if _, err := os.Stat(dir); err == nil {
		entries, _ := os.ReadDir(dir)
		if len(entries) > 0 {
			return opts, fmt.Errorf("output dir %s is not empty; remove it first", dir)
		}
	}
	return opts, nil
}

type layoutSummary struct {
	ChainID string            `json:"chain_id"`
	Nodes   []nodeSummary     `json:"nodes"`
	Keys    map[string]string `json:"mnemonics"`
}

type nodeSummary struct {
	Moniker  string `json:"moniker"`
	Home     string `json:"home"`
	Operator string `json:"operator"`
	RPC      string `json:"rpc"`
	GRPC     string `json:"grpc"`
	API      string `json:"api"`
	P2P      string `json:"p2p"`
}

func summarize(l *network.Layout) layoutSummary {
	s := layoutSummary{ChainID: l.ChainID, Keys: l.Mnemonics}
	for _, n := range l.Nodes {
		s.Nodes = append(s.Nodes, nodeSummary{Moniker: n.Moniker, Home: n.Home, Operator: n.Address.String(),
			RPC: n.RPCAddress(), GRPC: n.GRPCAddress(), API: n.APIAddress(),
			P2P: fmt.Sprintf("%s@%s:%d", n.NodeID, n.Host, n.P2PPort)})
	}
	return s
}

func testnetInitFilesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "init-files",
		Short: "Write the homes of an N-validator network on 127.0.0.1 (start each with `crucibled start --home DIR/nodeI`)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := testnetOptions(cmd)
			if err != nil {
				return err
			}
			layout, err := network.InitFiles(opts)
			if err != nil {
				return err
			}
			bz, err := json.MarshalIndent(summarize(layout), "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(opts.OutputDir+"/testnet.json", bz, 0o600); err != nil {
				return err
			}
			cmd.Printf("wrote %d validator homes under %s (summary: %s/testnet.json)\n",
				len(layout.Nodes), opts.OutputDir, opts.OutputDir)
			return nil
		},
	}
	addTestnetFlags(cmd)
	return cmd
}

func testnetStartCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run an N-validator network inside this process until interrupted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := testnetOptions(cmd)
			if err != nil {
				return err
			}
			net, err := network.New(cmdLogger{cmd}, opts)
			if err != nil {
				return err
			}
			defer net.Cleanup()
			bz, _ := json.MarshalIndent(summarize(net.Layout), "", "  ")
			cmd.Println(string(bz))
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
			<-sig
			cmd.Println("stopping")
			return nil
		},
	}
	addTestnetFlags(cmd)
	cmd.Flags().Set(flagValidators, "1") //nolint:errcheck // flag exists
	return cmd
}

type cmdLogger struct{ cmd *cobra.Command }

func (l cmdLogger) Log(args ...any)                 { l.cmd.PrintErrln(args...) }
func (l cmdLogger) Logf(format string, args ...any) { l.cmd.PrintErrf(format+"\n", args...) }
