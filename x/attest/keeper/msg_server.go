package keeper

import (
	"bytes"
	"context"

	errorsmod "cosmossdk.io/errors"

	"github.com/crucible-network/crucible/x/attest/types"
)

type msgServer struct {
	k Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the x/attest Msg service implementation.
//
// Commit and reveal name their signer in the provider field
// (cosmos.msg.v1.signer) and act only on challenges of that provider
// (types.ErrNotChallengeOwner otherwise). A sidecar hot key acts for the
// provider through x/authz MsgExec, where the inner message still names the
// provider.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k: k} }

func (s msgServer) CommitProof(ctx context.Context, msg *types.MsgCommitProof) (*types.MsgCommitProofResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	provider, err := s.k.decodeAddress("provider", msg.Provider)
	if err != nil {
		return nil, err
	}
	sampleHeight, revealDeadline, err := s.k.CommitProof(ctx, provider, msg.ChallengeId, msg.Root)
	if err != nil {
		return nil, err
	}
	return &types.MsgCommitProofResponse{SampleHeight: sampleHeight, RevealDeadlineMs: revealDeadline}, nil
}

func (s msgServer) RevealProof(ctx context.Context, msg *types.MsgRevealProof) (*types.MsgRevealProofResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	provider, err := s.k.decodeAddress("provider", msg.Provider)
	if err != nil {
		return nil, err
	}
	state, failure, err := s.k.RevealProof(ctx, provider, msg.ChallengeId, msg.Reveal)
	if err != nil {
		return nil, err
	}
	return &types.MsgRevealProofResponse{State: state, Failure: failure}, nil
}

func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if msg.Authority == "" {
		return nil, errorsmod.Wrap(types.ErrInvalidAddress, "empty authority")
	}
	signer, err := s.k.decodeAddress("authority", msg.Authority)
	if err != nil {
		return nil, err
	}
	authority, err := s.k.addressCodec.StringToBytes(s.k.authority)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(signer, authority) {
		return nil, errorsmod.Wrapf(types.ErrInvalidSigner, "expected %s, got %s", s.k.authority, msg.Authority)
	}
	if err := s.k.SetParams(ctx, msg.Params); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, emit(ctx, &types.EventParamsUpdated{Authority: msg.Authority, Params: msg.Params})
}
