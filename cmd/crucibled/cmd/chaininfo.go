package cmd

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"

	"github.com/crucible-network/crucible/app"
)

const (
	flagFormat    = "format"
	flagGenesis   = "genesis"
	flagRPC       = "rpc-endpoint"
	flagREST      = "rest-endpoint"
	flagGRPC      = "grpc-endpoint"
	flagChainName = "chain-name"
	flagNetType   = "network-type"
	flagGasPrices = "gas-price-steps"
	flagFromNode  = "from-node"
)

// ChainInfo is what the wallet files are made from: read from a genesis file
// or a running node, so that the files never drift from the chain.
type ChainInfo struct {
	ChainID   string
	ChainName string
	NetType   string
	RPC       string
	REST      string
	GRPC      string
	// Metadata of the staking and fee denom (bank denom metadata).
	Metadata banktypes.Metadata
	// Gas prices (low, average, high) in the base denom.
	GasPrices [3]float64
}

// NewChainInfoCmd prints Keplr's chain info or the chain-registry's chain.json
// or assetlist.json for a Crucible network.
func NewChainInfoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chain-info",
		Short: "Print wallet metadata: Keplr chain info, chain-registry chain.json or assetlist.json",
		Long: `Prints, from a genesis file (--genesis, default <home>/config/genesis.json) or from a
running node (--from-node), the JSON a wallet or the Cosmos chain registry needs:

  --format keplr            Keplr's chain info (window.keplr.experimentalSuggestChain(...))
  --format chain-registry   chain-registry chain.json
  --format assetlist        chain-registry assetlist.json

The chain id and the bank denom metadata of the staking denom come from the chain; the
endpoints from --rpc-endpoint, --rest-endpoint and --grpc-endpoint (what the wallet will call), by default the listeners
in the node home's config.toml and app.toml (then 127.0.0.1:26657, :1317, :9090).`,
		Example: `  crucibled chain-info --format keplr --home ./build/testnet/node0 > keplr.json
  crucibled chain-info --format chain-registry --from-node tcp://127.0.0.1:26657 --rpc-endpoint https://rpc.example --rest-endpoint https://api.example`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info, err := readChainInfo(cmd)
			if err != nil {
				return err
			}
			format, _ := cmd.Flags().GetString(flagFormat)
			var v any
			switch format {
			case "keplr":
				v = KeplrChainInfo(info)
			case "chain-registry":
				v = ChainRegistryChain(info)
			case "assetlist":
				v = ChainRegistryAssetList(info)
			default:
				return fmt.Errorf("--format must be keplr, chain-registry or assetlist, not %q", format)
			}
			bz, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(bz))
			return nil
		},
	}
	cmd.Flags().String(flagFormat, "keplr", "keplr | chain-registry | assetlist")
	cmd.Flags().String(flagGenesis, "", "genesis file to read (default: <home>/config/genesis.json); ignored with --from-node")
	cmd.Flags().String(flagFromNode, "", "read the chain id and denom metadata from this running node (tcp://host:port) instead of a genesis")
	cmd.Flags().String(flags.FlagHome, app.DefaultNodeHome, "node home (for the default genesis)")
	cmd.Flags().String(flagRPC, "http://127.0.0.1:26657", "CometBFT RPC endpoint the wallet calls")
	cmd.Flags().String(flagREST, "http://127.0.0.1:1317", "REST (API server) endpoint the wallet calls")
	cmd.Flags().String(flagGRPC, "127.0.0.1:9090", "gRPC endpoint (chain-registry only)")
	cmd.Flags().String(flagChainName, "crucible", "chain-registry chain_name")
	cmd.Flags().String(flagNetType, "devnet", "chain-registry network_type: mainnet, testnet or devnet")
	cmd.Flags().Float64Slice(flagGasPrices, []float64{0.001, 0.0025, 0.004}, "low,average,high gas prices in the base denom")
	return cmd
}

