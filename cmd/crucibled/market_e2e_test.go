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

const fee = 2000 // every CLI tx pays --fees 2000ucru (procnet.CLI.Tx)

// TestMarketplaceThroughTheCLI walks a tenant and a provider through the
// whole marketplace using only the crucibled CLI against a running node:
// register -> order -> bid -> lease -> deposit (by a third party) ->
// withdraw -> close, then reconciles every balance to the coin.
func TestMarketplaceThroughTheCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator process")
	}
	net := procnet.New(t, bin, t.TempDir(), 1, "--accounts", "alice,bob,carol")
	// No sidecar answers challenges in this walk: a missed challenge would
	// (rightly) refund the tenant for the unproven blocks and move the
	// balances this test reconciles to the coin.
	net.NoChallenges()
	net.StartAll()
	net.WaitHeight(0, 2, 60*time.Second)
	cli := net.CLI(0)

	tenant, provider, funder := mustAddr(t, cli, "alice"), mustAddr(t, cli, "bob"), mustAddr(t, cli, "carol")
	escrowAcct, marketAcct, providerAcct := moduleAddr(t, cli, "escrow"), moduleAddr(t, cli, "market"), moduleAddr(t, cli, "provider")
	start := balances(t, cli, tenant, provider, funder, escrowAcct, marketAcct, providerAcct)

	const (
		bond       = 1_000_000_000
		deposit    = 2_000_000
		price      = 90
		bidDeposit = 500_000
		topUp      = 100_000
	)
	mustTx(t, cli, "bob", "provider", "register", "http://127.0.0.1:1", fmt.Sprintf("%ducru", bond),
		"--region", "eu-west", "--tier", "datacenter",
		"--gpus", `{"uuid":"GPU-e2e-0","model":"NVIDIA H100 80GB HBM3","class":"h100","memory_mib":81559}`)

	manifest := sha256.Sum256([]byte(`{"argv":["nvidia-smi"]}`))
	spec := fmt.Sprintf(`{"gpu":{"class":"h100","count":1,"min_memory_mib":80000},"region":"eu-west","manifest_hash":"%s"}`,
		base64.StdEncoding.EncodeToString(manifest[:]))
	res := mustTx(t, cli, "alice", "market", "create-order", "100ucru", "200", fmt.Sprintf("%ducru", deposit), "--spec", spec)
	orderID := eventAttr(t, res, "crucible.market.v1.EventOrderCreated", "order_id")

	// A bid above the order's maximum price is refused on chain, moving no coin.
	if r, err := cli.Tx("bob", "market", "create-bid", orderID, "101ucru", fmt.Sprintf("%ducru", bidDeposit), "GPU-e2e-0"); err != nil || r.Code == 0 {
		t.Fatalf("bid above max price: want a non-zero code, got %+v, %v", r, err)
	}
	res = mustTx(t, cli, "bob", "market", "create-bid", orderID, fmt.Sprintf("%ducru", price), fmt.Sprintf("%ducru", bidDeposit), "GPU-e2e-0")
	bidID := eventAttr(t, res, "crucible.market.v1.EventBidCreated", "bid_id")

	res = mustTx(t, cli, "alice", "market", "create-lease", bidID)
	leaseStart := res.Height
	mustTx(t, cli, "carol", "escrow", "deposit", orderID, fmt.Sprintf("%ducru", topUp))

	// A stranger cannot close the lease or withdraw the provider's earnings.
	for _, args := range [][]string{{"market", "close-lease", orderID}, {"escrow", "withdraw", orderID}} {
		if r, err := cli.Tx("carol", args...); err != nil || r.Code == 0 {
			t.Fatalf("carol %v: want a non-zero code, got %+v, %v", args, r, err)
		}
	}
	net.WaitHeight(0, leaseStart+3, 30*time.Second)
	mustTx(t, cli, "bob", "escrow", "withdraw", orderID)
	res = mustTx(t, cli, "alice", "market", "close-lease", orderID)
	leaseEnd := res.Height

	var acct struct {
		Account struct {
			Balance     coin   `json:"balance"`
			Unwithdrawn coin   `json:"unwithdrawn"`
			TotalPaid   coin   `json:"total_paid"`
			TotalTaken  coin   `json:"total_taken"`
			State       string `json:"state"`
		} `json:"account"`
	}
	if err := cli.Query(&acct, "q", "escrow", "account", orderID); err != nil {
		t.Fatal(err)
	}
	paid, taken := acct.Account.TotalPaid.int(t), acct.Account.TotalTaken.int(t)
	blocks := leaseEnd - leaseStart
	if paid != blocks*price {
		t.Fatalf("total paid %d, want %d blocks x %d", paid, blocks, price)
	}
	// Default take rate 200 bps. The account carries the fraction a
	// settlement cannot take, so however the settlements fell (deposit,
	// withdraw, close) the take is exactly that of the whole.
	if whole := paid * 200 / 10000; taken != whole {
		t.Fatalf("total taken %d, want %d", taken, whole)
	}
	if acct.Account.Balance.int(t) != 0 || acct.Account.Unwithdrawn.int(t) != 0 {
		t.Fatalf("closed account still holds coins: %+v", acct.Account)
	}

	end := balances(t, cli, tenant, provider, funder, escrowAcct, marketAcct, providerAcct)
	want := map[string]int64{
		tenant:       -3*fee - paid,                // order, lease, close; deposit back less what was paid
		provider:     -3*fee - bond + paid - taken, // register, bid, withdraw (+ one refused bid's fee below)
		funder:       -3*fee - topUp + topUp,       // deposit (refunded to the tenant? no: see below)
		escrowAcct:   0,
		marketAcct:   0,
		providerAcct: bond,
	}
	// The top-up belongs to the escrow account: it is refunded to the
	// account's owner (the tenant), not to the funder.
	want[tenant] += topUp
	want[funder] = -3*fee - topUp // deposit + two refused txs
	want[provider] -= fee         // the refused over-priced bid still paid its fee
	for addr, d := range want {
		if got := end[addr] - start[addr]; got != d {
			t.Errorf("balance change of %s = %d, want %d", addr, got, d)
		}
	}
}

