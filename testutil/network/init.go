// Package network lays out and runs Crucible test networks on the loopback
// interface: InitFiles writes the homes of N validators (used by
// `crucibled testnet init-files` and the localnet scripts) and New starts
// them in-process for integration tests. Every listener is bound to
// 127.0.0.1.
package network

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmttime "github.com/cometbft/cometbft/types/time"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	srvconfig "github.com/cosmos/cosmos-sdk/server/config"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/genutil"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	"github.com/crucible-network/crucible/app"
)

// AppDBBackend is the application database every Crucible node uses:
// goleveldb reads a stored empty value back as nil, which makes IAVL v1
// unable to reload an empty store after a restart; pebble does not.
const AppDBBackend = "pebbledb"

// Account is a genesis account funded at genesis and stored, under Name, in
// the test keyring of every node home.
type Account struct {
	Name     string
	Mnemonic string // empty: a new one is generated and returned in Layout
	Coins    sdk.Coins
}

// Options describes a network to lay out.
type Options struct {
	ChainID       string
	Validators    int
	OutputDir     string
	Host          string        // listen address of every service; default 127.0.0.1
	BasePort      int           // node i uses BasePort+10*i+{0 p2p,1 rpc,2 grpc,3 api}; 0 picks free ports
	TimeoutCommit time.Duration // pause after each block; default 1s
	MinGasPrices  string        // default "0ucru" (tests pay no fees)
	// GenesisTime, when set, is the genesis time (default: now). In-memory
	// chains (testutil/apptest) then run on a reproducible header time.
	GenesisTime time.Time
	// ValidatorCoins funds each validator's operator account; StakeTokens of
	// it (in the bond denom) are self-delegated in the gentx.
	ValidatorCoins sdk.Coins
	StakeTokens    sdkmath.Int
	Accounts       []Account
	// Localnet applies LocalnetGenesis (test-size challenges, short windows
	// and periods) before GenesisMutator.
	Localnet bool
	// GenesisMutator may edit the app state (module name -> JSON) before the
	// gentxs are collected.
	GenesisMutator func(cdc codec.Codec, state map[string]json.RawMessage) error
}

// Node is one validator's home and endpoints.
type Node struct {
	Moniker    string
	Home       string
	NodeID     string
	PubKey     cryptotypes.PubKey
	Address    sdk.AccAddress // operator account
	ValAddress sdk.ValAddress
	P2PPort    int
	RPCPort    int
	GRPCPort   int
	APIPort    int
	Host       string
}

// RPCAddress is the CometBFT RPC endpoint, e.g. tcp://127.0.0.1:26657.
func (n Node) RPCAddress() string { return fmt.Sprintf("tcp://%s:%d", n.Host, n.RPCPort) }

// GRPCAddress is the gRPC endpoint, e.g. 127.0.0.1:9090.
func (n Node) GRPCAddress() string { return fmt.Sprintf("%s:%d", n.Host, n.GRPCPort) }

// APIAddress is the REST endpoint, e.g. http://127.0.0.1:1317.
func (n Node) APIAddress() string { return fmt.Sprintf("http://%s:%d", n.Host, n.APIPort) }

// Layout is what InitFiles wrote.
type Layout struct {
	ChainID   string
	Nodes     []Node
	Mnemonics map[string]string // key name -> mnemonic, validators and accounts
	Options   Options
}

// DefaultOptions returns a one-validator network on 127.0.0.1 with free
// ports, a funded "alice" and "bob", and no minimum gas price.
func DefaultOptions(outputDir string) Options {
	tokens := sdk.TokensFromConsensusPower(1_000_000, sdk.DefaultPowerReduction)
	return Options{
		ChainID:        "crucible-local",
		Validators:     1,
		OutputDir:      outputDir,
		Host:           "127.0.0.1",
		TimeoutCommit:  time.Second,
		MinGasPrices:   "0" + app.BondDenom,
		Localnet:       true,
		ValidatorCoins: sdk.NewCoins(sdk.NewCoin(app.BondDenom, tokens)),
		StakeTokens:    sdk.TokensFromConsensusPower(100, sdk.DefaultPowerReduction),
		Accounts: []Account{
			{Name: "alice", Coins: sdk.NewCoins(sdk.NewCoin(app.BondDenom, tokens))},
			{Name: "bob", Coins: sdk.NewCoins(sdk.NewCoin(app.BondDenom, tokens))},
		},
	}
}

