// @crucible/client: a TypeScript client for the Crucible chain, in the shape of CosmJS's own modules.
export * from "./amino";
export * from "./registry";
export * from "./queries";
export * from "./tenant";
export * from "./sidecar";
export { aminoSchema, crucibleMsgTypes } from "./generated/registry";
export * as market from "./generated/crucible/market/v1/market";
export * as provider from "./generated/crucible/provider/v1/provider";
export * as escrow from "./generated/crucible/escrow/v1/escrow";
export * as attest from "./generated/crucible/attest/v1/attest";
