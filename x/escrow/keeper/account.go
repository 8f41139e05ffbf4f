package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/crucible-network/crucible/x/escrow/types"
)

// GetAccount returns the account with id; the error wraps
// types.ErrAccountNotFound when there is none.
func (k Keeper) GetAccount(ctx context.Context, id uint64) (types.Account, error) {
	acc, err := k.Accounts.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return acc, errorsmod.Wrapf(types.ErrAccountNotFound, "id %d", id)
	}
	return acc, err
}

// OpenAccount opens the PENDING account id for owner and moves deposit from
// owner to the module account. The deposit may be zero (but needs a valid
// denom); it fixes the account's denom. Duplicate ids are refused.
func (k Keeper) OpenAccount(ctx context.Context, id uint64, owner sdk.AccAddress, deposit sdk.Coin) error {
	ownerStr, err := k.addressCodec.BytesToString(owner)
	if err != nil || len(owner) == 0 {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "owner: %v", err)
	}
	if deposit.Amount.IsNil() || deposit.Amount.IsNegative() {
		return errorsmod.Wrapf(types.ErrInvalidAmount, "deposit %s must be non-negative", deposit)
	}
	if err := sdk.ValidateDenom(deposit.Denom); err != nil {
		return errorsmod.Wrapf(types.ErrInvalidAmount, "deposit denom: %v", err)
	}
	has, err := k.Accounts.Has(ctx, id)
	if err != nil {
		return err
	}
	if has {
		return errorsmod.Wrapf(types.ErrAccountExists, "id %d", id)
	}
	if deposit.IsPositive() {
		if err := k.bank.SendCoinsFromAccountToModule(ctx, owner, types.ModuleName, sdk.NewCoins(deposit)); err != nil {
			return err
		}
	}
	zero := sdk.NewCoin(deposit.Denom, sdkmath.ZeroInt())
	acc := types.Account{
		Id:          id,
		Owner:       ownerStr,
		Balance:     sdk.NewCoin(deposit.Denom, deposit.Amount),
		Rate:        zero,
		Unwithdrawn: zero,
		TotalPaid:   zero,
		TotalTaken:  zero,
		State:       types.AccountStatePending,
	}
	if err := k.setAccount(ctx, nil, acc); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventAccountOpened{
		Id: id, Owner: ownerStr, Balance: acc.Balance,
	})
}

// ActivateAccount starts streaming payment from the PENDING account id to
// provider at rate per block, from the current block (settled_height = now)
// up to endHeight (the lease's end_height: no settlement pays past it, however
// late the account is closed), or without end when endHeight is 0. endHeight
// must be 0 or above the current height. rate must be positive and in the
// account's denom. The account enters the
// settlement queue at its exhaustion height; an account that cannot pay for a
// single block is due at once (the current block).
func (k Keeper) ActivateAccount(ctx context.Context, id uint64, provider sdk.AccAddress, rate sdk.Coin, endHeight int64) error {
	providerStr, err := k.addressCodec.BytesToString(provider)
	if err != nil || len(provider) == 0 {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "provider: %v", err)
	}
	if err := types.ValidateCoinAmount(rate); err != nil {
		return errorsmod.Wrap(err, "rate")
	}
	acc, err := k.GetAccount(ctx, id)
	if err != nil {
		return err
	}
	if acc.State != types.AccountStatePending {
		return errorsmod.Wrapf(types.ErrInvalidState, "account %d is %s, want %s", id, acc.State, types.AccountStatePending)
	}
	if rate.Denom != acc.Balance.Denom {
		return errorsmod.Wrapf(types.ErrInvalidDenom, "rate denom %q, account denom %q", rate.Denom, acc.Balance.Denom)
	}
	now := sdk.UnwrapSDKContext(ctx).BlockHeight()
	if endHeight != 0 && endHeight <= now {
		return errorsmod.Wrapf(types.ErrInvalidEndHeight, "end height %d not after the current height %d", endHeight, now)
	}
	prev := acc
	acc.EndHeight = endHeight
	acc.Provider = providerStr
	acc.Rate = rate
	acc.SettledHeight = now
	acc.State = types.AccountStateActive
	acc.ExhaustionHeight = types.ExhaustionHeight(now, acc.Balance.Amount, rate.Amount)
	if err := k.setAccount(ctx, &prev, acc); err != nil {
		return err
	}
	if err := k.Queue.Set(ctx, collections.Join(acc.ExhaustionHeight, id)); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventAccountActivated{
		Id: id, Provider: providerStr, Rate: rate, ExhaustionHeight: acc.ExhaustionHeight, EndHeight: endHeight,
	})
}

