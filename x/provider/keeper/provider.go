package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/provider/types"
)

// GetProvider returns the provider owned by owner, with active_leases filled
// in from the lease counter. A missing provider yields an error wrapping
// types.ErrProviderNotFound.
func (k Keeper) GetProvider(ctx context.Context, owner sdk.AccAddress) (types.Provider, error) {
	p, err := k.GetRegistration(ctx, owner)
	if err != nil {
		return p, err
	}
	return p, k.fillActiveLeases(ctx, owner, &p)
}

// GetRegistration returns the provider owned by owner as stored: everything
// but active_leases (left 0; see ActiveLeaseCount). It costs one store read,
// which is all x/market needs to match a provider against an order. A missing
// provider yields an error wrapping types.ErrProviderNotFound.
func (k Keeper) GetRegistration(ctx context.Context, owner sdk.AccAddress) (types.Provider, error) {
	p, err := k.Providers.Get(ctx, owner)
	if err != nil {
		if errors.Is(err, collections.ErrNotFound) {
			return types.Provider{}, errorsmod.Wrapf(types.ErrProviderNotFound, "%s", k.fmtAddr(owner))
		}
		return types.Provider{}, err
	}
	return p, nil
}

// ActiveLeaseCount returns the number of active leases of owner's provider
// (0 for an unknown owner).
func (k Keeper) ActiveLeaseCount(ctx context.Context, owner sdk.AccAddress) (uint64, error) {
	n, err := k.ActiveLeases.Get(ctx, owner)
	if errors.Is(err, collections.ErrNotFound) {
		return 0, nil
	}
	return n, err
}

// fillActiveLeases sets p.ActiveLeases from the lease counter.
func (k Keeper) fillActiveLeases(ctx context.Context, owner sdk.AccAddress, p *types.Provider) error {
	n, err := k.ActiveLeaseCount(ctx, owner)
	if err != nil {
		return err
	}
	p.ActiveLeases = n
	return nil
}

// setProvider stores p. The lease count lives in ActiveLeases, never in the
// record.
func (k Keeper) setProvider(ctx context.Context, owner sdk.AccAddress, p types.Provider) error {
	p.ActiveLeases = 0
	return k.Providers.Set(ctx, owner, p)
}

// CheckCanBid returns the provider if it may take new work: status ACTIVE and a
// bond of at least params.min_bond (a slash may have taken it below). x/market
// should call it before accepting a bid.
func (k Keeper) CheckCanBid(ctx context.Context, owner sdk.AccAddress) (types.Provider, error) {
	p, err := k.GetProvider(ctx, owner)
	if err != nil {
		return p, err
	}
	if err := statusAllowsWork(p); err != nil {
		return p, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return p, err
	}
	if err := checkMinBond(p.Bond, params.MinBond); err != nil {
		return p, err
	}
	return p, nil
}

// CheckMinBond returns an error wrapping ErrInsufficientBond (or
// ErrBondDenom) when bond is below params.min_bond: a provider slashed below
// the minimum may not take new work until it tops up with MsgAddBond.
func (k Keeper) CheckMinBond(ctx context.Context, bond sdk.Coin) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	return checkMinBond(bond, params.MinBond)
}

