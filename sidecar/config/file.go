package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultFileName is the name of the config file inside <home>/config.
const DefaultFileName = "sidecar.yaml"

// DefaultPath returns the config file path for a sidecar home directory.
func DefaultPath(home string) string {
	return filepath.Join(home, "config", DefaultFileName)
}

// Format is the encoding of a config file.
type Format int

// Config file formats.
const (
	// FormatYAML is YAML (the default, written with comments).
	FormatYAML Format = iota
	// FormatJSON is JSON.
	FormatJSON
)

// String implements fmt.Stringer.
func (f Format) String() string {
	if f == FormatJSON {
		return "json"
	}
	return "yaml"
}

// FormatOf returns the format a path's extension names: JSON for ".json",
// YAML for anything else.
func FormatOf(path string) Format {
	if strings.EqualFold(filepath.Ext(path), ".json") {
		return FormatJSON
	}
	return FormatYAML
}

// Load reads the file at path over DefaultConfig and validates the result.
// The extension picks the format (see FormatOf). Unknown keys are an error.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := ParseFormat(data, FormatOf(path))
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes YAML over DefaultConfig (see ParseFormat).
func Parse(data []byte) (Config, error) {
	return ParseFormat(data, FormatYAML)
}

// ParseFormat decodes data over DefaultConfig, strictly (unknown keys,
// duplicate keys in YAML, and more than one document are errors), and
// validates the result. Keys the data leaves out keep their defaults; a list
// given in the data replaces the default list. Empty data means all defaults.
func ParseFormat(data []byte, format Format) (Config, error) {
	cfg := DefaultConfig()
	var err error
	if format == FormatJSON {
		err = decodeJSON(data, &cfg)
	} else {
		err = decodeYAML(data, &cfg)
	}
	if err != nil {
		return Config{}, err
	}
	if err := cfg.ValidateBasic(); err != nil {
		return Config{}, fmt.Errorf("invalid config: %w", err)
	}
	return cfg, nil
}

func decodeYAML(data []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	switch err := dec.Decode(cfg); {
	case errors.Is(err, io.EOF):
		// An empty file means all defaults.
		return nil
	case err != nil:
		return fmt.Errorf("decode yaml: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("decode yaml: more than one document")
	}
	return nil
}

func decodeJSON(data []byte, cfg *Config) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return fmt.Errorf("decode json: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("decode json: data after the top-level object")
	}
	return nil
}

// Marshal encodes cfg as commented YAML.
func Marshal(cfg Config) ([]byte, error) {
	var root yaml.Node
	if err := root.Encode(cfg); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	annotate(&root, "")
	root.HeadComment = "crucible-sidecar configuration. Keys left out take their defaults; unknown keys are an error."
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	return buf.Bytes(), nil
}