// Deposit adds amount from depositor (anyone) to the open account id. An
// active account is settled first and moves in the queue to its new
// exhaustion height. Closed accounts, other denoms and non-positive amounts
// are refused before any coin moves.
func (k Keeper) Deposit(ctx context.Context, id uint64, depositor sdk.AccAddress, amount sdk.Coin) (types.Account, error) {
	depositorStr, err := k.addressCodec.BytesToString(depositor)
	if err != nil || len(depositor) == 0 {
		return types.Account{}, errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "depositor: %v", err)
	}
	if err := types.ValidateCoinAmount(amount); err != nil {
		return types.Account{}, err
	}
	acc, err := k.GetAccount(ctx, id)
	if err != nil {
		return acc, err
	}
	if acc.State == types.AccountStateClosed {
		return acc, errorsmod.Wrapf(types.ErrAccountClosed, "account %d", id)
	}
	if amount.Denom != acc.Balance.Denom {
		return acc, errorsmod.Wrapf(types.ErrInvalidDenom, "deposit denom %q, account denom %q", amount.Denom, acc.Balance.Denom)
	}
	// Checked before any coin moves; settling only lowers the balance.
	if _, err := acc.Balance.Amount.SafeAdd(amount.Amount); err != nil {
		return acc, errorsmod.Wrapf(types.ErrOverflow, "account %d balance: %v", id, err)
	}

	// Move the deposit first: the likely failure (insufficient funds) then
	// leaves everything untouched, even outside a transaction.
	if err := k.bank.SendCoinsFromAccountToModule(ctx, depositor, types.ModuleName, sdk.NewCoins(amount)); err != nil {
		return acc, err
	}
	if _, err := k.settle(ctx, &acc); err != nil {
		return acc, err
	}
	acc.Balance.Amount = acc.Balance.Amount.Add(amount.Amount)
	if acc.State == types.AccountStateActive {
		if err := k.Queue.Remove(ctx, collections.Join(acc.ExhaustionHeight, id)); err != nil {
			return acc, err
		}
		acc.ExhaustionHeight = types.ExhaustionHeight(acc.SettledHeight, acc.Balance.Amount, acc.Rate.Amount)
		if err := k.Queue.Set(ctx, collections.Join(acc.ExhaustionHeight, id)); err != nil {
			return acc, err
		}
	}
	if err := k.Accounts.Set(ctx, id, acc); err != nil {
		return acc, err
	}
	return acc, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventDeposit{
		Id:               id,
		Depositor:        depositorStr,
		Amount:           amount,
		Balance:          acc.Balance,
		ExhaustionHeight: acc.ExhaustionHeight,
	})
}

// Withdraw settles the account id and sends its unwithdrawn earnings to
// provider, who must be the account's provider. Nothing to withdraw is an
// error (types.ErrNothingToWithdraw).
func (k Keeper) Withdraw(ctx context.Context, id uint64, provider sdk.AccAddress) (sdk.Coin, error) {
	providerStr, err := k.addressCodec.BytesToString(provider)
	if err != nil || len(provider) == 0 {
		return sdk.Coin{}, errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "provider: %v", err)
	}
	acc, err := k.GetAccount(ctx, id)
	if err != nil {
		return sdk.Coin{}, err
	}
	if acc.Provider == "" || acc.Provider != providerStr {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrNotProvider, "account %d is paid to %q, not %s", id, acc.Provider, providerStr)
	}
	if _, err := k.settle(ctx, &acc); err != nil {
		return sdk.Coin{}, err
	}
	if !acc.Unwithdrawn.IsPositive() {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrNothingToWithdraw, "account %d", id)
	}
	amount, err := k.payProvider(ctx, &acc, provider)
	if err != nil {
		return sdk.Coin{}, err
	}
	return amount, k.Accounts.Set(ctx, id, acc)
}

// payProvider sends acc's unwithdrawn earnings to provider and zeroes them,
// emitting EventWithdraw. The caller stores acc.
func (k Keeper) payProvider(ctx context.Context, acc *types.Account, provider sdk.AccAddress) (sdk.Coin, error) {
	amount := acc.Unwithdrawn
	if !amount.IsPositive() {
		return amount, nil
	}
	if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, provider, sdk.NewCoins(amount)); err != nil {
		return amount, err
	}
	acc.Unwithdrawn.Amount = sdkmath.ZeroInt()
	return amount, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventWithdraw{
		Id: acc.Id, Provider: acc.Provider, Amount: amount,
	})
}