type coin struct {
	Denom  string `json:"denom"`
	Amount string `json:"amount"`
}

func (c coin) int(t *testing.T) int64 {
	if c.Amount == "" {
		return 0
	}
	v, err := strconv.ParseInt(c.Amount, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustAddr(t *testing.T, cli *procnet.CLI, name string) string {
	a, err := cli.Address(name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func moduleAddr(t *testing.T, cli *procnet.CLI, name string) string {
	var res struct {
		Account struct {
			Value struct {
				Address string `json:"address"`
			} `json:"value"`
		} `json:"account"`
	}
	if err := cli.Query(&res, "q", "auth", "module-account", name); err != nil {
		t.Fatal(err)
	}
	if res.Account.Value.Address == "" {
		t.Fatalf("module account %s: no address in the query result", name)
	}
	return res.Account.Value.Address
}

func balances(t *testing.T, cli *procnet.CLI, addrs ...string) map[string]int64 {
	out := map[string]int64{}
	for _, a := range addrs {
		var res struct {
			Balance coin `json:"balance"`
		}
		if err := cli.Query(&res, "q", "bank", "balance", a, "ucru"); err != nil {
			t.Fatal(err)
		}
		out[a] = res.Balance.int(t)
	}
	return out
}

func mustTx(t *testing.T, cli *procnet.CLI, from string, args ...string) procnet.TxResult {
	t.Helper()
	res, err := cli.Tx(from, args...)
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 0 {
		t.Fatalf("%s %v: code %d: %s", from, args, res.Code, res.Log)
	}
	return res
}

func eventAttr(t *testing.T, res procnet.TxResult, typ, key string) string {
	t.Helper()
	v := res.Attr(typ, key)
	if v == "" {
		t.Fatalf("no %s.%s in %+v", typ, key, res.Events)
	}
	return v
}
