// Package procnet runs crucibled validators as real processes on
// 127.0.0.1 for end-to-end and fault tests: build the binary once, lay the
// network out with `crucibled testnet init-files`, then start, stop and
// restart single nodes and watch their heights and app hashes over
// CometBFT RPC.
package procnet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/crucible-network/crucible/testutil/network"
)

// BuildBinary builds ./cmd/<name> of this module into dir and returns its path.
func BuildBinary(t testing.TB, dir, name string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, "github.com/crucible-network/crucible/cmd/"+name)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build %s: %v", name, err)
	}
	return out
}

// Net is a network of crucibled processes.
type Net struct {
	t      testing.TB
	Bin    string
	Dir    string
	N      int
	Layout Layout

	mu    sync.Mutex
	procs map[int]*exec.Cmd
}

// Layout is the testnet.json written by `crucibled testnet init-files`.
type Layout struct {
	ChainID string       `json:"chain_id"`
	Nodes   []LayoutNode `json:"nodes"`
}

// LayoutNode is one node of a Layout.
type LayoutNode struct {
	Moniker  string `json:"moniker"`
	Home     string `json:"home"`
	Operator string `json:"operator"`
	RPC      string `json:"rpc"`  // tcp://127.0.0.1:port
	GRPC     string `json:"grpc"` // 127.0.0.1:port
	API      string `json:"api"`  // http://127.0.0.1:port
}

// New lays out n validators under dir with free loopback ports. Every
// process it starts is stopped by t.Cleanup.
func New(t testing.TB, bin, dir string, n int, extraArgs ...string) *Net {
	t.Helper()
	args := append([]string{"testnet", "init-files", "--validators", strconv.Itoa(n),
		"--output-dir", filepath.Join(dir, "net"), "--base-port", "0", "--timeout-commit", "500ms",
		"--home", filepath.Join(dir, "client")}, extraArgs...)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("init-files: %v\n%s", err, out)
	}
	bz, err := os.ReadFile(filepath.Join(dir, "net", "testnet.json"))
	if err != nil {
		t.Fatal(err)
	}
	var layout Layout
	if err := json.Unmarshal(bz, &layout); err != nil {
		t.Fatal(err)
	}
	return Attach(t, bin, dir, layout)
}

// Attach runs the nodes of a network laid out elsewhere (node homes that
// `crucibled start --home` accepts) with bin; their logs go under dir.
// Every process it starts is stopped by t.Cleanup.
func Attach(t testing.TB, bin, dir string, layout Layout) *Net {
	t.Helper()
	net := &Net{t: t, Bin: bin, Dir: dir, N: len(layout.Nodes), Layout: layout, procs: map[int]*exec.Cmd{}}
	t.Cleanup(net.StopAll)
	return net
}

// LayoutOf is the Layout of homes written by network.InitFiles (what
// `crucibled testnet init-files` summarises in testnet.json).
func LayoutOf(l *network.Layout) Layout {
	out := Layout{ChainID: l.ChainID}
	for _, n := range l.Nodes {
		out.Nodes = append(out.Nodes, LayoutNode{Moniker: n.Moniker, Home: n.Home, Operator: n.Address.String(),
			RPC: n.RPCAddress(), GRPC: n.GRPCAddress(), API: n.APIAddress()})
	}
	return out
}

// Start starts node i (its log goes to dir/node<i>.log, appended).
func (n *Net) Start(i int) {
	n.t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.procs[i] != nil {
		n.t.Fatalf("node%d already running", i)
	}
	logf, err := os.OpenFile(filepath.Join(n.Dir, fmt.Sprintf("node%d.log", i)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		n.t.Fatal(err)
	}
	cmd := exec.Command(n.Bin, "start", "--home", n.Layout.Nodes[i].Home, "--log_no_color")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.procs[i] = cmd
}

// Pid is the process id of node i, or 0 when it is not running.
func (n *Net) Pid(i int) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if cmd := n.procs[i]; cmd != nil {
		return cmd.Process.Pid
	}
	return 0
}

// StartAll starts every node.
func (n *Net) StartAll() {
	for i := 0; i < n.N; i++ {
		n.Start(i)
	}
}