func (o *Options) validate() error {
	switch {
	case o.ChainID == "":
		return errors.New("chain id is empty")
	case o.Validators < 1 || o.Validators > 64:
		return fmt.Errorf("validators must be in [1, 64], got %d", o.Validators)
	case o.OutputDir == "":
		return errors.New("output dir is empty")
	case o.BasePort < 0 || o.BasePort+10*o.Validators > 65535:
		return fmt.Errorf("base port %d leaves no room for %d validators", o.BasePort, o.Validators)
	case o.StakeTokens.IsNil() || !o.StakeTokens.IsPositive():
		return errors.New("stake tokens must be positive")
	case o.ValidatorCoins.AmountOf(app.BondDenom).LT(o.StakeTokens):
		return fmt.Errorf("validator coins %s do not cover the stake %s", o.ValidatorCoins, o.StakeTokens)
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.TimeoutCommit == 0 {
		o.TimeoutCommit = time.Second
	}
	if o.MinGasPrices == "" {
		o.MinGasPrices = "0" + app.BondDenom
	}
	seen := map[string]bool{}
	for _, a := range o.Accounts {
		if a.Name == "" || seen[a.Name] || strings.HasPrefix(a.Name, "node") {
			return fmt.Errorf("account name %q is empty, duplicated or reserved", a.Name)
		}
		seen[a.Name] = true
	}
	return nil
}

// InitFiles writes the homes of opts.Validators validators under
// opts.OutputDir (node0, node1, ...): CometBFT and app configs with
// loopback ports and persistent peers, keys, a test keyring holding every
// validator and account key, client.toml pointing at the node, and one
// genesis with the gentxs collected.
func InitFiles(opts Options) (*Layout, error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("testnet options: %w", err)
	}
	encApp := app.New(nopLogger(), memDB(), false, emptyAppOptions{})
	cdc, txConfig := encApp.AppCodec(), encApp.TxConfig()

	if err := os.MkdirAll(opts.OutputDir, 0o755); err != nil {
		return nil, err
	}
	layout := &Layout{ChainID: opts.ChainID, Options: opts, Mnemonics: map[string]string{}}
	gentxsDir := filepath.Join(opts.OutputDir, "gentxs")

	ports, err := allocatePorts(opts)
	if err != nil {
		return nil, err
	}

	var (
		genAccounts []authtypes.GenesisAccount
		genBalances []banktypes.Balance
		cmtConfigs  []*cmtcfg.Config
	)
	for i := 0; i < opts.Validators; i++ {
		moniker := fmt.Sprintf("node%d", i)
		home := filepath.Join(opts.OutputDir, moniker)
		node := Node{Moniker: moniker, Home: home, Host: opts.Host,
			P2PPort: ports[i][0], RPCPort: ports[i][1], GRPCPort: ports[i][2], APIPort: ports[i][3]}
		for _, d := range []string{"config", "data"} {
			if err := os.MkdirAll(filepath.Join(home, d), 0o755); err != nil {
				return nil, err
			}
		}
		cmtCfg := cometConfig(opts, node)
		nodeID, pubKey, err := genutil.InitializeNodeValidatorFiles(cmtCfg)
		if err != nil {
			return nil, fmt.Errorf("%s: validator files: %w", moniker, err)
		}
		node.NodeID, node.PubKey = nodeID, pubKey

		kb, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, home, bufio.NewReader(os.Stdin), cdc)
		if err != nil {
			return nil, err
		}
		addr, mnemonic, err := newKey(kb, moniker, "")
		if err != nil {
			return nil, err
		}
		layout.Mnemonics[moniker] = mnemonic
		node.Address, node.ValAddress = addr, sdk.ValAddress(addr)
		genAccounts = append(genAccounts, authtypes.NewBaseAccount(addr, nil, 0, 0))
		genBalances = append(genBalances, banktypes.Balance{Address: addr.String(), Coins: opts.ValidatorCoins.Sort()})

		if err := writeGentx(opts, txConfig, kb, node, gentxsDir); err != nil {
			return nil, fmt.Errorf("%s: gentx: %w", moniker, err)
		}
		appCfg := srvconfig.DefaultConfig()
		appCfg.MinGasPrices = opts.MinGasPrices
		appCfg.AppDBBackend = AppDBBackend
		appCfg.API.Enable = true
		appCfg.API.Address = fmt.Sprintf("tcp://%s:%d", opts.Host, node.APIPort)
		appCfg.GRPC.Enable = true
		appCfg.GRPC.Address = node.GRPCAddress()
		appCfg.Telemetry.Enabled = false //nolint:staticcheck // the SDK's telemetry section is deprecated but still read
		if opts.Localnet {
			// Browser apps on localhost may call a localnet's REST API (the SDK's CORS switch
			// allows every origin: fine on loopback, never on a public node) and read its
			// OpenAPI spec at /swagger/.
			appCfg.API.EnableUnsafeCORS = true
			appCfg.API.Swagger = true
		}
		srvconfig.WriteConfigFile(filepath.Join(home, "config", "app.toml"), appCfg)
		if err := writeClientConfig(home, opts.ChainID, node.RPCAddress()); err != nil {
			return nil, err
		}
		layout.Nodes = append(layout.Nodes, node)
		cmtConfigs = append(cmtConfigs, cmtCfg)
	}

	// Extra accounts: same mnemonic in every node's keyring.
	for _, acc := range opts.Accounts {
		mnemonic := acc.Mnemonic
		var addr sdk.AccAddress
		for i, node := range layout.Nodes {
			kb, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, node.Home, nil, cdc)
			if err != nil {
				return nil, err
			}
			a, m, err := newKey(kb, acc.Name, mnemonic)
			if err != nil {
				return nil, fmt.Errorf("account %s: %w", acc.Name, err)
			}
			if i == 0 {
				mnemonic, addr = m, a
			}
		}
		layout.Mnemonics[acc.Name] = mnemonic
		genAccounts = append(genAccounts, authtypes.NewBaseAccount(addr, nil, 0, 0))
		genBalances = append(genBalances, banktypes.Balance{Address: addr.String(), Coins: acc.Coins.Sort()})
	}
	// Validator keys in every other node's keyring too, so any home can sign
	// for any validator (handy for localnet scripts).
	for i, node := range layout.Nodes {
		kb, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, node.Home, nil, cdc)
		if err != nil {
			return nil, err
		}
		for j, other := range layout.Nodes {
			if i == j {
				continue
			}
			if _, _, err := newKey(kb, other.Moniker, layout.Mnemonics[other.Moniker]); err != nil {
				return nil, err
			}
		}
	}

	state := encApp.DefaultGenesis()
	if err := addGenesisAccounts(cdc, state, genAccounts, genBalances); err != nil {
		return nil, err
	}
	if opts.Localnet {
		if err := LocalnetGenesis(cdc, state); err != nil {
			return nil, fmt.Errorf("localnet genesis: %w", err)
		}
	}
	if opts.GenesisMutator != nil {
		if err := opts.GenesisMutator(cdc, state); err != nil {
			return nil, fmt.Errorf("genesis mutator: %w", err)
		}
	}
	stateJSON, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return nil, err
	}
	genTime := cmttime.Now()
	if !opts.GenesisTime.IsZero() {
		genTime = opts.GenesisTime.UTC()
	}
	for i, node := range layout.Nodes {
		appGenesis := genutiltypes.AppGenesis{ChainID: opts.ChainID, AppState: stateJSON,
			Consensus: &genutiltypes.ConsensusGenesis{}}
		if err := appGenesis.SaveAs(cmtConfigs[i].GenesisFile()); err != nil {
			return nil, err
		}
		initCfg := genutiltypes.NewInitConfig(opts.ChainID, gentxsDir, node.NodeID, node.PubKey)
		appGenesisFromFile, err := genutiltypes.AppGenesisFromFile(cmtConfigs[i].GenesisFile())
		if err != nil {
			return nil, err
		}
		appState, err := genutil.GenAppStateFromConfig(cdc, txConfig, cmtConfigs[i], initCfg, appGenesisFromFile,
			banktypes.GenesisBalancesIterator{}, genutiltypes.DefaultMessageValidator,
			txConfig.SigningContext().ValidatorAddressCodec())
		if err != nil {
			return nil, fmt.Errorf("%s: collect gentxs: %w", node.Moniker, err)
		}
		if err := genutil.ExportGenesisFileWithTime(cmtConfigs[i].GenesisFile(), opts.ChainID, nil, appState, genTime); err != nil {
			return nil, err
		}
	}
	// Persistent peers: every node dials every other one (GenAppStateFromConfig
	// wrote the gentx memos; we set them explicitly for clarity).
	for i, node := range layout.Nodes {
		var peers []string
		for j, other := range layout.Nodes {
			if i != j {
				peers = append(peers, fmt.Sprintf("%s@%s:%d", other.NodeID, other.Host, other.P2PPort))
			}
		}
		cmtConfigs[i].P2P.PersistentPeers = strings.Join(peers, ",")
		cmtcfg.WriteConfigFile(filepath.Join(node.Home, "config", "config.toml"), cmtConfigs[i])
	}
	return layout, nil
}

