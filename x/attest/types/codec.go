package types

import (
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/legacy"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

// RegisterInterfaces registers the module's Msg implementations and Msg service.
func RegisterInterfaces(ir codectypes.InterfaceRegistry) {
	ir.RegisterImplementations(
		(*sdk.Msg)(nil),
		&MsgCommitProof{},
		&MsgRevealProof{},
		&MsgUpdateParams{},
	)
	msgservice.RegisterMsgServiceDesc(ir, &_Msg_serviceDesc)
}

// RegisterLegacyAminoCodec registers the messages under the amino names the
// protos declare (amino.name), for Amino JSON signing (e.g. Ledger).
func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	legacy.RegisterAminoMsg(cdc, &MsgCommitProof{}, "crucible/attest/MsgCommitProof")
	legacy.RegisterAminoMsg(cdc, &MsgRevealProof{}, "crucible/attest/MsgRevealProof")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "crucible/attest/MsgUpdateParams")
}
