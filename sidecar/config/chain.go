package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Keyring backends accepted by the Cosmos SDK keyring.
var keyringBackends = []string{"os", "file", "kwallet", "pass", "test", "memory"}

// ChainConfig says how the sidecar reaches the chain and signs transactions.
type ChainConfig struct {
	// GRPCAddr is the host:port of a node's gRPC server (queries, broadcast).
	GRPCAddr string `yaml:"grpc_addr" json:"grpc_addr"`
	// RPCAddr is the URL of a node's CometBFT RPC (events), e.g. tcp://localhost:26657.
	RPCAddr string `yaml:"rpc_addr" json:"rpc_addr"`
	// ChainID is the chain the sidecar signs for.
	ChainID string `yaml:"chain_id" json:"chain_id"`
	// ProviderAddress is the bech32 account of the provider the sidecar acts
	// for (the provider's owner). Empty until the operator sets it; commands
	// that need it check it.
	ProviderAddress string `yaml:"provider_address" json:"provider_address"`
	// HotKeyName is the keyring entry the sidecar signs with; the provider
	// grants it only the messages it needs (x/authz).
	HotKeyName string `yaml:"hot_key_name" json:"hot_key_name"`
	// KeyringDir holds the keyring; relative paths are under the sidecar home.
	KeyringDir string `yaml:"keyring_dir" json:"keyring_dir"`
	// KeyringBackend is one of os, file, kwallet, pass, test, memory.
	KeyringBackend string `yaml:"keyring_backend" json:"keyring_backend"`
	// GasPrices are the fees offered per unit of gas, as decimal coins
	// ("0.025ucru", several separated by commas).
	GasPrices string `yaml:"gas_prices" json:"gas_prices"`
	// GasAdjustment multiplies the simulated gas of a transaction.
	GasAdjustment float64 `yaml:"gas_adjustment" json:"gas_adjustment"`
	// TxTimeoutBlocks is the lifetime of a transaction: each one carries
	// timeout_height = (the node's latest height when signed) + this, and
	// the chain refuses it past that height. The bid engine relies on it: a
	// bid stuck in a mempool is dead once the chain passes its timeout, and
	// a restarted engine holds its GPUs for this many blocks, so a bid left
	// in flight by the previous instance lands or dies first.
	TxTimeoutBlocks uint64 `yaml:"tx_timeout_blocks" json:"tx_timeout_blocks"`
}

// DefaultTxTimeoutBlocks is the default ChainConfig.TxTimeoutBlocks.
const DefaultTxTimeoutBlocks = 20

// maxTxTimeoutBlocks bounds ChainConfig.TxTimeoutBlocks.
const maxTxTimeoutBlocks = 10_000

// DefaultChainConfig returns a config for a node on the same host.
func DefaultChainConfig() ChainConfig {
	return ChainConfig{
		GRPCAddr:        "localhost:9090",
		RPCAddr:         "tcp://localhost:26657",
		ChainID:         "crucible-1",
		ProviderAddress: "",
		HotKeyName:      "sidecar",
		KeyringDir:      "keyring",
		KeyringBackend:  "os",
		GasPrices:       "0.025" + DefaultDenom,
		GasAdjustment:   1.5,
		TxTimeoutBlocks: DefaultTxTimeoutBlocks,
	}
}

// TestChainConfig returns a config with the in-memory keyring.
func TestChainConfig() ChainConfig {
	c := DefaultChainConfig()
	c.ChainID = "crucible-test"
	c.KeyringBackend = "memory"
	c.TxTimeoutBlocks = 5 // short: tests restart engines
	return c
}

// decCoinRegex matches one decimal coin such as "0.025ucru".
var decCoinRegex = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?[a-zA-Z][a-zA-Z0-9/:._-]{2,127}$`)

// ValidateBasic checks the section without contacting the chain.
func (c ChainConfig) ValidateBasic() error {
	if err := validateHostPort(c.GRPCAddr, false); err != nil {
		return &FieldError{Field: "grpc_addr", Err: err}
	}
	if err := validateRPCURL(c.RPCAddr); err != nil {
		return &FieldError{Field: "rpc_addr", Err: err}
	}
	if c.ChainID == "" {
		return fieldErrorf("chain_id", "must not be empty")
	}
	if len(c.ChainID) > 50 {
		return fieldErrorf("chain_id", "%q is longer than 50 characters", c.ChainID)
	}
	if c.ProviderAddress != "" {
		if err := validateBech32Address(c.ProviderAddress, AccountAddressPrefix); err != nil {
			return fieldErrorf("provider_address", "%q is not a %s account address: %w", c.ProviderAddress, AccountAddressPrefix, err)
		}
	}
	if c.HotKeyName == "" {
		return fieldErrorf("hot_key_name", "must not be empty")
	}
	if !slices.Contains(keyringBackends, c.KeyringBackend) {
		return fieldErrorf("keyring_backend", "unknown backend %q (want one of %v)", c.KeyringBackend, keyringBackends)
	}
	if c.KeyringDir == "" && c.KeyringBackend != "memory" {
		return fieldErrorf("keyring_dir", "must not be empty for keyring backend %q", c.KeyringBackend)
	}
	if c.GasPrices == "" {
		return fieldErrorf("gas_prices", "must not be empty (use 0%s for no fees)", DefaultDenom)
	}
	for _, coin := range strings.Split(c.GasPrices, ",") {
		if !decCoinRegex.MatchString(strings.TrimSpace(coin)) {
			return fieldErrorf("gas_prices", "%q is not a decimal coin like 0.025%s", coin, DefaultDenom)
		}
	}
	if math.IsNaN(c.GasAdjustment) || c.GasAdjustment < 1 || c.GasAdjustment > 10 {
		return fieldErrorf("gas_adjustment", "%v is not between 1 and 10", c.GasAdjustment)
	}
	if c.TxTimeoutBlocks == 0 || c.TxTimeoutBlocks > maxTxTimeoutBlocks {
		return fieldErrorf("tx_timeout_blocks", "%d is not between 1 and %d", c.TxTimeoutBlocks, maxTxTimeoutBlocks)
	}
	return nil
}

// validateHostPort checks a host:port pair. With allowZero, port 0 (pick a
// free port) is accepted, which only makes sense for listen addresses.
func validateHostPort(addr string, allowZero bool) error {
	if addr == "" {
		return errors.New("must not be empty")
	}
	_, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, portStr)
	}
	if port == 0 && !allowZero {
		return fmt.Errorf("%q: port must not be 0", addr)
	}
	return nil
}

func validateRPCURL(addr string) error {
	if addr == "" {
		return errors.New("must not be empty")
	}
	u, err := url.Parse(addr)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", addr, err)
	}
	switch u.Scheme {
	case "tcp", "http", "https", "ws", "wss":
	default:
		return fmt.Errorf("%q: scheme must be tcp, http, https, ws or wss", addr)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%q has no host", addr)
	}
	if u.Port() == "" {
		if u.Scheme == "tcp" {
			return fmt.Errorf("%q: a tcp address needs a port", addr)
		}
		return nil
	}
	return validateHostPort(u.Host, false)
}
