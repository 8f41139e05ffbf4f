package app

import (
	"encoding/json"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/x/bank"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
)

// DisplayExponent is the decimal exponent of DisplayDenom: 1 cru = 10^6 ucru.
const DisplayExponent = 6

// CRUMetadata is the bank denom metadata of the staking and fee token, in the
// default (and so every localnet's) genesis, so that wallets and explorers
// show ucru amounts as CRU with 6 decimals (/cosmos/bank/v1beta1/denoms_metadata).
func CRUMetadata() banktypes.Metadata {
	return banktypes.Metadata{
		Description: "The staking and fee token of the Crucible network.",
		DenomUnits: []*banktypes.DenomUnit{
			{Denom: BondDenom, Exponent: 0, Aliases: []string{"microcru"}},
			{Denom: DisplayDenom, Exponent: DisplayExponent},
		},
		Base:    BondDenom,
		Display: DisplayDenom,
		Name:    "Crucible",
		Symbol:  "CRU",
	}
}

// bankBasic is x/bank with ucru's metadata in its default genesis (the one
// `crucibled init` and `crucibled testnet init-files` write).
type bankBasic struct{ bank.AppModule }

func (b bankBasic) DefaultGenesis(cdc codec.JSONCodec) json.RawMessage {
	gs := banktypes.DefaultGenesisState()
	gs.DenomMetadata = []banktypes.Metadata{CRUMetadata()}
	return cdc.MustMarshalJSON(gs)
}
