// Package e2e_test runs the whole sidecar (the `start` command with the
// built-in plugins: bid engine, lease manager, runner, tenant API on
// 127.0.0.1:0, challenge responder with the CPU prover) against the
// in-process chain with a simulated inventory, and drives it as a tenant
// would: order, lease, signed manifest, status, logs, results, and the
// result receipt on chain. It also covers refused tenant requests and a
// sidecar restart (crash and graceful stop) in the middle of a lease.
package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"

	sidecarcmd "github.com/crucible-network/crucible/cmd/crucible-sidecar/cmd"
	"github.com/crucible-network/crucible/sidecar/api"
	"github.com/crucible-network/crucible/sidecar/chain"
	"github.com/crucible-network/crucible/sidecar/chain/chaintest"
	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/sidecar/runner"
	"github.com/crucible-network/crucible/testutil/network"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// childEnv makes the test binary run `crucible-sidecar` with its arguments
// instead of the tests: the restart test runs a sidecar as a real process
// so that it can kill it (SIGKILL, a crash).
const childEnv = "CRUCIBLE_E2E_SIDECAR_CHILD"

const gpuModel = "NVIDIA H100 80GB HBM3"

// pollInterval is the sidecars' --poll-interval: how often they ask the
// node for a new block.
const pollInterval = 100 * time.Millisecond

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		root := sidecarcmd.NewRootCmd()
		root.SetArgs(os.Args[1:])
		err := root.ExecuteContext(ctx)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "Error:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	chaintest.Main(m)
}

// ---------------------------------------------------------------- helpers

func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitBlocks(t testing.TB, n *network.Network, blocks int64) {
	t.Helper()
	h, err := n.LatestHeight()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.WaitForHeight(h+blocks, 60*time.Second); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// logValue returns the value of key in the first JSON log line whose msg
// is msg ("" when there is none yet).
func logValue(logs, msg, key string) string {
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil || rec["msg"] != msg {
			continue
		}
		if v, ok := rec[key]; ok {
			return fmt.Sprint(v)
		}
	}
	return ""
}

// provider is a registered provider with its sidecar home: the owner key
// registered it and granted the hot key (which the sidecar signs with)
// what a sidecar sends.
type provider struct {
	addr    string // owner (provider) address
	hotName string
	home    string
}

func newProvider(t testing.TB, ctx context.Context, c *chain.Client, n *network.Network, name, prefix string) provider {
	t.Helper()
	ownerName, hotName := name+"-owner", name+"-hot"
	owner := chaintest.AddKey(t, c, n, ownerName, 5_000_000_000)
	hot := chaintest.AddKey(t, c, n, hotName, 50_000_000)
	ownerSigner := chaintest.Signer(t, c, n, ownerName, "")
	if err := chaintest.Grant(ctx, ownerSigner, hot, chaintest.SidecarMsgTypes...); err != nil {
		t.Fatal(err)
	}

	cfg := config.TestConfig()
	cfg.Chain = chaintest.ChainConfig(n, hotName, owner.String())
	cfg.Inventory.SimGPUs = []config.SimGPU{{Model: gpuModel, MemoryMiB: 81559, Count: 2, UUIDPrefix: prefix}}
	cfg.Bid.Deposit = 500_000 // the chain's minimum bid deposit
	cfg.Prover.Backend = config.ProverBackendCPU
	home := t.TempDir()
	if err := config.Write(config.DefaultPath(home), cfg); err != nil {
		t.Fatal(err)
	}
	root := sidecarcmd.NewRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs([]string{"register", "--home", home, "--from", ownerName, "--bond", chaintest.MinBond.String(),
		"--host-uri", "http://127.0.0.1:1", "--region", "eu-west"})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("register: %v\n%s%s", err, out.String(), errOut.String())
	}

	return provider{addr: owner.String(), hotName: hotName, home: home}
}

func (p provider) workDir() string { return filepath.Join(p.home, "work") }

// activeCall is one LeaseActive call the bid engine made.
type activeCall struct {
	lease     uint64
	recovered bool
}