// RegisterProvider registers owner as a provider described by msg and moves
// msg.Bond from the owner to the module account. msg must have passed
// ValidateBasic. Nothing is moved if any check fails.
func (k Keeper) RegisterProvider(ctx context.Context, owner sdk.AccAddress, msg *types.MsgRegisterProvider) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	existing, err := k.Providers.Get(ctx, owner)
	switch {
	case err == nil:
		switch existing.Status {
		case types.ProviderStatusJailed:
			return errorsmod.Wrapf(types.ErrProviderJailed, "%s is registered and jailed until height %d", msg.Owner, existing.JailedUntil)
		case types.ProviderStatusUnbonding:
			return errorsmod.Wrapf(types.ErrProviderUnbonding, "%s is unbonding until height %d", msg.Owner, existing.UnbondingHeight)
		default:
			return errorsmod.Wrapf(types.ErrProviderExists, "%s", msg.Owner)
		}
	case !errors.Is(err, collections.ErrNotFound):
		return err
	}
	if err := checkLimits(params, msg.Attributes, msg.Gpus); err != nil {
		return err
	}
	if err := k.checkClasses(ctx, msg.Gpus); err != nil {
		return err
	}
	if err := checkMinBond(msg.Bond, params.MinBond); err != nil {
		return err
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, owner, types.ModuleName, sdk.NewCoins(msg.Bond)); err != nil {
		return errorsmod.Wrap(err, "locking bond")
	}

	ownerStr, err := k.ownerString(owner)
	if err != nil {
		return err
	}
	gpus := make([]types.GPU, len(msg.Gpus))
	for i, g := range msg.Gpus {
		g.VerifiedHeight = 0
		gpus[i] = g
	}
	p := types.Provider{
		Owner:            ownerStr,
		HostUri:          msg.HostUri,
		Region:           msg.Region,
		Tier:             msg.Tier,
		Attributes:       msg.Attributes,
		Gpus:             gpus,
		Bond:             msg.Bond,
		Status:           types.ProviderStatusActive,
		Reputation:       types.DefaultInitialReputation,
		RegisteredHeight: blockHeight(ctx),
	}
	if err := k.setProvider(ctx, owner, p); err != nil {
		return err
	}
	return emit(ctx, &types.EventProviderRegistered{
		Owner:    p.Owner,
		HostUri:  p.HostUri,
		Region:   p.Region,
		Tier:     p.Tier,
		GpuCount: uint32(len(p.Gpus)),
		Bond:     p.Bond,
	})
}

