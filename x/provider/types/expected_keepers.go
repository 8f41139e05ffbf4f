package types

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// BankKeeper is the subset of x/bank the provider module uses to lock, release
// and burn bonds. Bonds are held by the "provider" module account.
type BankKeeper interface {
	SendCoinsFromAccountToModule(ctx context.Context, senderAddr sdk.AccAddress, recipientModule string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, senderModule string, recipientAddr sdk.AccAddress, amt sdk.Coins) error
	BurnCoins(ctx context.Context, moduleName string, amt sdk.Coins) error
}

// GPUClasses is what x/provider needs from the module that defines GPU
// classes (x/attest's params.class_sizes): a GPU may be registered only under
// a class the chain defines, so a provider cannot pick its own proof size.
type GPUClasses interface {
	// CheckGPUClass returns nil when class is defined, otherwise an error
	// wrapping the definer's registered "unknown class" error.
	CheckGPUClass(ctx context.Context, class string) error
}
