//go:build !cgo

package inventory

import "fmt"

// OpenNVML fails: NVML is reached through cgo, and this binary was built
// without it.
func OpenNVML() (Backend, error) {
	return nil, fmt.Errorf("%w: crucible-sidecar was built without cgo (CGO_ENABLED=0)", ErrNVMLUnavailable)
}
