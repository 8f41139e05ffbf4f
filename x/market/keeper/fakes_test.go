package keeper_test

import (
	"context"
	"slices"
	"sort"

	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

const escrowModule = "escrow"

var errFakeEscrow = errorsmod.Register("fakeescrow", 2, "fake escrow failure")

// fakeBank tracks balances exactly, for accounts and module accounts alike.
type fakeBank struct {
	balances map[string]sdk.Coins
}

func newFakeBank() *fakeBank { return &fakeBank{balances: map[string]sdk.Coins{}} }

func moduleAddr(name string) sdk.AccAddress { return authtypes.NewModuleAddress(name) }

func (b *fakeBank) balance(addr sdk.AccAddress) sdk.Coins { return b.balances[string(addr)] }

func (b *fakeBank) fund(addr sdk.AccAddress, amt sdk.Coins) {
	b.balances[string(addr)] = b.balances[string(addr)].Add(amt...)
}

func (b *fakeBank) send(from, to sdk.AccAddress, amt sdk.Coins) error {
	if !amt.IsValid() {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidCoins, "%s", amt)
	}
	have := b.balances[string(from)]
	if !have.IsAllGTE(amt) {
		return errorsmod.Wrapf(sdkerrors.ErrInsufficientFunds, "%s < %s", have, amt)
	}
	b.balances[string(from)] = have.Sub(amt...)
	b.balances[string(to)] = b.balances[string(to)].Add(amt...)
	return nil
}

func (b *fakeBank) SendCoinsFromAccountToModule(_ context.Context, from sdk.AccAddress, module string, amt sdk.Coins) error {
	return b.send(from, moduleAddr(module), amt)
}

func (b *fakeBank) SendCoinsFromModuleToAccount(_ context.Context, module string, to sdk.AccAddress, amt sdk.Coins) error {
	return b.send(moduleAddr(module), to, amt)
}

// snapshot copies every balance, to check that a failed message moved no coin.
func (b *fakeBank) snapshot() map[string]sdk.Coins {
	out := make(map[string]sdk.Coins, len(b.balances))
	for k, v := range b.balances {
		if !v.IsZero() {
			out[k] = slices.Clone(v)
		}
	}
	return out
}

// fakeProviders is an in-memory x/provider.
type fakeProviders struct {
	byOwner map[string]*providertypes.Provider
	minBond sdk.Coin
	bank    *fakeBank // PayFromBond credits recipients here (nil: not used)
}

// PayFromBond pays min(amount, bond) to recipient, like x/provider (the
// fake's bonds are not held by the fake bank, so the payment is minted).
func (f *fakeProviders) PayFromBond(_ context.Context, owner, recipient sdk.AccAddress, amount sdk.Coin, _ string) (sdk.Coin, error) {
	p, ok := f.byOwner[string(owner)]
	if !ok {
		return sdk.Coin{}, providertypes.ErrProviderNotFound
	}
	if p.Bond.Denom == "" {
		p.Bond = sdk.NewCoin(amount.Denom, math.ZeroInt())
	}
	paid := sdk.NewCoin(p.Bond.Denom, math.MinInt(amount.Amount, p.Bond.Amount))
	if amount.Denom != p.Bond.Denom || !paid.IsPositive() {
		return sdk.NewCoin(p.Bond.Denom, math.ZeroInt()), nil
	}
	p.Bond = p.Bond.Sub(paid)
	f.bank.fund(recipient, sdk.NewCoins(paid))
	return paid, nil
}

func newFakeProviders() *fakeProviders {
	return &fakeProviders{byOwner: map[string]*providertypes.Provider{}}
}

func (f *fakeProviders) set(owner sdk.AccAddress, p providertypes.Provider) {
	f.byOwner[string(owner)] = &p
}

func (f *fakeProviders) get(owner sdk.AccAddress) *providertypes.Provider {
	return f.byOwner[string(owner)]
}

func (f *fakeProviders) GetRegistration(_ context.Context, owner sdk.AccAddress) (providertypes.Provider, error) {
	p, ok := f.byOwner[string(owner)]
	if !ok {
		return providertypes.Provider{}, errorsmod.Wrapf(providertypes.ErrProviderNotFound, "%x", []byte(owner))
	}
	return *p, nil
}

// minBond is what the fake's CheckMinBond requires (zero amount: any bond).
func (f *fakeProviders) CheckMinBond(_ context.Context, bond sdk.Coin) error {
	if f.minBond.Denom != "" && (bond.Denom != f.minBond.Denom || bond.Amount.LT(f.minBond.Amount)) {
		return errorsmod.Wrapf(providertypes.ErrInsufficientBond, "bond %s is below the minimum %s", bond, f.minBond)
	}
	return nil
}

func (f *fakeProviders) AddActiveLease(_ context.Context, owner sdk.AccAddress) error {
	p, ok := f.byOwner[string(owner)]
	if !ok {
		return providertypes.ErrProviderNotFound
	}
	p.ActiveLeases++
	return nil
}

func (f *fakeProviders) RemoveActiveLease(_ context.Context, owner sdk.AccAddress) error {
	p, ok := f.byOwner[string(owner)]
	if !ok {
		return providertypes.ErrProviderNotFound
	}
	if p.ActiveLeases == 0 {
		return errorsmod.Wrap(errFakeEscrow, "active lease count underflow")
	}
	p.ActiveLeases--
	return nil
}

// fakeEscrow keeps one account per order: the deposit sits in the "escrow"
// module account of the fake bank; once active, the account pays rate per
// block since activation, settled on close.
type fakeEscrow struct {
	bank      *fakeBank
	accounts  map[uint64]*escrowAccount
	closed    map[uint64]string // id -> reason
	failClose map[uint64]bool
	pruned    map[uint64]bool
}

