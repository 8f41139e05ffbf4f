package nodebench_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/sidecar/chain"
	"github.com/crucible-network/crucible/sidecar/chain/chaintest"
	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/testutil/network"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// The provider the sidecar serves: an owner key that registers it and a
// hot key, granted what a sidecar sends, that signs its bids. Both are
// funded genesis accounts in node0's test keyring.
const (
	providerKey = "provider"
	hotKey      = "provider-hot"
	// sidecarGPUs simulated H100s: more than the tenants of the market
	// load (each holds at most one), so the sidecar always has one free.
	sidecarGPUs = 8
	gpuModel    = "NVIDIA H100 80GB HBM3"
)

// process is a child process whose output goes to a log file. It gets
// SIGKILL when the benchmark process dies and is stopped by t.Cleanup.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func startProcess(tb testing.TB, name, logPath, bin string, args ...string) *process {
	tb.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	tb.Cleanup(p.stop)
	return p
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the process to stop (SIGTERM) and kills it after 20 s.
func (p *process) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// logTail is the end of the process's log, for failure messages.
func (p *process) logTail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// startSidecar sets up and starts a crucible-sidecar process for a new
// provider on node0 of l, as an operator would: a config file (simulated
// GPUs, the CPU prover, tenant API and metrics on 127.0.0.1:0) in home,
// `crucible-sidecar register` signed by the owner key, an x/authz grant of
// what a sidecar sends to the hot key, then `crucible-sidecar start`. It
// returns once the sidecar has caught up with the chain.
func startSidecar(tb testing.TB, ctx context.Context, bin, home string, l *network.Layout, client *chain.Client, kr keyring.Keyring) *process {
	tb.Helper()
	owner, hot := keyAddr(tb, kr, providerKey), keyAddr(tb, kr, hotKey)
	mp, err := client.Market.Params(ctx, &markettypes.QueryParamsRequest{})
	if err != nil {
		tb.Fatal(err)
	}
	pp, err := client.Provider.Params(ctx, &providertypes.QueryParamsRequest{})
	if err != nil {
		tb.Fatal(err)
	}

	cfg := config.TestConfig()
	cfg.Chain = chaintest.LayoutChainConfig(l, hotKey, owner.String())
	cfg.Inventory.SimGPUs = []config.SimGPU{{Model: gpuModel, MemoryMiB: 81559, Count: sidecarGPUs, UUIDPrefix: "bench"}}
	cfg.Bid.Deposit = mp.Params.MinBidDeposit.Amount.Uint64()
	cfg.Prover.Backend = config.ProverBackendCPU
	if err := os.MkdirAll(home, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := config.Write(config.DefaultPath(home), cfg); err != nil {
		tb.Fatal(err)
	}
	register := exec.CommandContext(ctx, bin, "register", "--home", home, "--from", providerKey,
		"--bond", pp.Params.MinBond.String(), "--host-uri", "http://127.0.0.1:1", "--region", "eu-west")
	if out, err := register.CombinedOutput(); err != nil {
		tb.Fatalf("crucible-sidecar register: %v\n%s", err, out)
	}
	if err := chaintest.Grant(ctx, newSigner(tb, client, kr, l.ChainID, providerKey), hot, chaintest.SidecarMsgTypes...); err != nil {
		tb.Fatalf("grant the hot key: %v", err)
	}

	p := startProcess(tb, "crucible-sidecar", filepath.Join(home, "sidecar.log"), bin,
		"start", "--home", home, "--log-format", "json")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b, _ := os.ReadFile(p.log)
		switch {
		case strings.Contains(string(b), `"msg":"caught up"`):
			return p
		case p.exited():
			tb.Fatalf("crucible-sidecar exited: %v\n%s", p.cmd.ProcessState, p.logTail())
		case time.Now().After(deadline):
			tb.Fatalf("crucible-sidecar did not catch up in 2m\n%s", p.logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// signerGasAdjustment multiplies the simulated gas of the benchmark's own
// signers. The sidecar's 1.5 is not enough for a tenant's MsgCloseLease
// sent right after its lease's block: delivery used 147,728 gas where the
// simulation gave 97,820 (x1.5 = 146,730), the lease's escrow having
// nothing to settle yet when simulated.
const signerGasAdjustment = 2

// newSigner signs as key name of kr; transactions are confirmed for up to
// a minute (blocks under load take longer).
func newSigner(tb testing.TB, client *chain.Client, kr keyring.Keyring, chainID, name string) *chain.Signer {
	tb.Helper()
	s, err := chain.NewSigner(client, kr, chain.SignerConfig{ChainID: chainID, KeyName: name,
		GasPrices: "0.001" + chaintest.Denom, GasAdjustment: signerGasAdjustment, ConfirmTimeout: time.Minute,
		ConfirmPoll: 200 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func keyAddr(tb testing.TB, kr keyring.Keyring, name string) sdk.AccAddress {
	tb.Helper()
	rec, err := kr.Key(name)
	if err != nil {
		tb.Fatal(err)
	}
	a, err := rec.GetAddress()
	if err != nil {
		tb.Fatal(err)
	}
	return a
}
