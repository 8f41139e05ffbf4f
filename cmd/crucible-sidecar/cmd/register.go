package cmd

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/sidecar/bidengine"
	"github.com/crucible-network/crucible/sidecar/chain"
	"github.com/crucible-network/crucible/sidecar/inventory"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// Flags of the register command.
const (
	FlagFrom      = "from"
	FlagBond      = "bond"
	FlagHostURI   = "host-uri"
	FlagRegion    = "region"
	FlagTier      = "tier"
	FlagAttribute = "attribute"
)

func newRegisterCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "register",
		Short: "Register the provider on chain, or update its record, from the GPU inventory",
		Long: `Register the provider with the GPUs the inventory backend reports
(MsgRegisterProvider, locking --bond), or, when the provider already exists,
replace its record (MsgUpdateProvider; the bond is unchanged and values not
given by a flag are kept). The transaction is signed by the owner key --from
in the configured keyring (not the sidecar's hot key), and the command waits
for its block.`,
		Args: cobra.NoArgs,
		RunE: runRegister,
	}
	c.Flags().String(FlagFrom, "", "owner key name in the keyring (required)")
	c.Flags().String(FlagBond, "", "bond to lock when registering, e.g. 1000000000ucru (required for a new provider)")
	c.Flags().String(FlagHostURI, "", "URL of this sidecar's tenant API (required for a new provider)")
	c.Flags().String(FlagRegion, "", "region of the GPUs")
	c.Flags().String(FlagTier, "", "service tier")
	c.Flags().StringArray(FlagAttribute, nil, "attribute key=value (repeatable; replaces all attributes)")
	_ = c.MarkFlagRequired(FlagFrom)
	return c
}

func runRegister(cmd *cobra.Command, _ []string) error {
	ctx := cmd.Context()
	cfg, err := loadConfig(cmd, false)
	if err != nil {
		return err
	}
	if err := cfg.ValidateBasic(); err != nil {
		return err
	}
	flags := cmd.Flags()
	from, _ := flags.GetString(FlagFrom)
	attrs, err := parseAttributes(flags)
	if err != nil {
		return err
	}

	inv, err := inventory.Open(ctx, cfg.Inventory, nil)
	if err != nil {
		return err
	}
	defer inv.Close()
	snap, err := inv.Snapshot(ctx)
	if err != nil {
		return err
	}
	gpus := bidengine.RegistrationGPUs(snap)
	if len(gpus) == 0 {
		return errors.New("the inventory reports no GPUs; nothing to register")
	}

	client, err := chain.Dial(cfg.Chain)
	if err != nil {
		return err
	}
	defer client.Close()
	kr, err := chain.OpenKeyring(cfg.Chain, client.Encoding().Codec)
	if err != nil {
		return err
	}
	sc := chain.SignerConfigFrom(cfg.Chain)
	sc.KeyName, sc.Granter = from, ""
	signer, err := chain.NewSigner(client, kr, sc)
	if err != nil {
		return err
	}
	owner := signer.Address().String()
	if p := cfg.Chain.ProviderAddress; p != "" && p != owner {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: key %q is %s but chain.provider_address is %s\n", from, owner, p)
	}

	// Only GPUs whose class the chain defines can be registered.
	params, err := attesttypes.NewQueryClient(client.Conn()).Params(ctx, &attesttypes.QueryParamsRequest{})
	if err != nil {
		return fmt.Errorf("reading the chain's GPU classes: %w", err)
	}
	var classes []string
	for _, cs := range params.Params.ClassSizes {
		classes = append(classes, cs.Class)
	}
	gpus, skipped := bidengine.DefinedOnly(gpus, classes)
	for _, g := range skipped {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s (%s) not registered: the chain defines no class %q (it defines %v)\n",
			g.Uuid, g.Model, g.Class, classes)
	}
	if len(gpus) == 0 {
		return fmt.Errorf("none of the %d GPUs has a class the chain defines (%v)", len(skipped), classes)
	}

	existing, err := client.GetProvider(ctx, 0, owner)
	var msg sdk.Msg
	var action string
	switch {
	case errors.Is(err, chain.ErrNotFound):
		bondStr, _ := flags.GetString(FlagBond)
		hostURI, _ := flags.GetString(FlagHostURI)
		if bondStr == "" || hostURI == "" {
			return fmt.Errorf("a new provider needs --%s and --%s", FlagBond, FlagHostURI)
		}
		bond, err := sdk.ParseCoinNormalized(bondStr)
		if err != nil {
			return fmt.Errorf("--%s %q: %w", FlagBond, bondStr, err)
		}
		region, _ := flags.GetString(FlagRegion)
		tier, _ := flags.GetString(FlagTier)
		msg = &providertypes.MsgRegisterProvider{Owner: owner, HostUri: hostURI, Region: region, Tier: tier,
			Attributes: attrs, Gpus: gpus, Bond: bond}
		action = "registered"
	case err != nil:
		return err
	default:
		if flags.Changed(FlagBond) {
			fmt.Fprintf(cmd.ErrOrStderr(), "note: provider exists; --%s ignored (the bond is unchanged)\n", FlagBond)
		}
		up := &providertypes.MsgUpdateProvider{Owner: owner, HostUri: existing.HostUri, Region: existing.Region,
			Tier: existing.Tier, Attributes: existing.Attributes, Gpus: gpus}
		if flags.Changed(FlagHostURI) {
			up.HostUri, _ = flags.GetString(FlagHostURI)
		}
		if flags.Changed(FlagRegion) {
			up.Region, _ = flags.GetString(FlagRegion)
		}
		if flags.Changed(FlagTier) {
			up.Tier, _ = flags.GetString(FlagTier)
		}
		if flags.Changed(FlagAttribute) {
			up.Attributes = attrs
		}
		msg, action = up, "updated"
	}

	res, err := signer.Submit(ctx, msg)
	if err != nil {
		return fmt.Errorf("%s: %w", sdk.MsgTypeURL(msg), err)
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "provider %s %s with %d GPU(s)\n", owner, action, len(gpus))
	fmt.Fprintf(out, "tx: %s\nheight: %d\ncode: %d\ngas used: %d of %d\n", res.TxHash, res.Height, res.Code, res.GasUsed, res.GasWanted)
	for _, g := range gpus {
		fmt.Fprintf(out, "  %s  %s  %s  %d MiB\n", g.Uuid, g.Class, g.Model, g.MemoryMib)
	}
	return nil
}

func parseAttributes(flags interface {
	GetStringArray(string) ([]string, error)
}) ([]providertypes.Attribute, error) {
	raw, err := flags.GetStringArray(FlagAttribute)
	if err != nil {
		return nil, err
	}
	attrs := make([]providertypes.Attribute, 0, len(raw))
	for _, kv := range raw {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--%s %q: want key=value", FlagAttribute, kv)
		}
		attrs = append(attrs, providertypes.Attribute{Key: k, Value: v})
	}
	sort.SliceStable(attrs, func(i, j int) bool { return attrs[i].Key < attrs[j].Key })
	return attrs, nil
}