// LocalCORSOrigins are the browser origins a localnet's CometBFT RPC answers:
// any port of localhost and 127.0.0.1, over http and https.
var LocalCORSOrigins = []string{"http://localhost:*", "https://localhost:*", "http://127.0.0.1:*", "https://127.0.0.1:*"}

func cometConfig(opts Options, node Node) *cmtcfg.Config {
	cfg := cmtcfg.DefaultConfig()
	cfg.SetRoot(node.Home)
	cfg.Moniker = node.Moniker
	cfg.Consensus.TimeoutCommit = opts.TimeoutCommit
	cfg.P2P.ListenAddress = fmt.Sprintf("tcp://%s:%d", opts.Host, node.P2PPort)
	cfg.P2P.ExternalAddress = fmt.Sprintf("%s:%d", opts.Host, node.P2PPort)
	cfg.P2P.AddrBookStrict = false
	cfg.P2P.AllowDuplicateIP = true
	cfg.P2P.PexReactor = false
	cfg.RPC.ListenAddress = node.RPCAddress()
	cfg.RPC.PprofListenAddress = ""
	if opts.Localnet {
		// CometBFT RPC (and its websocket) for browser apps served from localhost.
		cfg.RPC.CORSAllowedOrigins = LocalCORSOrigins
	}
	cfg.ProxyApp = fmt.Sprintf("tcp://%s:%d", opts.Host, node.P2PPort+4)
	cfg.Instrumentation.Prometheus = false
	return cfg
}