func readChainInfo(cmd *cobra.Command) (ChainInfo, error) {
	f := cmd.Flags()
	info := ChainInfo{}
	info.ChainName, _ = f.GetString(flagChainName)
	info.NetType, _ = f.GetString(flagNetType)
	info.RPC, _ = f.GetString(flagRPC)
	info.REST, _ = f.GetString(flagREST)
	info.GRPC, _ = f.GetString(flagGRPC)
	// Endpoints not given: the node home's own listeners (config.toml [rpc] laddr, app.toml
	// [api] address and [grpc] address), as a wallet on this machine reaches them.
	home, _ := f.GetString(flags.FlagHome)
	for _, d := range []struct {
		flag, file, section, key, scheme string
		dst                              *string
	}{
		{flagRPC, "config.toml", "rpc", "laddr", "http://", &info.RPC},
		{flagREST, "app.toml", "api", "address", "http://", &info.REST},
		{flagGRPC, "app.toml", "grpc", "address", "", &info.GRPC},
	} {
		if f.Changed(d.flag) {
			continue
		}
		if addr := tomlString(filepath.Join(home, "config", d.file), d.section, d.key); addr != "" {
			addr = strings.TrimPrefix(addr, "tcp://")
			addr = strings.Replace(addr, "0.0.0.0:", "127.0.0.1:", 1)
			*d.dst = d.scheme + addr
		}
	}
	gp, _ := f.GetFloat64Slice(flagGasPrices)
	if len(gp) != 3 {
		return info, fmt.Errorf("--%s wants three prices (low,average,high), got %d", flagGasPrices, len(gp))
	}
	copy(info.GasPrices[:], gp)

	bondDenom := app.BondDenom
	var metas []banktypes.Metadata
	if node, _ := f.GetString(flagFromNode); node != "" {
		clientCtx := client.GetClientContextFromCmd(cmd)
		rpc, err := client.NewClientFromNode(node)
		if err != nil {
			return info, err
		}
		clientCtx = clientCtx.WithNodeURI(node).WithClient(rpc)
		st, err := rpc.Status(cmd.Context())
		if err != nil {
			return info, fmt.Errorf("status of %s: %w", node, err)
		}
		info.ChainID = st.NodeInfo.Network
		res, err := banktypes.NewQueryClient(clientCtx).DenomMetadata(cmd.Context(), &banktypes.QueryDenomMetadataRequest{Denom: bondDenom})
		if err != nil && status.Code(err) != codes.NotFound {
			return info, fmt.Errorf("denom metadata of %s from %s: %w", bondDenom, node, err)
		}
		if err == nil {
			metas = append(metas, res.Metadata)
		}
	} else {
		path, _ := f.GetString(flagGenesis)
		if path == "" {
			home, _ := f.GetString(flags.FlagHome)
			path = filepath.Join(home, "config", "genesis.json")
		}
		gen, err := genutiltypes.AppGenesisFromFile(path)
		if err != nil {
			return info, err
		}
		info.ChainID = gen.ChainID
		var state map[string]json.RawMessage
		if err := json.Unmarshal(gen.AppState, &state); err != nil {
			return info, fmt.Errorf("%s: app_state: %w", path, err)
		}
		var bank struct {
			DenomMetadata []json.RawMessage `json:"denom_metadata"`
		}
		if err := json.Unmarshal(state[banktypes.ModuleName], &bank); err != nil {
			return info, fmt.Errorf("%s: bank state: %w", path, err)
		}
		cdc := codec.NewProtoCodec(codectypes.NewInterfaceRegistry())
		for _, raw := range bank.DenomMetadata {
			var m banktypes.Metadata
			if err := cdc.UnmarshalJSON(raw, &m); err != nil {
				return info, fmt.Errorf("%s: denom metadata: %w", path, err)
			}
			metas = append(metas, m)
		}
	}
	info.Metadata = app.CRUMetadata() // the default when the chain has none
	for _, m := range metas {
		if m.Base == bondDenom {
			info.Metadata = m
		}
	}
	return info, nil
}

func displayExponent(m banktypes.Metadata) uint32 {
	for _, u := range m.DenomUnits {
		if u.Denom == m.Display {
			return u.Exponent
		}
	}
	return 0
}

