// The CosmJS registry and amino types for Crucible: the SDK's defaults plus every Crucible message.
import { GeneratedType, Registry } from "@cosmjs/proto-signing";
import { AminoTypes, createDefaultAminoConverters, defaultRegistryTypes } from "@cosmjs/stargate";

import { createCrucibleAminoConverters } from "./amino";
import { crucibleMsgTypes } from "./generated/registry";

/** Registry entries of every Crucible message (type URL, ts-proto type). */
export const crucibleRegistryTypes: ReadonlyArray<[string, GeneratedType]> = crucibleMsgTypes.map((m) => [m.typeUrl, m.type]);

/** A registry with the SDK's default messages and every Crucible message. */
export function createCrucibleRegistry(): Registry {
  return new Registry([...defaultRegistryTypes, ...crucibleRegistryTypes]);
}

/** Amino types with the SDK's default converters and every Crucible message's. */
export function createCrucibleAminoTypes(): AminoTypes {
  return new AminoTypes({ ...createDefaultAminoConverters(), ...createCrucibleAminoConverters() });
}
