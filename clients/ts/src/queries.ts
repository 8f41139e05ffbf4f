// Typed query extensions for Crucible's four modules, in the shape of CosmJS's own
// (stargate/src/modules/bank/queries.ts): QueryClient.withExtensions(client, setupCrucibleExtension).
import { createProtobufRpcClient, QueryClient } from "@cosmjs/stargate";

import { QueryClientImpl as AttestQuery } from "./generated/crucible/attest/v1/query";
import { QueryClientImpl as EscrowQuery } from "./generated/crucible/escrow/v1/query";
import { QueryClientImpl as MarketQuery } from "./generated/crucible/market/v1/query";
import { QueryClientImpl as ProviderQuery } from "./generated/crucible/provider/v1/query";

/**
 * The four modules' generated query clients: every RPC of crucible.{market,provider,escrow,attest}.v1.Query,
 * typed from the .proto files (requests take plain objects; enum filters are the generated enums).
 */
export interface CrucibleExtension {
  readonly crucible: {
    readonly market: MarketQuery;
    readonly provider: ProviderQuery;
    readonly escrow: EscrowQuery;
    readonly attest: AttestQuery;
  };
}

export function setupCrucibleExtension(base: QueryClient): CrucibleExtension {
  const rpc = createProtobufRpcClient(base);
  return {
    crucible: {
      market: new MarketQuery(rpc),
      provider: new ProviderQuery(rpc),
      escrow: new EscrowQuery(rpc),
      attest: new AttestQuery(rpc),
    },
  };
}
