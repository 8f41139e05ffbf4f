// Against a real crucibled started by the Go test TestTypeScriptClient (cmd/crucibled): queries,
// a provider registered and an order created with amino-JSON signing (empty lists absent), an
// order created with direct signing, a bid, a lease, a deposit, the escrow figures, a close.
// Environment: CRUCIBLE_RPC (http://127.0.0.1:port), CRUCIBLE_API, CRUCIBLE_CHAIN_ID,
// CRUCIBLE_MNEMONICS (JSON {name: mnemonic}), CRUCIBLE_SIDECAR_VECTOR (JSON, from sidecar/api).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Secp256k1HdWallet } from "@cosmjs/amino";
import { DirectSecp256k1HdWallet, OfflineSigner } from "@cosmjs/proto-signing";
import { QueryClient, setupBankExtension, SigningStargateClient } from "@cosmjs/stargate";
import { Comet38Client } from "@cosmjs/tendermint-rpc";
import { fromHex } from "@cosmjs/encoding";
import { Secp256k1 } from "@cosmjs/crypto";

import {
  acceptBid,
  closeLease,
  createCrucibleAminoTypes,
  createCrucibleRegistry,
  createOrder,
  defaultFee,
  deposit,
  eventAttr,
  setupCrucibleExtension,
  SidecarClient,
  signHeaders,
  tenantKeyFromMnemonic,
  waitForBids,
} from "../src";
import { AccountState } from "../src/generated/crucible/escrow/v1/escrow";
import { LeaseState, OrderState } from "../src/generated/crucible/market/v1/market";
import { ProviderStatus } from "../src/generated/crucible/provider/v1/provider";

const rpc = process.env.CRUCIBLE_RPC;
const skip = rpc ? false : "CRUCIBLE_RPC not set (run through go test ./cmd/crucibled -run TestClientsAgainstALocalnet)";

test("sidecar tenant-API signature equals the Go signer's", { skip: process.env.CRUCIBLE_SIDECAR_VECTOR ? false : "no vector" }, async () => {
  const v = JSON.parse(process.env.CRUCIBLE_SIDECAR_VECTOR!);
  const privkey = fromHex(v.privkey);
  const { pubkey } = await Secp256k1.makeKeypair(privkey);
  const headers = await signHeaders(
    { address: v.address, pubkey: Secp256k1.compressPubkey(pubkey), privkey },
    v.method,
    v.target,
    new TextEncoder().encode(v.body),
    { timestamp: Number(v.timestamp), nonce: v.nonce },
  );
  assert.equal(headers["X-Crucible-Pubkey"], v.pubkey);
  assert.equal(headers["X-Crucible-Signature"], v.signature);
});