type escrowAccount struct {
	owner, provider sdk.AccAddress
	balance, rate   sdk.Coin
	activatedAt     int64
	endHeight       int64    // last block paid for, like x/escrow (0: none)
	clawed          math.Int // earnings taken back for the owner
}

// Clawback sends up to amount of the earnings not yet clawed back to the
// owner, like x/escrow (the fake pays the provider only on close).
// The fake has no take rate: owed is amount.
func (e *fakeEscrow) Clawback(ctx context.Context, id uint64, amount sdk.Coin) (sdk.Coin, sdk.Coin, error) {
	a, ok := e.accounts[id]
	if !ok || a.provider == nil {
		return sdk.Coin{}, sdk.Coin{}, errorsmod.Wrapf(errFakeEscrow, "account %d missing or not active", id)
	}
	earned := a.owed(sdk.UnwrapSDKContext(ctx).BlockHeight()).Amount.Sub(a.clawedAmount())
	taken := sdk.NewCoin(a.balance.Denom, math.MaxInt(math.ZeroInt(), math.MinInt(amount.Amount, earned)))
	if taken.IsPositive() {
		if err := e.bank.SendCoinsFromModuleToAccount(ctx, escrowModule, a.owner, sdk.NewCoins(taken)); err != nil {
			return sdk.Coin{}, sdk.Coin{}, err
		}
		a.clawed = a.clawedAmount().Add(taken.Amount)
	}
	return taken, amount, nil
}

func (a *escrowAccount) clawedAmount() math.Int {
	if a.clawed.IsNil() {
		return math.ZeroInt()
	}
	return a.clawed
}

func newFakeEscrow(bank *fakeBank) *fakeEscrow {
	return &fakeEscrow{bank: bank, accounts: map[uint64]*escrowAccount{}, closed: map[uint64]string{}, failClose: map[uint64]bool{}}
}

func (e *fakeEscrow) OpenAccount(ctx context.Context, id uint64, owner sdk.AccAddress, deposit sdk.Coin) error {
	if _, ok := e.accounts[id]; ok {
		return errorsmod.Wrapf(errFakeEscrow, "account %d exists", id)
	}
	if err := e.bank.SendCoinsFromAccountToModule(ctx, owner, escrowModule, sdk.NewCoins(deposit)); err != nil {
		return err
	}
	e.accounts[id] = &escrowAccount{owner: owner, balance: deposit}
	return nil
}

func (e *fakeEscrow) ActivateAccount(ctx context.Context, id uint64, provider sdk.AccAddress, rate sdk.Coin, endHeight int64) error {
	a, ok := e.accounts[id]
	if !ok || a.provider != nil {
		return errorsmod.Wrapf(errFakeEscrow, "account %d missing or active", id)
	}
	a.provider, a.rate, a.activatedAt, a.endHeight = provider, rate, sdk.UnwrapSDKContext(ctx).BlockHeight(), endHeight
	return nil
}

// owed is what the provider has earned so far, capped by the balance.
func (a *escrowAccount) owed(now int64) sdk.Coin {
	if a.provider == nil {
		return sdk.NewCoin(a.balance.Denom, math.ZeroInt())
	}
	if a.endHeight > 0 && now > a.endHeight {
		now = a.endHeight
	}
	due := a.rate.Amount.MulRaw(now - a.activatedAt)
	return sdk.NewCoin(a.balance.Denom, math.MinInt(due, a.balance.Amount))
}

func (e *fakeEscrow) CloseAccount(ctx context.Context, id uint64, reason string) (sdk.Coin, error) {
	a, ok := e.accounts[id]
	if !ok {
		return sdk.Coin{}, errorsmod.Wrapf(errFakeEscrow, "account %d not found", id)
	}
	if e.failClose[id] {
		return sdk.Coin{}, errorsmod.Wrapf(errFakeEscrow, "close %d fails", id)
	}
	owed := a.owed(sdk.UnwrapSDKContext(ctx).BlockHeight())
	earned := owed.SubAmount(a.clawedAmount())
	if earned.IsPositive() {
		if err := e.bank.SendCoinsFromModuleToAccount(ctx, escrowModule, a.provider, sdk.NewCoins(earned)); err != nil {
			return sdk.Coin{}, err
		}
	}
	refund := a.balance.Sub(owed)
	if refund.IsPositive() {
		if err := e.bank.SendCoinsFromModuleToAccount(ctx, escrowModule, a.owner, sdk.NewCoins(refund)); err != nil {
			return sdk.Coin{}, err
		}
	}
	delete(e.accounts, id)
	e.closed[id] = reason
	return refund, nil
}

// PruneAccount forgets a closed account, like x/escrow (which refuses one
// that is not closed).
func (e *fakeEscrow) PruneAccount(_ context.Context, id uint64) error {
	if _, ok := e.closed[id]; !ok {
		return errorsmod.Wrapf(errFakeEscrow, "account %d is not closed", id)
	}
	delete(e.closed, id)
	if e.pruned == nil {
		e.pruned = map[uint64]bool{}
	}
	e.pruned[id] = true
	return nil
}

func (e *fakeEscrow) ProcessDue(ctx context.Context, limit uint32) ([]uint64, error) {
	now := sdk.UnwrapSDKContext(ctx).BlockHeight()
	ids := make([]uint64, 0, len(e.accounts))
	for id := range e.accounts {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var out []uint64
	for _, id := range ids {
		a := e.accounts[id]
		if a.provider == nil {
			continue
		}
		left := a.balance.Amount.Sub(a.owed(now).Amount)
		if left.LT(a.rate.Amount) {
			out = append(out, id)
			if limit != 0 && uint32(len(out)) == limit {
				break
			}
		}
	}
	return out, nil
}