// CloseAccount closes the account id: it settles to the current block (or
// its end_height, when that came first), pays
// all unwithdrawn earnings to the provider, refunds the remaining balance to
// the owner, removes the queue entry and marks the account CLOSED. Closing a
// PENDING account refunds everything. Closing a CLOSED account is an error.
func (k Keeper) CloseAccount(ctx context.Context, id uint64, reason string) (refund sdk.Coin, err error) {
	acc, err := k.GetAccount(ctx, id)
	if err != nil {
		return sdk.Coin{}, err
	}
	if acc.State == types.AccountStateClosed {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrAccountClosed, "account %d", id)
	}
	prev := acc
	owner, err := k.addressCodec.StringToBytes(acc.Owner)
	if err != nil {
		return sdk.Coin{}, errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "account %d owner: %v", id, err)
	}
	if acc.State == types.AccountStateActive {
		provider, err := k.addressCodec.StringToBytes(acc.Provider)
		if err != nil {
			return sdk.Coin{}, errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "account %d provider: %v", id, err)
		}
		if _, err := k.settle(ctx, &acc); err != nil {
			return sdk.Coin{}, err
		}
		if err := k.Queue.Remove(ctx, collections.Join(acc.ExhaustionHeight, id)); err != nil {
			return sdk.Coin{}, err
		}
		if _, err := k.payProvider(ctx, &acc, provider); err != nil {
			return sdk.Coin{}, err
		}
	}
	refund = acc.Balance
	if refund.IsPositive() {
		if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, owner, sdk.NewCoins(refund)); err != nil {
			return sdk.Coin{}, err
		}
	}
	acc.Balance.Amount = sdkmath.ZeroInt()
	acc.ExhaustionHeight = 0
	acc.State = types.AccountStateClosed
	if err := k.setAccount(ctx, &prev, acc); err != nil {
		return sdk.Coin{}, err
	}
	return refund, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventAccountClosed{
		Id: id, Owner: acc.Owner, Refunded: refund, Reason: reason,
	})
}

// Clawback settles the active account id to the current block and takes
// back the provider's share of gross, a payment for blocks that turned out
// unproven (x/market: a leased GPU missed a proof-of-compute challenge):
//
//	owed = gross - floor(gross * take_rate_bps / 10000)   (the take stays with the community pool)
//	taken = min(owed, unwithdrawn)                         sent to the account's owner
//
// It returns taken and owed. Earnings already withdrawn are out of its
// reach; x/market takes owed - taken from the provider's bond.
func (k Keeper) Clawback(ctx context.Context, id uint64, gross sdk.Coin) (taken, owed sdk.Coin, err error) {
	acc, err := k.GetAccount(ctx, id)
	if err != nil {
		return sdk.Coin{}, sdk.Coin{}, err
	}
	if acc.State != types.AccountStateActive {
		return sdk.Coin{}, sdk.Coin{}, errorsmod.Wrapf(types.ErrAccountClosed, "account %d is %s", id, acc.State)
	}
	if _, err := k.settle(ctx, &acc); err != nil {
		return sdk.Coin{}, sdk.Coin{}, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return sdk.Coin{}, sdk.Coin{}, err
	}
	denom := acc.Unwithdrawn.Denom
	taken, owed = sdk.NewCoin(denom, sdkmath.ZeroInt()), sdk.NewCoin(denom, sdkmath.ZeroInt())
	if gross.Denom == denom && gross.Amount.IsPositive() {
		owed.Amount = gross.Amount.Sub(types.Take(gross.Amount, params.TakeRateBps))
		taken.Amount = sdkmath.MinInt(owed.Amount, acc.Unwithdrawn.Amount)
	}
	if taken.IsPositive() {
		owner, err := k.addressCodec.StringToBytes(acc.Owner)
		if err != nil {
			return sdk.Coin{}, sdk.Coin{}, errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "account %d owner: %v", id, err)
		}
		if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, owner, sdk.NewCoins(taken)); err != nil {
			return sdk.Coin{}, sdk.Coin{}, err
		}
		acc.Unwithdrawn.Amount = acc.Unwithdrawn.Amount.Sub(taken.Amount)
		if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventEarningsClawedBack{
			Id: id, Owner: acc.Owner, Amount: taken,
		}); err != nil {
			return sdk.Coin{}, sdk.Coin{}, err
		}
	}
	return taken, owed, k.Accounts.Set(ctx, id, acc)
}