// recorder records LeaseActive calls on the way to the real lease runner.
type recorder struct {
	mu    sync.Mutex
	calls []activeCall
}

func (r *recorder) has(lease uint64, recovered bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.calls {
		if c.lease == lease && c.recovered == recovered {
			return true
		}
	}
	return false
}

type recordingRunner struct {
	sidecarcmd.LeaseRunner
	rec *recorder
}

func (r recordingRunner) LeaseActive(l markettypes.Lease, recovered bool) {
	r.rec.mu.Lock()
	r.rec.calls = append(r.rec.calls, activeCall{lease: l.Id, recovered: recovered})
	r.rec.mu.Unlock()
	r.LeaseRunner.LeaseActive(l, recovered)
}

// instance is a sidecar running in this process (`start` with the built-in
// plugins, the lease runner wrapped by a recorder).
type instance struct {
	api    string // base URL of the tenant API
	logs   *syncBuffer
	rec    *recorder
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func startInProcess(t testing.TB, p provider) *instance {
	t.Helper()
	plugins := sidecarcmd.DefaultPlugins()
	rec := &recorder{}
	inner := plugins.LeaseRunner
	plugins.LeaseRunner = func(d sidecarcmd.Deps) (sidecarcmd.LeaseRunner, error) {
		lr, err := inner(d)
		if err != nil || lr == nil {
			return lr, err
		}
		return recordingRunner{LeaseRunner: lr, rec: rec}, nil
	}
	root := sidecarcmd.NewRootCmdWith(plugins)
	logs := &syncBuffer{}
	root.SetOut(io.Discard)
	root.SetErr(logs)
	root.SetArgs([]string{"start", "--home", p.home, "--poll-interval", pollInterval.String(), "--log-format", "json"})
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{logs: logs, rec: rec, cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() { in.stop(t) })
	in.api = waitReady(t, func() string {
		select {
		case err := <-in.done:
			in.done <- err
			t.Fatalf("sidecar exited: %v\n%s", err, logs.String())
		default:
		}
		return logs.String()
	})
	return in
}

// waitReady waits for the tenant API address and the engine's catch-up in
// the logs and returns the API's base URL.
func waitReady(t testing.TB, logs func() string) string {
	t.Helper()
	var addr string
	waitFor(t, "the sidecar to serve and catch up", 90*time.Second, func() bool {
		l := logs()
		addr = logValue(l, "serving the tenant API", "addr")
		return addr != "" && logValue(l, "caught up", "height") != ""
	})
	if b := logValue(logs(), "prover ready", "backend"); b != config.ProverBackendCPU {
		t.Fatalf("challenge responder not running (prover %q)", b)
	}
	return "http://" + addr
}

// stop cancels the sidecar (SIGINT) and waits for start to return.
func (in *instance) stop(t testing.TB) {
	t.Helper()
	in.once.Do(func() {
		in.cancel()
		select {
		case err := <-in.done:
			if err != nil {
				t.Errorf("start returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("start did not return 30s after its context ended")
		}
	})
}

// child is a sidecar running as a process of its own.
type child struct {
	cmd  *exec.Cmd
	log  string
	api  string
	done chan struct{}
}

func startChild(t *testing.T, p provider, name string) *child {
	t.Helper()
	logPath := filepath.Join(p.home, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(os.Args[0], "start", "--home", p.home, "--poll-interval", pollInterval.String(), "--log-format", "json")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := &child{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(ch.done) }()
	t.Cleanup(func() { ch.kill(t) })
	ch.api = waitReady(t, func() string {
		b, _ := os.ReadFile(logPath)
		select {
		case <-ch.done:
			t.Fatalf("sidecar process exited: %v\n%s", cmd.ProcessState, b)
		default:
		}
		return string(b)
	})
	return ch
}

// kill SIGKILLs the process: a crash, no shutdown code runs.
func (ch *child) kill(t *testing.T) {
	t.Helper()
	_ = ch.cmd.Process.Kill()
	select {
	case <-ch.done:
	case <-time.After(30 * time.Second):
		t.Errorf("sidecar process %d not gone after SIGKILL", ch.cmd.Process.Pid)
	}
}

// processGone reports whether pid no longer runs (gone or a zombie).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return os.IsNotExist(err)
	}
	// pid (comm) S ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// groupLive returns the live (not zombie) processes of process group pgid.
func groupLive(pgid int) []int {
	entries, _ := os.ReadDir("/proc")
	var live []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) >= 3 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			live = append(live, pid)
		}
	}
	return live
}

