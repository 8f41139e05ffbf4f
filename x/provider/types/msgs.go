package types

import (
	"net/url"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Limits on the sizes of the strings a provider declares. They keep every
// provider record small and bounded; they are not params because clients and
// the sidecar rely on them.
const (
	MaxHostURILength        = 256
	MaxRegionLength         = 64
	MaxTierLength           = 64
	MaxAttributeKeyLength   = 64
	MaxAttributeValueLength = 256
	MaxGPUUUIDLength        = 96
	MaxGPUModelLength       = 128
	MaxGPUClassLength       = 32
)

var (
	_ sdk.Msg = &MsgRegisterProvider{}
	_ sdk.Msg = &MsgUpdateProvider{}
	_ sdk.Msg = &MsgDeregisterProvider{}
	_ sdk.Msg = &MsgUnjailProvider{}
	_ sdk.Msg = &MsgAddBond{}
	_ sdk.Msg = &MsgUpdateParams{}

	_ sdk.HasValidateBasic = &MsgRegisterProvider{}
	_ sdk.HasValidateBasic = &MsgUpdateProvider{}
	_ sdk.HasValidateBasic = &MsgDeregisterProvider{}
	_ sdk.HasValidateBasic = &MsgUnjailProvider{}
	_ sdk.HasValidateBasic = &MsgAddBond{}
	_ sdk.HasValidateBasic = &MsgUpdateParams{}
)

// The ValidateBasic methods below are stateless: they check sizes, formats and
// uniqueness, never addresses (the msg server decodes those with the app's
// address codec) and never params (the keeper checks max_gpus,
// max_attributes and min_bond against state).

// ValidateBasic performs the stateless checks of MsgRegisterProvider.
func (m *MsgRegisterProvider) ValidateBasic() error {
	if err := validateOwnerField(m.Owner); err != nil {
		return err
	}
	if err := ValidateDescription(m.HostUri, m.Region, m.Tier); err != nil {
		return err
	}
	if err := ValidateAttributes(m.Attributes); err != nil {
		return err
	}
	if err := ValidateGPUs(m.Gpus); err != nil {
		return err
	}
	for i, g := range m.Gpus {
		if g.VerifiedHeight != 0 {
			return errorsmod.Wrapf(ErrInvalidGPU, "gpu %d (%s): verified_height must be 0, only x/attest sets it", i, g.Uuid)
		}
	}
	return ValidateBondAmount(m.Bond)
}

// ValidateBasic performs the stateless checks of MsgUpdateProvider.
// verified_height is ignored (the chain keeps or resets it).
func (m *MsgUpdateProvider) ValidateBasic() error {
	if err := validateOwnerField(m.Owner); err != nil {
		return err
	}
	if err := ValidateDescription(m.HostUri, m.Region, m.Tier); err != nil {
		return err
	}
	if err := ValidateAttributes(m.Attributes); err != nil {
		return err
	}
	return ValidateGPUs(m.Gpus)
}

// ValidateBasic performs the stateless checks of MsgDeregisterProvider.
func (m *MsgDeregisterProvider) ValidateBasic() error { return validateOwnerField(m.Owner) }

// ValidateBasic performs the stateless checks of MsgUnjailProvider.
func (m *MsgUnjailProvider) ValidateBasic() error { return validateOwnerField(m.Owner) }

// ValidateBasic performs the stateless checks of MsgAddBond.
func (m *MsgAddBond) ValidateBasic() error {
	if err := validateOwnerField(m.Owner); err != nil {
		return err
	}
	return ValidateBondAmount(m.Amount)
}

// ValidateBasic performs the stateless checks of MsgUpdateParams.
func (m *MsgUpdateParams) ValidateBasic() error {
	if m.Authority == "" {
		return errorsmod.Wrap(ErrInvalidAddress, "empty authority")
	}
	return m.Params.Validate()
}

func validateOwnerField(owner string) error {
	if owner == "" {
		return errorsmod.Wrap(ErrInvalidAddress, "empty owner")
	}
	return nil
}

// ValidateBondAmount checks that c is a well-formed, strictly positive coin.
// The denom and the minimum are checked against params by the keeper.
func ValidateBondAmount(c sdk.Coin) error {
	if c.Amount.IsNil() {
		return errorsmod.Wrap(ErrInvalidBond, "amount is missing")
	}
	if err := sdk.ValidateDenom(c.Denom); err != nil {
		return errorsmod.Wrapf(ErrInvalidBond, "denom %q: %s", c.Denom, err)
	}
	if !c.Amount.IsPositive() {
		return errorsmod.Wrapf(ErrInvalidBond, "amount must be positive, got %s", c.Amount)
	}
	return nil
}

// ValidateDescription checks the host URI, region and tier of a provider.
func ValidateDescription(hostURI, region, tier string) error {
	if err := ValidateHostURI(hostURI); err != nil {
		return err
	}
	if err := validateText("region", region, MaxRegionLength, false, false); err != nil {
		return err
	}
	return validateText("tier", tier, MaxTierLength, false, false)
}

// ValidateHostURI checks the sidecar endpoint: an absolute http(s) URL with a
// host, no user info, at most MaxHostURILength bytes of printable ASCII.
func ValidateHostURI(s string) error {
	if s == "" {
		return errorsmod.Wrap(ErrInvalidHostURI, "empty")
	}
	if len(s) > MaxHostURILength {
		return errorsmod.Wrapf(ErrInvalidHostURI, "length %d exceeds %d", len(s), MaxHostURILength)
	}
	if !isPrintableASCII(s, false) {
		return errorsmod.Wrap(ErrInvalidHostURI, "must be printable ASCII without spaces")
	}
	u, err := url.Parse(s)
	if err != nil {
		return errorsmod.Wrapf(ErrInvalidHostURI, "%q: %s", s, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return errorsmod.Wrapf(ErrInvalidHostURI, "%q: scheme must be https or http", s)
	}
	if u.Host == "" || u.Hostname() == "" {
		return errorsmod.Wrapf(ErrInvalidHostURI, "%q: missing host", s)
	}
	if u.User != nil {
		return errorsmod.Wrapf(ErrInvalidHostURI, "%q: must not contain user info", s)
	}
	return nil
}

// ValidateAttributes checks attribute sizes and key uniqueness, and that there
// are at most MaxAttributesLimit of them (params.max_attributes is checked by
// the keeper).
func ValidateAttributes(attrs []Attribute) error {
	if len(attrs) > int(MaxAttributesLimit) {
		return errorsmod.Wrapf(ErrTooManyAttributes, "%d attributes, limit %d", len(attrs), MaxAttributesLimit)
	}
	seen := make(map[string]struct{}, len(attrs))
	for i, a := range attrs {
		if a.Key == "" {
			return errorsmod.Wrapf(ErrInvalidAttribute, "attribute %d: empty key", i)
		}
		if len(a.Key) > MaxAttributeKeyLength {
			return errorsmod.Wrapf(ErrInvalidAttribute, "attribute %d: key length %d exceeds %d", i, len(a.Key), MaxAttributeKeyLength)
		}
		if !isPrintableASCII(a.Key, false) {
			return errorsmod.Wrapf(ErrInvalidAttribute, "attribute %d: key must be printable ASCII without spaces", i)
		}
		if len(a.Value) > MaxAttributeValueLength {
			return errorsmod.Wrapf(ErrInvalidAttribute, "attribute %q: value length %d exceeds %d", a.Key, len(a.Value), MaxAttributeValueLength)
		}
		if !isPrintableASCII(a.Value, true) {
			return errorsmod.Wrapf(ErrInvalidAttribute, "attribute %q: value must be printable ASCII", a.Key)
		}
		if _, dup := seen[a.Key]; dup {
			return errorsmod.Wrapf(ErrInvalidAttribute, "duplicate attribute key %q", a.Key)
		}
		seen[a.Key] = struct{}{}
	}
	return nil
}

// ValidateGPUs checks every GPU claim and uuid uniqueness, and that there are
// at most MaxGPUsLimit of them (params.max_gpus is checked by the keeper).
// verified_height is only checked to be non-negative.
func ValidateGPUs(gpus []GPU) error {
	if len(gpus) > int(MaxGPUsLimit) {
		return errorsmod.Wrapf(ErrTooManyGPUs, "%d gpus, limit %d", len(gpus), MaxGPUsLimit)
	}
	seen := make(map[string]struct{}, len(gpus))
	for i, g := range gpus {
		if g.Uuid == "" {
			return errorsmod.Wrapf(ErrInvalidGPU, "gpu %d: empty uuid", i)
		}
		if len(g.Uuid) > MaxGPUUUIDLength {
			return errorsmod.Wrapf(ErrInvalidGPU, "gpu %d: uuid length %d exceeds %d", i, len(g.Uuid), MaxGPUUUIDLength)
		}
		if !isPrintableASCII(g.Uuid, false) {
			return errorsmod.Wrapf(ErrInvalidGPU, "gpu %d: uuid must be printable ASCII without spaces", i)
		}
		if _, dup := seen[g.Uuid]; dup {
			return errorsmod.Wrapf(ErrDuplicateGPU, "uuid %q appears more than once", g.Uuid)
		}
		seen[g.Uuid] = struct{}{}
		if g.Model == "" || len(g.Model) > MaxGPUModelLength || !isPrintableASCII(g.Model, true) {
			return errorsmod.Wrapf(ErrInvalidGPU, "gpu %s: model must be 1..%d bytes of printable ASCII", g.Uuid, MaxGPUModelLength)
		}
		if g.Class == "" || len(g.Class) > MaxGPUClassLength || !isPrintableASCII(g.Class, false) {
			return errorsmod.Wrapf(ErrInvalidGPU, "gpu %s: class must be 1..%d bytes of printable ASCII without spaces", g.Uuid, MaxGPUClassLength)
		}
		if g.MemoryMib == 0 {
			return errorsmod.Wrapf(ErrInvalidGPU, "gpu %s: memory_mib must be positive", g.Uuid)
		}
		if g.VerifiedHeight < 0 {
			return errorsmod.Wrapf(ErrInvalidGPU, "gpu %s: negative verified_height", g.Uuid)
		}
	}
	return nil
}

func validateText(field, s string, maxLen int, required, spaces bool) error {
	if required && s == "" {
		return errorsmod.Wrapf(ErrInvalidField, "%s is required", field)
	}
	if len(s) > maxLen {
		return errorsmod.Wrapf(ErrInvalidField, "%s length %d exceeds %d", field, len(s), maxLen)
	}
	if !isPrintableASCII(s, spaces) {
		return errorsmod.Wrapf(ErrInvalidField, "%s must be printable ASCII", field)
	}
	return nil
}

// isPrintableASCII reports whether s holds only printable ASCII characters
// (and spaces when allowed).
func isPrintableASCII(s string, spaces bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if !spaces {
				return false
			}
			continue
		}
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}
