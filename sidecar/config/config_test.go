package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDefaultAndTestConfigsValidate(t *testing.T) {
	if err := DefaultConfig().ValidateBasic(); err != nil {
		t.Fatalf("DefaultConfig: %v", err)
	}
	if err := TestConfig().ValidateBasic(); err != nil {
		t.Fatalf("TestConfig: %v", err)
	}
}

func TestValidateBasicNamesTheField(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
		field  string
		msg    string
	}{
		{"grpc without port", func(c *Config) { c.Chain.GRPCAddr = "localhost" }, "chain.grpc_addr", "host:port"},
		{"grpc port zero", func(c *Config) { c.Chain.GRPCAddr = "localhost:0" }, "chain.grpc_addr", "port must not be 0"},
		{"rpc bad scheme", func(c *Config) { c.Chain.RPCAddr = "ftp://localhost:26657" }, "chain.rpc_addr", "scheme"},
		{"rpc tcp without port", func(c *Config) { c.Chain.RPCAddr = "tcp://localhost" }, "chain.rpc_addr", "needs a port"},
		{"empty chain id", func(c *Config) { c.Chain.ChainID = "" }, "chain.chain_id", "must not be empty"},
		{"keyring backend", func(c *Config) { c.Chain.KeyringBackend = "vault" }, "chain.keyring_backend", `unknown backend "vault"`},
		{"hot key", func(c *Config) { c.Chain.HotKeyName = "" }, "chain.hot_key_name", "must not be empty"},
		{"owner not bech32", func(c *Config) { c.Chain.ProviderAddress = "cru1notanaddress" }, "chain.provider_address", "not a cru account address"},
		{"owner wrong prefix", func(c *Config) { c.Chain.ProviderAddress = mustBech32(t, "cosmos", 20) }, "chain.provider_address", `prefix is "cosmos"`},
		{"inventory backend", func(c *Config) { c.Inventory.Backend = "rocm" }, "inventory.backend", `unknown backend "rocm"`},
		{"sim without gpus", func(c *Config) { c.Inventory.SimGPUs = nil }, "inventory.sim_gpus", "at least one GPU"},
		{"sim gpu memory", func(c *Config) { c.Inventory.SimGPUs[0].MemoryMiB = 0 }, "inventory.sim_gpus[0].memory_mib", "must be positive"},
		{"sim gpu count", func(c *Config) { c.Inventory.SimGPUs[0].Count = 0 }, "inventory.sim_gpus[0].count", "must be positive"},
		{"price zero", func(c *Config) { c.Bid.Pricing[0].PricePerBlock = 0 }, "bid.pricing[0].price_per_block", "must be positive"},
		{"price overflow", func(c *Config) { c.Bid.Pricing[0].PricePerBlock, c.Bid.Pricing[0].MarkupBps = 1<<63, 10_000 }, "bid.pricing[0].price_per_block", "overflows"},
		{"deposit", func(c *Config) { c.Bid.Deposit = 0 }, "bid.deposit", "must be positive"},
		{"bid denom", func(c *Config) { c.Bid.Denom = "1x" }, "bid.denom", "not a valid coin denomination"},
		{"duplicate model ignoring case", func(c *Config) { c.Bid.Pricing = append(c.Bid.Pricing, PriceRule{Model: "h100", PricePerBlock: 1}) }, "bid.pricing[1].model", "already priced"},
		{"gas prices empty", func(c *Config) { c.Chain.GasPrices = "" }, "chain.gas_prices", "must not be empty"},
		{"gas prices", func(c *Config) { c.Chain.GasPrices = "0.025" }, "chain.gas_prices", "not a decimal coin"},
		{"gas adjustment", func(c *Config) { c.Chain.GasAdjustment = 0.5 }, "chain.gas_adjustment", "between 1 and 10"},
		{"tx timeout zero", func(c *Config) { c.Chain.TxTimeoutBlocks = 0 }, "chain.tx_timeout_blocks", "between 1 and"},
		{"tenant share zero", func(c *Config) { c.Bid.MaxTenantGPUPercent = 0 }, "bid.max_tenant_gpu_percent", "between 1 and 100"},
		{"tenant share over 100", func(c *Config) { c.Bid.MaxTenantGPUPercent = 101 }, "bid.max_tenant_gpu_percent", "between 1 and 100"},
		{"uuid prefix empty", func(c *Config) { c.Inventory.SimGPUs[0].UUIDPrefix = "" }, "inventory.sim_gpus[0].uuid_prefix", "1 to 64"},
		{"uuid prefix bad char", func(c *Config) { c.Inventory.SimGPUs[0].UUIDPrefix = "a,b" }, "inventory.sim_gpus[0].uuid_prefix", "1 to 64"},
		{"uuid prefix duplicate", func(c *Config) { c.Inventory.SimGPUs = append(c.Inventory.SimGPUs, c.Inventory.SimGPUs[0]) }, "inventory.sim_gpus[1].uuid_prefix", "already used"},
		{"signature age", func(c *Config) { c.API.SignatureMaxAge = 0 }, "api.signature_max_age", "less than 1s"},
		{"job time too long", func(c *Config) { c.Runner.MaxJobTime = Duration(400 * 24 * time.Hour) }, "runner.max_job_time", "more than"},
		{"markup", func(c *Config) { c.Bid.Pricing[0].MarkupBps = MaxMarkupBps + 1 }, "bid.pricing[0].markup_bps", "more than"},
		{"duplicate model", func(c *Config) { c.Bid.Pricing = append(c.Bid.Pricing, c.Bid.Pricing[0]) }, "bid.pricing[1].model", "already priced"},
		{"job time", func(c *Config) { c.Runner.MaxJobTime = 0 }, "runner.max_job_time", "less than 1s"},
		{"output bytes", func(c *Config) { c.Runner.MaxOutputBytes = 0 }, "runner.max_output_bytes", "must be positive"},
		{"work dir", func(c *Config) { c.Runner.WorkDir = "" }, "runner.work_dir", "must not be empty"},
		{"api addr", func(c *Config) { c.API.ListenAddr = "127.0.0.1:99999" }, "api.listen_addr", "port"},
		{"api body", func(c *Config) { c.API.MaxRequestBytes = 0 }, "api.max_request_bytes", "must be positive"},
		{"metrics addr", func(c *Config) { c.Metrics.ListenAddr = "nonsense" }, "metrics.listen_addr", "host:port"},
		{"prover", func(c *Config) { c.Prover.Backend = "tpu" }, "prover.backend", `unknown backend "tpu"`},
		{"egress", func(c *Config) { c.Runner.Egress = "open" }, "runner.egress", "not deny or allow"},
		{"egress pool public", func(c *Config) { c.Runner.EgressPool = "198.51.100.0/24" }, "runner.egress_pool", "not inside"},
		{"egress pool wider than private", func(c *Config) { c.Runner.EgressPool = "10.0.0.0/7" }, "runner.egress_pool", "not inside"},
		{"egress pool too small", func(c *Config) { c.Runner.EgressPool = "10.1.2.3/31" }, "runner.egress_pool", "at least a /30"},
		{"egress pool v6", func(c *Config) { c.Runner.EgressPool = "fd00::/64" }, "runner.egress_pool", "IPv4"},
		{"disk quota", func(c *Config) { c.Runner.DiskQuota = "xfs" }, "runner.disk_quota", "not auto or poll"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := TestConfig()
			tc.mutate(&cfg)
			err := cfg.ValidateBasic()
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("want *FieldError, got %v", err)
			}
			if fe.Field != tc.field {
				t.Fatalf("field = %q, want %q (error %v)", fe.Field, tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not say %q", err, tc.msg)
			}
		})
	}
}