test("the sidecar's tenant API: submit a job, follow it, read its logs", { skip: process.env.CRUCIBLE_SIDECAR_URL ? false : "no sidecar" }, async () => {
  const mnemonics = JSON.parse(process.env.CRUCIBLE_MNEMONICS!);
  const url = process.env.CRUCIBLE_SIDECAR_URL!;
  const alice = new SidecarClient(url, await tenantKeyFromMnemonic(mnemonics.alice));
  const manifest = new TextEncoder().encode(process.env.CRUCIBLE_SIDECAR_MANIFEST!);
  await alice.submitManifest(1, manifest);
  let state = "";
  for (let i = 0; i < 100 && state !== "succeeded"; i++) {
    state = ((await alice.status(1)) as { state: string }).state;
    if (state === "failed") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(state, "succeeded");
  assert.match(await alice.logs(1), /hello from the typescript client/);
  // another account is not the lease's tenant
  const bob = new SidecarClient(url, await tenantKeyFromMnemonic(mnemonics.bob));
  await assert.rejects(bob.status(1), /^Error: 40[13]/);
});

test("a tenant rents a GPU through the TypeScript client", { skip }, async (t) => {
  const mnemonics = JSON.parse(process.env.CRUCIBLE_MNEMONICS!);
  const registry = createCrucibleRegistry();
  const aminoTypes = createCrucibleAminoTypes();
  // CometBFT 0.39 is not recognised by CosmJS's auto-detection: create Comet38Client explicitly.
  const comet = await Comet38Client.connect(rpc!);
  const query = QueryClient.withExtensions(comet, setupBankExtension, setupCrucibleExtension);
  const connect = (signer: OfflineSigner) => SigningStargateClient.createWithSigner(comet, signer, { registry, aminoTypes });

  const aliceDirect = await DirectSecp256k1HdWallet.fromMnemonic(mnemonics.alice, { prefix: "cru" });
  const aliceAmino = await Secp256k1HdWallet.fromMnemonic(mnemonics.alice, { prefix: "cru" });
  const bobAmino = await Secp256k1HdWallet.fromMnemonic(mnemonics.bob, { prefix: "cru" });
  const [{ address: alice }] = await aliceDirect.getAccounts();
  const [{ address: bob }] = await bobAmino.getAccounts();
  const aliceD = await connect(aliceDirect);
  const aliceA = await connect(aliceAmino);
  const bobA = await connect(bobAmino);

  await t.test("queries: the four modules' params, bank denom metadata", async () => {
    const { params: mp } = await query.crucible.market.Params({});
    assert.ok(mp);
    const { params: pp } = await query.crucible.provider.Params({});
    assert.ok(pp?.minBond);
    assert.ok((await query.crucible.escrow.Params({})).params);
    assert.ok((await query.crucible.attest.Params({})).params);
    const md = await query.bank.denomMetadata("ucru");
    assert.equal(md.display, "cru");
    assert.equal(md.denomUnits.find((u) => u.denom === "cru")?.exponent, 6);
    assert.equal(await aliceD.getChainId(), process.env.CRUCIBLE_CHAIN_ID);
  });

  await t.test("an account created after genesis (account number >= 2^63) signs with CosmJS 0.39", async () => {
    const fresh = await DirectSecp256k1HdWallet.generate(12, { prefix: "cru" });
    const [{ address: addr }] = await fresh.getAccounts();
    const sent = await aliceD.sendTokens(alice, addr, [{ denom: "ucru", amount: "1000000" }], defaultFee);
    assert.equal(sent.code, 0, sent.rawLog);
    const acct = await aliceD.getAccount(addr);
    assert.ok(acct && acct.accountNumber >= 2n ** 63n, `account number ${acct?.accountNumber}`);
    t.diagnostic(`post-genesis account number ${acct!.accountNumber}`);
    const freshClient = await connect(fresh);
    const back = await freshClient.sendTokens(addr, alice, [{ denom: "ucru", amount: "1" }], defaultFee);
    assert.equal(back.code, 0, back.rawLog);
  });

  const gpu = { uuid: "GPU-ts-0", model: "NVIDIA H100 80GB HBM3", class: "h100", memoryMib: 81559n };
  await t.test("amino-JSON: bob registers a provider (attributes absent)", async () => {
    const { params } = await query.crucible.provider.Params({});
    const res = await bobA.signAndBroadcast(
      bob,
      [
        {
          typeUrl: "/crucible.provider.v1.MsgRegisterProvider",
          value: { owner: bob, hostUri: "https://127.0.0.1:1", region: "eu-west", gpus: [gpu], bond: params!.minBond },
        },
      ],
      defaultFee,
    );
    assert.equal(res.code, 0, res.rawLog);
    const { provider } = await query.crucible.provider.Provider({ owner: bob });
    assert.equal(provider?.status, ProviderStatus.PROVIDER_STATUS_ACTIVE);
  });

  const order = {
    spec: { gpu: { class: "h100", count: 1 }, manifestHash: new Uint8Array(32).fill(7) },
    maxPricePerBlock: { denom: "ucru", amount: "100" },
    durationBlocks: 600,
    deposit: { denom: "ucru", amount: "2000000" },
  };
  let directOrder = 0n;
  let aminoOrder = 0n;
  await t.test("direct and amino-JSON orders", async () => {
    directOrder = await createOrder(aliceD, alice, order);
    aminoOrder = await createOrder(aliceA, alice, { ...order, spec: { ...order.spec, attributes: [] } });
    assert.ok(aminoOrder > directOrder);
    const { orders = [] } = await query.crucible.market.Orders({ tenant: alice, state: OrderState.ORDER_STATE_OPEN });
    const ids = orders.map((o) => o.id);
    assert.ok(ids.includes(directOrder) && ids.includes(aminoOrder), `open orders ${ids}`);
    // REST: enum filters by name
    const rest = await fetch(`${process.env.CRUCIBLE_API}/crucible/market/v1/orders?tenant=${alice}&state=ORDER_STATE_OPEN`);
    assert.equal(rest.status, 200);
    const restIds = ((await rest.json()) as { orders: { id: string }[] }).orders.map((o) => o.id);
    assert.deepEqual(restIds, ids.map(String));
  });

  await t.test("bid (amino), lease, deposit, escrow figures, close", async () => {
    const res = await bobA.signAndBroadcast(
      bob,
      [
        {
          typeUrl: "/crucible.market.v1.MsgCreateBid",
          value: { provider: bob, orderId: aminoOrder, price: { denom: "ucru", amount: "90" }, deposit: { denom: "ucru", amount: "500000" }, gpuUuids: [gpu.uuid] },
        },
      ],
      defaultFee,
    );
    assert.equal(res.code, 0, res.rawLog);
    const bids = await waitForBids(query, aminoOrder, { timeoutMs: 20_000 });
    assert.equal(bids[0].provider, bob);
    const leaseId = await acceptBid(aliceA, alice, bids[0].id!);
    const { lease } = await query.crucible.market.Lease({ id: leaseId });
    assert.equal(lease?.state, LeaseState.LEASE_STATE_ACTIVE);

    const before = (await query.crucible.escrow.Account({ id: leaseId })).account!;
    assert.equal(before.state, AccountState.ACCOUNT_STATE_ACTIVE);
    assert.equal(before.owner, alice);
    assert.equal(before.provider, bob);
    assert.equal(before.rate?.amount, "90");
    const dep = await deposit(aliceD, alice, leaseId, { denom: "ucru", amount: "1000000" });
    const after = (await query.crucible.escrow.Account({ id: leaseId })).account!;
    // balance = before + deposit - what settled in between (90 ucru per block at most)
    const blocks = BigInt(dep.height) - before.settledHeight!;
    const settled = BigInt(before.balance!.amount!) + 1_000_000n - BigInt(after.balance!.amount!);
    assert.ok(settled >= 0n && settled <= 90n * (blocks + 1n), `settled ${settled} over ${blocks} blocks`);
    t.diagnostic(`escrow ${leaseId}: balance ${before.balance!.amount} -> ${after.balance!.amount} ucru, rate 90 ucru/block`);

    const closed = await closeLease(aliceA, alice, leaseId);
    assert.ok(eventAttr(closed.events, "crucible.market.v1.EventLeaseClosed", "lease_id"));
    const { lease: l2 } = await query.crucible.market.Lease({ id: leaseId });
    assert.equal(l2?.state, LeaseState.LEASE_STATE_CLOSED);
    assert.equal((await query.crucible.escrow.Account({ id: leaseId })).account?.state, AccountState.ACCOUNT_STATE_CLOSED);
  });
  comet.disconnect();
});
