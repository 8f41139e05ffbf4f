package keeper_test

import "math/big"

// big256 builds 256-bit test values.
type big256 struct{}

// max returns 2^256 - 1, the largest math.Int.
func (big256) max() *big.Int {
	return new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
}