// roundPrice drops float noise from gas prices (6 decimals).
func roundPrice(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// KeplrChainInfo is Keplr's ChainInfo (experimentalSuggestChain).
func KeplrChainInfo(c ChainInfo) map[string]any {
	p := sdk.GetConfig()
	currency := map[string]any{
		"coinDenom":        c.Metadata.Symbol,
		"coinMinimalDenom": c.Metadata.Base,
		"coinDecimals":     displayExponent(c.Metadata),
	}
	fee := map[string]any{
		"coinDenom":        c.Metadata.Symbol,
		"coinMinimalDenom": c.Metadata.Base,
		"coinDecimals":     displayExponent(c.Metadata),
		"gasPriceStep":     map[string]float64{"low": roundPrice(c.GasPrices[0]), "average": roundPrice(c.GasPrices[1]), "high": roundPrice(c.GasPrices[2])},
	}
	return map[string]any{
		"chainId":   c.ChainID,
		"chainName": "Crucible " + c.ChainID,
		"rpc":       c.RPC,
		"rest":      c.REST,
		"bip44":     map[string]any{"coinType": sdk.CoinType},
		"bech32Config": map[string]string{
			"bech32PrefixAccAddr":  p.GetBech32AccountAddrPrefix(),
			"bech32PrefixAccPub":   p.GetBech32AccountPubPrefix(),
			"bech32PrefixValAddr":  p.GetBech32ValidatorAddrPrefix(),
			"bech32PrefixValPub":   p.GetBech32ValidatorPubPrefix(),
			"bech32PrefixConsAddr": p.GetBech32ConsensusAddrPrefix(),
			"bech32PrefixConsPub":  p.GetBech32ConsensusPubPrefix(),
		},
		"currencies":    []any{currency},
		"feeCurrencies": []any{fee},
		"stakeCurrency": currency,
		"features":      []string{},
	}
}

// ChainRegistryChain is the chain-registry's chain.json.
func ChainRegistryChain(c ChainInfo) map[string]any {
	endpoint := func(addr string) []map[string]string {
		return []map[string]string{{"address": addr, "provider": "crucibled chain-info"}}
	}
	return map[string]any{
		"$schema":       "../chain.schema.json",
		"chain_name":    c.ChainName,
		"chain_type":    "cosmos",
		"status":        "live",
		"network_type":  c.NetType,
		"pretty_name":   "Crucible",
		"chain_id":      c.ChainID,
		"bech32_prefix": sdk.GetConfig().GetBech32AccountAddrPrefix(),
		"daemon_name":   "crucibled",
		"node_home":     "$HOME/.crucible",
		"key_algos":     []string{"secp256k1"},
		"slip44":        sdk.CoinType,
		"fees": map[string]any{"fee_tokens": []map[string]any{{
			"denom":               c.Metadata.Base,
			"fixed_min_gas_price": roundPrice(c.GasPrices[0]),
			"low_gas_price":       roundPrice(c.GasPrices[0]),
			"average_gas_price":   roundPrice(c.GasPrices[1]),
			"high_gas_price":      roundPrice(c.GasPrices[2]),
		}}},
		"staking": map[string]any{"staking_tokens": []map[string]string{{"denom": c.Metadata.Base}}},
		"codebase": map[string]any{
			"sdk":       map[string]string{"type": "cosmos", "version": "0.54"},
			"consensus": map[string]string{"type": "cometbft", "version": "0.39"},
		},
		"apis": map[string]any{"rpc": endpoint(c.RPC), "rest": endpoint(c.REST), "grpc": endpoint(c.GRPC)},
	}
}

// ChainRegistryAssetList is the chain-registry's assetlist.json.
func ChainRegistryAssetList(c ChainInfo) map[string]any {
	units := make([]map[string]any, 0, len(c.Metadata.DenomUnits))
	for _, u := range c.Metadata.DenomUnits {
		units = append(units, map[string]any{"denom": u.Denom, "exponent": u.Exponent})
	}
	return map[string]any{
		"$schema":    "../assetlist.schema.json",
		"chain_name": c.ChainName,
		"assets": []map[string]any{{
			"description": c.Metadata.Description,
			"denom_units": units,
			"type_asset":  "sdk.coin",
			"base":        c.Metadata.Base,
			"name":        c.Metadata.Name,
			"display":     c.Metadata.Display,
			"symbol":      c.Metadata.Symbol,
		}},
	}
}

// tomlString reads a string value `key = "..."` of [section] in the TOML files CometBFT and the
// SDK write (flat sections, one key a line); "" when the file or the key is missing.
func tomlString(path, section, key string) string {
	bz, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	cur := ""
	for _, line := range strings.Split(string(bz), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			cur = strings.Trim(line, "[]")
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok && cur == section && strings.TrimSpace(k) == key {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}
