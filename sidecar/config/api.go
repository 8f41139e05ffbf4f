package config

import "time"

// Bounds that catch unit mistakes in APIConfig.
const (
	maxRequestBytesLimit = 1 << 30
	maxSignatureAgeLimit = 24 * time.Hour
)

// APIConfig configures the tenant API server.
type APIConfig struct {
	// ListenAddr is the host:port the tenant API listens on.
	ListenAddr string `yaml:"listen_addr" json:"listen_addr"`
	// MaxRequestBytes caps the body of one request (job manifests included).
	MaxRequestBytes uint64 `yaml:"max_request_bytes" json:"max_request_bytes"`
	// SignatureMaxAge is how old a tenant's signed request may be; older
	// requests (and ones dated as far in the future) are refused as replays.
	SignatureMaxAge Duration `yaml:"signature_max_age" json:"signature_max_age"`
}

// DefaultAPIConfig listens on loopback; expose it through a proxy or change it.
func DefaultAPIConfig() APIConfig {
	return APIConfig{
		ListenAddr:      "127.0.0.1:8443",
		MaxRequestBytes: 4 << 20,
		SignatureMaxAge: Duration(5 * time.Minute),
	}
}

// TestAPIConfig listens on a free loopback port.
func TestAPIConfig() APIConfig {
	return APIConfig{
		ListenAddr:      "127.0.0.1:0",
		MaxRequestBytes: 1 << 20,
		SignatureMaxAge: Duration(time.Minute),
	}
}

// ValidateBasic checks the listen address and the limits.
func (c APIConfig) ValidateBasic() error {
	if err := validateHostPort(c.ListenAddr, true); err != nil {
		return &FieldError{Field: "listen_addr", Err: err}
	}
	if c.MaxRequestBytes == 0 {
		return fieldErrorf("max_request_bytes", "must be positive")
	}
	if c.MaxRequestBytes > maxRequestBytesLimit {
		return fieldErrorf("max_request_bytes", "%d is more than 1 GiB", c.MaxRequestBytes)
	}
	if c.SignatureMaxAge.Std() < time.Second {
		return fieldErrorf("signature_max_age", "%s is less than 1s", c.SignatureMaxAge)
	}
	if c.SignatureMaxAge.Std() > maxSignatureAgeLimit {
		return fieldErrorf("signature_max_age", "%s is more than %s", c.SignatureMaxAge, maxSignatureAgeLimit)
	}
	return nil
}
