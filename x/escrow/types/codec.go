package types

import (
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/legacy"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

// RegisterInterfaces registers the module's Msgs and Msg service.
func RegisterInterfaces(ir codectypes.InterfaceRegistry) {
	ir.RegisterImplementations((*sdk.Msg)(nil),
		&MsgDeposit{},
		&MsgWithdraw{},
		&MsgUpdateParams{},
	)
	msgservice.RegisterMsgServiceDesc(ir, &_Msg_serviceDesc)
}

// RegisterLegacyAminoCodec registers the module's Msgs for Amino JSON signing.
// The names match the amino.name options in tx.proto.
func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	legacy.RegisterAminoMsg(cdc, &MsgDeposit{}, "crucible/escrow/MsgDeposit")
	legacy.RegisterAminoMsg(cdc, &MsgWithdraw{}, "crucible/escrow/MsgWithdraw")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "crucible/escrow/MsgUpdateParams")
	cdc.RegisterConcrete(&Params{}, "crucible/escrow/Params", nil)
}
