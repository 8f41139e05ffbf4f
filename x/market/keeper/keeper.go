package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/log/v2"
	"github.com/cosmos/gogoproto/proto"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/crucible-network/crucible/x/market/types"
)

// Keeper of the x/market store.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	addressCodec address.Codec
	bank         types.BankKeeper
	providers    types.ProviderKeeper
	escrow       types.EscrowKeeper
	authority    string

	Schema collections.Schema
	// Params are the module parameters.
	Params collections.Item[types.Params]
	// Orders by id. Written through setOrder, which keeps the index in step.
	Orders collections.Map[uint64, types.Order]
	// OrdersByStateTenant holds (state, tenant, id) for every order.
	OrdersByStateTenant collections.KeySet[collections.Triple[int32, sdk.AccAddress, uint64]]
	// Bids by id. Written through setBid, which keeps the indexes in step.
	Bids collections.Map[uint64, types.Bid]
	// BidsByOrderProvider holds (order id, provider, id) for every bid.
	BidsByOrderProvider collections.KeySet[collections.Triple[uint64, sdk.AccAddress, uint64]]
	// BidsByStateProvider holds (state, provider, id) for every bid.
	BidsByStateProvider collections.KeySet[collections.Triple[int32, sdk.AccAddress, uint64]]
	// OpenBidsByOrder holds (order id, id) for every OPEN bid.
	OpenBidsByOrder collections.KeySet[collections.Pair[uint64, uint64]]
	// Leases by id (== order id). Written through setLease, which keeps the
	// index in step.
	Leases collections.Map[uint64, types.Lease]
	// LeasesByStateProvider holds (state, provider, id) for every lease.
	LeasesByStateProvider collections.KeySet[collections.Triple[int32, sdk.AccAddress, uint64]]
	// NextOrderID and NextBidID hand out ids; both start at 1.
	NextOrderID collections.Sequence
	NextBidID   collections.Sequence
	// OrderExpiryQueue holds (expires_height, order id) for every open order.
	OrderExpiryQueue collections.KeySet[collections.Pair[int64, uint64]]
	// LeaseEndQueue holds (end_height, lease id) for every active lease.
	LeaseEndQueue collections.KeySet[collections.Pair[int64, uint64]]
	// ClosedQueue holds (closed_height, order id) for every finished order
	// still in state, for pruning.
	ClosedQueue collections.KeySet[collections.Pair[int64, uint64]]
	// GPUAssignments maps (provider, gpu uuid) to the active lease using it.
	GPUAssignments collections.Map[collections.Pair[sdk.AccAddress, string], uint64]
}

