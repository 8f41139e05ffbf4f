package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	"github.com/crucible-network/crucible/x/market/types"
)

type msgServer struct {
	k Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the x/market Msg service. Each handler decodes the
// signer, runs the stateless checks, then calls one keeper method, which
// checks that the signer owns what it touches.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k: k} }

func (s msgServer) CreateOrder(ctx context.Context, msg *types.MsgCreateOrder) (*types.MsgCreateOrderResponse, error) {
	tenant, err := s.k.decodeAddress("tenant", msg.Tenant)
	if err != nil {
		return nil, err
	}
	params, err := s.k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	if err := msg.Validate(params); err != nil {
		return nil, err
	}
	id, err := s.k.createOrder(ctx, params, tenant, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateOrderResponse{OrderId: id}, nil
}

func (s msgServer) CancelOrder(ctx context.Context, msg *types.MsgCancelOrder) (*types.MsgCancelOrderResponse, error) {
	tenant, err := s.k.decodeAddress("tenant", msg.Tenant)
	if err != nil {
		return nil, err
	}
	if err := msg.Validate(); err != nil {
		return nil, err
	}
	if err := s.k.CancelOrder(ctx, tenant, msg.OrderId); err != nil {
		return nil, err
	}
	return &types.MsgCancelOrderResponse{}, nil
}

func (s msgServer) CreateBid(ctx context.Context, msg *types.MsgCreateBid) (*types.MsgCreateBidResponse, error) {
	provider, err := s.k.decodeAddress("provider", msg.Provider)
	if err != nil {
		return nil, err
	}
	params, err := s.k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	if err := msg.Validate(params); err != nil {
		return nil, err
	}
	id, err := s.k.createBid(ctx, params, provider, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateBidResponse{BidId: id}, nil
}

func (s msgServer) CloseBid(ctx context.Context, msg *types.MsgCloseBid) (*types.MsgCloseBidResponse, error) {
	provider, err := s.k.decodeAddress("provider", msg.Provider)
	if err != nil {
		return nil, err
	}
	if err := msg.Validate(); err != nil {
		return nil, err
	}
	if err := s.k.CloseBid(ctx, provider, msg.BidId); err != nil {
		return nil, err
	}
	return &types.MsgCloseBidResponse{}, nil
}

func (s msgServer) CreateLease(ctx context.Context, msg *types.MsgCreateLease) (*types.MsgCreateLeaseResponse, error) {
	tenant, err := s.k.decodeAddress("tenant", msg.Tenant)
	if err != nil {
		return nil, err
	}
	if err := msg.Validate(); err != nil {
		return nil, err
	}
	id, err := s.k.CreateLease(ctx, tenant, msg.BidId)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateLeaseResponse{LeaseId: id}, nil
}

func (s msgServer) CloseLease(ctx context.Context, msg *types.MsgCloseLease) (*types.MsgCloseLeaseResponse, error) {
	sender, err := s.k.decodeAddress("sender", msg.Sender)
	if err != nil {
		return nil, err
	}
	if err := msg.Validate(); err != nil {
		return nil, err
	}
	if err := s.k.CloseLease(ctx, sender, msg.LeaseId); err != nil {
		return nil, err
	}
	return &types.MsgCloseLeaseResponse{}, nil
}

func (s msgServer) SubmitResult(ctx context.Context, msg *types.MsgSubmitResult) (*types.MsgSubmitResultResponse, error) {
	provider, err := s.k.decodeAddress("provider", msg.Provider)
	if err != nil {
		return nil, err
	}
	params, err := s.k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	if err := msg.Validate(params); err != nil {
		return nil, err
	}
	if err := s.k.SubmitResult(ctx, provider, msg); err != nil {
		return nil, err
	}
	return &types.MsgSubmitResultResponse{}, nil
}

func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if _, err := s.k.decodeAddress("authority", msg.Authority); err != nil {
		return nil, err
	}
	if msg.Authority != s.k.authority {
		return nil, errorsmod.Wrapf(types.ErrInvalidAuthority, "expected %s, got %s", s.k.authority, msg.Authority)
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, err
	}
	if err := s.k.Params.Set(ctx, msg.Params); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}
