// Package keeper implements the x/attest state machine: proof-of-compute
// challenges drawn from block randomness, their commit/reveal deadlines,
// verification with x/attest/poc, and the consequences (reputation, jail,
// slash, dropped GPU claims, closed leases) applied through x/provider and
// x/market.
package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/indexes"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/log/v2"
	"github.com/cosmos/gogoproto/proto"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/attest/types"
)

// ChallengeIndexes are the secondary indexes of Keeper.Challenges. Reference
// keys use the provider's raw address bytes and the int32 value of the state.
type ChallengeIndexes struct {
	// ByProvider indexes challenges by (provider, id).
	ByProvider *indexes.Multi[sdk.AccAddress, uint64, types.Challenge]
	// ByState indexes challenges by (state, id).
	ByState *indexes.Multi[int32, uint64, types.Challenge]
	// ByProviderState indexes challenges by ((provider, state), id): a
	// provider's open challenges are found without a scan.
	ByProviderState *indexes.Multi[collections.Pair[sdk.AccAddress, int32], uint64, types.Challenge]
}

// IndexesList implements collections.Indexes.
func (i ChallengeIndexes) IndexesList() []collections.Index[uint64, types.Challenge] {
	return []collections.Index[uint64, types.Challenge]{i.ByProvider, i.ByState, i.ByProviderState}
}

func newChallengeIndexes(sb *collections.SchemaBuilder, ac address.Codec) ChallengeIndexes {
	return ChallengeIndexes{
		ByProvider: indexes.NewMulti(sb, types.ChallengesByProviderKey, "challenges_by_provider",
			sdk.AccAddressKey, collections.Uint64Key,
			func(_ uint64, c types.Challenge) (sdk.AccAddress, error) { return decode(ac, c.Provider) }),
		ByState: indexes.NewMulti(sb, types.ChallengesByStateKey, "challenges_by_state",
			collections.Int32Key, collections.Uint64Key,
			func(_ uint64, c types.Challenge) (int32, error) { return int32(c.State), nil }),
		ByProviderState: indexes.NewMulti(sb, types.ChallengesByProviderStateKey, "challenges_by_provider_state",
			collections.PairKeyCodec(sdk.AccAddressKey, collections.Int32Key), collections.Uint64Key,
			func(_ uint64, c types.Challenge) (collections.Pair[sdk.AccAddress, int32], error) {
				p, err := decode(ac, c.Provider)
				return collections.Join(p, int32(c.State)), err
			}),
	}
}

func decode(ac address.Codec, s string) (sdk.AccAddress, error) {
	bz, err := ac.StringToBytes(s)
	if err != nil {
		return nil, err
	}
	return sdk.AccAddress(bz), nil
}

// Keeper of the x/attest store.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	addressCodec address.Codec
	providers    types.ProviderKeeper
	market       types.MarketKeeper
	// authority is the address allowed to send MsgUpdateParams (x/gov).
	authority string

	Schema collections.Schema
	// Params are the module parameters.
	Params collections.Item[types.Params]
	// Challenges are keyed by id and indexed by provider, state and both.
	Challenges *collections.IndexedMap[uint64, types.Challenge, ChallengeIndexes]
	// NextChallengeID is the id of the next challenge.
	NextChallengeID collections.Sequence
	// Records are the providers' challenge records, by address bytes.
	Records collections.Map[sdk.AccAddress, types.Record]
	// BlockHashes are the last params.block_hash_retention header hashes.
	BlockHashes collections.Map[int64, []byte]
	// Deadlines is the deadline queue: (header time in unix ms, id) for the
	// pending commit or reveal deadline of every open challenge.
	Deadlines collections.KeySet[collections.Pair[int64, uint64]]
	// Cursor is the progress of the current window's schedule.
	Cursor collections.Item[types.ScheduleCursor]
	// Finished is the pruning queue: (finished_height, id) for every finished
	// challenge still in state.
	Finished collections.KeySet[collections.Pair[int64, uint64]]
	// GPUStatuses is the liveness state of GPUs that missed since their last
	// pass, by (provider, gpu uuid); a pass deletes the entry.
	GPUStatuses collections.Map[collections.Pair[sdk.AccAddress, string], types.GPUStatus]
}

// NewKeeper builds the keeper. authority is the bech32 address allowed to
// update params (normally the x/gov module account).
func NewKeeper(
	cdc codec.BinaryCodec,
	storeService store.KVStoreService,
	addressCodec address.Codec,
	providers types.ProviderKeeper,
	market types.MarketKeeper,
	authority string,
) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("x/attest: invalid authority address %q: %w", authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		addressCodec: addressCodec,
		providers:    providers,
		market:       market,
		authority:    authority,
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Challenges: collections.NewIndexedMap(sb, types.ChallengesKey, "challenges", collections.Uint64Key,
			codec.CollValue[types.Challenge](cdc), newChallengeIndexes(sb, addressCodec)),
		NextChallengeID: collections.NewSequence(sb, types.NextChallengeIDKey, "next_challenge_id"),
		Records: collections.NewMap(sb, types.RecordsKey, "records", sdk.AccAddressKey,
			codec.CollValue[types.Record](cdc)),
		BlockHashes: collections.NewMap(sb, types.BlockHashesKey, "block_hashes", collections.Int64Key,
			collections.BytesValue),
		Deadlines: collections.NewKeySet(sb, types.DeadlinesKey, "deadlines",
			collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
		Cursor: collections.NewItem(sb, types.CursorKey, "cursor", codec.CollValue[types.ScheduleCursor](cdc)),
		Finished: collections.NewKeySet(sb, types.FinishedKey, "finished",
			collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
		GPUStatuses: collections.NewMap(sb, types.GPUStatusesKey, "gpu_statuses",
			collections.PairKeyCodec(sdk.AccAddressKey, collections.StringKey), codec.CollValue[types.GPUStatus](cdc)),
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

// Logger returns the module's logger.
func (k Keeper) Logger(ctx context.Context) log.Logger {
	return sdk.UnwrapSDKContext(ctx).Logger().With("module", "x/"+types.ModuleName)
}

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

// addressString encodes an address with the keeper's codec.
func (k Keeper) addressString(a sdk.AccAddress) (string, error) {
	s, err := k.addressCodec.BytesToString(a)
	if err != nil {
		return "", errorsmod.Wrapf(types.ErrInvalidAddress, "%s", err)
	}
	return s, nil
}

// CheckGPUClass returns nil when params.class_sizes defines class, otherwise
// an error wrapping types.ErrUnknownClass that lists the defined classes.
// x/provider calls it for every GPU registered or updated.
func (k Keeper) CheckGPUClass(ctx context.Context, class string) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if _, ok := params.Class(class); ok {
		return nil
	}
	names := make([]string, len(params.ClassSizes))
	for i, cs := range params.ClassSizes {
		names[i] = cs.Class
	}
	return errorsmod.Wrapf(types.ErrUnknownClass, "class %q; the chain defines %v", class, names)
}
