package module

import (
	"fmt"

	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/cosmos/cosmos-sdk/version"

	"github.com/crucible-network/crucible/x/provider/types"
)

// AutoCLIOptions implements autocli.HasAutoCLIConfig: one command per RPC.
// Providers and Provider are served from the gogoproto descriptors the app
// registers (proto.HybridResolver), so no pulsar code is needed.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod: "Params",
					Use:       "params",
					Short:     "Show the x/provider parameters",
				},
				{
					RpcMethod:      "Provider",
					Use:            "provider <owner>",
					Short:          "Show one provider by owner address",
					Example:        fmt.Sprintf("%s query provider provider cru1...", version.AppName),
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "owner"}},
				},
				{
					RpcMethod: "Providers",
					Use:       "providers",
					Short:     "List providers (paginated), optionally only those in one status (--status active|jailed|unbonding)",
					Example: fmt.Sprintf("%s query provider providers --status active --page-limit 50",
						version.AppName),
				},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: types.Msg_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod: "RegisterProvider",
					Use:       "register <host-uri> <bond>",
					Short:     "Register the signer as a provider, locking the bond (at least params.min_bond)",
					Long: "Register the signer as a provider. GPUs and attributes are given as JSON flags, e.g.\n" +
						`--gpus '{"uuid":"GPU-1","model":"NVIDIA H100 80GB HBM3","class":"h100","memory_mib":81559}' ` +
						`--attributes '{"key":"interconnect","value":"nvlink"}' (repeat the flag for each entry).`,
					Example: fmt.Sprintf("%s tx provider register https://gpu1.example.com:8443 1000000000ucru --region eu-west --tier datacenter --gpus '{...}' --from owner",
						version.AppName),
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "host_uri"}, {ProtoField: "bond"}},
				},
				{
					RpcMethod: "UpdateProvider",
					Use:       "update <host-uri>",
					Short:     "Replace the signer's provider description and GPU inventory (send every field again)",
					Example: fmt.Sprintf("%s tx provider update https://gpu1.example.com:8443 --region eu-west --tier datacenter --gpus '{...}' --from owner",
						version.AppName),
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "host_uri"}},
				},
				{
					RpcMethod: "DeregisterProvider",
					Use:       "deregister",
					Short:     "Start unbonding the signer's provider (no active leases); the bond returns after params.unbonding_blocks",
				},
				{
					RpcMethod: "UnjailProvider",
					Use:       "unjail",
					Short:     "Return the signer's jailed provider to active once its jail period is over",
				},
				{
					RpcMethod:      "AddBond",
					Use:            "add-bond <amount>",
					Short:          "Add to the signer's provider bond",
					Example:        fmt.Sprintf("%s tx provider add-bond 500000000ucru --from owner", version.AppName),
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "amount"}},
				},
				{
					RpcMethod:      "UpdateParams",
					Use:            "update-params-proposal <params>",
					Short:          "Submit a governance proposal to update the x/provider params (all params must be given)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "params"}},
					GovProposal:    true,
				},
			},
		},
	}
}
