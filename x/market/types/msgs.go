package types

import (
	"bytes"
	"strings"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

var (
	_ sdk.Msg = &MsgCreateOrder{}
	_ sdk.Msg = &MsgCancelOrder{}
	_ sdk.Msg = &MsgCreateBid{}
	_ sdk.Msg = &MsgCloseBid{}
	_ sdk.Msg = &MsgCreateLease{}
	_ sdk.Msg = &MsgCloseLease{}
	_ sdk.Msg = &MsgSubmitResult{}
	_ sdk.Msg = &MsgUpdateParams{}
)

// The Validate methods below are the stateless checks the msg server runs
// before it touches state. Signer addresses are checked there, with the
// address codec. The bounds that are parameters come in as p.

// Validate checks a MsgCreateOrder.
func (m *MsgCreateOrder) Validate(p Params) error {
	if err := ValidateSpec(m.Spec, p); err != nil {
		return err
	}
	if err := validatePositiveCoin(m.MaxPricePerBlock); err != nil {
		return errorsmod.Wrapf(ErrInvalidPrice, "max_price_per_block: %s", err)
	}
	if err := validatePositiveCoin(m.Deposit); err != nil {
		return errorsmod.Wrapf(ErrInvalidDeposit, "deposit: %s", err)
	}
	if m.Deposit.Denom != p.MinOrderDeposit.Denom {
		return errorsmod.Wrapf(ErrInvalidDeposit, "deposit denom must be %s, got %s", p.MinOrderDeposit.Denom, m.Deposit.Denom)
	}
	if m.Deposit.IsLT(p.MinOrderDeposit) {
		return errorsmod.Wrapf(ErrInvalidDeposit, "deposit %s is below the minimum %s", m.Deposit, p.MinOrderDeposit)
	}
	if m.MaxPricePerBlock.Denom != m.Deposit.Denom {
		return errorsmod.Wrapf(ErrInvalidPrice, "max_price_per_block denom must be the deposit denom %s, got %s", m.Deposit.Denom, m.MaxPricePerBlock.Denom)
	}
	if m.DurationBlocks == 0 || m.DurationBlocks > p.MaxLeaseBlocks {
		return errorsmod.Wrapf(ErrInvalidDuration, "duration_blocks must be in [1, %d], got %d", p.MaxLeaseBlocks, m.DurationBlocks)
	}
	return nil
}

// ValidateSpec checks an order spec.
func ValidateSpec(s OrderSpec, p Params) error {
	if s.Gpu.Class == "" && s.Gpu.Model == "" {
		return errorsmod.Wrap(ErrInvalidSpec, "gpu class or model is required")
	}
	if err := checkLen("gpu.class", s.Gpu.Class, p.MaxStringLen); err != nil {
		return err
	}
	// Classes are lowercase on chain (x/attest's class sizes, x/provider's
	// registrations) and match exactly: "H100" would match no GPU.
	if s.Gpu.Class != strings.ToLower(s.Gpu.Class) {
		return errorsmod.Wrapf(ErrInvalidSpec, "gpu.class %q must be lowercase", s.Gpu.Class)
	}
	if err := checkLen("gpu.model", s.Gpu.Model, p.MaxStringLen); err != nil {
		return err
	}
	if s.Gpu.Count == 0 || s.Gpu.Count > MaxGPUCount {
		return errorsmod.Wrapf(ErrInvalidSpec, "gpu.count must be in [1, %d], got %d", MaxGPUCount, s.Gpu.Count)
	}
	if err := checkLen("region", s.Region, p.MaxStringLen); err != nil {
		return err
	}
	if err := checkLen("tier", s.Tier, p.MaxStringLen); err != nil {
		return err
	}
	if len(s.Attributes) > MaxOrderAttributes {
		return errorsmod.Wrapf(ErrInvalidSpec, "at most %d attributes, got %d", MaxOrderAttributes, len(s.Attributes))
	}
	seen := make(map[string]struct{}, len(s.Attributes))
	for i, a := range s.Attributes {
		if a.Key == "" {
			return errorsmod.Wrapf(ErrInvalidSpec, "attribute %d has an empty key", i)
		}
		if err := checkLen("attribute key", a.Key, p.MaxStringLen); err != nil {
			return err
		}
		if err := checkLen("attribute value", a.Value, p.MaxStringLen); err != nil {
			return err
		}
		if _, dup := seen[a.Key]; dup {
			return errorsmod.Wrapf(ErrInvalidSpec, "duplicate attribute key %q", a.Key)
		}
		seen[a.Key] = struct{}{}
	}
	if s.MinReputation < 0 || s.MinReputation > MaxReputation {
		return errorsmod.Wrapf(ErrInvalidSpec, "min_reputation must be in [0, %d], got %d", MaxReputation, s.MinReputation)
	}
	if len(s.ManifestHash) != HashLen {
		return errorsmod.Wrapf(ErrInvalidSpec, "manifest_hash must be %d bytes, got %d", HashLen, len(s.ManifestHash))
	}
	return nil
}

// Validate checks a MsgCancelOrder.
func (m *MsgCancelOrder) Validate() error { return checkID("order_id", m.OrderId) }

// Validate checks a MsgCreateBid.
func (m *MsgCreateBid) Validate(p Params) error {
	if err := checkID("order_id", m.OrderId); err != nil {
		return err
	}
	if err := validatePositiveCoin(m.Price); err != nil {
		return errorsmod.Wrapf(ErrInvalidPrice, "price: %s", err)
	}
	if err := validatePositiveCoin(m.Deposit); err != nil {
		return errorsmod.Wrapf(ErrInvalidDeposit, "deposit: %s", err)
	}
	if m.Deposit.Denom != p.MinBidDeposit.Denom {
		return errorsmod.Wrapf(ErrInvalidDeposit, "deposit denom must be %s, got %s", p.MinBidDeposit.Denom, m.Deposit.Denom)
	}
	if m.Deposit.IsLT(p.MinBidDeposit) {
		return errorsmod.Wrapf(ErrInvalidDeposit, "deposit %s is below the minimum %s", m.Deposit, p.MinBidDeposit)
	}
	if len(m.GpuUuids) == 0 || len(m.GpuUuids) > MaxGPUCount {
		return errorsmod.Wrapf(ErrGPUMismatch, "gpu_uuids must hold 1 to %d uuids, got %d", MaxGPUCount, len(m.GpuUuids))
	}
	seen := make(map[string]struct{}, len(m.GpuUuids))
	for _, u := range m.GpuUuids {
		if u == "" {
			return errorsmod.Wrap(ErrGPUMismatch, "empty gpu uuid")
		}
		if err := checkLen("gpu uuid", u, p.MaxStringLen); err != nil {
			return err
		}
		if _, dup := seen[u]; dup {
			return errorsmod.Wrapf(ErrGPUMismatch, "duplicate gpu uuid %q", u)
		}
		seen[u] = struct{}{}
	}
	return nil
}

// Validate checks a MsgCloseBid.
func (m *MsgCloseBid) Validate() error { return checkID("bid_id", m.BidId) }

// Validate checks a MsgCreateLease.
func (m *MsgCreateLease) Validate() error { return checkID("bid_id", m.BidId) }

// Validate checks a MsgCloseLease.
func (m *MsgCloseLease) Validate() error { return checkID("lease_id", m.LeaseId) }

// Validate checks a MsgSubmitResult.
func (m *MsgSubmitResult) Validate(p Params) error {
	if err := checkID("lease_id", m.LeaseId); err != nil {
		return err
	}
	if len(m.ResultHash) != HashLen {
		return errorsmod.Wrapf(ErrInvalidResult, "result_hash must be %d bytes, got %d", HashLen, len(m.ResultHash))
	}
	if bytes.Equal(m.ResultHash, make([]byte, HashLen)) {
		return errorsmod.Wrap(ErrInvalidResult, "result_hash is all zeros")
	}
	if m.Location == "" {
		return errorsmod.Wrap(ErrInvalidResult, "location is required")
	}
	if err := checkLen("location", m.Location, p.MaxStringLen); err != nil {
		return err
	}
	if len(m.ManifestHash) != HashLen {
		return errorsmod.Wrapf(ErrInvalidResult, "manifest_hash must be %d bytes, got %d", HashLen, len(m.ManifestHash))
	}
	return nil
}

func checkLen(field, s string, maxLen uint32) error {
	if uint64(len(s)) > uint64(maxLen) {
		return errorsmod.Wrapf(ErrStringTooLong, "%s is %d bytes, at most %d", field, len(s), maxLen)
	}
	return nil
}

func checkID(field string, id uint64) error {
	if id == 0 {
		return errorsmod.Wrapf(ErrInvalidID, "%s must not be 0", field)
	}
	return nil
}
