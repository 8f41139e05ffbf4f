package types

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// ProviderKeeper is what x/attest needs from x/provider.
type ProviderKeeper interface {
	// WalkActiveProviders calls fn on the ACTIVE providers whose owner key
	// (address bytes) is in [start, end) (nil: unbounded), in key order, until
	// fn returns stop; it returns the key of the provider fn stopped at (not
	// consumed), or nil when the range was walked to its end.
	WalkActiveProviders(ctx context.Context, start, end []byte, fn func(p providertypes.Provider) (stop bool, err error)) (next []byte, err error)
	// GetProvider returns the provider registered by owner; the error wraps
	// providertypes.ErrProviderNotFound when there is none.
	GetProvider(ctx context.Context, owner sdk.AccAddress) (providertypes.Provider, error)
	// Slash burns bps/10000 of the provider's bond and returns the amount.
	Slash(ctx context.Context, owner sdk.AccAddress, bps uint32, reason string) (sdk.Coin, error)
	// Jail jails the provider (it fails with providertypes.ErrProviderUnbonding
	// for an unbonding provider).
	Jail(ctx context.Context, owner sdk.AccAddress, reason string) error
	// DropGPUs clears the provider's GPU inventory.
	DropGPUs(ctx context.Context, owner sdk.AccAddress) error
	// SetReputation sets the provider's reputation (0..10000 basis points).
	SetReputation(ctx context.Context, owner sdk.AccAddress, score int64, reason string) error
	// MarkGPUVerified records that the provider's GPU uuid passed a challenge.
	MarkGPUVerified(ctx context.Context, owner sdk.AccAddress, uuid string) error
	// RemoveGPU drops one GPU claim of the provider.
	RemoveGPU(ctx context.Context, owner sdk.AccAddress, uuid, reason string) error
}

// MarketKeeper is what x/attest needs from x/market.
type MarketKeeper interface {
	// CloseProviderLeases closes every active lease of provider with reason,
	// refunding the tenants through x/escrow, and returns the closed lease ids.
	CloseProviderLeases(ctx context.Context, provider sdk.AccAddress, reason markettypes.LeaseCloseReason) ([]uint64, error)
	// CloseGPULease closes the active lease on provider's GPU uuid, if any,
	// with reason (and the compensation a fault reason pays the tenant).
	CloseGPULease(ctx context.Context, provider sdk.AccAddress, uuid string, reason markettypes.LeaseCloseReason) ([]uint64, error)
	// DockGPU refunds the tenant of the active lease on provider's GPU uuid,
	// if any, what it paid for that GPU over the blocks after sinceHeight
	// (and after the lease's start), from the provider's unwithdrawn earnings
	// then its bond. It returns the lease id (0: not leased).
	DockGPU(ctx context.Context, provider sdk.AccAddress, uuid string, sinceHeight int64) (uint64, error)
}
