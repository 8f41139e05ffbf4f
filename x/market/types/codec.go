package types

import (
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/legacy"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

// RegisterInterfaces registers the module's messages and Msg service.
func RegisterInterfaces(ir codectypes.InterfaceRegistry) {
	ir.RegisterImplementations((*sdk.Msg)(nil),
		&MsgCreateOrder{},
		&MsgCancelOrder{},
		&MsgCreateBid{},
		&MsgCloseBid{},
		&MsgCreateLease{},
		&MsgCloseLease{},
		&MsgSubmitResult{},
		&MsgUpdateParams{},
	)
	msgservice.RegisterMsgServiceDesc(ir, &_Msg_serviceDesc)
}

// RegisterLegacyAminoCodec registers the messages for Amino JSON signing,
// under the names their protos declare (amino.name).
func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	legacy.RegisterAminoMsg(cdc, &MsgCreateOrder{}, "crucible/market/MsgCreateOrder")
	legacy.RegisterAminoMsg(cdc, &MsgCancelOrder{}, "crucible/market/MsgCancelOrder")
	legacy.RegisterAminoMsg(cdc, &MsgCreateBid{}, "crucible/market/MsgCreateBid")
	legacy.RegisterAminoMsg(cdc, &MsgCloseBid{}, "crucible/market/MsgCloseBid")
	legacy.RegisterAminoMsg(cdc, &MsgCreateLease{}, "crucible/market/MsgCreateLease")
	legacy.RegisterAminoMsg(cdc, &MsgCloseLease{}, "crucible/market/MsgCloseLease")
	legacy.RegisterAminoMsg(cdc, &MsgSubmitResult{}, "crucible/market/MsgSubmitResult")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "crucible/market/MsgUpdateParams")
}