func newKey(kb keyring.Keyring, name, mnemonic string) (sdk.AccAddress, string, error) {
	if mnemonic == "" {
		entropy, err := bip39Entropy()
		if err != nil {
			return nil, "", err
		}
		mnemonic = entropy
	}
	rec, err := kb.NewAccount(name, mnemonic, keyring.DefaultBIP39Passphrase, sdk.GetConfig().GetFullBIP44Path(), hd.Secp256k1)
	if err != nil {
		return nil, "", err
	}
	addr, err := rec.GetAddress()
	return addr, mnemonic, err
}

func writeGentx(opts Options, txConfig client.TxConfig, kb keyring.Keyring, node Node, dir string) error {
	commission := sdkmath.LegacyNewDecWithPrec(1, 1)
	msg, err := stakingtypes.NewMsgCreateValidator(
		node.ValAddress.String(), node.PubKey,
		sdk.NewCoin(app.BondDenom, opts.StakeTokens),
		stakingtypes.NewDescription(node.Moniker, "", "", "", ""),
		stakingtypes.NewCommissionRates(commission, sdkmath.LegacyNewDecWithPrec(2, 1), sdkmath.LegacyNewDecWithPrec(1, 2)),
		sdkmath.OneInt(),
	)
	if err != nil {
		return err
	}
	memo := fmt.Sprintf("%s@%s:%d", node.NodeID, node.Host, node.P2PPort)
	b := txConfig.NewTxBuilder()
	if err := b.SetMsgs(msg); err != nil {
		return err
	}
	b.SetGasLimit(1_000_000)
	b.SetMemo(memo)
	f := tx.Factory{}.WithChainID(opts.ChainID).WithMemo(memo).WithKeybase(kb).WithTxConfig(txConfig)
	if err := tx.Sign(context.Background(), f, node.Moniker, b, true); err != nil {
		return err
	}
	bz, err := txConfig.TxJSONEncoder()(b.GetTx())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, node.Moniker+".json"), bz, 0o600)
}

