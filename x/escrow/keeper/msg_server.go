package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	"github.com/crucible-network/crucible/x/escrow/types"
)

type msgServer struct {
	k Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the x/escrow Msg service implementation.
func NewMsgServerImpl(k Keeper) types.MsgServer {
	return msgServer{k: k}
}

// Deposit tops up an open account; anyone may deposit.
func (s msgServer) Deposit(ctx context.Context, msg *types.MsgDeposit) (*types.MsgDepositResponse, error) {
	if err := msg.Validate(s.k.addressCodec); err != nil {
		return nil, err
	}
	depositor, err := s.k.addressCodec.StringToBytes(msg.Depositor)
	if err != nil {
		return nil, err
	}
	acc, err := s.k.Deposit(ctx, msg.Id, depositor, msg.Amount)
	if err != nil {
		return nil, err
	}
	return &types.MsgDepositResponse{Balance: acc.Balance}, nil
}

// Withdraw pays the account's provider its unwithdrawn earnings; only the
// provider may send it.
func (s msgServer) Withdraw(ctx context.Context, msg *types.MsgWithdraw) (*types.MsgWithdrawResponse, error) {
	if err := msg.Validate(s.k.addressCodec); err != nil {
		return nil, err
	}
	provider, err := s.k.addressCodec.StringToBytes(msg.Provider)
	if err != nil {
		return nil, err
	}
	amount, err := s.k.Withdraw(ctx, msg.Id, provider)
	if err != nil {
		return nil, err
	}
	return &types.MsgWithdrawResponse{Amount: amount}, nil
}

// UpdateParams replaces the params; only the authority may send it. A
// changed take rate applies from the next block (Keeper.SetParams).
func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if msg.Authority != s.k.authority {
		return nil, errorsmod.Wrapf(types.ErrInvalidAuthority, "expected %s, got %s", s.k.authority, msg.Authority)
	}
	if err := msg.Validate(s.k.addressCodec); err != nil {
		return nil, err
	}
	if err := s.k.SetParams(ctx, msg.Params); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}