// UpdateProvider replaces the description, attributes and GPU inventory of
// owner's provider. msg must have passed ValidateBasic.
//
// GPUs whose uuid, model, class and memory are unchanged keep their
// verified_height; new or changed ones start unverified. x/provider does not
// know which GPUs are assigned to leases, so while active_leases > 0 the GPU
// inventory may not change at all (ErrGPUsLeased); the description and
// attributes still may. An unbonding provider cannot be updated.
func (k Keeper) UpdateProvider(ctx context.Context, owner sdk.AccAddress, msg *types.MsgUpdateProvider) error {
	p, err := k.GetRegistration(ctx, owner)
	if err != nil {
		return err
	}
	if p.Status == types.ProviderStatusUnbonding {
		return errorsmod.Wrapf(types.ErrProviderUnbonding, "%s cannot be updated", p.Owner)
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if err := checkLimits(params, msg.Attributes, msg.Gpus); err != nil {
		return err
	}
	if err := k.checkClasses(ctx, msg.Gpus); err != nil {
		return err
	}
	gpus, changed := mergeGPUs(p.Gpus, msg.Gpus)
	if changed {
		leases, err := k.ActiveLeaseCount(ctx, owner)
		if err != nil {
			return err
		}
		if leases > 0 {
			return errorsmod.Wrapf(types.ErrGPUsLeased, "%s has %d active leases", p.Owner, leases)
		}
	}
	p.HostUri = msg.HostUri
	p.Region = msg.Region
	p.Tier = msg.Tier
	p.Attributes = msg.Attributes
	p.Gpus = gpus
	if err := k.setProvider(ctx, owner, p); err != nil {
		return err
	}
	return emit(ctx, &types.EventProviderUpdated{
		Owner:    p.Owner,
		HostUri:  p.HostUri,
		Region:   p.Region,
		Tier:     p.Tier,
		GpuCount: uint32(len(p.Gpus)),
	})
}

// mergeGPUs returns the new inventory with verified_height kept for unchanged
// claims and reset for new or changed ones, and whether the inventory (as a set
// of claims, ignoring order and verified_height) differs from the old one.
func mergeGPUs(old, next []types.GPU) ([]types.GPU, bool) {
	byUUID := make(map[string]types.GPU, len(old))
	for _, g := range old {
		byUUID[g.Uuid] = g
	}
	changed := len(old) != len(next)
	out := make([]types.GPU, len(next))
	for i, g := range next {
		g.VerifiedHeight = 0
		if prev, ok := byUUID[g.Uuid]; ok && sameClaim(prev, g) {
			g.VerifiedHeight = prev.VerifiedHeight
		} else {
			changed = true
		}
		out[i] = g
	}
	return out, changed
}

func sameClaim(a, b types.GPU) bool {
	return a.Uuid == b.Uuid && a.Model == b.Model && a.Class == b.Class && a.MemoryMib == b.MemoryMib
}

// DeregisterProvider starts the unbonding of owner's provider and returns the
// height at which the bond will be released: now + params.unbonding_blocks, or
// jailed_until if that is later (a jailed provider cannot shorten its jail by
// leaving and registering again). Refused while the provider has active leases.
// The bond stays slashable until it is released; EndBlocker then returns it
// and deletes the provider record.
func (k Keeper) DeregisterProvider(ctx context.Context, owner sdk.AccAddress) (int64, error) {
	p, err := k.GetRegistration(ctx, owner)
	if err != nil {
		return 0, err
	}
	if p.Status == types.ProviderStatusUnbonding {
		return 0, errorsmod.Wrapf(types.ErrProviderUnbonding, "%s is already unbonding until height %d", p.Owner, p.UnbondingHeight)
	}
	leases, err := k.ActiveLeaseCount(ctx, owner)
	if err != nil {
		return 0, err
	}
	if leases > 0 {
		return 0, errorsmod.Wrapf(types.ErrActiveLeases, "%s has %d active leases", p.Owner, leases)
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	release := blockHeight(ctx) + int64(params.UnbondingBlocks)
	if p.Status == types.ProviderStatusJailed && p.JailedUntil > release {
		release = p.JailedUntil
	}
	p.Status = types.ProviderStatusUnbonding
	p.UnbondingHeight = release
	if err := k.setProvider(ctx, owner, p); err != nil {
		return 0, err
	}
	if err := k.Unbonding.Set(ctx, collections.Join(release, owner)); err != nil {
		return 0, err
	}
	return release, emit(ctx, &types.EventProviderDeregistered{Owner: p.Owner, UnbondingHeight: release})
}

// UnjailProvider returns owner's jailed provider to ACTIVE once the block
// height has reached jailed_until and its bond is at least params.min_bond.
func (k Keeper) UnjailProvider(ctx context.Context, owner sdk.AccAddress) error {
	p, err := k.GetRegistration(ctx, owner)
	if err != nil {
		return err
	}
	if p.Status != types.ProviderStatusJailed {
		return errorsmod.Wrapf(types.ErrNotJailed, "%s is %s", p.Owner, p.Status)
	}
	if now := blockHeight(ctx); now < p.JailedUntil {
		return errorsmod.Wrapf(types.ErrStillJailed, "%s is jailed until height %d (now %d)", p.Owner, p.JailedUntil, now)
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if err := checkMinBond(p.Bond, params.MinBond); err != nil {
		return err
	}
	p.Status = types.ProviderStatusActive
	if err := k.setProvider(ctx, owner, p); err != nil {
		return err
	}
	return emit(ctx, &types.EventProviderUnjailed{Owner: p.Owner})
}

// AddBond moves amount from the owner to the module account and adds it to the
// bond. amount must be positive and in the bond's denom; an unbonding provider
// cannot add to its bond.
func (k Keeper) AddBond(ctx context.Context, owner sdk.AccAddress, amount sdk.Coin) (sdk.Coin, error) {
	if err := types.ValidateBondAmount(amount); err != nil {
		return sdk.Coin{}, err
	}
	p, err := k.GetRegistration(ctx, owner)
	if err != nil {
		return sdk.Coin{}, err
	}
	if p.Status == types.ProviderStatusUnbonding {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrProviderUnbonding, "%s cannot add to its bond", p.Owner)
	}
	if amount.Denom != p.Bond.Denom {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrBondDenom, "got %s, bond is in %s", amount.Denom, p.Bond.Denom)
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, owner, types.ModuleName, sdk.NewCoins(amount)); err != nil {
		return sdk.Coin{}, errorsmod.Wrap(err, "locking bond")
	}
	p.Bond = p.Bond.Add(amount)
	if err := k.setProvider(ctx, owner, p); err != nil {
		return sdk.Coin{}, err
	}
	return p.Bond, emit(ctx, &types.EventBondAdded{Owner: p.Owner, Amount: amount, Bond: p.Bond})
}

// AddActiveLease counts one more active lease on owner's provider (x/market
// calls it when a lease starts). Refused unless the provider is ACTIVE. The
// counter is bookkeeping for x/market; x/market's lease events report it. It
// reads the status index and the counter and writes only the counter.
func (k Keeper) AddActiveLease(ctx context.Context, owner sdk.AccAddress) error {
	active, err := k.isActive(ctx, owner)
	if err != nil {
		return err
	}
	if !active {
		p, err := k.GetRegistration(ctx, owner)
		if err != nil {
			return err
		}
		if err := statusAllowsWork(p); err != nil {
			return err
		}
		return errorsmod.Wrapf(types.ErrProviderNotActive, "%s is %s", p.Owner, p.Status)
	}
	n, err := k.ActiveLeaseCount(ctx, owner)
	if err != nil {
		return err
	}
	return k.ActiveLeases.Set(ctx, owner, n+1)
}

// isActive reports whether owner's provider is ACTIVE, with one Has on the
// status index instead of reading the whole record.
func (k Keeper) isActive(ctx context.Context, owner sdk.AccAddress) (bool, error) {
	key, err := collections.EncodeKeyWithPrefix(types.ProvidersByStatusKey, k.Providers.Indexes.Status.KeyCodec(),
		collections.Join(int32(types.ProviderStatusActive), owner))
	if err != nil {
		return false, err
	}
	return k.storeService.OpenKVStore(ctx).Has(key)
}

// RemoveActiveLease counts one lease less on owner's provider (x/market calls
// it when a lease closes, whatever the provider's status). It fails with
// ErrNoActiveLeases if the counter is already 0 (ErrProviderNotFound if there
// is no such provider).
func (k Keeper) RemoveActiveLease(ctx context.Context, owner sdk.AccAddress) error {
	n, err := k.ActiveLeaseCount(ctx, owner)
	if err != nil {
		return err
	}
	switch n {
	case 0:
		p, err := k.GetRegistration(ctx, owner)
		if err != nil {
			return err
		}
		return errorsmod.Wrapf(types.ErrNoActiveLeases, "%s", p.Owner)
	case 1:
		return k.ActiveLeases.Remove(ctx, owner)
	default:
		return k.ActiveLeases.Set(ctx, owner, n-1)
	}
}

// Slash burns bps/10000 of owner's bond, rounded down, and returns the amount
// burned. It works in every status (an unbonding bond stays slashable until it
// is released). bps must be at most 10000. When the amount rounds to zero
// (bps == 0 or a tiny bond) nothing changes, no event is emitted and a zero
// coin is returned.
func (k Keeper) Slash(ctx context.Context, owner sdk.AccAddress, bps uint32, reason string) (sdk.Coin, error) {
	if bps > types.BasisPoints {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrInvalidSlash, "%d basis points exceeds %d", bps, types.BasisPoints)
	}
	p, err := k.GetRegistration(ctx, owner)
	if err != nil {
		return sdk.Coin{}, err
	}
	amount := sdk.NewCoin(p.Bond.Denom, p.Bond.Amount.Mul(math.NewInt(int64(bps))).Quo(math.NewInt(int64(types.BasisPoints))))
	if amount.IsZero() {
		return amount, nil
	}
	if err := k.bank.BurnCoins(ctx, types.ModuleName, sdk.NewCoins(amount)); err != nil {
		return sdk.Coin{}, errorsmod.Wrap(err, "burning slashed bond")
	}
	p.Bond = p.Bond.Sub(amount)
	if err := k.setProvider(ctx, owner, p); err != nil {
		return sdk.Coin{}, err
	}
	return amount, emit(ctx, &types.EventProviderSlashed{Owner: p.Owner, Amount: amount, Reason: reason, Bond: p.Bond})
}