func TestValidAcceptedValues(t *testing.T) {
	cfg := TestConfig()
	cfg.Chain.ProviderAddress = mustBech32(t, AccountAddressPrefix, 20)
	cfg.Chain.RPCAddr = "https://rpc.example.com"
	cfg.Metrics.ListenAddr = "" // disabled
	cfg.Inventory.Backend = InventoryBackendAuto
	cfg.Inventory.SimGPUs = nil
	if err := cfg.ValidateBasic(); err != nil {
		t.Fatal(err)
	}
	cfg.Chain.ProviderAddress = mustBech32(t, AccountAddressPrefix, 32)
	if err := cfg.ValidateBasic(); err != nil {
		t.Fatal(err)
	}
	// A one-character change breaks the checksum.
	addr := []byte(cfg.Chain.ProviderAddress)
	if addr[len(addr)-1] == 'q' {
		addr[len(addr)-1] = 'p'
	} else {
		addr[len(addr)-1] = 'q'
	}
	cfg.Chain.ProviderAddress = string(addr)
	if err := cfg.ValidateBasic(); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("want checksum error, got %v", err)
	}
}

func TestParseLayersOverDefaults(t *testing.T) {
	cfg, err := Parse([]byte(`
chain:
  chain_id: crucible-devnet
inventory:
  backend: sim
  sim_gpus:
    - {model: "NVIDIA A100-SXM4-40GB", memory_mib: 40960, count: 4, uuid_prefix: node7}
runner:
  max_job_time: 90m
`))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Chain.ChainID = "crucible-devnet"
	want.Inventory.Backend = InventoryBackendSim
	want.Inventory.SimGPUs = []SimGPU{{Model: "NVIDIA A100-SXM4-40GB", MemoryMiB: 40960, Count: 4, UUIDPrefix: "node7"}}
	want.Runner.MaxJobTime = Duration(90 * time.Minute)
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}

	empty, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(empty, DefaultConfig()) {
		t.Fatalf("empty file: got %+v", empty)
	}
}