func addGenesisAccounts(cdc codec.Codec, state map[string]json.RawMessage, accs []authtypes.GenesisAccount, bals []banktypes.Balance) error {
	var authGen authtypes.GenesisState
	if err := cdc.UnmarshalJSON(state[authtypes.ModuleName], &authGen); err != nil {
		return err
	}
	packed, err := authtypes.PackAccounts(accs)
	if err != nil {
		return err
	}
	authGen.Accounts = append(authGen.Accounts, packed...)
	bz, err := cdc.MarshalJSON(&authGen)
	if err != nil {
		return err
	}
	state[authtypes.ModuleName] = bz

	var bankGen banktypes.GenesisState
	if err := cdc.UnmarshalJSON(state[banktypes.ModuleName], &bankGen); err != nil {
		return err
	}
	bankGen.Balances = append(bankGen.Balances, bals...)
	// total supply is recomputed by bank's InitGenesis when left empty
	bz, err = cdc.MarshalJSON(&bankGen)
	if err != nil {
		return err
	}
	state[banktypes.ModuleName] = bz
	return nil
}

const clientTemplate = `# crucibled client configuration (written by testnet init-files)
chain-id = "{{ .ChainID }}"
keyring-backend = "test"
keyring-default-keyname = ""
output = "text"
node = "{{ .Node }}"
broadcast-mode = "sync"
`

func writeClientConfig(home, chainID, node string) error {
	f, err := os.Create(filepath.Join(home, "config", "client.toml"))
	if err != nil {
		return err
	}
	defer f.Close()
	return template.Must(template.New("client").Parse(clientTemplate)).
		Execute(f, map[string]string{"ChainID": chainID, "Node": node})
}

// allocatePorts returns, per node, the p2p, rpc, grpc and api ports.
func allocatePorts(opts Options) ([][4]int, error) {
	out := make([][4]int, opts.Validators)
	if opts.BasePort > 0 {
		for i := range out {
			b := opts.BasePort + 10*i
			out[i] = [4]int{b, b + 1, b + 2, b + 3}
		}
		return out, nil
	}
	// Hold all listeners until every port is chosen so none repeats.
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for i := range out {
		for j := 0; j < 4; j++ {
			l, err := net.Listen("tcp", net.JoinHostPort(opts.Host, "0"))
			if err != nil {
				return nil, fmt.Errorf("allocate port: %w", err)
			}
			ls = append(ls, l)
			out[i][j] = l.Addr().(*net.TCPAddr).Port
		}
	}
	return out, nil
}