// Jail sets owner's provider to JAILED until height now + params.jail_blocks
// (never shortening a running jail). The provider then cannot take leases nor
// register again; it may send MsgUnjailProvider from jailed_until on. Its
// existing leases are x/market's business. An unbonding provider cannot be
// jailed (ErrProviderUnbonding): it is leaving and its bond stays slashable;
// callers running in Begin/EndBlock should treat that error as non-fatal.
func (k Keeper) Jail(ctx context.Context, owner sdk.AccAddress, reason string) error {
	p, err := k.GetRegistration(ctx, owner)
	if err != nil {
		return err
	}
	if p.Status == types.ProviderStatusUnbonding {
		return errorsmod.Wrapf(types.ErrProviderUnbonding, "%s cannot be jailed", p.Owner)
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	until := blockHeight(ctx) + int64(params.JailBlocks)
	if p.Status == types.ProviderStatusJailed && p.JailedUntil > until {
		until = p.JailedUntil
	}
	p.Status = types.ProviderStatusJailed
	p.JailedUntil = until
	if err := k.setProvider(ctx, owner, p); err != nil {
		return err
	}
	return emit(ctx, &types.EventProviderJailed{Owner: p.Owner, JailedUntil: until, Reason: reason})
}

// DropGPUs clears owner's GPU inventory (x/attest found the claims
// fraudulent). It works in every status and whatever the active leases.
func (k Keeper) DropGPUs(ctx context.Context, owner sdk.AccAddress) error {
	p, err := k.GetRegistration(ctx, owner)
	if err != nil {
		return err
	}
	dropped := uint32(len(p.Gpus))
	p.Gpus = nil
	if err := k.setProvider(ctx, owner, p); err != nil {
		return err
	}
	return emit(ctx, &types.EventGPUsDropped{Owner: p.Owner, GpuCount: dropped})
}

// SetReputation sets owner's reputation to score (0..10000 basis points).
func (k Keeper) SetReputation(ctx context.Context, owner sdk.AccAddress, score int64, reason string) error {
	if score < 0 || score > types.MaxReputation {
		return errorsmod.Wrapf(types.ErrInvalidReputation, "%d not in [0, %d]", score, types.MaxReputation)
	}
	p, err := k.GetRegistration(ctx, owner)
	if err != nil {
		return err
	}
	old := p.Reputation
	p.Reputation = score
	if err := k.setProvider(ctx, owner, p); err != nil {
		return err
	}
	return emit(ctx, &types.EventReputationChanged{Owner: p.Owner, OldReputation: old, NewReputation: score, Reason: reason})
}

// MarkGPUVerified sets the verified_height of owner's GPU uuid to the current
// block height. It fails with ErrGPUNotFound if the provider has no such GPU.
func (k Keeper) MarkGPUVerified(ctx context.Context, owner sdk.AccAddress, uuid string) error {
	p, err := k.GetRegistration(ctx, owner)
	if err != nil {
		return err
	}
	h := blockHeight(ctx)
	for i := range p.Gpus {
		if p.Gpus[i].Uuid != uuid {
			continue
		}
		p.Gpus[i].VerifiedHeight = h
		if err := k.setProvider(ctx, owner, p); err != nil {
			return err
		}
		return emit(ctx, &types.EventGPUVerified{Owner: p.Owner, Uuid: uuid, VerifiedHeight: h})
	}
	return errorsmod.Wrapf(types.ErrGPUNotFound, "provider %s has no gpu %q", p.Owner, uuid)
}

// statusAllowsWork refuses providers that are not ACTIVE with the error that
// says why.
func statusAllowsWork(p types.Provider) error {
	switch p.Status {
	case types.ProviderStatusActive:
		return nil
	case types.ProviderStatusJailed:
		return errorsmod.Wrapf(types.ErrProviderJailed, "%s is jailed until height %d", p.Owner, p.JailedUntil)
	case types.ProviderStatusUnbonding:
		return errorsmod.Wrapf(types.ErrProviderUnbonding, "%s is unbonding", p.Owner)
	default:
		return errorsmod.Wrapf(types.ErrProviderNotActive, "%s is %s", p.Owner, p.Status)
	}
}

// checkMinBond checks that bond is in min's denom and at least min.
func checkMinBond(bond, minBond sdk.Coin) error {
	if bond.Denom != minBond.Denom {
		return errorsmod.Wrapf(types.ErrBondDenom, "bond must be in %s, got %s", minBond.Denom, bond.Denom)
	}
	if bond.Amount.LT(minBond.Amount) {
		return errorsmod.Wrapf(types.ErrInsufficientBond, "bond %s is below the minimum %s", bond, minBond)
	}
	return nil
}

// checkClasses refuses GPUs whose class the chain does not define
// (x/attest's class_sizes): the class selects the proof size, so it is the
// chain's choice, never the provider's.
func (k Keeper) checkClasses(ctx context.Context, gpus []types.GPU) error {
	for i, g := range gpus {
		if err := k.classes.CheckGPUClass(ctx, g.Class); err != nil {
			return errorsmod.Wrapf(err, "gpus[%d] (%s)", i, g.Uuid)
		}
	}
	return nil
}

// RemoveGPU drops one GPU claim of owner's provider (x/attest: the GPU
// missed params.max_missed challenges in a row). It works in every status;
// x/market closes the GPU's lease first. ErrGPUNotFound if not claimed.
func (k Keeper) RemoveGPU(ctx context.Context, owner sdk.AccAddress, uuid, reason string) error {
	p, err := k.GetRegistration(ctx, owner)
	if err != nil {
		return err
	}
	for i := range p.Gpus {
		if p.Gpus[i].Uuid != uuid {
			continue
		}
		p.Gpus = append(p.Gpus[:i:i], p.Gpus[i+1:]...)
		if err := k.setProvider(ctx, owner, p); err != nil {
			return err
		}
		return emit(ctx, &types.EventGPURemoved{Owner: p.Owner, Uuid: uuid, Reason: reason})
	}
	return errorsmod.Wrapf(types.ErrGPUNotFound, "provider %s has no gpu %q", p.Owner, uuid)
}

// PayFromBond pays up to amount from owner's bond to recipient (a tenant
// wronged by the provider) and returns what was paid: min(amount, bond). It
// works in every status. A zero or other-denom amount pays nothing.
func (k Keeper) PayFromBond(ctx context.Context, owner, recipient sdk.AccAddress, amount sdk.Coin, reason string) (sdk.Coin, error) {
	p, err := k.GetRegistration(ctx, owner)
	if err != nil {
		return sdk.Coin{}, err
	}
	paid := sdk.NewCoin(p.Bond.Denom, math.ZeroInt())
	if amount.Denom != p.Bond.Denom || !amount.Amount.IsPositive() {
		return paid, nil
	}
	paid.Amount = math.MinInt(amount.Amount, p.Bond.Amount)
	if !paid.IsPositive() {
		return paid, nil
	}
	if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, recipient, sdk.NewCoins(paid)); err != nil {
		return sdk.Coin{}, errorsmod.Wrap(err, "paying from bond")
	}
	p.Bond = p.Bond.Sub(paid)
	if err := k.setProvider(ctx, owner, p); err != nil {
		return sdk.Coin{}, err
	}
	return paid, emit(ctx, &types.EventBondPaidOut{
		Owner: p.Owner, Recipient: k.fmtAddr(recipient), Amount: paid, Bond: p.Bond, Reason: reason,
	})
}

// checkLimits checks the params-dependent limits of a description.
func checkLimits(params types.Params, attrs []types.Attribute, gpus []types.GPU) error {
	if len(attrs) > int(params.MaxAttributes) {
		return errorsmod.Wrapf(types.ErrTooManyAttributes, "%d attributes, max_attributes is %d", len(attrs), params.MaxAttributes)
	}
	if len(gpus) > int(params.MaxGpus) {
		return errorsmod.Wrapf(types.ErrTooManyGPUs, "%d gpus, max_gpus is %d", len(gpus), params.MaxGpus)
	}
	return nil
}

// fmtAddr renders an address for error messages.
func (k Keeper) fmtAddr(a sdk.AccAddress) string {
	if s, err := k.addressCodec.BytesToString(a); err == nil {
		return s
	}
	return fmt.Sprintf("%X", []byte(a))
}
