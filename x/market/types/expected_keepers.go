package types

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// ProviderKeeper is what x/market needs from x/provider.
type ProviderKeeper interface {
	// GetRegistration returns the provider registered by owner as stored
	// (active_leases is not needed and not filled in); the error wraps
	// providertypes.ErrProviderNotFound when there is none.
	GetRegistration(ctx context.Context, owner sdk.AccAddress) (providertypes.Provider, error)
	// CheckMinBond fails when bond is below x/provider's min_bond (a
	// provider slashed below it may not bid until it adds bond).
	CheckMinBond(ctx context.Context, bond sdk.Coin) error
	// AddActiveLease counts one more active lease on the provider.
	AddActiveLease(ctx context.Context, owner sdk.AccAddress) error
	// RemoveActiveLease counts one less active lease on the provider.
	RemoveActiveLease(ctx context.Context, owner sdk.AccAddress) error
	// PayFromBond pays up to amount from the provider's bond to recipient and
	// returns what was paid.
	PayFromBond(ctx context.Context, owner, recipient sdk.AccAddress, amount sdk.Coin, reason string) (sdk.Coin, error)
}

// EscrowKeeper is what x/market needs from x/escrow. Accounts are keyed by
// order id, which is also the lease id.
type EscrowKeeper interface {
	// OpenAccount moves the order deposit from owner into a new escrow account.
	OpenAccount(ctx context.Context, id uint64, owner sdk.AccAddress, deposit sdk.Coin) error
	// ActivateAccount starts streaming rate per block to provider, up to
	// endHeight (the lease's end_height): no settlement pays past it.
	ActivateAccount(ctx context.Context, id uint64, provider sdk.AccAddress, rate sdk.Coin, endHeight int64) error
	// CloseAccount settles the account, pays the provider's earnings and
	// refunds the rest to the owner.
	CloseAccount(ctx context.Context, id uint64, reason string) (refund sdk.Coin, err error)
	// ProcessDue returns the ids of accounts whose balance can no longer pay a
	// block (at most limit of them; 0 lets x/escrow choose).
	ProcessDue(ctx context.Context, limit uint32) (exhausted []uint64, err error)
	// PruneAccount deletes a closed account that holds nothing.
	PruneAccount(ctx context.Context, id uint64) error
	// Clawback settles the active account and sends the provider's share of
	// gross (gross less the take rate: owed) to the owner, from the
	// unwithdrawn earnings; it returns what it took and owed.
	Clawback(ctx context.Context, id uint64, gross sdk.Coin) (taken, owed sdk.Coin, err error)
}

// BankKeeper is what x/market needs from x/bank: bid deposits are held by the
// market module account.
type BankKeeper interface {
	SendCoinsFromAccountToModule(ctx context.Context, senderAddr sdk.AccAddress, recipientModule string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, senderModule string, recipientAddr sdk.AccAddress, amt sdk.Coins) error
}
