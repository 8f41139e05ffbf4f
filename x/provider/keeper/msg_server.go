package keeper

import (
	"bytes"
	"context"

	errorsmod "cosmossdk.io/errors"

	"github.com/crucible-network/crucible/x/provider/types"
)

type msgServer struct {
	k Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the x/provider Msg service implementation.
//
// Every message names its signer in the owner field (cosmos.msg.v1.signer), so
// the signer always acts on its own provider: a provider is keyed by its owner
// address and another account's message can only reach that account's own
// (usually missing) provider. A hot key acts for the owner only through
// x/authz MsgExec, where the inner message still names the owner.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k: k} }

func (s msgServer) RegisterProvider(ctx context.Context, msg *types.MsgRegisterProvider) (*types.MsgRegisterProviderResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	owner, err := s.k.decodeAddress("owner", msg.Owner)
	if err != nil {
		return nil, err
	}
	if err := s.k.RegisterProvider(ctx, owner, msg); err != nil {
		return nil, err
	}
	return &types.MsgRegisterProviderResponse{}, nil
}

func (s msgServer) UpdateProvider(ctx context.Context, msg *types.MsgUpdateProvider) (*types.MsgUpdateProviderResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	owner, err := s.k.decodeAddress("owner", msg.Owner)
	if err != nil {
		return nil, err
	}
	if err := s.k.UpdateProvider(ctx, owner, msg); err != nil {
		return nil, err
	}
	return &types.MsgUpdateProviderResponse{}, nil
}

func (s msgServer) DeregisterProvider(ctx context.Context, msg *types.MsgDeregisterProvider) (*types.MsgDeregisterProviderResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	owner, err := s.k.decodeAddress("owner", msg.Owner)
	if err != nil {
		return nil, err
	}
	h, err := s.k.DeregisterProvider(ctx, owner)
	if err != nil {
		return nil, err
	}
	return &types.MsgDeregisterProviderResponse{UnbondingHeight: h}, nil
}

func (s msgServer) UnjailProvider(ctx context.Context, msg *types.MsgUnjailProvider) (*types.MsgUnjailProviderResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	owner, err := s.k.decodeAddress("owner", msg.Owner)
	if err != nil {
		return nil, err
	}
	if err := s.k.UnjailProvider(ctx, owner); err != nil {
		return nil, err
	}
	return &types.MsgUnjailProviderResponse{}, nil
}

func (s msgServer) AddBond(ctx context.Context, msg *types.MsgAddBond) (*types.MsgAddBondResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	owner, err := s.k.decodeAddress("owner", msg.Owner)
	if err != nil {
		return nil, err
	}
	bond, err := s.k.AddBond(ctx, owner, msg.Amount)
	if err != nil {
		return nil, err
	}
	return &types.MsgAddBondResponse{Bond: bond}, nil
}

func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
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
	return &types.MsgUpdateParamsResponse{}, nil
}
