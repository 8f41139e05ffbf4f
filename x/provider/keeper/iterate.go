package keeper

import (
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/provider/types"
)

// ProvidersFrom returns up to limit ACTIVE providers in owner-key order,
// starting at start (nil = the first), and the key to continue from (nil
// when there are no more). It walks the status index, so it never touches
// jailed or unbonding providers. x/attest uses it to spread a challenge
// window's scheduling over several blocks with a fixed cost per block.
func (k Keeper) ProvidersFrom(ctx context.Context, start []byte, limit uint32) ([]types.Provider, []byte, error) {
	if limit == 0 {
		return nil, start, nil
	}
	rng := collections.NewPrefixedPairRange[int32, sdk.AccAddress](int32(types.ProviderStatusActive))
	if len(start) > 0 {
		rng = rng.StartInclusive(sdk.AccAddress(start))
	}
	it, err := k.Providers.Indexes.Status.Iterate(ctx, rng)
	if err != nil {
		return nil, nil, err
	}
	defer it.Close()
	var out []types.Provider
	for ; it.Valid(); it.Next() {
		owner, err := it.PrimaryKey()
		if err != nil {
			return nil, nil, err
		}
		if uint32(len(out)) == limit {
			return out, owner, nil
		}
		p, err := k.GetProvider(ctx, owner)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, p)
	}
	return out, nil, nil
}