// MarshalFormat encodes cfg in format: commented YAML or indented JSON.
func MarshalFormat(cfg Config, format Format) ([]byte, error) {
	if format != FormatJSON {
		return Marshal(cfg)
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return append(data, '\n'), nil
}

// Write validates cfg and writes it to path in the format its extension
// names, replacing any file there. The file is written beside its final name
// and renamed, with mode 0600.
func Write(path string, cfg Config) error {
	if err := cfg.ValidateBasic(); err != nil {
		return fmt.Errorf("invalid config: %w", err)
	}
	data, err := MarshalFormat(cfg, FormatOf(path))
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create config dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// WriteDefault writes DefaultConfig to path. It refuses to replace an
// existing file (the error wraps fs.ErrExist).
func WriteDefault(path string) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("write config %s: %w", path, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write config: %w", err)
	}
	return Write(path, DefaultConfig())
}

// keyComments documents the keys in files written by Marshal.
var keyComments = map[string]string{
	"chain":                      "How the sidecar reaches the chain and signs.",
	"chain.grpc_addr":            "host:port of a node's gRPC server.",
	"chain.rpc_addr":             "CometBFT RPC URL of a node, for events.",
	"chain.provider_address":     "Bech32 (" + AccountAddressPrefix + "1...) account of the provider this sidecar serves.",
	"chain.hot_key_name":         "Key the sidecar signs with; the provider grants it only what it needs (authz).",
	"chain.keyring_dir":          "Relative paths are under the sidecar home.",
	"chain.keyring_backend":      "os, file, kwallet, pass, test or memory.",
	"chain.gas_prices":           "Fee per unit of gas, as decimal coins.",
	"chain.gas_adjustment":       "Multiplies the simulated gas of each transaction.",
	"chain.tx_timeout_blocks":    "Blocks a transaction may wait in a mempool (its timeout height); a restarted bid engine waits as long before bidding.",
	"inventory":                  "Where the GPU inventory comes from.",
	"inventory.backend":          "nvml, sim, or auto (nvml if it finds GPUs, else sim).",
	"inventory.sim_gpus":         "Simulated GPUs: [{model, memory_mib, count, uuid_prefix}]; UUIDs are GPU-sim-<uuid_prefix>-<n>.",
	"bid":                        "What the bid engine bids; GPUs without a pricing rule are never bid.",
	"bid.denom":                  "Denomination of every amount in this section.",
	"bid.deposit":                "Locked with each bid; at least the chain's minimum bid deposit.",
	"bid.pricing":                "[{model, price_per_block, min_price_per_block, markup_bps}] per GPU per block; model is a model name or a class like H100.",
	"bid.max_tenant_gpu_percent": "Most GPUs (percent of the registered ones, rounded up) in open bids on one tenant's orders; 100: no cap.",
	"runner":                     "Limits of the lease runner.",
	"runner.work_dir":            "Relative paths are under the sidecar home.",
	"runner.max_job_time":        "Jobs running longer are stopped (Go duration: 90m, 24h).",
	"runner.max_output_bytes":    "Output a job may produce.",
	"runner.backend":             "auto (containers where the OCI runtime exists, else refuse to start), container, or process (development only: tenant code runs as the sidecar's user).",
	"runner.runtime":             "OCI runtime binary (runc), looked up in PATH.",
	"runner.cdi_spec_dirs":       "CDI spec directories; the NVIDIA Container Toolkit writes the GPUs' spec there (nvidia-ctk cdi generate).",
	"runner.cdi_kind":            "CDI kind of a GPU: a leased GPU is injected as <kind>=<uuid>.",
	"runner.registry_auth_file":  "docker config.json with registry credentials (empty: anonymous pulls).",
	"runner.insecure_registries": "Registries (host:port) reached over plain HTTP.",
	"runner.max_image_bytes":     "Largest image (compressed layers) a job may use.",
	"runner.image_cache_bytes":   "Bound of the layer cache; least recently used layers go first.",
	"runner.max_memory_bytes":    "Memory cap of a container, and the default when the manifest sets none.",
	"runner.max_cpu_millis":      "CPU cap of a container (1000 = one core), and the default.",
	"runner.max_pids":            "Process and thread cap of a container, and the default.",
	"runner.max_shm_bytes":       "Largest /dev/shm a manifest may ask for (default 64 MiB).",
	"runner.max_disk_bytes":      "Disk cap of a container's rootfs and job directory, and of its volume (see disk_quota), and the default.",
	"runner.disk_quota":          "auto: a container's rootfs and job directory, and its volume, live on ext4 images of their limits (writes past them fail with ENOSPC) where the sidecar is root with loop devices and mkfs.ext4, else polling; poll: disk use measured every second, a job over its limit killed.",
	"runner.userns":              "auto: containers get a user namespace (their root is host uid 1000000 and up, unprivileged) where the kernel allows it and the work dir's parents are traversable (o+x); off: container root is host root, confined by capabilities and seccomp.",
	"runner.egress":              "Network egress of containers: deny (loopback only) or allow (the public internet through NAT; private, link-local, metadata and the host's own addresses and other containers are dropped; needs ip and nft).",
	"runner.egress_pool":         "Private IPv4 range the containers' addresses come from with egress allow (a /30 each).",
	"runner.manifest_timeout":    "A lease whose tenant sends no manifest by then is closed by the provider.",
	"api":                        "Tenant API server.",
	"api.signature_max_age":      "Signed requests older than this are refused as replays.",
	"metrics":                    "Prometheus /metrics and /healthz.",
	"metrics.listen_addr":        "Empty disables the server.",
	"prover":                     "How challenges are answered.",
	"prover.backend":             "cpu, cuda, or auto (cuda where available, else cpu).",
}

func annotate(n *yaml.Node, prefix string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			annotate(c, prefix)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if prefix != "" {
				key = prefix + "." + key
			}
			if c, ok := keyComments[key]; ok {
				n.Content[i].HeadComment = c
			}
			annotate(n.Content[i+1], key)
		}
	}
}
