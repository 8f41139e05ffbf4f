package module

import (
	"fmt"

	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/cosmos/cosmos-sdk/version"

	"github.com/crucible-network/crucible/x/attest/types"
)

// AutoCLIOptions implements autocli.HasAutoCLIConfig: one command per RPC.
// Commit and reveal are normally sent by the sidecar; the commands exist for
// debugging and demos (bytes fields take base64 or hex).
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/attest parameters"},
				{
					RpcMethod:      "Challenge",
					Use:            "challenge <id>",
					Short:          "Show one proof-of-compute challenge",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}},
				},
				{
					RpcMethod: "Challenges",
					Use:       "challenges",
					Short:     "List challenges (paginated), optionally of one provider (--provider) and/or in one state (--state)",
					Example: fmt.Sprintf("%s query attest challenges --provider cru1... --state CHALLENGE_STATE_PENDING_COMMIT",
						version.AppName),
				},
				{
					RpcMethod:      "Record",
					Use:            "record <provider>",
					Short:          "Show a provider's challenge record (passes, misses, frauds, score)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "provider"}},
				},
				{RpcMethod: "Records", Use: "records", Short: "List all providers' challenge records (paginated)"},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: types.Msg_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod:      "CommitProof",
					Use:            "commit-proof <challenge-id> <root>",
					Short:          "Commit the 32-byte instance root of a pending challenge (normally sent by the sidecar)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "challenge_id"}, {ProtoField: "root"}},
				},
				{
					RpcMethod:      "RevealProof",
					Use:            "reveal-proof <challenge-id> <reveal>",
					Short:          "Reveal the sampled openings of a committed challenge (normally sent by the sidecar)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "challenge_id"}, {ProtoField: "reveal"}},
				},
				{
					RpcMethod:      "UpdateParams",
					Use:            "update-params-proposal <params>",
					Short:          "Submit a governance proposal to update the x/attest params (all params must be given)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "params"}},
					GovProposal:    true,
				},
			},
		},
	}
}
