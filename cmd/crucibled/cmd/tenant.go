package cmd

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/sidecar/api"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// NewTenantCmd returns `crucibled tenant`: the multi-step workflows a tenant
// runs (the per-message commands live under `tx market` and `tx escrow`).
func NewTenantCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenant",
		Short: "Tenant workflows: rent a GPU, run a job on it, fetch results, close the lease",
		RunE:  client.ValidateCmd,
	}
	cmd.AddCommand(tenantRentCmd(), tenantJobCmd(), tenantCloseCmd(), tenantForwardCmd())
	return cmd
}

// RentResult is what `tenant rent` prints with --output json.
type RentResult struct {
	OrderID     uint64   `json:"order_id"`
	BidID       uint64   `json:"bid_id"`
	LeaseID     uint64   `json:"lease_id"`
	Provider    string   `json:"provider"`
	HostURI     string   `json:"host_uri"`
	Price       string   `json:"price_per_block"`
	GPUs        []string `json:"gpu_uuids"`
	Reputation  int64    `json:"provider_reputation"`
	OrderHeight int64    `json:"order_height"`
	LeaseHeight int64    `json:"lease_height"`
	Bids        int      `json:"bids_seen"`
}

func tenantRentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rent",
		Short: "Create an order, wait for bids, lease the cheapest bid whose provider meets --min-reputation",
		Long: `Creates an order for --count GPUs of --class (or --model) with the job manifest's SHA-256
as its manifest hash, waits for bids (progress on stderr), picks the cheapest open bid whose
provider's reputation is at least --min-reputation, and creates the lease. If no acceptable bid
arrives within --wait, the order is cancelled and the deposit refunded.`,
		Example: `crucibled tenant rent --class h100 --count 1 --max-price 100ucru --duration 600 \
  --deposit 2000000ucru --manifest job.json --from alice`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cctx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			f := cmd.Flags()
			manifestPath, _ := f.GetString("manifest")
			manifest, err := os.ReadFile(manifestPath)
			if err != nil {
				return fmt.Errorf("read manifest: %w", err)
			}
			hash := sha256.Sum256(manifest)
			class, _ := f.GetString("class")
			model, _ := f.GetString("model")
			count, _ := f.GetUint32("count")
			minMem, _ := f.GetUint64("min-memory-mib")
			region, _ := f.GetString("region")
			tier, _ := f.GetString("tier")
			minRep, _ := f.GetInt64("min-reputation")
			verifiedWithin, _ := f.GetUint64("verified-within")
			duration, _ := f.GetUint64("duration")
			wait, _ := f.GetDuration("wait")
			maxPrice, err := parseCoinFlag(cmd, "max-price")
			if err != nil {
				return err
			}
			deposit, err := parseCoinFlag(cmd, "deposit")
			if err != nil {
				return err
			}
			tenant := cctx.GetFromAddress().String()
			res, err := deliver(cmd, cctx, &markettypes.MsgCreateOrder{
				Tenant: tenant,
				Spec: markettypes.OrderSpec{
					Gpu:    markettypes.GPUSpec{Class: class, Model: model, Count: count, MinMemoryMib: minMem},
					Region: region, Tier: tier, MinReputation: minRep, ManifestHash: hash[:],
					VerifiedWithinBlocks: verifiedWithin,
				},
				MaxPricePerBlock: maxPrice, DurationBlocks: duration, Deposit: deposit,
			})
			if err != nil {
				return fmt.Errorf("create order: %w", err)
			}
			orderID, err := eventUint(res, "crucible.market.v1.EventOrderCreated", "order_id")
			if err != nil {
				return err
			}
			out := RentResult{OrderID: orderID, OrderHeight: res.Height}
			cmd.PrintErrf("order %d created at height %d; waiting for bids (up to %s)\n", orderID, res.Height, wait)

			bid, rep, seen, err := waitForBid(cmd, cctx, orderID, minRep, wait)
			out.Bids = seen
			if err != nil {
				cmd.PrintErrf("%v; cancelling order %d\n", err, orderID)
				if _, cerr := deliver(cmd, cctx, &markettypes.MsgCancelOrder{Tenant: tenant, OrderId: orderID}); cerr != nil {
					return errors.Join(err, fmt.Errorf("cancel order: %w", cerr))
				}
				return err
			}
			res, err = deliver(cmd, cctx, &markettypes.MsgCreateLease{Tenant: tenant, BidId: bid.Id})
			if err != nil {
				return fmt.Errorf("create lease: %w", err)
			}
			prov, err := providertypes.NewQueryClient(cctx).Provider(cmd.Context(), &providertypes.QueryProviderRequest{Owner: bid.Provider})
			if err != nil {
				return err
			}
			out.BidID, out.LeaseID, out.Provider = bid.Id, orderID, bid.Provider
			out.HostURI, out.Price, out.GPUs, out.Reputation = prov.Provider.HostUri, bid.Price.String(), bid.GpuUuids, rep
			out.LeaseHeight = res.Height
			return printResult(cmd, cctx, out, fmt.Sprintf(
				"lease %d active at height %d (%d blocks after the order): provider %s (reputation %d) at %s, %s per block, GPUs %v",
				out.LeaseID, out.LeaseHeight, out.LeaseHeight-out.OrderHeight, out.Provider, out.Reputation, out.HostURI, out.Price, out.GPUs))
		},
	}
	f := cmd.Flags()
	f.String("class", "", "GPU class (e.g. h100); or --model")
	f.String("model", "", "exact GPU model name")
	f.Uint32("count", 1, "number of GPUs")
	f.Uint64("min-memory-mib", 0, "minimum memory per GPU in MiB")
	f.String("region", "", "required provider region")
	f.String("tier", "", "required provider tier")
	f.Int64("min-reputation", 0, "lowest provider reputation (basis points, 0-10000) to accept")
	f.Uint64("verified-within", 0, "accept only GPUs that passed a proof-of-compute challenge within this many blocks (0: any)")
	f.String("max-price", "", "highest price per block, e.g. 100ucru")
	f.Uint64("duration", 0, "lease duration in blocks")
	f.String("deposit", "", "escrow deposit, e.g. 2000000ucru")
	f.String("manifest", "", "job manifest file (its SHA-256 goes on chain)")
	f.Duration("wait", 30*time.Second, "how long to wait for an acceptable bid")
	for _, r := range []string{"max-price", "duration", "deposit", "manifest"} {
		_ = cmd.MarkFlagRequired(r)
	}
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// waitForBid polls the order's open bids once a second, printing progress,
// until an eligible bid exists; it returns the cheapest (ties: lowest id).
func waitForBid(cmd *cobra.Command, cctx client.Context, orderID uint64, minRep int64, wait time.Duration) (markettypes.Bid, int64, int, error) {
	mq, pq := markettypes.NewQueryClient(cctx), providertypes.NewQueryClient(cctx)
	reps := map[string]int64{}
	deadline := time.Now().Add(wait)
	lastCount := -1
	for {
		res, err := mq.Bids(cmd.Context(), &markettypes.QueryBidsRequest{OrderId: orderID, State: markettypes.BidStateOpen})
		if err != nil {
			return markettypes.Bid{}, 0, 0, err
		}
		var ok []markettypes.Bid
		for _, b := range res.Bids {
			rep, known := reps[b.Provider]
			if !known {
				p, err := pq.Provider(cmd.Context(), &providertypes.QueryProviderRequest{Owner: b.Provider})
				if err != nil {
					continue
				}
				rep = p.Provider.Reputation
				reps[b.Provider] = rep
			}
			if rep >= minRep {
				ok = append(ok, b)
			}
		}
		if len(res.Bids) != lastCount {
			cmd.PrintErrf("  %d bid(s), %d from providers with reputation >= %d\n", len(res.Bids), len(ok), minRep)
			lastCount = len(res.Bids)
		}
		if len(ok) > 0 {
			sort.Slice(ok, func(i, j int) bool {
				if !ok[i].Price.Amount.Equal(ok[j].Price.Amount) {
					return ok[i].Price.Amount.LT(ok[j].Price.Amount)
				}
				return ok[i].Id < ok[j].Id
			})
			return ok[0], reps[ok[0].Provider], len(res.Bids), nil
		}
		if time.Now().After(deadline) {
			return markettypes.Bid{}, 0, len(res.Bids), fmt.Errorf("no acceptable bid on order %d within %s", orderID, wait)
		}
		time.Sleep(time.Second)
	}
}

func tenantCloseCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "close <lease-id>",
		Short: "Close a lease: the provider is paid to this block, the rest of the escrow returns to you",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cctx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("lease id %q: %w", args[0], err)
			}
			res, err := deliver(cmd, cctx, &markettypes.MsgCloseLease{Sender: cctx.GetFromAddress().String(), LeaseId: id})
			if err != nil {
				return err
			}
			refund, _ := eventAttr(res, "crucible.escrow.v1.EventAccountClosed", "refunded")
			out := map[string]any{"lease_id": id, "height": res.Height, "txhash": res.TxHash, "refunded": json.RawMessage(orNull(refund))}
			return printResult(cmd, cctx, out, fmt.Sprintf("lease %d closed at height %d; refunded %s", id, res.Height, refund))
		},
	}
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

func orNull(s string) string {
	if s == "" {
		return "null"
	}
	if json.Valid([]byte(s)) {
		return s
	}
	bz, _ := json.Marshal(s)
	return string(bz)
}

func tenantJobCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "job",
		Short: "Talk to the provider's sidecar about a lease's job (requests signed with --from)",
		RunE:  client.ValidateCmd,
	}
	submit := &cobra.Command{
		Use:   "submit <lease-id> <manifest-file>",
		Short: "Send the job manifest (its hash must match the order's) to the provider's sidecar",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cctx, c, id, err := sidecarClient(cmd, args[0])
			if err != nil {
				return err
			}
			manifest, err := os.ReadFile(args[1])
			if err != nil {
				return err
			}
			st, err := c.SubmitManifest(cmd.Context(), id, manifest)
			if err != nil {
				return err
			}
			return printResult(cmd, cctx, st, fmt.Sprintf("lease %d: job %s", id, st.State))
		},
	}
	status := &cobra.Command{
		Use:   "status <lease-id>",
		Short: "Show the job's state on the provider's sidecar",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cctx, c, id, err := sidecarClient(cmd, args[0])
			if err != nil {
				return err
			}
			wait, _ := cmd.Flags().GetDuration("wait")
			deadline := time.Now().Add(wait)
			for {
				st, err := c.Status(cmd.Context(), id)
				if err != nil {
					return err
				}
				done := st.State == "succeeded" || st.State == "failed" || st.State == "cancelled"
				if done || wait == 0 || time.Now().After(deadline) {
					return printResult(cmd, cctx, st, fmt.Sprintf("lease %d: job %s", id, st.State))
				}
				time.Sleep(500 * time.Millisecond)
			}
		},
	}
	status.Flags().Duration("wait", 0, "wait up to this long for the job to finish")
	logs := &cobra.Command{
		Use:   "logs <lease-id>",
		Short: "Stream the job's output (until it ends)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, id, err := sidecarClient(cmd, args[0])
			if err != nil {
				return err
			}
			rc, err := c.Logs(cmd.Context(), id)
			if err != nil {
				return err
			}
			defer rc.Close()
			_, err = io.Copy(cmd.OutOrStdout(), rc)
			return err
		},
	}
	results := &cobra.Command{
		Use:   "results <lease-id>",
		Short: "Fetch the job's result files, recompute their hash and compare it with the provider's receipt on chain",
		Long: `Downloads every result file from the provider's sidecar (into --download DIR, or only
to hash it), recomputes the result hash the way the sidecar computes it (runner.ResultHash
over the paths, sizes and SHA-256s the CLI measured) and compares it with the lease's
result on chain. Prints MATCH, MISMATCH or NO RECEIPT; anything but MATCH exits non-zero.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cctx, c, id, err := sidecarClient(cmd, args[0])
			if err != nil {
				return err
			}
			r, err := c.Results(cmd.Context(), id)
			if err != nil {
				return err
			}
			dir, _ := cmd.Flags().GetString("download")
			files, err := downloadResult(cmd.Context(), c, id, r.Files, dir)
			if err != nil {
				return err
			}
			// The receipt on chain (read after the download: the latest).
			q := markettypes.NewQueryClient(cctx)
			lease, err := q.Lease(cmd.Context(), &markettypes.QueryLeaseRequest{Id: id})
			if err != nil {
				return err
			}
			order, err := q.Order(cmd.Context(), &markettypes.QueryOrderRequest{Id: id}) // lease id == order id
			if err != nil {
				return err
			}
			check := compareResult(lease.Lease.Result, order.Order.Spec.ManifestHash, files, r.Hash)
			out := map[string]any{"result": r, "on_chain": lease.Lease.Result, "check": check}
			line := fmt.Sprintf("lease %d: %s: %d file(s), recomputed hash %x, on chain %x", id, check.Verdict, len(files), []byte(check.Recomputed), []byte(check.OnChain))
			if r := lease.Lease.Result; r != nil {
				line += fmt.Sprintf(" (result %d of the lease, height %d)", r.Submission, r.Height)
			}
			if check.Reason != "" {
				line += " (" + check.Reason + ")"
			}
			if err := printResult(cmd, cctx, out, line); err != nil {
				return err
			}
			if check.Verdict != VerdictMatch {
				cmd.SilenceUsage = true
				return fmt.Errorf("lease %d: %s: %s", id, check.Verdict, check.Reason)
			}
			return nil
		},
	}
	results.Flags().String("download", "", "directory to download the result files into")
	for _, c := range []*cobra.Command{submit, status, logs, results} {
		flags.AddTxFlagsToCmd(c) // --from, --keyring-backend, --node, --output ...
		cmd.AddCommand(c)
	}
	return cmd
}

// sidecarClient finds the lease's provider on chain and returns a tenant
// API client for its host_uri, signing with the --from key.
func sidecarClient(cmd *cobra.Command, idArg string) (client.Context, *api.Client, uint64, error) {
	cctx, err := client.GetClientTxContext(cmd)
	if err != nil {
		return cctx, nil, 0, err
	}
	id, err := strconv.ParseUint(idArg, 10, 64)
	if err != nil {
		return cctx, nil, 0, fmt.Errorf("lease id %q: %w", idArg, err)
	}
	lease, err := markettypes.NewQueryClient(cctx).Lease(cmd.Context(), &markettypes.QueryLeaseRequest{Id: id})
	if err != nil {
		return cctx, nil, 0, err
	}
	prov, err := providertypes.NewQueryClient(cctx).Provider(cmd.Context(), &providertypes.QueryProviderRequest{Owner: lease.Lease.Provider})
	if err != nil {
		return cctx, nil, 0, err
	}
	c, err := api.NewClient(prov.Provider.HostUri, api.KeyringSigner{Keyring: cctx.Keyring, UID: cctx.FromName}, nil)
	return cctx, c, id, err
}

func parseCoinFlag(cmd *cobra.Command, name string) (sdk.Coin, error) {
	s, _ := cmd.Flags().GetString(name)
	c, err := sdk.ParseCoinNormalized(s)
	if err != nil {
		return c, fmt.Errorf("--%s %q: %w", name, s, err)
	}
	return c, nil
}

// printResult prints v as JSON with --output json, else the line.
func printResult(cmd *cobra.Command, cctx client.Context, v any, line string) error {
	if cctx.OutputFormat == flags.OutputFormatJSON {
		bz, err := json.Marshal(v)
		if err != nil {
			return err
		}
		cmd.Println(string(bz))
		return nil
	}
	cmd.Println(line)
	return nil
}