// Stop stops node i gracefully (SIGTERM, then SIGKILL after 20 s).
func (n *Net) Stop(i int) {
	n.mu.Lock()
	cmd := n.procs[i]
	delete(n.procs, i)
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// StopAll stops every running node.
func (n *Net) StopAll() {
	for i := 0; i < n.N; i++ {
		n.Stop(i)
	}
}

// Status is the part of CometBFT's /status we read.
type Status struct {
	Height  int64
	AppHash string
}

// Status queries node i's RPC.
func (n *Net) Status(i int) (Status, error) {
	var out struct {
		Result struct {
			SyncInfo struct {
				LatestBlockHeight string `json:"latest_block_height"`
				LatestAppHash     string `json:"latest_app_hash"`
			} `json:"sync_info"`
		} `json:"result"`
	}
	if err := n.rpcGet(i, "/status", &out); err != nil {
		return Status{}, err
	}
	h, err := strconv.ParseInt(out.Result.SyncInfo.LatestBlockHeight, 10, 64)
	return Status{Height: h, AppHash: out.Result.SyncInfo.LatestAppHash}, err
}

// AppHashAt returns the app hash node i recorded in the header of block
// h+1, i.e. the state after executing block h.
func (n *Net) AppHashAt(i int, h int64) (string, error) {
	var out struct {
		Result struct {
			Block struct {
				Header struct {
					AppHash string `json:"app_hash"`
				} `json:"header"`
			} `json:"block"`
		} `json:"result"`
	}
	if err := n.rpcGet(i, fmt.Sprintf("/block?height=%d", h+1), &out); err != nil {
		return "", err
	}
	return out.Result.Block.Header.AppHash, nil
}

func (n *Net) rpcGet(i int, path string, v any) error {
	addr := n.Layout.Nodes[i].RPC // tcp://127.0.0.1:port
	url := "http://" + addr[len("tcp://"):] + path
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	bz, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", url, res.Status, bz)
	}
	return json.Unmarshal(bz, v)
}

// WaitHeight waits until node i reports at least height h.
func (n *Net) WaitHeight(i int, h int64, timeout time.Duration) int64 {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	var last Status
	var err error
	for time.Now().Before(deadline) {
		last, err = n.Status(i)
		if err == nil && last.Height >= h {
			return last.Height
		}
		time.Sleep(250 * time.Millisecond)
	}
	n.t.Fatalf("node%d did not reach height %d in %s (at %d, err %v); log: %s", i, h, timeout, last.Height, err,
		filepath.Join(n.Dir, fmt.Sprintf("node%d.log", i)))
	return 0
}

// Home is node i's home directory.
func (n *Net) Home(i int) string { return n.Layout.Nodes[i].Home }

// EditGenesis rewrites every node's genesis before the processes start:
// edit receives the app state (module name -> JSON) and may change it.
func (n *Net) EditGenesis(edit func(appState map[string]json.RawMessage) error) {
	n.t.Helper()
	for _, node := range n.Layout.Nodes {
		path := filepath.Join(node.Home, "config", "genesis.json")
		bz, err := os.ReadFile(path)
		if err != nil {
			n.t.Fatal(err)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(bz, &doc); err != nil {
			n.t.Fatal(err)
		}
		var state map[string]json.RawMessage
		if err := json.Unmarshal(doc["app_state"], &state); err != nil {
			n.t.Fatal(err)
		}
		if err := edit(state); err != nil {
			n.t.Fatal(err)
		}
		if doc["app_state"], err = json.Marshal(state); err != nil {
			n.t.Fatal(err)
		}
		if bz, err = json.MarshalIndent(doc, "", "  "); err != nil {
			n.t.Fatal(err)
		}
		if err := os.WriteFile(path, bz, 0o600); err != nil {
			n.t.Fatal(err)
		}
	}
}

// NoChallenges sets x/attest's challenge rate to 0 in every node's genesis:
// for walks that test the marketplace with no sidecar answering challenges
// (a missed challenge refunds the tenant, which would move their balances).
func (n *Net) NoChallenges() {
	n.EditGenesis(func(state map[string]json.RawMessage) error {
		var attest map[string]json.RawMessage
		if err := json.Unmarshal(state["attest"], &attest); err != nil {
			return err
		}
		var params map[string]json.RawMessage
		if err := json.Unmarshal(attest["params"], &params); err != nil {
			return err
		}
		params["challenge_rate_bps"] = json.RawMessage(`0`)
		var err error
		if attest["params"], err = json.Marshal(params); err != nil {
			return err
		}
		state["attest"], err = json.Marshal(attest)
		return err
	})
}
