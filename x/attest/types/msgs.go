package types

import (
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/attest/poc"
)

var (
	_ sdk.Msg = &MsgCommitProof{}
	_ sdk.Msg = &MsgRevealProof{}
	_ sdk.Msg = &MsgUpdateParams{}
)

// ValidateBasic performs the stateless checks of MsgCommitProof.
func (m *MsgCommitProof) ValidateBasic() error {
	if m.Provider == "" {
		return errorsmod.Wrap(ErrInvalidAddress, "empty provider")
	}
	if m.ChallengeId == 0 {
		return errorsmod.Wrap(ErrInvalidChallengeID, "challenge id 0")
	}
	if len(m.Root) != RootLen {
		return errorsmod.Wrapf(ErrInvalidRoot, "root of %d bytes, want %d", len(m.Root), RootLen)
	}
	return nil
}

// ValidateBasic performs the stateless checks of MsgRevealProof: a reveal
// larger than poc.MaxRevealSize can fit no params.
func (m *MsgRevealProof) ValidateBasic() error {
	if m.Provider == "" {
		return errorsmod.Wrap(ErrInvalidAddress, "empty provider")
	}
	if m.ChallengeId == 0 {
		return errorsmod.Wrap(ErrInvalidChallengeID, "challenge id 0")
	}
	if len(m.Reveal) == 0 || len(m.Reveal) > poc.MaxRevealSize {
		return errorsmod.Wrapf(ErrRevealSize, "reveal of %d bytes, must be in [1, %d]", len(m.Reveal), poc.MaxRevealSize)
	}
	return nil
}

// ValidateBasic performs the stateless checks of MsgUpdateParams.
func (m *MsgUpdateParams) ValidateBasic() error {
	if m.Authority == "" {
		return errorsmod.Wrap(ErrInvalidAddress, "empty authority")
	}
	return m.Params.Validate()
}
