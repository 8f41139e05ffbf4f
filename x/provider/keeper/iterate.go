package keeper

import (
	"bytes"
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/provider/types"
)

// WalkActiveProviders calls fn on the ACTIVE providers whose owner key is in
// [start, end) (nil start: the first; nil end: to the last), in owner-key
// order, reading each record only when fn is about to see it. fn returns
// stop = true to stop before consuming p; WalkActiveProviders then returns
// p's key as next, where a later walk resumes. next is nil when the range was
// walked to its end. It walks the status index, so it never touches jailed
// or unbonding providers. x/attest uses it to spread a challenge window's
// schedule over several blocks, reading only the providers a block examines
// (plus the one it stops at).
func (k Keeper) WalkActiveProviders(ctx context.Context, start, end []byte, fn func(p types.Provider) (stop bool, err error)) (next []byte, err error) {
	if end != nil && start != nil && bytes.Compare(start, end) >= 0 {
		return nil, nil
	}
	rng := collections.NewPrefixedPairRange[int32, sdk.AccAddress](int32(types.ProviderStatusActive))
	if len(start) > 0 {
		rng = rng.StartInclusive(sdk.AccAddress(start))
	}
	if len(end) > 0 {
		rng = rng.EndExclusive(sdk.AccAddress(end))
	}
	it, err := k.Providers.Indexes.Status.Iterate(ctx, rng)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		owner, err := it.PrimaryKey()
		if err != nil {
			return nil, err
		}
		p, err := k.GetProvider(ctx, owner)
		if err != nil {
			return nil, err
		}
		stop, err := fn(p)
		if err != nil {
			return nil, err
		}
		if stop {
			return owner, nil
		}
	}
	return nil, nil
}
