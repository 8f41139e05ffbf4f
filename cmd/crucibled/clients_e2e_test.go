package main_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/sidecar/api"
	"github.com/crucible-network/crucible/sidecar/config"
	"github.com/crucible-network/crucible/sidecar/runner"
	"github.com/crucible-network/crucible/testutil/procnet"
)

// TestClientsAgainstALocalnet runs what a wallet or a TypeScript app does against a
// one-validator localnet process:
//   - the CLI signs with --sign-mode amino-json every message whose empty lists used to
//     break amino-JSON signatures (register and update a provider without attributes,
//     an order without attributes);
//   - CORS: a browser origin on localhost gets an Access-Control-Allow-Origin from the
//     CometBFT RPC and the REST API;
//   - the TypeScript client's own tests (clients/ts, node --test) run against the node:
//     queries, direct and amino-signed orders, a provider, a bid, a lease, a deposit, the
//     escrow figures, a close; and its tenant-API signature against the Go signer's.
//
// The TypeScript part is skipped when node or clients/ts/node_modules is missing
// (.ci/run installs both; locally: cd clients/ts && npm ci).
func TestClientsAgainstALocalnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a validator process")
	}
	dir := t.TempDir()
	net := procnet.New(t, bin, dir, 1, "--accounts", "alice,bob,carol")
	net.StartAll()
	net.WaitHeight(0, 2, 60*time.Second)
	cli := net.CLI(0)

	gpu := `{"uuid":"GPU-cli-0","model":"NVIDIA H100 80GB HBM3","class":"h100","memory_mib":81559}`
	for _, tx := range []struct {
		from string
		args []string
	}{
		{"carol", []string{"provider", "register", "https://127.0.0.1:2", "1000000000ucru", "--region", "eu-west", "--gpus", gpu}},
		{"carol", []string{"provider", "update", "https://127.0.0.1:3", "--region", "eu-west", "--gpus", gpu}},
		{"alice", []string{"market", "create-order", "100ucru", "600", "2000000ucru", "--spec", `{"gpu":{"class":"h100","count":1},"manifest_hash":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="}`}},
	} {
		res, err := cli.Tx(tx.from, append(tx.args, "--sign-mode", "amino-json")...)
		if err != nil {
			t.Fatalf("%s: %v", tx.args[:2], err)
		}
		if res.Code != 0 {
			t.Fatalf("%s signed amino-json: code %d: %s", tx.args[:2], res.Code, res.Log)
		}
	}

	node := net.Layout.Nodes[0]
	rpc := "http://" + strings.TrimPrefix(node.RPC, "tcp://")
	for _, u := range []string{rpc + "/status", node.API + "/cosmos/bank/v1beta1/denoms_metadata"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Origin", "http://localhost:5173")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "http://localhost:5173" && got != "*" {
			t.Errorf("GET %s from origin localhost: Access-Control-Allow-Origin %q", u, got)
		}
	}

	// OpenAPI: the swagger flag is on in localnets.
	for path, want := range map[string]string{
		"/swagger/":                      "crucible.swagger.json",
		"/swagger/crucible.swagger.json": `"/crucible/market/v1/orders"`,
		"/swagger/swagger.yaml":          "/cosmos/bank/v1beta1/balances",
	} {
		resp, err := http.Get(node.API + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, want 200 with %q", path, resp.StatusCode, want)
		}
	}

	// Wallet files, from the genesis and from the running node.
	for _, args := range [][]string{
		{"chain-info", "--format", "keplr"},
		{"chain-info", "--format", "keplr", "--from-node", node.RPC},
	} {
		out, err := cli.Run(args...)
		if err != nil {
			t.Fatal(err)
		}
		var keplr struct {
			ChainID    string `json:"chainId"`
			RPC        string `json:"rpc"`
			REST       string `json:"rest"`
			Currencies []struct {
				CoinDenom        string `json:"coinDenom"`
				CoinMinimalDenom string `json:"coinMinimalDenom"`
				CoinDecimals     int    `json:"coinDecimals"`
			} `json:"currencies"`
			Bech32 map[string]string `json:"bech32Config"`
		}
		if err := json.Unmarshal(out, &keplr); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		if keplr.ChainID != net.Layout.ChainID || len(keplr.Currencies) != 1 || keplr.Currencies[0].CoinDenom != "CRU" ||
			keplr.Currencies[0].CoinMinimalDenom != "ucru" || keplr.Currencies[0].CoinDecimals != 6 ||
			keplr.Bech32["bech32PrefixAccAddr"] != "cru" || keplr.RPC != rpc || keplr.REST != node.API {
			t.Errorf("%v: %s", args, out)
		}
	}
	for format, want := range map[string]string{
		"chain-registry": `"chain_id": "` + net.Layout.ChainID + `"`,
		"assetlist":      `"display": "cru"`,
	} {
		out, err := cli.Run("chain-info", "--format", format, "--from-node", node.RPC)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("chain-info --format %s: no %s in\n%s", format, want, out)
		}
	}

	tsDir, err := filepath.Abs("../../clients/ts")
	if err != nil {
		t.Fatal(err)
	}
	// Node >= 20.19 (CosmJS 0.39 require()s ESM-only packages): the one .ci/run installs from
	// the npm registry when the distribution's is older, else the one on PATH.
	nodeBin := filepath.Join(tsDir, "toolchain", "node_modules", ".bin", "node")
	if _, err := os.Stat(nodeBin); err != nil {
		if nodeBin, err = exec.LookPath("node"); err != nil {
			t.Skip("node is not installed: the TypeScript client's tests are skipped")
		}
	}
	ver, err := exec.Command(nodeBin, "-p", "process.versions.node").Output()
	if err != nil {
		t.Fatalf("%s: %v", nodeBin, err)
	}
	var major, minor int
	fmt.Sscanf(strings.TrimSpace(string(ver)), "%d.%d", &major, &minor)
	if major < 20 || (major == 20 && minor < 19) {
		t.Skipf("node %s is older than 20.19 (CosmJS 0.39 needs require(esm)): the TypeScript client's tests are skipped; "+
			"cd clients/ts/toolchain && npm ci installs Node 20 from the npm registry", strings.TrimSpace(string(ver)))
	}
	if _, err := os.Stat(filepath.Join(tsDir, "node_modules", ".bin", "tsc")); err != nil {
		t.Skip("clients/ts/node_modules is missing (cd clients/ts && npm ci): the TypeScript client's tests are skipped")
	}
	var summary struct {
		Mnemonics map[string]string `json:"mnemonics"`
	}
	bz, err := os.ReadFile(filepath.Join(dir, "net", "testnet.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(bz, &summary); err != nil {
		t.Fatal(err)
	}
	mn, _ := json.Marshal(summary.Mnemonics)

	build := exec.Command(filepath.Join(tsDir, "node_modules", ".bin", "tsc"), "-p", ".")
	build.Dir = tsDir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("tsc: %v\n%s", err, out)
	}
	sidecarURL := startTenantAPI(t, summary.Mnemonics["alice"])

	start := time.Now()
	tests, err := filepath.Glob(filepath.Join(tsDir, "dist", "test", "*.test.js"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no compiled tests under clients/ts/dist/test (%v)", err)
	}
	run := exec.Command(nodeBin, append([]string{"--test", "--test-reporter=spec"}, tests...)...)
	run.Dir = tsDir
	run.Env = append(os.Environ(),
		"CRUCIBLE_RPC="+rpc,
		"CRUCIBLE_API="+node.API,
		"CRUCIBLE_CHAIN_ID="+net.Layout.ChainID,
		"CRUCIBLE_MNEMONICS="+string(mn),
		"CRUCIBLE_SIDECAR_VECTOR="+sidecarVector(t),
		"CRUCIBLE_SIDECAR_URL="+sidecarURL,
		"CRUCIBLE_SIDECAR_MANIFEST="+string(sidecarManifest),
	)
	out, err := run.CombinedOutput()
	t.Logf("node --test (%s):\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("the TypeScript client's tests failed: %v", err)
	}
}

