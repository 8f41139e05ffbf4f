package module

import (
	"fmt"

	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/cosmos/cosmos-sdk/version"

	"github.com/crucible-network/crucible/x/escrow/types"
)

// AutoCLIOptions implements autocli.HasAutoCLIConfig: a query command per
// Query RPC and a tx command per Msg RPC.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod: "Params",
					Use:       "params",
					Short:     "Query the escrow module parameters",
				},
				{
					RpcMethod:      "Account",
					Use:            "account <id>",
					Short:          "Query one escrow account by id (the order/lease id)",
					Example:        fmt.Sprintf("%s query escrow account 7", version.AppName),
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}},
				},
				{
					RpcMethod: "Accounts",
					Use:       "accounts",
					Short:     "List escrow accounts, optionally filtered by --owner, --provider and --state",
					Example: fmt.Sprintf("%s query escrow accounts --owner cru1... --state ACCOUNT_STATE_ACTIVE --limit 50",
						version.AppName),
				},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: types.Msg_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod: "Deposit",
					Use:       "deposit <id> <amount>",
					Short:     "Top up an open escrow account (anyone may deposit)",
					Example:   fmt.Sprintf("%s tx escrow deposit 7 1000000ucru --from tenant", version.AppName),
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "id"}, {ProtoField: "amount"},
					},
				},
				{
					RpcMethod:      "Withdraw",
					Use:            "withdraw <id>",
					Short:          "Withdraw the provider's settled earnings from an escrow account",
					Example:        fmt.Sprintf("%s tx escrow withdraw 7 --from provider", version.AppName),
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}},
				},
				{
					RpcMethod:      "UpdateParams",
					Use:            "update-params-proposal <params>",
					Short:          "Submit a governance proposal to update the escrow params (all params must be given)",
					Example:        fmt.Sprintf(`%s tx escrow update-params-proposal '{"take_rate_bps":200,"max_settlements_per_block":200}'`, version.AppName),
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "params"}},
					GovProposal:    true,
				},
			},
		},
	}
}