// tenant is alice: she signs chain txs and tenant API requests with her
// key in node0's keyring.
type tenant struct {
	signer  *chain.Signer
	apiSign api.Signer
}

func newTenant(t testing.TB, c *chain.Client, n *network.Network) tenant {
	t.Helper()
	return tenant{signer: chaintest.Signer(t, c, n, "alice", ""), apiSign: keySigner(t, c, n, "alice")}
}

func keySigner(t testing.TB, c *chain.Client, n *network.Network, name string) api.KeyringSigner {
	t.Helper()
	kr, err := chain.OpenKeyring(chaintest.ChainConfig(n, name, ""), c.Encoding().Codec)
	if err != nil {
		t.Fatal(err)
	}
	return api.KeyringSigner{Keyring: kr, UID: name}
}

func apiClient(t *testing.T, base string, s api.Signer) *api.Client {
	t.Helper()
	cl, err := api.NewClient(base, s, &http.Client{Timeout: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// rent orders one H100 for the manifest's hash, waits for the provider's
// bid and accepts it; it returns the lease (id == order id).
func rent(t *testing.T, ctx context.Context, c *chain.Client, tn tenant, p provider, manifest []byte) markettypes.Lease {
	t.Helper()
	spec := chaintest.Spec("h100", 1)
	h := runner.ManifestHash(manifest)
	spec.ManifestHash = h[:]
	order, err := chaintest.CreateOrder(ctx, tn.signer, spec, 5000)
	if err != nil {
		t.Fatal(err)
	}
	var bid markettypes.Bid
	waitFor(t, fmt.Sprintf("a bid from %s on order %d", p.addr, order.Id), 60*time.Second, func() bool {
		bids, err := c.Bids(ctx, 0, order.Id, p.addr, markettypes.BidStateOpen)
		if err != nil {
			t.Fatal(err)
		}
		if len(bids) > 0 {
			bid = bids[0]
			return true
		}
		return false
	})
	if _, err := tn.signer.Submit(ctx, &markettypes.MsgCreateLease{Tenant: tn.signer.Actor(), BidId: bid.Id}); err != nil {
		t.Fatalf("create lease from bid %d: %v", bid.Id, err)
	}
	l := chainLease(t, ctx, c, order.Id)
	if l.State != markettypes.LeaseStateActive || l.Provider != p.addr || len(l.GpuUuids) != 1 {
		t.Fatalf("lease %+v", l)
	}
	return l
}

func chainLease(t *testing.T, ctx context.Context, c *chain.Client, id uint64) markettypes.Lease {
	t.Helper()
	res, err := c.Market.Lease(ctx, &markettypes.QueryLeaseRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	return res.Lease
}

func waitState(t *testing.T, ctx context.Context, cl *api.Client, lease uint64, timeout time.Duration, want ...runner.State) api.LeaseStatus {
	t.Helper()
	var st api.LeaseStatus
	waitFor(t, fmt.Sprintf("lease %d job in %v", lease, want), timeout, func() bool {
		var err error
		if st, err = cl.Status(ctx, lease); err != nil {
			t.Fatalf("status: %v", err)
		}
		for _, w := range want {
			if st.State == string(w) {
				return true
			}
		}
		return false
	})
	return st
}

func readLogs(t *testing.T, ctx context.Context, cl *api.Client, lease uint64) string {
	t.Helper()
	rc, err := cl.Logs(ctx, lease)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func apiErr(t *testing.T, err error, status int, code string) {
	t.Helper()
	var e *api.Error
	if !errors.As(err, &e) || e.Status != status || e.Code != code {
		t.Fatalf("got %v, want %d %s", err, status, code)
	}
}

// providerHealthy checks the responder kept the provider out of jail.
func providerHealthy(t testing.TB, ctx context.Context, c *chain.Client, p provider) {
	t.Helper()
	prov, err := c.GetProvider(ctx, 0, p.addr)
	if err != nil {
		t.Fatal(err)
	}
	if prov.Status != providertypes.ProviderStatusActive {
		t.Fatalf("provider %s is %s", p.addr, prov.Status)
	}
	rec, err := attesttypes.NewQueryClient(c.Conn()).Record(ctx, &attesttypes.QueryRecordRequest{Provider: p.addr})
	if err == nil {
		t.Logf("attest record of %s: %+v", p.addr, rec.Record)
		if rec.Record.Frauds != 0 {
			t.Fatalf("provider has frauds: %+v", rec.Record)
		}
	}
}

// ------------------------------------------------------------------ tests

const happyManifest = `{"command": ["/bin/sh", "-c", "echo \"job on $CUDA_VISIBLE_DEVICES lease $CRUCIBLE_LEASE_ID\"; echo 42 > \"$CRUCIBLE_OUTPUT_DIR/answer.txt\"; mkdir \"$CRUCIBLE_OUTPUT_DIR/sub\"; printf abc > \"$CRUCIBLE_OUTPUT_DIR/sub/b.txt\"; echo done"], "max_runtime": "30s"}`

// The whole story: order, bid, lease, signed manifest, status until
// succeeded, logs, results and a file, and the result receipt on chain.
func TestE2EHappyPath(t *testing.T) {
	n := chaintest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := chaintest.Dial(t, n)
	p := newProvider(t, ctx, c, n, "e2e-happy", "happy")
	tn := newTenant(t, c, n)
	sc := startInProcess(t, p)

	manifest := []byte(happyManifest)
	l := rent(t, ctx, c, tn, p, manifest)
	waitFor(t, "the sidecar to see the lease", 30*time.Second, func() bool { return sc.rec.has(l.Id, false) })
	cl := apiClient(t, sc.api, tn.apiSign)

	st, err := cl.Status(ctx, l.Id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != api.StateAwaitingManifest || !st.Active || st.Job != nil {
		t.Fatalf("status before the manifest: %+v", st)
	}
	if st, err = cl.SubmitManifest(ctx, l.Id, manifest); err != nil {
		t.Fatal(err)
	}
	t.Logf("manifest accepted: %s", st.State)
	st = waitState(t, ctx, cl, l.Id, 60*time.Second, runner.StateSucceeded, runner.StateFailed, runner.StateCancelled)
	if st.State != string(runner.StateSucceeded) {
		t.Fatalf("job ended %s: %+v", st.State, st.Job)
	}
	if st.Job.ExitCode == nil || *st.Job.ExitCode != 0 || len(st.Job.GPUs) != 1 || st.Job.GPUs[0] != l.GpuUuids[0] {
		t.Fatalf("job %+v, lease GPUs %v", st.Job, l.GpuUuids)
	}

	logs := readLogs(t, ctx, cl, l.Id)
	if want := fmt.Sprintf("job on %s lease %d\ndone\n", l.GpuUuids[0], l.Id); logs != want {
		t.Fatalf("logs %q, want %q", logs, want)
	}
	res, err := cl.Results(ctx, l.Id)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 2 || res.Files[0].Path != "answer.txt" || res.Files[1].Path != "sub/b.txt" || res.Location != runner.Location(l.Id) {
		t.Fatalf("result %+v", res)
	}
	if h := runner.ResultHash(res.Files); !bytes.Equal(h[:], res.Hash) {
		t.Fatalf("result hash %x does not match its files (%x)", []byte(res.Hash), h)
	}
	var buf bytes.Buffer
	fh, err := cl.Download(ctx, l.Id, "answer.txt", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != "42\n" || !bytes.Equal(fh, res.Files[0].SHA256) {
		t.Fatalf("answer.txt %q (sha256 %x)", buf.String(), fh)
	}
	buf.Reset()
	if _, err := cl.Download(ctx, l.Id, "sub/b.txt", &buf); err != nil || buf.String() != "abc" {
		t.Fatalf("sub/b.txt %q: %v", buf.String(), err)
	}

	// The receipt on chain: the runner's hash and the order's manifest hash,
	// posted by the hot key through the provider's authz grant (the tx
	// signature is the receipt's).
	var onChain markettypes.Lease
	waitFor(t, "MsgSubmitResult on chain", 30*time.Second, func() bool {
		onChain = chainLease(t, ctx, c, l.Id)
		return onChain.Result != nil
	})
	r := onChain.Result
	if !bytes.Equal(r.ResultHash, res.Hash) || r.Location != res.Location || r.Height == 0 {
		t.Fatalf("on-chain result %+v, runner's hash %x", r, []byte(res.Hash))
	}
	if mh := runner.ManifestHash(manifest); !bytes.Equal(r.ManifestHash, mh[:]) || r.Submission != 1 {
		t.Fatalf("on-chain result %+v, manifest hash %x", r, mh)
	}
	if onChain.State != markettypes.LeaseStateActive {
		t.Fatalf("lease %s after the result", onChain.State)
	}
	// Exactly one bid by the provider on the order.
	if bids, err := c.Bids(ctx, 0, l.Id, p.addr, markettypes.BidStateUnspecified); err != nil || len(bids) != 1 {
		t.Fatalf("bids on order %d: %v %+v", l.Id, err, bids)
	}
	providerHealthy(t, ctx, c, p)
	t.Logf("lease %d: result %x at height %d", l.Id, []byte(r.ResultHash), r.Height)
}

// wrongPub signs with one key and presents another's public key.
type wrongPub struct {
	signer api.Signer
	pub    cryptotypes.PubKey
}

func (w wrongPub) Sign(msg []byte) ([]byte, cryptotypes.PubKey, error) {
	sig, _, err := w.signer.Sign(msg)
	return sig, w.pub, err
}

// rawPost sends a signed POST of body, lets edit change the request after
// signing, and returns the decoded error.
func rawPost(t *testing.T, ctx context.Context, url string, body []byte, s api.Signer, edit func(*http.Request)) *api.Error {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if s != nil {
		if err := api.SignRequest(req, body, s, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if edit != nil {
		edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	e := &api.Error{Status: resp.StatusCode}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, e); err != nil {
		t.Fatalf("status %d body %q", resp.StatusCode, b)
	}
	return e
}

// Requests not signed by the lease's tenant are refused and start nothing.
func TestE2ETenantAPIRefusesOtherKeys(t *testing.T) {
	n := chaintest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := chaintest.Dial(t, n)
	p := newProvider(t, ctx, c, n, "e2e-auth", "auth")
	tn := newTenant(t, c, n)
	chaintest.AddKey(t, c, n, "e2e-mallory", 0)
	mallory := keySigner(t, c, n, "e2e-mallory")
	sc := startInProcess(t, p)

	manifest := []byte(happyManifest)
	l := rent(t, ctx, c, tn, p, manifest)
	alice := apiClient(t, sc.api, tn.apiSign)
	mal := apiClient(t, sc.api, mallory)
	url := fmt.Sprintf("%s/v1/leases/%d/manifest", sc.api, l.Id)
	_, alicePub, err := tn.apiSign.Sign([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	aliceAddr := tn.signer.Actor()

	// A valid signature by a key that is not the tenant's: 403.
	_, err = mal.SubmitManifest(ctx, l.Id, manifest)
	apiErr(t, err, http.StatusForbidden, api.CodeNotTenant)
	_, err = mal.Status(ctx, l.Id)
	apiErr(t, err, http.StatusForbidden, api.CodeNotTenant)
	_, err = mal.Logs(ctx, l.Id)
	apiErr(t, err, http.StatusForbidden, api.CodeNotTenant)
	// Mallory's key and signature, claiming alice's address: 401.
	e := rawPost(t, ctx, url, manifest, mallory, func(r *http.Request) { r.Header.Set(api.HeaderAddress, aliceAddr) })
	if e.Status != http.StatusUnauthorized || e.Code != api.CodeAddressMismatch {
		t.Fatalf("claimed address: %+v", e)
	}
	// Alice's key and address, signed by mallory's key: 401.
	e = rawPost(t, ctx, url, manifest, wrongPub{signer: mallory, pub: alicePub}, nil)
	if e.Status != http.StatusUnauthorized || e.Code != api.CodeBadSignature {
		t.Fatalf("alice's key, mallory's signature: %+v", e)
	}
	// Alice's valid signature over another body than the one sent: 401.
	e = rawPost(t, ctx, url, manifest, tn.apiSign, func(r *http.Request) {
		other := []byte(`{"command": ["/bin/sh", "-c", "echo pwned"]}`)
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(other)), int64(len(other))
	})
	if e.Status != http.StatusUnauthorized || e.Code != api.CodeBadSignature {
		t.Fatalf("body swapped after signing: %+v", e)
	}
	// Unsigned: 401.
	if e := rawPost(t, ctx, url, manifest, nil, nil); e.Status != http.StatusUnauthorized || e.Code != api.CodeUnauthenticated {
		t.Fatalf("unsigned: %+v", e)
	}

	// No job was started, nothing was written.
	st, err := alice.Status(ctx, l.Id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != api.StateAwaitingManifest || st.Job != nil {
		t.Fatalf("job after refused requests: %+v", st)
	}
	if _, err := os.Stat(filepath.Join(p.workDir(), "leases", strconv.FormatUint(l.Id, 10))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("lease directory after refused requests: %v", err)
	}
	// The tenant with a manifest other than the order's: 400, still nothing.
	_, err = alice.SubmitManifest(ctx, l.Id, []byte(`{"command": ["/bin/true"]}`))
	apiErr(t, err, http.StatusBadRequest, api.CodeManifestMismatch)

	// The tenant herself is served.
	if _, err := alice.SubmitManifest(ctx, l.Id, manifest); err != nil {
		t.Fatal(err)
	}
	if st := waitState(t, ctx, alice, l.Id, 60*time.Second, runner.StateSucceeded, runner.StateFailed); st.State != string(runner.StateSucceeded) {
		t.Fatalf("tenant's job: %+v", st.Job)
	}
	// Mallory still cannot read its results.
	_, err = mal.Results(ctx, l.Id)
	apiErr(t, err, http.StatusForbidden, api.CodeNotTenant)
}

const longManifest = `{"command": ["/bin/sh", "-c", "echo started; sleep 30; echo 1 > \"$CRUCIBLE_OUTPUT_DIR/late.txt\""]}`

// A sidecar killed in the middle of a lease's job, then started again on
// the same home: the lease comes back from the chain, the job is reported
// failed ("sidecar restarted"), no second bid is placed, and a second
// manifest is refused (a lease runs one job). Then a graceful stop of the
// new instance in the middle of another job: the job is stopped with it
// ("sidecar stopped"), nothing keeps running.
func TestE2ERestartMidLease(t *testing.T) {
	n := chaintest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := chaintest.Dial(t, n)
	p := newProvider(t, ctx, c, n, "e2e-restart", "restart")
	tn := newTenant(t, c, n)

	// 1. A sidecar process runs the long job; it is killed (SIGKILL).
	first := startChild(t, p, "sidecar-1")
	manifest := []byte(longManifest)
	l := rent(t, ctx, c, tn, p, manifest)
	cl1 := apiClient(t, first.api, tn.apiSign)
	if _, err := cl1.SubmitManifest(ctx, l.Id, manifest); err != nil {
		t.Fatal(err)
	}
	st := waitState(t, ctx, cl1, l.Id, 30*time.Second, runner.StateRunning)
	pid := st.Job.PID
	waitFor(t, "the job's first output", 10*time.Second, func() bool { return st.Job != nil && cl1Log(t, ctx, cl1, l.Id) })
	first.kill(t)
	waitFor(t, "the job's shell to die with the sidecar (Pdeathsig)", 10*time.Second, func() bool { return processGone(pid) })
	// Its child (sleep 30) is not reached by Pdeathsig and lives on.
	t.Logf("after the crash, the job's process group %d has live processes %v", pid, groupLive(pid))

	// 2. A new sidecar on the same home recovers the lease from the chain
	// and kills what the job left running.
	second := startInProcess(t, p)
	waitFor(t, "the job's leftover processes to be killed", 10*time.Second, func() bool { return len(groupLive(pid)) == 0 })
	waitFor(t, "LeaseActive(recovered) for the lease", 30*time.Second, func() bool { return second.rec.has(l.Id, true) })
	cl2 := apiClient(t, second.api, tn.apiSign)
	st, err := cl2.Status(ctx, l.Id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != string(runner.StateFailed) || st.Job.Reason != runner.ReasonRestarted || !st.Active || st.Job.PID != 0 {
		t.Fatalf("status after the restart: %+v job %+v", st, st.Job)
	}
	// The log of the first run is still there.
	if logs := readLogs(t, ctx, cl2, l.Id); logs != "started\n" {
		t.Fatalf("logs after the restart: %q", logs)
	}
	// A second manifest for the lease: refused, the lease has had its job.
	_, err = cl2.SubmitManifest(ctx, l.Id, manifest)
	apiErr(t, err, http.StatusConflict, api.CodeAlreadySubmitted)
	if st2, err := cl2.Status(ctx, l.Id); err != nil || st2.State != string(runner.StateFailed) || st2.Job.Reason != runner.ReasonRestarted {
		t.Fatalf("status after the second manifest: %v %+v", err, st2)
	}
	// Some blocks past the new engine's start-up grace: still one bid, no
	// result on chain for the failed job, the lease still active.
	waitBlocks(t, n, 6)
	bids, err := c.Bids(ctx, 0, l.Id, p.addr, markettypes.BidStateUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if len(bids) != 1 || bids[0].State != markettypes.BidStateWon {
		t.Fatalf("bids of the provider on order %d: %+v", l.Id, bids)
	}
	if cl := chainLease(t, ctx, c, l.Id); cl.Result != nil || cl.State != markettypes.LeaseStateActive {
		t.Fatalf("lease after the restart: %+v", cl)
	}

	// 3. The new instance runs another lease's long job and is stopped
	// gracefully (its context ends, as on SIGINT/SIGTERM).
	l2 := rent(t, ctx, c, tn, p, manifest)
	if l2.GpuUuids[0] == l.GpuUuids[0] {
		t.Fatalf("GPU %s of active lease %d leased again", l.GpuUuids[0], l.Id)
	}
	if _, err := cl2.SubmitManifest(ctx, l2.Id, manifest); err != nil {
		t.Fatal(err)
	}
	st = waitState(t, ctx, cl2, l2.Id, 30*time.Second, runner.StateRunning)
	pid2 := st.Job.PID
	t0 := time.Now()
	second.stop(t)
	t.Logf("graceful stop took %s", time.Since(t0).Round(time.Millisecond))
	if live := groupLive(pid2); !processGone(pid2) || len(live) != 0 {
		t.Fatalf("job processes %v of lease %d still run after the sidecar stopped", live, l2.Id)
	}
	r, err := runner.New(config.RunnerConfig{WorkDir: p.workDir(), MaxJobTime: config.Duration(time.Minute), MaxOutputBytes: 1 << 20, Backend: config.BackendProcess}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := r.Status(l2.Id); err != nil || st.State != runner.StateFailed || st.Reason != runner.ReasonStopped {
		t.Fatalf("lease %d's job after a graceful stop: %v %+v", l2.Id, err, st)
	}
	if st, err := r.Status(l.Id); err != nil || st.State != runner.StateFailed || st.Reason != runner.ReasonRestarted {
		t.Fatalf("lease %d's job: %v %+v", l.Id, err, st)
	}
	_ = r.Close()
	providerHealthy(t, ctx, c, p)
}

func cl1Log(t *testing.T, ctx context.Context, cl *api.Client, lease uint64) bool {
	t.Helper()
	st, err := cl.Status(ctx, lease)
	return err == nil && st.Job != nil && st.Job.LogBytes > 0
}