// NewKeeper returns the x/market keeper. authority is the address allowed to
// send MsgUpdateParams (normally the x/gov module account).
func NewKeeper(
	cdc codec.BinaryCodec,
	storeService store.KVStoreService,
	addressCodec address.Codec,
	bank types.BankKeeper,
	providers types.ProviderKeeper,
	escrow types.EscrowKeeper,
	authority string,
) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("invalid x/market authority address %q: %w", authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		addressCodec: addressCodec,
		bank:         bank,
		providers:    providers,
		escrow:       escrow,
		authority:    authority,

		Params: collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Orders: collections.NewMap(sb, types.OrdersKey, "orders", collections.Uint64Key,
			codec.CollValue[types.Order](cdc)),
		OrdersByStateTenant: newStateAddrIndex(sb, types.OrdersByStateTenantKey, "orders_by_state_tenant"),
		Bids: collections.NewMap(sb, types.BidsKey, "bids", collections.Uint64Key,
			codec.CollValue[types.Bid](cdc)),
		BidsByOrderProvider: collections.NewKeySet(sb, types.BidsByOrderProviderKey, "bids_by_order_provider",
			collections.TripleKeyCodec(collections.Uint64Key, sdk.AccAddressKey, collections.Uint64Key)),
		BidsByStateProvider: newStateAddrIndex(sb, types.BidsByStateProviderKey, "bids_by_state_provider"),
		OpenBidsByOrder: collections.NewKeySet(sb, types.OpenBidsByOrderKey, "open_bids_by_order",
			collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key)),
		Leases: collections.NewMap(sb, types.LeasesKey, "leases", collections.Uint64Key,
			codec.CollValue[types.Lease](cdc)),
		LeasesByStateProvider: newStateAddrIndex(sb, types.LeasesByStateProviderKey, "leases_by_state_provider"),
		NextOrderID:           collections.NewSequence(sb, types.NextOrderIDKey, "next_order_id"),
		NextBidID:             collections.NewSequence(sb, types.NextBidIDKey, "next_bid_id"),
		OrderExpiryQueue: collections.NewKeySet(sb, types.OrderExpiryQueueKey, "order_expiry_queue",
			collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
		LeaseEndQueue: collections.NewKeySet(sb, types.LeaseEndQueueKey, "lease_end_queue",
			collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
		ClosedQueue: collections.NewKeySet(sb, types.ClosedQueueKey, "closed_queue",
			collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
		GPUAssignments: collections.NewMap(sb, types.GPUAssignmentsKey, "gpu_assignments",
			collections.PairKeyCodec(sdk.AccAddressKey, collections.StringKey), collections.Uint64Value),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// GetAuthority returns the address allowed to update the params.
func (k Keeper) GetAuthority() string { return k.authority }

// AddressCodec returns the account address codec.
func (k Keeper) AddressCodec() address.Codec { return k.addressCodec }

// Logger returns a module-scoped logger.
func (k Keeper) Logger(ctx context.Context) log.Logger {
	return sdk.UnwrapSDKContext(ctx).Logger().With("module", "x/"+types.ModuleName)
}

// GetParams returns the module parameters.
func (k Keeper) GetParams(ctx context.Context) (types.Params, error) {
	return k.Params.Get(ctx)
}

// GetOrder returns an order; the error wraps types.ErrOrderNotFound.
func (k Keeper) GetOrder(ctx context.Context, id uint64) (types.Order, error) {
	o, err := k.Orders.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return o, errorsmod.Wrapf(types.ErrOrderNotFound, "order %d", id)
	}
	return o, err
}

// GetBid returns a bid; the error wraps types.ErrBidNotFound.
func (k Keeper) GetBid(ctx context.Context, id uint64) (types.Bid, error) {
	b, err := k.Bids.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return b, errorsmod.Wrapf(types.ErrBidNotFound, "bid %d", id)
	}
	return b, err
}

// GetLease returns a lease; the error wraps types.ErrLeaseNotFound.
func (k Keeper) GetLease(ctx context.Context, id uint64) (types.Lease, error) {
	l, err := k.Leases.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return l, errorsmod.Wrapf(types.ErrLeaseNotFound, "lease %d", id)
	}
	return l, err
}

// decodeAddress turns a bech32 string into account bytes, with a registered
// error.
func (k Keeper) decodeAddress(field, s string) (sdk.AccAddress, error) {
	bz, err := k.addressCodec.StringToBytes(s)
	if err != nil {
		return nil, errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "%s %q: %s", field, s, err)
	}
	return bz, nil
}

// nextID draws the next id from seq, skipping 0 so ids start at 1 even
// before InitGenesis has set the sequence.
func nextID(ctx context.Context, seq collections.Sequence) (uint64, error) {
	id, err := seq.Next(ctx)
	if err != nil || id != 0 {
		return id, err
	}
	return seq.Next(ctx)
}

// addHeight returns h + blocks, or an error when that leaves the int64 range.
func addHeight(h int64, blocks uint64) (int64, error) {
	if h < 0 || blocks > uint64(1<<62) || h > (1<<63-1)-int64(blocks) {
		return 0, errorsmod.Wrapf(types.ErrInvalidDuration, "height %d + %d blocks overflows", h, blocks)
	}
	return h + int64(blocks), nil
}

func blockHeight(ctx context.Context) int64 { return sdk.UnwrapSDKContext(ctx).BlockHeight() }

// emit emits a typed event.
func emit(ctx context.Context, ev proto.Message) error {
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(ev)
}
