package chain

import (
	"fmt"

	"github.com/cosmos/cosmos-sdk/x/tx/signing"
	"github.com/cosmos/gogoproto/proto"
	"google.golang.org/grpc/encoding"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/address"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/std"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/cosmos-sdk/x/authz"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/crucible-network/crucible/sidecar/config"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	escrowtypes "github.com/crucible-network/crucible/x/escrow/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// Encoding is what the sidecar needs to encode, sign and decode
// transactions and query responses: an interface registry with the SDK
// types the sidecar touches (auth, bank, authz) and every Crucible module.
// It does not import the app, so the sidecar binary carries no keepers.
type Encoding struct {
	InterfaceRegistry codectypes.InterfaceRegistry
	Codec             codec.Codec
	TxConfig          client.TxConfig
}

// NewEncoding builds the sidecar's encoding with the "cru" address codecs.
func NewEncoding() (Encoding, error) {
	if err := ensureBech32Prefix(); err != nil {
		return Encoding{}, err
	}
	ir, err := codectypes.NewInterfaceRegistryWithOptions(codectypes.InterfaceRegistryOptions{
		ProtoFiles: proto.HybridResolver,
		SigningOptions: signing.Options{
			AddressCodec:          address.Bech32Codec{Bech32Prefix: config.AccountAddressPrefix},
			ValidatorAddressCodec: address.Bech32Codec{Bech32Prefix: config.AccountAddressPrefix + sdk.PrefixValidator + sdk.PrefixOperator},
		},
	})
	if err != nil {
		return Encoding{}, fmt.Errorf("interface registry: %w", err)
	}
	std.RegisterInterfaces(ir)
	authtypes.RegisterInterfaces(ir)
	banktypes.RegisterInterfaces(ir)
	authz.RegisterInterfaces(ir)
	providertypes.RegisterInterfaces(ir)
	markettypes.RegisterInterfaces(ir)
	escrowtypes.RegisterInterfaces(ir)
	attesttypes.RegisterInterfaces(ir)
	cdc := codec.NewProtoCodec(ir)
	return Encoding{
		InterfaceRegistry: ir,
		Codec:             cdc,
		TxConfig:          authtx.NewTxConfig(cdc, authtx.DefaultSignModes),
	}, nil
}

// ensureBech32Prefix makes sdk.AccAddress print and parse "cru" addresses.
// When the process also runs the chain (tests), the app has already set and
// sealed the same prefixes; otherwise the sidecar sets them, unsealed.
func ensureBech32Prefix() error {
	cfg := sdk.GetConfig()
	if cfg.GetBech32AccountAddrPrefix() == config.AccountAddressPrefix {
		return nil
	}
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("sdk config is sealed with account prefix %q, want %q", cfg.GetBech32AccountAddrPrefix(), config.AccountAddressPrefix)
			}
		}()
		p := config.AccountAddressPrefix
		cfg.SetBech32PrefixForAccount(p, p+sdk.PrefixPublic)
		cfg.SetBech32PrefixForValidator(p+sdk.PrefixValidator+sdk.PrefixOperator, p+sdk.PrefixValidator+sdk.PrefixOperator+sdk.PrefixPublic)
		cfg.SetBech32PrefixForConsensusNode(p+sdk.PrefixValidator+sdk.PrefixConsensus, p+sdk.PrefixValidator+sdk.PrefixConsensus+sdk.PrefixPublic)
	}()
	return err
}

// codecFor is the gRPC codec that (un)marshals gogoproto and protov2 messages
// alike, as the node's own gRPC server does.
func codecFor(enc Encoding) encoding.Codec {
	return enc.Codec.(*codec.ProtoCodec).GRPCCodec()
}
