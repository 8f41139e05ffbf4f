package config

import (
	"fmt"
	"time"
)

// Duration is a time.Duration written in files as a Go duration string
// ("90s", "24h"). It implements encoding.TextMarshaler, so YAML and JSON both
// read and write it as a string; a bare number ("3600") is rejected because
// it has no unit.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String implements fmt.Stringer.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("invalid duration %q (want a number with a unit, like 90s or 24h): %w", text, err)
	}
	*d = Duration(v)
	return nil
}
