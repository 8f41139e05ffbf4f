package types_test

import (
	"testing"

	gogoproto "github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
	"github.com/cosmos/cosmos-sdk/x/tx/signing"

	_ "github.com/crucible-network/crucible/x/escrow/types" // registers the generated files
)

// TestProtoAnnotations checks what the SDK checks when the app starts: the
// generated files merge into one registry without conflicts, the Msg service is
// marked (cosmos.msg.v1.service), and every Msg names a valid signer field.
func TestProtoAnnotations(t *testing.T) {
	files, err := gogoproto.MergedRegistry()
	require.NoError(t, err)
	_, err = files.FindFileByPath("crucible/escrow/v1/tx.proto")
	require.NoError(t, err)
	require.NoError(t, msgservice.ValidateProtoAnnotations(files))

	ctx, err := signing.NewContext(signing.Options{
		FileResolver:          files,
		AddressCodec:          addresscodec.NewBech32Codec("cru"),
		ValidatorAddressCodec: addresscodec.NewBech32Codec("cruvaloper"),
	})
	require.NoError(t, err)
	require.NoError(t, ctx.Validate())
}
