// Package keeper implements the x/escrow state machine: escrow accounts per
// order/lease, lazy settlement of streaming payments, and a height-keyed
// settlement queue that x/market walks with a cap each block.
package keeper

import (
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/indexes"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/crucible-network/crucible/x/escrow/types"
)

// AccountIndexes are the secondary indexes of Keeper.Accounts.
type AccountIndexes struct {
	// Owner indexes accounts by owner (tenant) address.
	Owner *indexes.Multi[sdk.AccAddress, uint64, types.Account]
	// Provider indexes accounts by provider address; pending accounts sit under
	// the empty address.
	Provider *indexes.Multi[sdk.AccAddress, uint64, types.Account]
	// State indexes accounts by AccountState.
	State *indexes.Multi[int32, uint64, types.Account]
}

// IndexesList implements collections.Indexes.
func (i AccountIndexes) IndexesList() []collections.Index[uint64, types.Account] {
	return []collections.Index[uint64, types.Account]{i.Owner, i.Provider, i.State}
}

// Keeper of the escrow store.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	addressCodec address.Codec
	bank         types.BankKeeper
	distr        types.DistrKeeper
	authority    string
	moduleAddr   sdk.AccAddress

	Schema collections.Schema
	// Params are the module parameters.
	Params collections.Item[types.Params]
	// Accounts are the escrow accounts by id (order id = lease id).
	Accounts *collections.IndexedMap[uint64, types.Account, AccountIndexes]
	// Queue is the settlement queue: (exhaustion height, account id) for every
	// active account that has not yet been reported exhausted.
	Queue collections.KeySet[collections.Pair[int64, uint64]]
}

// NewKeeper returns the escrow keeper. authority is the address allowed to
// update the params (normally the x/gov module account). It panics when
// authority is not a valid address for addressCodec.
func NewKeeper(
	cdc codec.BinaryCodec,
	storeService store.KVStoreService,
	addressCodec address.Codec,
	bank types.BankKeeper,
	distr types.DistrKeeper,
	authority string,
) Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("escrow: invalid authority address %q: %w", authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		addressCodec: addressCodec,
		bank:         bank,
		distr:        distr,
		authority:    authority,
		moduleAddr:   authtypes.NewModuleAddress(types.ModuleName),
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Queue: collections.NewKeySet(sb, types.QueueKey, "queue",
			collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
	}
	k.Accounts = collections.NewIndexedMap(sb, types.AccountsKey, "accounts",
		collections.Uint64Key, codec.CollValue[types.Account](cdc),
		AccountIndexes{
			Owner: indexes.NewMulti(sb, types.AccountsByOwnerKey, "accounts_by_owner",
				sdk.AccAddressKey, collections.Uint64Key,
				func(_ uint64, acc types.Account) (sdk.AccAddress, error) {
					return addressCodec.StringToBytes(acc.Owner)
				}),
			Provider: indexes.NewMulti(sb, types.AccountsByProviderKey, "accounts_by_provider",
				sdk.AccAddressKey, collections.Uint64Key,
				func(_ uint64, acc types.Account) (sdk.AccAddress, error) {
					if acc.Provider == "" {
						return sdk.AccAddress{}, nil
					}
					return addressCodec.StringToBytes(acc.Provider)
				}),
			State: indexes.NewMulti(sb, types.AccountsByStateKey, "accounts_by_state",
				collections.Int32Key, collections.Uint64Key,
				func(_ uint64, acc types.Account) (int32, error) {
					return int32(acc.State), nil
				}),
		},
	)
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// GetAuthority returns the address allowed to update the params.
func (k Keeper) GetAuthority() string { return k.authority }

// ModuleAddress returns the escrow module account's address, which holds all
// escrowed funds.
func (k Keeper) ModuleAddress() sdk.AccAddress { return k.moduleAddr }

// AddressCodec returns the keeper's account address codec.
func (k Keeper) AddressCodec() address.Codec { return k.addressCodec }