// sidecarVector is a tenant-API request signed by the sidecar's Go code
// (api.SignBytes, signed as Cosmos keys sign), for the TypeScript signer to match.
func sidecarVector(t *testing.T) string {
	seed := sha256.Sum256([]byte("crucible ts vector"))
	key := &secp256k1.PrivKey{Key: seed[:]}
	pub := key.PubKey().(*secp256k1.PubKey)
	addr, err := api.Address(pub)
	if err != nil {
		t.Fatal(err)
	}
	v := map[string]string{
		"privkey": hex.EncodeToString(key.Key), "address": addr,
		"pubkey": base64.StdEncoding.EncodeToString(pub.Key),
		"method": "POST", "target": "/v1/leases/7/manifest?x=1", "timestamp": "1700000000",
		"nonce": strings.Repeat("ab", 16), "body": `{"command":["echo","42"]}`,
	}
	sig, err := key.Sign(api.SignBytes(v["method"], v["target"], v["timestamp"], v["nonce"], []byte(v["body"])))
	if err != nil {
		t.Fatal(err)
	}
	if !pub.VerifySignature(api.SignBytes(v["method"], v["target"], v["timestamp"], v["nonce"], []byte(v["body"])), sig) {
		t.Fatal("vector does not verify")
	}
	v["signature"] = base64.StdEncoding.EncodeToString(sig)
	bz, _ := json.Marshal(v)
	return string(bz)
}

// sidecarManifest is the job the TypeScript test submits to the tenant API.
var sidecarManifest = []byte(`{"command":["/bin/sh","-c","echo hello from the typescript client"]}`)

// sidecarLeases says lease 1 is the tenant's, active, for sidecarManifest.
type sidecarLeases struct{ tenant string }

func (l sidecarLeases) LeaseTenant(_ context.Context, id uint64) (string, []string, []byte, bool, error) {
	if id != 1 {
		return "", nil, nil, false, fmt.Errorf("lease %d: %w", id, api.ErrLeaseNotFound)
	}
	mh := sha256.Sum256(sidecarManifest)
	return l.tenant, []string{"GPU-sim-0"}, mh[:], true, nil
}

// startTenantAPI serves the sidecar's tenant API (its real server and job runner; the lease
// lookup answers lease 1 for the tenant with this mnemonic) on 127.0.0.1 for the test.
func startTenantAPI(t *testing.T, mnemonic string) string {
	derived, err := hd.Secp256k1.Derive()(mnemonic, "", sdk.GetConfig().GetFullBIP44Path())
	if err != nil {
		t.Fatal(err)
	}
	tenant, err := api.Address(hd.Secp256k1.Generate()(derived).PubKey().(*secp256k1.PubKey))
	if err != nil {
		t.Fatal(err)
	}
	rcfg := config.TestRunnerConfig()
	rcfg.WorkDir = t.TempDir()
	rn, err := runner.New(rcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rn.Close() })
	srv, err := api.New(config.TestAPIConfig(), sidecarLeases{tenant: tenant}, rn, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL
}
