package network

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	pvm "github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	cmtclient "github.com/cometbft/cometbft/rpc/client"
	"github.com/cometbft/cometbft/rpc/client/local"
	cmttypes "github.com/cometbft/cometbft/types"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"cosmossdk.io/log/v2"

	dbm "github.com/cosmos/cosmos-db"
	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	"github.com/cosmos/cosmos-sdk/server"
	"github.com/cosmos/cosmos-sdk/server/api"
	srvconfig "github.com/cosmos/cosmos-sdk/server/config"
	servergrpc "github.com/cosmos/cosmos-sdk/server/grpc"
	servercmtlog "github.com/cosmos/cosmos-sdk/server/log"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"

	"github.com/crucible-network/crucible/app"
)

// Logger receives the network's progress lines; *testing.T satisfies it.
type Logger interface {
	Log(args ...any)
	Logf(format string, args ...any)
}

// CometBFT's RPC server keeps global state, so one in-process network runs
// at a time.
var running sync.Mutex

// Network is a set of validators running in this process. Only node 0
// serves CometBFT RPC, gRPC and REST (a CometBFT in-process limit).
type Network struct {
	Layout *Layout
	Nodes  []*Running
	logger Logger
	once   sync.Once
}

// Running is one started validator.
type Running struct {
	Node
	App       *app.App
	ClientCtx client.Context // codec, keyring and RPC client of this node
	RPCClient cmtclient.Client

	cmtNode *node.Node
	grpcSrv *grpc.Server
	cancel  context.CancelFunc
	group   *errgroup.Group
}

// New lays out opts under opts.OutputDir and starts every validator in
// this process, then waits for the first block. Call Cleanup when done.
func New(l Logger, opts Options) (*Network, error) {
	running.Lock()
	layout, err := InitFiles(opts)
	if err != nil {
		running.Unlock()
		return nil, err
	}
	n := &Network{Layout: layout, logger: l}
	for i, nd := range layout.Nodes {
		r, err := start(nd, layout, opts, i == 0)
		if err != nil {
			n.Cleanup()
			return nil, fmt.Errorf("start %s: %w", nd.Moniker, err)
		}
		n.Nodes = append(n.Nodes, r)
	}
	if _, err := n.WaitForHeight(1, 30*time.Second); err != nil {
		n.Cleanup()
		return nil, err
	}
	l.Logf("network %s up: %d validator(s), rpc %s, grpc %s", layout.ChainID, len(n.Nodes),
		layout.Nodes[0].RPCAddress(), layout.Nodes[0].GRPCAddress())
	return n, nil
}

func start(nd Node, layout *Layout, opts Options, serve bool) (*Running, error) {
	cmtCfg, err := CometConfig(nd.Home)
	if err != nil {
		return nil, err
	}
	if !serve {
		cmtCfg.RPC.ListenAddress = ""
	}
	appCfg := srvconfig.DefaultConfig()
	appCfg.MinGasPrices = opts.MinGasPrices
	appCfg.GRPC.Address = nd.GRPCAddress()
	appCfg.API.Enable = serve
	appCfg.API.Address = fmt.Sprintf("tcp://%s:%d", nd.Host, nd.APIPort)
	appCfg.GRPC.Enable = serve

	db, err := dbm.NewDB("application", dbm.BackendType(AppDBBackend), filepath.Join(nd.Home, "data"))
	if err != nil {
		return nil, err
	}
	logger := log.NewNopLogger()
	if os.Getenv("CRUCIBLE_TEST_LOG") != "" {
		logger = log.NewLogger(os.Stderr).With("node", nd.Moniker)
	}
	a := app.New(logger, db, true, emptyAppOptions{},
		baseapp.SetChainID(layout.ChainID),
		baseapp.SetMinGasPrices(opts.MinGasPrices),
	)

	nodeKey, err := p2p.LoadOrGenNodeKey(cmtCfg.NodeKeyFile())
	if err != nil {
		return nil, err
	}
	genProvider := func() (*cmttypes.GenesisDoc, error) {
		g, err := genutiltypes.AppGenesisFromFile(cmtCfg.GenesisFile())
		if err != nil {
			return nil, err
		}
		return g.ToGenesisDoc()
	}
	cmtNode, err := node.NewNode(cmtCfg,
		pvm.LoadOrGenFilePV(cmtCfg.PrivValidatorKeyFile(), cmtCfg.PrivValidatorStateFile()),
		nodeKey, proxy.NewLocalClientCreator(server.NewCometABCIWrapper(a)), genProvider,
		cmtcfg.DefaultDBProvider, node.DefaultMetricsProvider(cmtCfg.Instrumentation),
		servercmtlog.CometLoggerWrapper{Logger: logger.With("module", "comet")},
	)
	if err != nil {
		return nil, err
	}
	if err := cmtNode.Start(); err != nil {
		return nil, err
	}
	kb, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, nd.Home, nil, a.AppCodec())
	if err != nil {
		return nil, err
	}
	rpc := local.New(cmtNode)
	r := &Running{Node: nd, App: a, cmtNode: cmtNode, RPCClient: rpc}
	r.ClientCtx = client.Context{}.
		WithCodec(a.AppCodec()).
		WithInterfaceRegistry(a.InterfaceRegistry()).
		WithTxConfig(a.TxConfig()).
		WithLegacyAmino(a.LegacyAmino()).
		WithAccountRetriever(authtypes.AccountRetriever{}).
		WithKeyring(kb).
		WithKeyringDir(nd.Home).
		WithHomeDir(nd.Home).
		WithChainID(layout.ChainID).
		WithClient(rpc).
		WithNodeURI(nd.RPCAddress()).
		WithBroadcastMode("sync").
		WithOutput(nopWriter{})

	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.group, ctx = errgroup.WithContext(ctx)
	if serve {
		a.RegisterTxService(r.ClientCtx)
		a.RegisterTendermintService(r.ClientCtx)
		a.RegisterNodeService(r.ClientCtx, *appCfg)
		grpcLogger := logger.With("module", "grpc-server")
		grpcSrv, cctx, err := servergrpc.NewGRPCServerAndContext(r.ClientCtx, a, appCfg.GRPC, grpcLogger)
		if err != nil {
			return nil, err
		}
		r.ClientCtx, r.grpcSrv = cctx, grpcSrv
		r.group.Go(func() error { return servergrpc.StartGRPCServer(ctx, grpcLogger, appCfg.GRPC, grpcSrv) })
		apiSrv := api.New(r.ClientCtx, logger.With("module", "api-server"), grpcSrv)
		a.RegisterAPIRoutes(apiSrv, appCfg.API)
		r.group.Go(func() error { return apiSrv.Start(ctx, *appCfg) })
	}
	return r, nil
}

