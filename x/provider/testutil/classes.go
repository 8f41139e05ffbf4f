// Package testutil holds test doubles for x/provider's expected keepers.
package testutil

import (
	"context"
	"fmt"
	"slices"

	errorsmod "cosmossdk.io/errors"
)

// ErrUnknownClass stands in for x/attest's registered "unknown class" error
// in unit tests of x/provider.
var ErrUnknownClass = errorsmod.Register("provider-testutil", 2, "gpu class not defined")

// Classes is a fixed set of GPU classes implementing
// types.GPUClasses.
type Classes []string

// DefaultClasses are the classes unit tests register GPUs under.
var DefaultClasses = Classes{"h100", "h200", "a100", "test"}

// CheckGPUClass implements types.GPUClasses.
func (c Classes) CheckGPUClass(_ context.Context, class string) error {
	if slices.Contains(c, class) {
		return nil
	}
	return errorsmod.Wrap(ErrUnknownClass, fmt.Sprintf("class %q not in %v", class, []string(c)))
}
