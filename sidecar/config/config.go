// Package config holds the crucible-sidecar configuration: one struct per
// section, each with Default...(), Test...() and ValidateBasic(), loaded from
// a strict YAML or JSON file layered over the defaults.
package config

import (
	"path/filepath"
)

// Config is the whole sidecar configuration. Its YAML form has one top-level
// key per section.
type Config struct {
	Chain     ChainConfig     `yaml:"chain" json:"chain"`
	Inventory InventoryConfig `yaml:"inventory" json:"inventory"`
	Bid       BidConfig       `yaml:"bid" json:"bid"`
	Runner    RunnerConfig    `yaml:"runner" json:"runner"`
	API       APIConfig       `yaml:"api" json:"api"`
	Metrics   MetricsConfig   `yaml:"metrics" json:"metrics"`
	Prover    ProverConfig    `yaml:"prover" json:"prover"`
}

// DefaultConfig returns the configuration used for every key a file leaves out.
func DefaultConfig() Config {
	return Config{
		Chain:     DefaultChainConfig(),
		Inventory: DefaultInventoryConfig(),
		Bid:       DefaultBidConfig(),
		Runner:    DefaultRunnerConfig(),
		API:       DefaultAPIConfig(),
		Metrics:   DefaultMetricsConfig(),
		Prover:    DefaultProverConfig(),
	}
}

// TestConfig returns a configuration for tests: simulated GPUs, servers on
// 127.0.0.1 port 0, small limits.
func TestConfig() Config {
	return Config{
		Chain:     TestChainConfig(),
		Inventory: TestInventoryConfig(),
		Bid:       TestBidConfig(),
		Runner:    TestRunnerConfig(),
		API:       TestAPIConfig(),
		Metrics:   TestMetricsConfig(),
		Prover:    TestProverConfig(),
	}
}

// ValidateBasic checks every section. The error is a *FieldError naming the
// first invalid key, as a YAML path ("runner.max_output_bytes").
func (c Config) ValidateBasic() error {
	sections := []struct {
		name string
		err  error
	}{
		{"chain", c.Chain.ValidateBasic()},
		{"inventory", c.Inventory.ValidateBasic()},
		{"bid", c.Bid.ValidateBasic()},
		{"runner", c.Runner.ValidateBasic()},
		{"api", c.API.ValidateBasic()},
		{"metrics", c.Metrics.ValidateBasic()},
		{"prover", c.Prover.ValidateBasic()},
	}
	for _, s := range sections {
		if s.err != nil {
			return withPrefix(s.name, s.err)
		}
	}
	return nil
}

// SetRoot makes the relative directories of the configuration (keyring dir,
// runner work dir) relative to root, the sidecar's home directory.
func (c *Config) SetRoot(root string) {
	c.Chain.KeyringDir = rootJoin(root, c.Chain.KeyringDir)
	c.Runner.WorkDir = rootJoin(root, c.Runner.WorkDir)
}

func rootJoin(root, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}