// CometConfig loads the CometBFT configuration of a node home
// (home/config/config.toml over CometBFT's defaults).
func CometConfig(home string) (*cmtcfg.Config, error) {
	cfg := cmtcfg.DefaultConfig()
	cfg.SetRoot(home)
	if err := readCometConfig(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// readCometConfig loads home/config/config.toml into cfg.
func readCometConfig(cfg *cmtcfg.Config) error {
	v := newViper()
	v.SetConfigFile(filepath.Join(cfg.RootDir, "config", "config.toml"))
	if err := v.ReadInConfig(); err != nil {
		return err
	}
	root := cfg.RootDir
	if err := v.Unmarshal(cfg); err != nil {
		return err
	}
	cfg.SetRoot(root)
	return cfg.ValidateBasic()
}

// LatestHeight is the last height node 0's app has committed (ABCI Info).
// Not CometBFT's status, which names a block as soon as it is stored, before
// the app has executed it: a gRPC query right after WaitForHeight(1) then
// failed with "please wait for first block" now and then.
func (n *Network) LatestHeight() (int64, error) {
	info, err := n.Nodes[0].RPCClient.ABCIInfo(context.Background())
	if err != nil {
		return 0, err
	}
	return info.Response.LastBlockHeight, nil
}

// WaitForHeight waits until node 0 has committed height h.
func (n *Network) WaitForHeight(h int64, timeout time.Duration) (int64, error) {
	deadline := time.Now().Add(timeout)
	for {
		cur, err := n.LatestHeight()
		if err == nil && cur >= h {
			return cur, nil
		}
		if time.Now().After(deadline) {
			return cur, fmt.Errorf("timed out waiting for height %d (at %d): %v", h, cur, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitForNextBlock waits for one more block after the current one.
func (n *Network) WaitForNextBlock() error {
	h, err := n.LatestHeight()
	if err != nil {
		return err
	}
	_, err = n.WaitForHeight(h+1, 20*time.Second)
	return err
}

// Cleanup stops every node and releases the network lock. The output
// directory is left to its owner (t.TempDir removes itself).
func (n *Network) Cleanup() {
	n.once.Do(func() {
		defer running.Unlock()
		var errs []error
		for _, r := range n.Nodes {
			r.cancel()
			if err := r.group.Wait(); err != nil && !errors.Is(err, context.Canceled) {
				errs = append(errs, err)
			}
			if r.cmtNode.IsRunning() {
				if err := r.cmtNode.Stop(); err != nil {
					errs = append(errs, err)
				}
				r.cmtNode.Wait()
			}
			if err := r.App.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			n.logger.Log("network cleanup:", errors.Join(errs...))
		}
	})
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
