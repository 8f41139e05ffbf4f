package types

import (
	errorsmod "cosmossdk.io/errors"

	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// GPUMatches reports whether one GPU satisfies the GPU part of a spec: the
// class must equal spec.Class when that is set, the model must equal
// spec.Model when that is set, and the memory must be at least
// spec.MinMemoryMib. Classes and models compare exactly: classes are
// lowercase everywhere (x/attest defines them so, x/provider registers
// only defined ones, and an order's class must be lowercase, ValidateSpec).
func GPUMatches(spec GPUSpec, gpu providertypes.GPU) bool {
	if spec.Class != "" && gpu.Class != spec.Class {
		return false
	}
	if spec.Model != "" && gpu.Model != spec.Model {
		return false
	}
	return gpu.MemoryMib >= spec.MinMemoryMib
}

// MatchProvider decides, from the provider's registration alone, whether the
// provider can serve spec with the GPUs named by gpuUUIDs. It checks that the
// provider is active, that its reputation is high enough, that it has the
// region, tier and attributes the spec requires, and that gpuUUIDs are exactly
// spec.Gpu.Count distinct GPUs of the provider's inventory, each matching the
// spec. It does not know which GPUs are leased: the keeper checks that.
//
// The error wraps ErrProviderNotActive, ErrReputationTooLow,
// ErrAttributeMismatch or ErrGPUMismatch.
func MatchProvider(spec OrderSpec, p providertypes.Provider, gpuUUIDs []string) error {
	if p.Status != providertypes.ProviderStatusActive {
		return errorsmod.Wrapf(ErrProviderNotActive, "provider %s is %s", p.Owner, p.Status)
	}
	if p.Reputation < spec.MinReputation {
		return errorsmod.Wrapf(ErrReputationTooLow, "provider reputation %d < required %d", p.Reputation, spec.MinReputation)
	}
	if spec.Region != "" && p.Region != spec.Region {
		return errorsmod.Wrapf(ErrAttributeMismatch, "region %q required, provider is in %q", spec.Region, p.Region)
	}
	if spec.Tier != "" && p.Tier != spec.Tier {
		return errorsmod.Wrapf(ErrAttributeMismatch, "tier %q required, provider is %q", spec.Tier, p.Tier)
	}
	for _, want := range spec.Attributes {
		if !hasAttribute(p.Attributes, want) {
			return errorsmod.Wrapf(ErrAttributeMismatch, "attribute %s=%s required", want.Key, want.Value)
		}
	}

	if uint64(len(gpuUUIDs)) != uint64(spec.Gpu.Count) {
		return errorsmod.Wrapf(ErrGPUMismatch, "order needs %d gpus, %d offered", spec.Gpu.Count, len(gpuUUIDs))
	}
	inventory := make(map[string]providertypes.GPU, len(p.Gpus))
	for _, g := range p.Gpus {
		inventory[g.Uuid] = g
	}
	seen := make(map[string]struct{}, len(gpuUUIDs))
	for _, u := range gpuUUIDs {
		if _, dup := seen[u]; dup {
			return errorsmod.Wrapf(ErrGPUMismatch, "gpu %q offered twice", u)
		}
		seen[u] = struct{}{}
		g, ok := inventory[u]
		if !ok {
			return errorsmod.Wrapf(ErrGPUMismatch, "gpu %q is not in the provider's inventory", u)
		}
		if !GPUMatches(spec.Gpu, g) {
			return errorsmod.Wrapf(ErrGPUMismatch, "gpu %q (%s, %s, %d MiB) does not match class %q model %q min memory %d MiB",
				u, g.Class, g.Model, g.MemoryMib, spec.Gpu.Class, spec.Gpu.Model, spec.Gpu.MinMemoryMib)
		}
	}
	return nil
}

func hasAttribute(attrs []providertypes.Attribute, want providertypes.Attribute) bool {
	for _, a := range attrs {
		if a.Key == want.Key && a.Value == want.Value {
			return true
		}
	}
	return false
}

// GPUVerifiedWithin reports whether g passed a proof-of-compute challenge
// within the last `within` blocks before height now (within 0: always).
func GPUVerifiedWithin(g providertypes.GPU, within uint64, now int64) bool {
	if within == 0 {
		return true
	}
	if g.VerifiedHeight <= 0 || g.VerifiedHeight > now {
		return false
	}
	return uint64(now-g.VerifiedHeight) <= within
}

// CheckVerified refuses offered GPUs that have not passed a proof-of-compute
// challenge within spec.verified_within_blocks of height now
// (ErrGPUNotVerified). The GPUs must already have matched (MatchProvider).
func CheckVerified(spec OrderSpec, p providertypes.Provider, gpuUUIDs []string, now int64) error {
	if spec.VerifiedWithinBlocks == 0 {
		return nil
	}
	for _, u := range gpuUUIDs {
		for _, g := range p.Gpus {
			if g.Uuid != u {
				continue
			}
			if !GPUVerifiedWithin(g, spec.VerifiedWithinBlocks, now) {
				return errorsmod.Wrapf(ErrGPUNotVerified, "gpu %q last verified at height %d; the order requires a pass within %d blocks of %d",
					u, g.VerifiedHeight, spec.VerifiedWithinBlocks, now)
			}
		}
	}
	return nil
}

// IsProviderFault reports whether a lease closed for reason ended through
// the provider's fault: the tenant then receives the winning bid's deposit.
func IsProviderFault(reason LeaseCloseReason) bool {
	switch reason {
	case LeaseCloseReasonProviderSlashed, LeaseCloseReasonProviderJailed, LeaseCloseReasonGPUFailed:
		return true
	default:
		return false
	}
}

// BidVerified reports whether every GPU of gpuUUIDs (already matched
// against p, MatchProvider) has passed a proof-of-compute challenge: within
// spec.verified_within_blocks of height now when the order sets it, else at
// any height up to now. A verified bid outranks an unverified one when an
// order's open bids are full (BidOutranks).
func BidVerified(spec OrderSpec, p providertypes.Provider, gpuUUIDs []string, now int64) bool {
	for _, u := range gpuUUIDs {
		found := false
		for _, g := range p.Gpus {
			if g.Uuid != u {
				continue
			}
			found = true
			if g.VerifiedHeight <= 0 || g.VerifiedHeight > now || !GPUVerifiedWithin(g, spec.VerifiedWithinBlocks, now) {
				return false
			}
		}
		if !found {
			return false
		}
	}
	return len(gpuUUIDs) > 0
}

// BidOutranks reports whether bid a ranks strictly above bid b on an
// order's book: a verified bid above an unverified one, and between two
// bids alike in that, the lower price. Bids of one order share the order's
// denom. When an order's open bids are full, a new bid enters only if it
// outranks the worst open bid, which it displaces (x/market's README).
func BidOutranks(a, b Bid) bool {
	if a.Verified != b.Verified {
		return a.Verified
	}
	return a.Price.Amount.LT(b.Price.Amount)
}

// WorstBid returns the index of the lowest-ranked of bids (-1 when there
// are none): the one no other bid ranks below, the newest (highest id) of
// equals, so earlier bidders keep their place among equals.
func WorstBid(bids []Bid) int {
	worst := -1
	for i, b := range bids {
		if worst < 0 || BidOutranks(bids[worst], b) ||
			(!BidOutranks(b, bids[worst]) && b.Id > bids[worst].Id) {
			worst = i
		}
	}
	return worst
}
