// The tenant's steps as one call each: create an order, wait for bids, accept one (the lease),
// top up the escrow, close. Every call signs with the client's signer (direct or amino: both work).
import type { Coin } from "@cosmjs/amino";
import { Event, QueryClient, SigningStargateClient, StdFee, DeliverTxResponse } from "@cosmjs/stargate";

import { BidState, OrderSpec, Bid } from "./generated/crucible/market/v1/market";
import { CrucibleExtension } from "./queries";

export const typeUrls = {
  createOrder: "/crucible.market.v1.MsgCreateOrder",
  cancelOrder: "/crucible.market.v1.MsgCancelOrder",
  createLease: "/crucible.market.v1.MsgCreateLease",
  closeLease: "/crucible.market.v1.MsgCloseLease",
  deposit: "/crucible.escrow.v1.MsgDeposit",
} as const;

/** The localnets accept zero-fee transactions; production nodes want 0.001ucru per gas unit. */
export const defaultFee: StdFee = { amount: [], gas: "600000" };

export interface OrderRequest {
  spec: OrderSpec;
  maxPricePerBlock: Coin;
  durationBlocks: bigint | number;
  deposit: Coin;
}

/** eventAttr returns the value of attribute key of the first event of type typ, JSON quotes removed. */
export function eventAttr(events: readonly Event[], typ: string, key: string): string | undefined {
  for (const e of events) {
    if (e.type !== typ) continue;
    for (const a of e.attributes) if (a.key === key) return a.value.replace(/^"|"$/g, "");
  }
  return undefined;
}

function mustSucceed(res: DeliverTxResponse, what: string): DeliverTxResponse {
  if (res.code !== 0) throw new Error(`${what}: code ${res.code}: ${res.rawLog ?? ""}`);
  return res;
}

/** createOrder posts an order and returns its id. */
export async function createOrder(
  client: SigningStargateClient,
  tenant: string,
  order: OrderRequest,
  fee: StdFee = defaultFee,
): Promise<bigint> {
  const res = mustSucceed(
    await client.signAndBroadcast(
      tenant,
      [{ typeUrl: typeUrls.createOrder, value: { tenant, ...order, durationBlocks: BigInt(order.durationBlocks) } }],
      fee,
    ),
    "create order",
  );
  const id = eventAttr(res.events, "crucible.market.v1.EventOrderCreated", "order_id");
  if (id === undefined) throw new Error("create order: no EventOrderCreated");
  return BigInt(id);
}

/** waitForBids polls until the order has at least `min` open bids (or the timeout), cheapest first. */
export async function waitForBids(
  query: QueryClient & CrucibleExtension,
  orderId: bigint,
  opts: { min?: number; timeoutMs?: number; pollMs?: number } = {},
): Promise<Bid[]> {
  const { min = 1, timeoutMs = 60_000, pollMs = 500 } = opts;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { bids = [] } = await query.crucible.market.Bids({ orderId, state: BidState.BID_STATE_OPEN });
    if (bids.length >= min) {
      return [...bids].sort((a, b) => (BigInt(a.price?.amount ?? 0) < BigInt(b.price?.amount ?? 0) ? -1 : 1));
    }
    if (Date.now() > deadline) throw new Error(`order ${orderId}: ${bids.length} open bid(s) after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** acceptBid creates the lease from a bid and returns the lease id (equal to the order id). */
export async function acceptBid(
  client: SigningStargateClient,
  tenant: string,
  bidId: bigint,
  fee: StdFee = defaultFee,
): Promise<bigint> {
  const res = mustSucceed(
    await client.signAndBroadcast(tenant, [{ typeUrl: typeUrls.createLease, value: { tenant, bidId } }], fee),
    "create lease",
  );
  const id = eventAttr(res.events, "crucible.market.v1.EventLeaseCreated", "lease_id");
  if (id === undefined) throw new Error("create lease: no EventLeaseCreated");
  return BigInt(id);
}

/** deposit tops up escrow account `id` (anyone may). */
export async function deposit(
  client: SigningStargateClient,
  depositor: string,
  id: bigint,
  amount: Coin,
  fee: StdFee = defaultFee,
): Promise<DeliverTxResponse> {
  return mustSucceed(
    await client.signAndBroadcast(depositor, [{ typeUrl: typeUrls.deposit, value: { depositor, id, amount } }], fee),
    "deposit",
  );
}

/** closeLease closes a lease: the provider is paid to this block and the rest is refunded. */
export async function closeLease(
  client: SigningStargateClient,
  sender: string,
  leaseId: bigint,
  fee: StdFee = defaultFee,
): Promise<DeliverTxResponse> {
  return mustSucceed(
    await client.signAndBroadcast(sender, [{ typeUrl: typeUrls.closeLease, value: { sender, leaseId } }], fee),
    "close lease",
  );
}