func TestParseReplacesLists(t *testing.T) {
	// A list in the file replaces the default list rather than merging into it.
	cfg, err := Parse([]byte("bid:\n  pricing:\n    - {model: m, price_per_block: 5}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Bid.Pricing) != 1 || cfg.Bid.Pricing[0].PricePerBlock != 5 || cfg.Bid.Pricing[0].MarkupBps != 0 {
		t.Fatalf("pricing = %+v", cfg.Bid.Pricing)
	}
}

func TestParseIsStrict(t *testing.T) {
	cases := map[string]string{
		"unknown top-level key": "chains:\n  chain_id: x\n",
		"unknown nested key":    "chain:\n  chainid: x\n",
		"unknown list key":      "inventory:\n  sim_gpus:\n    - {model: m, memory_mib: 1, count: 1, vendor: x}\n",
		"negative integer":      "runner:\n  max_output_bytes: -1\n",
		"duration without unit": "runner:\n  max_job_time: 3600\n",
		"duplicate key":         "chain:\n  chain_id: a\n  chain_id: b\n",
		"two documents":         "chain:\n  chain_id: a\n---\nchain:\n  chain_id: b\n",
		"not a mapping":         "- 1\n- 2\n",
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse([]byte(doc)); err == nil {
				t.Fatalf("accepted %q", doc)
			}
		})
	}
	_, err := Parse([]byte("chain:\n  chainid: x\n"))
	if !strings.Contains(err.Error(), "chainid") {
		t.Fatalf("error does not name the unknown key: %v", err)
	}
	_, err = Parse([]byte("runner:\n  max_output_bytes: 0\n"))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "runner.max_output_bytes" {
		t.Fatalf("want FieldError for runner.max_output_bytes, got %v", err)
	}
}

func TestWriteLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config", DefaultFileName)

	cfg := TestConfig()
	cfg.Chain.ProviderAddress = mustBech32(t, AccountAddressPrefix, 20)
	cfg.Inventory.SimGPUs = append(cfg.Inventory.SimGPUs, SimGPU{Model: "NVIDIA L4", MemoryMiB: 23034, Count: 1, UUIDPrefix: "l4"})
	if err := Write(path, cfg); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("mode = %o, want 600", perm)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cfg) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, cfg)
	}
	// Write refuses invalid configs.
	bad := cfg
	bad.Prover.Backend = "tpu"
	if err := Write(path, bad); err == nil {
		t.Fatal("Write accepted an invalid config")
	}
}

func TestWriteDefault(t *testing.T) {
	path := DefaultPath(t.TempDir())
	if err := WriteDefault(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"chain:", "grpc_addr:", "inventory:", "sim_gpus:", "bid:", "pricing:", "runner:", "api:", "metrics:", "prover:", "# "} {
		if !strings.Contains(string(data), key) {
			t.Errorf("default file lacks %q:\n%s", key, data)
		}
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, DefaultConfig()) {
		t.Fatalf("got %+v", got)
	}
	if err := WriteDefault(path); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second WriteDefault: want fs.ErrExist, got %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("want fs.ErrNotExist, got %v", err)
	}
}

func TestSetRoot(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Runner.WorkDir = "/abs/work"
	cfg.SetRoot("/home/p/.crucible-sidecar")
	if cfg.Chain.KeyringDir != "/home/p/.crucible-sidecar/keyring" {
		t.Fatalf("keyring dir = %q", cfg.Chain.KeyringDir)
	}
	if cfg.Runner.WorkDir != "/abs/work" {
		t.Fatalf("work dir = %q", cfg.Runner.WorkDir)
	}
}

func TestBidRuleFor(t *testing.T) {
	bid := TestBidConfig()
	bid.Pricing = append(bid.Pricing, PriceRule{Model: "NVIDIA H100 NVL", PricePerBlock: 2000})
	r, ok := bid.RuleFor("NVIDIA H100 80GB HBM3", "H100")
	if !ok || r.PricePerBlock != 1000 {
		t.Fatalf("class rule: RuleFor = %+v, %v", r, ok)
	}
	r, ok = bid.RuleFor("nvidia h100 nvl", "H100")
	if !ok || r.PricePerBlock != 2000 {
		t.Fatalf("model rule should win over class rule: RuleFor = %+v, %v", r, ok)
	}
	if _, ok := bid.RuleFor("NVIDIA L4", "L4"); ok {
		t.Fatal("found a rule for an unpriced model")
	}
	if _, ok := bid.RuleFor("NVIDIA L4", ""); ok {
		t.Fatal("found a rule for an unpriced model without class")
	}
}

