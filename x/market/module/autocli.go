package module

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/crucible-network/crucible/x/market/types"
)

// AutoCLIOptions implements autocli.HasAutoCLIConfig: a query command for every
// Query RPC and a tx command for every Msg RPC.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the market parameters"},
				{
					RpcMethod: "Order", Use: "order <id>", Short: "Show an order",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}},
				},
				{
					RpcMethod: "Orders", Use: "orders", Short: "List orders (filters: --tenant, --state)",
					Example: "crucibled query market orders --tenant cru1... --state ORDER_STATE_OPEN",
				},
				{
					RpcMethod: "Bid", Use: "bid <id>", Short: "Show a bid",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}},
				},
				{
					RpcMethod: "Bids", Use: "bids", Short: "List bids (filters: --order-id, --provider, --state)",
					Example: "crucibled query market bids --order-id 7 --state BID_STATE_OPEN",
				},
				{
					RpcMethod: "Lease", Use: "lease <id>", Short: "Show a lease",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}},
				},
				{
					RpcMethod: "Leases", Use: "leases", Short: "List leases (filters: --tenant, --provider, --state)",
					Example: "crucibled query market leases --provider cru1... --state LEASE_STATE_ACTIVE",
				},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: types.Msg_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod: "CreateOrder",
					Use:       "create-order <max-price-per-block> <duration-blocks> <deposit> --spec <json>",
					Short:     "Create an order for GPUs; the deposit moves into the order's escrow account",
					Example: `crucibled tx market create-order 100ucru 1000 2000000ucru --from tenant ` +
						`--spec '{"gpu":{"class":"h100","count":2,"min_memory_mib":81000},"region":"eu-west","manifest_hash":"<base64 sha256>"}'`,
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "max_price_per_block"}, {ProtoField: "duration_blocks"}, {ProtoField: "deposit"},
					},
				},
				{
					RpcMethod: "CancelOrder", Use: "cancel-order <order-id>",
					Short:          "Cancel an open order; open bids are refunded and the deposit returns",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "order_id"}},
				},
				{
					RpcMethod: "CreateBid", Use: "create-bid <order-id> <price> <deposit> <gpu-uuid>...",
					Short:   "Bid on an open order with the listed GPUs",
					Example: "crucibled tx market create-bid 7 90ucru 500000ucru GPU-aaaa GPU-bbbb --from provider",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "order_id"}, {ProtoField: "price"}, {ProtoField: "deposit"},
						{ProtoField: "gpu_uuids", Varargs: true},
					},
				},
				{
					RpcMethod: "CloseBid", Use: "close-bid <bid-id>", Short: "Withdraw an open bid and get its deposit back",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "bid_id"}},
				},
				{
					RpcMethod: "CreateLease", Use: "create-lease <bid-id>", Short: "Accept a bid on your order",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "bid_id"}},
				},
				{
					RpcMethod: "CloseLease", Use: "close-lease <lease-id>", Short: "Close an active lease (tenant or provider)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "lease_id"}},
				},
				{
					RpcMethod: "SubmitResult", Use: "submit-result <lease-id> <result-hash> <location> <manifest-hash>",
					Short: "Record (or, while the lease is active, supersede) the provider's result receipt on a lease (hashes in base64)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "lease_id"}, {ProtoField: "result_hash"}, {ProtoField: "location"}, {ProtoField: "manifest_hash"},
					},
				},
				{
					RpcMethod: "UpdateParams", Use: "update-params-proposal <params>",
					Short:          "Submit a governance proposal to update the market params (all params must be given)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "params"}},
					GovProposal:    true,
				},
			},
		},
	}
}
