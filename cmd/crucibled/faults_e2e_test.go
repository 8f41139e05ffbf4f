package main_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/crucible-network/crucible/testutil/procnet"
)

type lease struct {
	Lease struct {
		State       string `json:"state"`
		CloseReason string `json:"close_reason"`
	} `json:"lease"`
}

func queryLease(t *testing.T, cli *procnet.CLI, id string) lease {
	t.Helper()
	var l lease
	if err := cli.Query(&l, "q", "market", "lease", id); err != nil {
		t.Fatal(err)
	}
	return l
}

func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func rent(t *testing.T, cli *procnet.CLI, price, deposit int64) string {
	t.Helper()
	return rentFrom(t, cli, "bob", "GPU-f-0", price, deposit)
}

func rentFrom(t *testing.T, cli *procnet.CLI, provider, gpu string, price, deposit int64) string {
	t.Helper()
	manifest := sha256.Sum256([]byte("faults"))
	spec := fmt.Sprintf(`{"gpu":{"class":"h100","count":1},"manifest_hash":"%s"}`, base64.StdEncoding.EncodeToString(manifest[:]))
	res := mustTx(t, cli, "alice", "market", "create-order", fmt.Sprintf("%ducru", price), "1000", fmt.Sprintf("%ducru", deposit), "--spec", spec)
	id := eventAttr(t, res, "crucible.market.v1.EventOrderCreated", "order_id")
	res = mustTx(t, cli, provider, "market", "create-bid", id, fmt.Sprintf("%ducru", price), "500000ucru", gpu)
	mustTx(t, cli, "alice", "market", "create-lease", eventAttr(t, res, "crucible.market.v1.EventBidCreated", "bid_id"))
	return id
}

// TestFaultsWithRealProcesses drives a real crucibled through the CLI:
//  1. a provider that commits a root to a challenge and then never reveals
//     it misses that GPU's challenge: nothing is burned (no wrong opening
//     was proven), and its tenant gets back what it paid for the unproven
//     blocks since the lease began;
//  2. a tenant whose escrow runs dry sees the lease close by itself
//     (INSUFFICIENT_FUNDS) and gets back the remainder.
func TestFaultsWithRealProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator process")
	}
	net := procnet.New(t, bin, t.TempDir(), 1, "--accounts", "alice,bob,carol")
	net.StartAll()
	net.WaitHeight(0, 2, 60*time.Second)
	cli := net.CLI(0)
	alice, bob := mustAddr(t, cli, "alice"), mustAddr(t, cli, "bob")
	mustTx(t, cli, "bob", "provider", "register", "http://127.0.0.1:1", "1000000000ucru",
		"--gpus", `{"uuid":"GPU-f-0","model":"NVIDIA H100 80GB HBM3","class":"h100","memory_mib":81559}`)

	// 1. A lease; the provider commits a root it will never open.
	id := rent(t, cli, 100, 2_000_000)
	var pending struct {
		Challenges []struct {
			ID string `json:"id"`
		} `json:"challenges"`
	}
	defer func() {
		if t.Failed() {
			out, err := cli.Run("q", "attest", "challenges", "--output", "json")
			t.Logf("all challenges: %s %v", out, err)
			out, err = cli.Run("q", "provider", "provider", bob, "--output", "json")
			t.Logf("provider: %s %v", out, err)
		}
	}()
	waitUntil(t, "a challenge for the provider", 60*time.Second, func() bool {
		if err := cli.Query(&pending, "q", "attest", "challenges", "--provider", bob, "--state", "pending-commit"); err != nil {
			t.Fatal(err)
		}
		return len(pending.Challenges) > 0
	})
	ch := pending.Challenges[0]
	root := sha256.Sum256([]byte("never opened"))
	mustTx(t, cli, "bob", "attest", "commit-proof", ch.ID, base64.StdEncoding.EncodeToString(root[:]))
	var prov struct {
		Provider struct {
			Bond struct {
				Amount string `json:"amount"`
			} `json:"bond"`
			Gpus []json.RawMessage `json:"gpus"`
		} `json:"provider"`
	}
	if err := cli.Query(&prov, "q", "provider", "provider", bob); err != nil {
		t.Fatal(err)
	}
	bond, _ := strconv.ParseInt(prov.Provider.Bond.Amount, 10, 64)
	aliceBefore := balances(t, cli, alice)[alice]

	var got struct {
		Challenge struct {
			State string `json:"state"`
		} `json:"challenge"`
	}
	waitUntil(t, "the reveal deadline to pass", 60*time.Second, func() bool {
		if err := cli.Query(&got, "q", "attest", "challenge", ch.ID); err != nil {
			t.Fatal(err)
		}
		return got.Challenge.State != "CHALLENGE_STATE_COMMITTED"
	})
	if got.Challenge.State != "CHALLENGE_STATE_MISSED_REVEAL" {
		t.Fatalf("challenge state %s", got.Challenge.State)
	}
	if err := cli.Query(&prov, "q", "provider", "provider", bob); err != nil {
		t.Fatal(err)
	}
	after2, _ := strconv.ParseInt(prov.Provider.Bond.Amount, 10, 64)
	// At most the community pool's 2% take on the refunded blocks comes out
	// of the bond; nothing is burned.
	if bond-after2 > 1_000 || len(prov.Provider.Gpus) != 1 {
		t.Fatalf("bond %d -> %d (nothing may be burned), gpus %d", bond, after2, len(prov.Provider.Gpus))
	}
	l := queryLease(t, cli, id).Lease
	if l.State != "LEASE_STATE_ACTIVE" {
		t.Fatalf("lease after one missed reveal: %+v", l)
	}
	// The tenant was refunded for the unproven blocks (100 ucru each).
	if refunded := balances(t, cli, alice)[alice] - aliceBefore; refunded < 100 {
		t.Fatalf("tenant refund %d after the missed reveal", refunded)
	}

	// 2. A second provider (bob's GPU is leased) and a tenant whose
	// 1,000,000 deposit at 300,000 a block lasts three blocks.
	mustTx(t, cli, "carol", "provider", "register", "http://127.0.0.1:2", "1000000000ucru",
		"--gpus", `{"uuid":"GPU-f-1","model":"NVIDIA H100 80GB HBM3","class":"h100","memory_mib":81559}`)
	before := balances(t, cli, alice)[alice]
	dry := rentFrom(t, cli, "carol", "GPU-f-1", 300_000, 1_000_000)
	waitUntil(t, "the dry lease to close", 30*time.Second, func() bool {
		return queryLease(t, cli, dry).Lease.State == "LEASE_STATE_CLOSED"
	})
	if r := queryLease(t, cli, dry).Lease.CloseReason; r != "LEASE_CLOSE_REASON_INSUFFICIENT_FUNDS" {
		t.Fatalf("dry lease closed with %s", r)
	}
	after := balances(t, cli, alice)[alice]
	// 2 fees (order, lease), 3 full blocks paid, 100,000 remainder refunded.
	if want := before - 2*fee - 900_000; after != want {
		t.Fatalf("tenant balance %d, want %d", after, want)
	}

}
