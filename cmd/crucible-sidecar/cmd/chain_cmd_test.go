package cmd

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crucible-network/crucible/sidecar/chain/chaintest"
	"github.com/crucible-network/crucible/sidecar/config"
	markettypes "github.com/crucible-network/crucible/x/market/types"
)

func TestMain(m *testing.M) { chaintest.Main(m) }

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

func TestRegisterThenStartBidsThroughHotKey(t *testing.T) {
	n := chaintest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := chaintest.Dial(t, n)
	ownerAddr := chaintest.AddKey(t, c, n, "cmd-owner", 5_000_000_000)
	hotAddr := chaintest.AddKey(t, c, n, "cmd-hot", 10_000_000)
	owner := chaintest.Signer(t, c, n, "cmd-owner", "")
	if err := chaintest.Grant(ctx, owner, hotAddr, chaintest.ProviderMsgTypes...); err != nil {
		t.Fatal(err)
	}
	provider := ownerAddr.String()

	cfg := config.TestConfig()
	cfg.Chain = chaintest.ChainConfig(n, "cmd-hot", provider)
	cfg.Inventory.SimGPUs = []config.SimGPU{{Model: "NVIDIA H100 80GB HBM3", MemoryMiB: 81559, Count: 2, UUIDPrefix: "cmd"}}
	cfg.Bid.Deposit = 500_000
	home := t.TempDir()
	if err := config.Write(config.DefaultPath(home), cfg); err != nil {
		t.Fatal(err)
	}

	// Register with the owner key.
	out, _, err := run(t, "register", "--home", home, "--from", "cmd-owner", "--bond", chaintest.MinBond.String(),
		"--host-uri", "https://gpu.example:8443", "--region", "us", "--attribute", "dc=fra1")
	if err != nil {
		t.Fatalf("register: %v\n%s", err, out)
	}
	t.Logf("register:\n%s", out)
	for _, want := range []string{"provider " + provider + " registered with 2 GPU(s)", "tx: ", "code: 0", "GPU-sim-cmd-1"} {
		if !strings.Contains(out, want) {
			t.Fatalf("register output lacks %q:\n%s", want, out)
		}
	}
	p, err := c.GetProvider(ctx, 0, provider)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Gpus) != 2 || p.Gpus[0].Class != "h100" || p.Region != "us" || p.HostUri != "https://gpu.example:8443" || len(p.Attributes) != 1 {
		t.Fatalf("provider %+v", p)
	}

	// Again: an update that keeps what the flags do not change.
	out, _, err = run(t, "register", "--home", home, "--from", "cmd-owner", "--region", "eu")
	if err != nil || !strings.Contains(out, "updated with 2 GPU(s)") {
		t.Fatalf("update: %v\n%s", err, out)
	}
	if p, err = c.GetProvider(ctx, 0, provider); err != nil {
		t.Fatal(err)
	}
	if p.Region != "eu" || p.HostUri != "https://gpu.example:8443" || len(p.Attributes) != 1 || p.Bond.IsLT(chaintest.MinBond) {
		t.Fatalf("updated provider %+v", p)
	}

	// A new provider needs a bond.
	if _, _, err := run(t, "register", "--home", home, "--from", "alice"); err == nil || !strings.Contains(err.Error(), "--bond") {
		t.Fatalf("register without bond: %v", err)
	}

	// Start: the hot key bids for the owner; SIGINT (ctx) stops it cleanly.
	root := NewRootCmd()
	var stdout bytes.Buffer
	logs := &syncBuffer{}
	root.SetOut(&stdout)
	root.SetErr(logs)
	root.SetArgs([]string{"start", "--home", home, "--poll-interval", "100ms", "--log-format", "json"})
	startCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(startCtx) }()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(logs.String(), `"msg":"caught up"`) {
		if time.Now().After(deadline) {
			t.Fatalf("sidecar did not catch up:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	tenant := chaintest.Signer(t, c, n, "alice", "")
	spec := chaintest.Spec("h100", 2)
	spec.Region = "eu"
	order, err := chaintest.CreateOrder(ctx, tenant, spec, 5000)
	if err != nil {
		t.Fatal(err)
	}
	var bids []markettypes.Bid
	for len(bids) == 0 {
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("no bid:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
		if bids, err = c.Bids(ctx, 0, order.Id, provider, markettypes.BidStateOpen); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("start: bid %d on order %d, %d block(s) after it", bids[0].Id, order.Id, bids[0].CreatedHeight-order.CreatedHeight)
	if len(bids[0].GpuUuids) != 2 {
		t.Fatalf("bid %+v", bids[0])
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("start returned %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("start did not stop")
	}
	if !strings.Contains(logs.String(), `"msg":"sidecar stopped"`) {
		t.Fatalf("logs:\n%s", logs.String())
	}
}
