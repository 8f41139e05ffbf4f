package main_test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/crucible-network/crucible/testutil/procnet"
)

// TestFourValidatorsSurviveOneStopped runs four crucibled processes on
// loopback ports with a lease running and challenges being issued, stops
// one validator (a quarter of the voting power): blocks keep coming and
// the lease keeps settling; restarts it: it catches up to the same app hash
// and the same lease, escrow and balances as the others.
func TestFourValidatorsSurviveOneStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four validators")
	}
	net := procnet.New(t, bin, t.TempDir(), 4, "--accounts", "alice,bob")
	net.StartAll()
	net.WaitHeight(0, 3, 90*time.Second)
	cli := net.CLI(0)

	// A provider, an order and a lease, through node0.
	mustTx(t, cli, "bob", "provider", "register", "http://127.0.0.1:1", "1000000000ucru",
		"--gpus", `{"uuid":"GPU-ft-0","model":"NVIDIA H100 80GB HBM3","class":"h100","memory_mib":81559}`)
	manifest := sha256.Sum256([]byte("fault test"))
	spec := fmt.Sprintf(`{"gpu":{"class":"h100","count":1},"manifest_hash":"%s"}`, base64.StdEncoding.EncodeToString(manifest[:]))
	res := mustTx(t, cli, "alice", "market", "create-order", "100ucru", "500", "5000000ucru", "--spec", spec)
	orderID := eventAttr(t, res, "crucible.market.v1.EventOrderCreated", "order_id")
	res = mustTx(t, cli, "bob", "market", "create-bid", orderID, "90ucru", "500000ucru", "GPU-ft-0")
	mustTx(t, cli, "alice", "market", "create-lease", eventAttr(t, res, "crucible.market.v1.EventBidCreated", "bid_id"))

	st, err := net.Status(0)
	if err != nil {
		t.Fatal(err)
	}
	net.Stop(3)
	stoppedAt := st.Height
	// 3 of 4 validators hold 75% > 2/3 of the power: the chain goes on, and
	// transactions still land while node3 is down.
	mustTx(t, cli, "alice", "escrow", "deposit", orderID, "12345ucru")
	mustTx(t, cli, "bob", "escrow", "withdraw", orderID)
	h := net.WaitHeight(0, stoppedAt+8, 60*time.Second)
	for i := 1; i < 3; i++ {
		net.WaitHeight(i, h, 30*time.Second)
	}

	net.Start(3)
	target := h + 3
	net.WaitHeight(0, target, 60*time.Second)
	net.WaitHeight(3, target, 90*time.Second)

	// Same app hash at heights before, during and after the outage.
	for _, height := range []int64{stoppedAt - 1, stoppedAt + 2, target - 1} {
		want, err := net.AppHashAt(0, height)
		if err != nil {
			t.Fatal(err)
		}
		got, err := net.AppHashAt(3, height)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || want == "" {
			t.Fatalf("app hash after height %d: node3 %q, node0 %q", height, got, want)
		}
	}
	// Same lease, escrow account and balances, queried from each node at
	// one height.
	at := strconv.FormatInt(target-1, 10)
	for _, q := range [][]string{
		{"q", "market", "lease", orderID},
		{"q", "escrow", "account", orderID},
		{"q", "bank", "balances", mustAddr(t, cli, "alice")},
		{"q", "bank", "balances", mustAddr(t, cli, "bob")},
	} {
		a, err := net.CLI(0).Run(append(q, "--height", at, "--output", "json")...)
		if err != nil {
			t.Fatal(err)
		}
		b, err := net.CLI(3).Run(append(q, "--height", at, "--output", "json", "--node", net.Layout.Nodes[3].RPC)...)
		if err != nil {
			t.Fatal(err)
		}
		if string(a) != string(b) {
			t.Fatalf("%v at height %s differs:\nnode0 %s\nnode3 %s", q, at, a, b)
		}
	}
}
