package config

import "slices"

// Prover backend names.
const (
	// ProverBackendCPU is the reference implementation.
	ProverBackendCPU = "cpu"
	// ProverBackendCUDA computes answers on the GPUs; it fails without them.
	ProverBackendCUDA = "cuda"
	// ProverBackendAuto uses CUDA when it is available, else the CPU.
	ProverBackendAuto = "auto"
)

// ProverBackends lists the accepted prover backend names.
var ProverBackends = []string{ProverBackendCPU, ProverBackendCUDA, ProverBackendAuto}

// ProverConfig selects how challenges are answered.
type ProverConfig struct {
	// Backend is cpu, cuda or auto.
	Backend string `yaml:"backend" json:"backend"`
}

// DefaultProverConfig uses CUDA where it is available.
func DefaultProverConfig() ProverConfig {
	return ProverConfig{Backend: ProverBackendAuto}
}

// TestProverConfig uses the CPU reference implementation.
func TestProverConfig() ProverConfig {
	return ProverConfig{Backend: ProverBackendCPU}
}

// ValidateBasic checks the backend name.
func (c ProverConfig) ValidateBasic() error {
	if !slices.Contains(ProverBackends, c.Backend) {
		return fieldErrorf("backend", "unknown backend %q (want one of %v)", c.Backend, ProverBackends)
	}
	return nil
}