func TestBidPrice(t *testing.T) {
	cases := []struct {
		rule PriceRule
		want uint64
	}{
		{PriceRule{PricePerBlock: 1000, MarkupBps: 500}, 1050},
		{PriceRule{PricePerBlock: 1000, MarkupBps: 0}, 1000},
		{PriceRule{PricePerBlock: 1000, MinPricePerBlock: 1200, MarkupBps: 500}, 1200},
		{PriceRule{PricePerBlock: 3, MarkupBps: 3333}, 3}, // rounds down
		{PriceRule{PricePerBlock: 1 << 62, MarkupBps: 10_000}, 1 << 63},
	}
	for _, tc := range cases {
		got, err := tc.rule.BidPrice()
		if err != nil || got != tc.want {
			t.Errorf("%+v: BidPrice = %d, %v; want %d", tc.rule, got, err, tc.want)
		}
	}
	if _, err := (PriceRule{PricePerBlock: 1 << 63, MarkupBps: 10_000}).BidPrice(); !errors.Is(err, ErrPriceOverflow) {
		t.Fatalf("want ErrPriceOverflow, got %v", err)
	}
}

func TestJSONRoundTripAndStrictness(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sidecar.json")
	cfg := TestConfig()
	cfg.Chain.ProviderAddress = mustBech32(t, AccountAddressPrefix, 20)
	if err := Write(path, cfg); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"max_job_time": "1m0s"`) {
		t.Fatalf("durations should be strings in JSON:\n%s", data)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cfg) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, cfg)
	}

	partial, err := ParseFormat([]byte(`{"chain": {"chain_id": "x-1"}}`), FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	if partial.Chain.ChainID != "x-1" || partial.Chain.GRPCAddr != DefaultChainConfig().GRPCAddr {
		t.Fatalf("JSON should layer over defaults: %+v", partial.Chain)
	}
	bad := map[string]string{
		"unknown key":      `{"chain": {"chainid": "x"}}`,
		"trailing object":  `{} {}`,
		"negative":         `{"runner": {"max_output_bytes": -1}}`,
		"duration no unit": `{"runner": {"max_job_time": 5}}`,
		"invalid value":    `{"prover": {"backend": "tpu"}}`,
	}
	for name, doc := range bad {
		if _, err := ParseFormat([]byte(doc), FormatJSON); err == nil {
			t.Errorf("%s: accepted %s", name, doc)
		}
	}
	if FormatOf("a/b.JSON") != FormatJSON || FormatOf("a/b.yaml") != FormatYAML || FormatOf("b") != FormatYAML {
		t.Fatal("FormatOf")
	}
}

func TestCommentsNameRealKeys(t *testing.T) {
	var root yaml.Node
	if err := root.Encode(DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if prefix != "" {
				k = prefix + "." + k
			}
			keys[k] = true
			walk(n.Content[i+1], k)
		}
	}
	walk(&root, "")
	for k := range keyComments {
		if !keys[k] {
			t.Errorf("keyComments documents %q, which is not a config key", k)
		}
	}
}

// mustBech32 encodes n bytes (0, 1, 2, ...) as a bech32 address with hrp.
func mustBech32(t *testing.T, hrp string, n int) string {
	t.Helper()
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	var data []byte
	var acc, bits uint32
	for _, b := range payload {
		acc = acc<<8 | uint32(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			data = append(data, byte(acc>>bits)&31)
		}
	}
	if bits > 0 {
		data = append(data, byte(acc<<(5-bits))&31)
	}
	values := append(bech32HRPExpand(hrp), data...)
	values = append(values, 0, 0, 0, 0, 0, 0)
	mod := bech32Polymod(values) ^ 1
	for i := 0; i < 6; i++ {
		data = append(data, byte(mod>>(5*(5-i)))&31)
	}
	var sb strings.Builder
	sb.WriteString(hrp)
	sb.WriteByte('1')
	for _, d := range data {
		sb.WriteByte(bech32Charset[d])
	}
	return sb.String()
}

// TestTenantGPUCap: a percentage of the registered GPUs, rounded up, at
// least one GPU.
func TestTenantGPUCap(t *testing.T) {
	c := DefaultBidConfig()
	for _, tc := range []struct {
		pct        uint32
		gpus, want int
	}{
		{50, 8, 4}, {50, 1, 1}, {50, 3, 2}, {50, 0, 1}, {100, 8, 8}, {1, 8, 1}, {0, 8, 8},
	} {
		c.MaxTenantGPUPercent = tc.pct
		if got := c.TenantGPUCap(tc.gpus); got != tc.want {
			t.Errorf("%d%% of %d GPUs: %d, want %d", tc.pct, tc.gpus, got, tc.want)
		}
	}
}
