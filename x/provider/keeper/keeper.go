// Package keeper implements the x/provider state machine: the provider
// registry, GPU inventory claims, bonds held by the module account, the jail
// and the bond release queue.
package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/indexes"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"
	errorsmod "cosmossdk.io/errors"
	"github.com/cosmos/gogoproto/proto"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/provider/types"
)

// MaxReleasesPerBlock caps how many unbonding entries EndBlocker releases in
// one block; the rest wait for the next block.
const MaxReleasesPerBlock = 100

// ProviderIndexes are the secondary indexes of Keeper.Providers.
type ProviderIndexes struct {
	// Status indexes providers by (status, owner).
	Status *indexes.Multi[int32, sdk.AccAddress, types.Provider]
}

// IndexesList implements collections.Indexes.
func (i ProviderIndexes) IndexesList() []collections.Index[sdk.AccAddress, types.Provider] {
	return []collections.Index[sdk.AccAddress, types.Provider]{i.Status}
}

func newProviderIndexes(sb *collections.SchemaBuilder) ProviderIndexes {
	return ProviderIndexes{
		Status: indexes.NewMulti(
			sb, types.ProvidersByStatusKey, "providers_by_status",
			collections.Int32Key, sdk.AccAddressKey,
			func(_ sdk.AccAddress, p types.Provider) (int32, error) { return int32(p.Status), nil },
		),
	}
}

// Keeper of the x/provider store.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	addressCodec address.Codec
	bank         types.BankKeeper
	classes      types.GPUClasses
	// authority is the address allowed to send MsgUpdateParams (x/gov).
	authority string

	Schema collections.Schema
	// Params are the module parameters.
	Params collections.Item[types.Params]
	// Providers are keyed by owner address bytes, indexed by status.
	Providers *collections.IndexedMap[sdk.AccAddress, types.Provider, ProviderIndexes]
	// Unbonding is the bond release queue: (unbonding height, owner). It is a
	// KeySet (a Map with no value): the provider record holds the rest.
	Unbonding collections.KeySet[collections.Pair[int64, sdk.AccAddress]]
	// ActiveLeases counts the active leases of each provider (owner -> count,
	// no entry when zero). Provider.active_leases is not stored in Providers:
	// GetProvider, the queries and the genesis export fill it in from here.
	ActiveLeases collections.Map[sdk.AccAddress, uint64]
}

// NewKeeper builds the keeper. authority is the bech32 address allowed to
// update params (normally the x/gov module account). The app must create the
// "provider" module account with the Burner permission.
func NewKeeper(
	cdc codec.BinaryCodec,
	storeService store.KVStoreService,
	addressCodec address.Codec,
	bank types.BankKeeper,
	classes types.GPUClasses,
	authority string,
) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("x/provider: invalid authority address %q: %w", authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		addressCodec: addressCodec,
		bank:         bank,
		classes:      classes,
		authority:    authority,
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Providers: collections.NewIndexedMap(
			sb, types.ProvidersKey, "providers", sdk.AccAddressKey,
			codec.CollValue[types.Provider](cdc), newProviderIndexes(sb),
		),
		Unbonding: collections.NewKeySet(
			sb, types.UnbondingQueueKey, "unbonding_queue",
			collections.PairKeyCodec(collections.Int64Key, sdk.AccAddressKey),
		),
		ActiveLeases: collections.NewMap(sb, types.ActiveLeasesKey, "active_leases",
			sdk.AccAddressKey, collections.Uint64Value),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// GetAuthority returns the address allowed to update params.
func (k Keeper) GetAuthority() string { return k.authority }

// AddressCodec returns the account address codec the keeper uses.
func (k Keeper) AddressCodec() address.Codec { return k.addressCodec }

// GetParams returns the module params.
func (k Keeper) GetParams(ctx context.Context) (types.Params, error) {
	return k.Params.Get(ctx)
}

// SetParams validates and stores the module params.
func (k Keeper) SetParams(ctx context.Context, p types.Params) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return k.Params.Set(ctx, p)
}

func blockHeight(ctx context.Context) int64 {
	return sdk.UnwrapSDKContext(ctx).BlockHeight()
}

// emit emits a typed event on the context's event manager.
func emit(ctx context.Context, ev proto.Message) error {
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(ev)
}

// ownerString encodes an owner address with the keeper's codec.
func (k Keeper) ownerString(owner sdk.AccAddress) (string, error) {
	s, err := k.addressCodec.BytesToString(owner)
	if err != nil {
		return "", errorsmod.Wrapf(types.ErrInvalidAddress, "%s", err)
	}
	return s, nil
}

// decodeAddress decodes a bech32 address with the keeper's codec.
func (k Keeper) decodeAddress(field, s string) (sdk.AccAddress, error) {
	if s == "" {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "empty %s", field)
	}
	bz, err := k.addressCodec.StringToBytes(s)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "%s %q: %s", field, s, err)
	}
	return bz, nil
}
