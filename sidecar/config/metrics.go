package config

// MetricsConfig configures the Prometheus and health endpoint.
type MetricsConfig struct {
	// ListenAddr is the host:port serving /metrics and /healthz; empty disables it.
	ListenAddr string `yaml:"listen_addr" json:"listen_addr"`
}

// DefaultMetricsConfig listens on loopback.
func DefaultMetricsConfig() MetricsConfig {
	return MetricsConfig{ListenAddr: "127.0.0.1:9464"}
}

// TestMetricsConfig listens on a free loopback port.
func TestMetricsConfig() MetricsConfig {
	return MetricsConfig{ListenAddr: "127.0.0.1:0"}
}

// Enabled reports whether the metrics server should run.
func (c MetricsConfig) Enabled() bool { return c.ListenAddr != "" }

// ValidateBasic checks the listen address when one is set.
func (c MetricsConfig) ValidateBasic() error {
	if !c.Enabled() {
		return nil
	}
	if err := validateHostPort(c.ListenAddr, true); err != nil {
		return &FieldError{Field: "listen_addr", Err: err}
	}
	return nil
}
