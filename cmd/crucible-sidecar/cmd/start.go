package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/crucible-network/crucible/sidecar/bidengine"
	"github.com/crucible-network/crucible/sidecar/chain"
	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/sidecar/inventory"
	"github.com/crucible-network/crucible/sidecar/metrics"
	"github.com/crucible-network/crucible/sidecar/prover"
)

// Flags of the start command.
const (
	FlagLogFormat    = "log-format"
	FlagLogLevel     = "log-level"
	FlagPollInterval = "poll-interval"
)

// Deps are the parts the start command builds and hands to the plugins.
type Deps struct {
	Config config.Config
	// Provider is the provider's (owner's) address the sidecar acts for.
	Provider string
	Chain    *chain.Client
	// Signer is the hot-key signer (wrapping messages in authz MsgExec
	// when the hot key is not the provider's owner). Share it: it owns the
	// hot key's sequence.
	Signer    *chain.Signer
	Inventory inventory.Backend
	Metrics   *metrics.Metrics
	Health    *metrics.Health
	Logger    *slog.Logger
	// Classes says which GPU classes may be bid: the challenge responder
	// fills it with the prover's decisions (prover.Decide) before the bid
	// engine starts; left undecided, every class may be bid.
	Classes *prover.ClassGate
}

// Service is a long-running part of the sidecar. Run returns nil when ctx
// is done and an error when the sidecar should stop.
type Service interface {
	Run(ctx context.Context) error
}

// LeaseRunner is the hook for the lease runner (sidecar/runner): the bid
// engine hands it every ACTIVE lease of the provider (also those found
// after a restart) and every lease close, on the engine's goroutine, so
// its LeaseHandler methods must not block. Run runs the jobs.
type LeaseRunner interface {
	bidengine.LeaseHandler
	Service
}

// ChallengeResponder is the hook for the prover: it follows the chain
// itself (Deps.Chain.Follow delivers x/attest events as chain.Other) and
// answers with Deps.Signer.
type ChallengeResponder interface {
	Service
}

// Plugins build the optional parts of the sidecar. A nil constructor, or
// one that returns nil, leaves that part out.
type Plugins struct {
	LeaseRunner        func(Deps) (LeaseRunner, error)
	ChallengeResponder func(Deps) (ChallengeResponder, error)
	// Services are any further services (the tenant API, ...).
	Services []func(Deps) (Service, error)
}

// DefaultPlugins are the plugins the crucible-sidecar binary runs. The lease
// runner, the challenge responder and the tenant API plug in here.
func DefaultPlugins() Plugins { return builtinPlugins() }

func newStartCmd(plugins Plugins) *cobra.Command {
	c := &cobra.Command{
		Use:   "start",
		Short: "Run the sidecar: follow the chain, bid on orders, serve metrics",
		Long: `Run the sidecar until SIGINT or SIGTERM: the chain client and the bid engine,
the metrics and health server (metrics.listen_addr), and the lease runner and
challenge responder when they are built in. Bids are signed by the hot key
chain.hot_key_name for chain.provider_address (through an x/authz grant when
they differ; empty provider_address means the hot key is the owner).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStart(cmd, plugins)
		},
	}
	c.Flags().String(FlagLogFormat, "text", "log format: text or json")
	c.Flags().String(FlagLogLevel, "info", "log level: debug, info, warn or error")
	c.Flags().Duration(FlagPollInterval, chain.DefaultPollInterval, "how often to poll the node for a new block")
	return c
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--%s %q: %w", FlagLogLevel, level, err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--%s %q: want text or json", FlagLogFormat, format)
}

func runStart(cmd *cobra.Command, plugins Plugins) error {
	flags := cmd.Flags()
	format, _ := flags.GetString(FlagLogFormat)
	level, _ := flags.GetString(FlagLogLevel)
	poll, _ := flags.GetDuration(FlagPollInterval)
	logger, err := newLogger(cmd.ErrOrStderr(), format, level)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(cmd, false)
	if err != nil {
		return err
	}
	if err := cfg.ValidateBasic(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()

	inv, err := inventory.Open(ctx, cfg.Inventory, logger)
	if err != nil {
		return err
	}
	defer inv.Close()
	client, err := chain.Dial(cfg.Chain, chain.WithLogger(logger), chain.WithPollInterval(poll))
	if err != nil {
		return err
	}
	defer client.Close()
	kr, err := chain.OpenKeyring(cfg.Chain, client.Encoding().Codec)
	if err != nil {
		return err
	}
	signer, err := chain.NewSigner(client, kr, chain.SignerConfigFrom(cfg.Chain))
	if err != nil {
		return err
	}
	deps := Deps{
		Config: cfg, Provider: signer.Actor(), Chain: client, Signer: signer, Inventory: inv,
		Metrics: metrics.New(), Health: &metrics.Health{}, Logger: logger, Classes: &prover.ClassGate{},
	}
	logger.Info("starting sidecar", "provider", deps.Provider, "hot_key", signer.Address().String(),
		"authz", signer.UsesAuthz(), "chain_id", cfg.Chain.ChainID, "grpc", cfg.Chain.GRPCAddr, "rpc", cfg.Chain.RPCAddr,
		"inventory", inv.Name())

	var services []Service
	var leases bidengine.LeaseHandler
	if plugins.LeaseRunner != nil {
		lr, err := plugins.LeaseRunner(deps)
		if err != nil {
			return fmt.Errorf("lease runner: %w", err)
		}
		if lr != nil {
			leases = lr
			services = append(services, lr)
		}
	}
	if leases == nil {
		logger.Warn("no lease runner built in: leases are logged, not run")
	}
	if plugins.ChallengeResponder != nil {
		cr, err := plugins.ChallengeResponder(deps)
		if err != nil {
			return fmt.Errorf("challenge responder: %w", err)
		}
		if cr != nil {
			services = append(services, cr)
		}
	}
	for _, build := range plugins.Services {
		s, err := build(deps)
		if err != nil {
			return err
		}
		if s != nil {
			services = append(services, s)
		}
	}

	engine, err := bidengine.New(bidengine.Config{Provider: deps.Provider, Bid: cfg.Bid, CanBidClass: deps.Classes.Allows,
		TxTimeoutBlocks: int64(cfg.Chain.TxTimeoutBlocks)}, client, signer, inv,
		deps.Metrics, leases, logger)
	if err != nil {
		return err
	}
	if err := deps.Health.Register("chain", func(ctx context.Context) error {
		_, err := client.LatestHeight(ctx)
		return err
	}); err != nil {
		return err
	}
	if err := deps.Health.Register("bidengine", func(context.Context) error {
		if engine.LastHeight() == 0 {
			return errors.New("not caught up with the chain yet")
		}
		return nil
	}); err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	if cfg.Metrics.Enabled() {
		ln, err := net.Listen("tcp", cfg.Metrics.ListenAddr)
		if err != nil {
			return fmt.Errorf("metrics listen %s: %w", cfg.Metrics.ListenAddr, err)
		}
		logger.Info("serving metrics and health", "addr", ln.Addr().String())
		g.Go(func() error { return metrics.Serve(gctx, ln, metrics.Handler(deps.Metrics, deps.Health, 0)) })
	}
	g.Go(func() error { return engine.Run(gctx) })
	for _, s := range services {
		g.Go(func() error { return s.Run(gctx) })
	}
	err = g.Wait()
	if err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("sidecar stopped", "err", err)
		return err
	}
	logger.Info("sidecar stopped")
	return nil
}
