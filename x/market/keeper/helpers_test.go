package keeper_test

import (
	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

func joinGPU(p sdk.AccAddress, uuid string) collections.Pair[sdk.AccAddress, string] {
	return collections.Join(p, uuid)
}

func queueKeys(f *fixture, ks collections.KeySet[collections.Pair[int64, uint64]]) []collections.Pair[int64, uint64] {
	iter, err := ks.Iterate(f.ctx, nil)
	if err != nil {
		panic(err)
	}
	keys, err := iter.Keys()
	if err != nil {
		panic(err)
	}
	return keys
}
