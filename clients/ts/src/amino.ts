// Amino converters for every Crucible message, driven by the amino-JSON schema generated from
// the .proto files (src/generated/registry.ts). They follow the rules of the chain's
// SIGN_MODE_LEGACY_AMINO_JSON encoder (cosmossdk.io/x/tx aminojson):
//   - proto field names; 64-bit integers as decimal strings; 32-bit integers and enums as
//     numbers; bytes as base64;
//   - a field at its default value (0, "", false, empty list, unset message) is left out,
//     unless it is marked (amino.dont_omitempty): then it is written; an empty list marked
//     (amino.encoding) = "null_slice_as_empty" is written as [] (every Crucible list that
//     is never omitted is marked so), an unset message as its own amino JSON.
// So a converter accepts a message whose empty lists are [] or absent, and always signs [].
import type { AminoConverters } from "@cosmjs/stargate";
import { fromBase64, toBase64 } from "@cosmjs/encoding";

import { aminoSchema, AminoField, crucibleMsgTypes } from "./generated/registry";

type Obj = Record<string, unknown>;

function isDefault(f: AminoField, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  switch (f.kind) {
    case "string":
      return v === "";
    case "bool":
      return v === false;
    case "bytes":
      return (v as Uint8Array).length === 0;
    default:
      return BigInt(v as bigint | number | string) === 0n;
  }
}

function scalarToAmino(f: AminoField, v: unknown): unknown {
  switch (f.kind) {
    case "string":
      return v ?? "";
    case "bool":
      return v ?? false;
    case "bytes":
      return toBase64((v as Uint8Array | undefined) ?? new Uint8Array());
    case "int64":
    case "uint64":
      return BigInt((v as bigint | number | string | undefined) ?? 0).toString();
    default:
      return Number(v ?? 0);
  }
}

function scalarFromAmino(f: AminoField, v: unknown): unknown {
  switch (f.kind) {
    case "bytes":
      return fromBase64(v as string);
    case "int64":
    case "uint64":
      return BigInt(v as string);
    case "int32":
    case "uint32":
    case "enum":
      return Number(v);
    default:
      return v;
  }
}

/** messageToAmino turns a ts-proto value of the message type `name` into its amino JSON. */
export function messageToAmino(name: string, value: Obj | undefined): Obj {
  const schema = aminoSchema[name];
  if (!schema) throw new Error(`no amino schema for ${name}`);
  const out: Obj = {};
  for (const f of schema.fields) {
    const v = value?.[f.prop];
    if (f.repeated) {
      const list = (v as unknown[] | undefined) ?? [];
      if (list.length === 0) {
        if (f.dontOmitEmpty) out[f.name] = f.encoding === "null_slice_as_empty" ? [] : null;
        continue;
      }
      out[f.name] = list.map((e) => (f.kind === "message" ? messageToAmino(f.message!, e as Obj) : scalarToAmino(f, e)));
    } else if (f.kind === "message") {
      if (v === undefined || v === null) {
        if (f.dontOmitEmpty) out[f.name] = messageToAmino(f.message!, undefined);
        continue;
      }
      out[f.name] = messageToAmino(f.message!, v as Obj);
    } else {
      if (isDefault(f, v) && !f.dontOmitEmpty) continue;
      out[f.name] = scalarToAmino(f, v);
    }
  }
  return out;
}

/** messageFromAmino is the inverse of messageToAmino. */
export function messageFromAmino(name: string, value: Obj | undefined): Obj {
  const schema = aminoSchema[name];
  if (!schema) throw new Error(`no amino schema for ${name}`);
  const out: Obj = {};
  for (const f of schema.fields) {
    const v = value?.[f.name];
    if (f.repeated) {
      out[f.prop] = ((v as unknown[] | null | undefined) ?? []).map((e) =>
        f.kind === "message" ? messageFromAmino(f.message!, e as Obj) : scalarFromAmino(f, e),
      );
    } else if (v === undefined || v === null) {
      continue; // fromPartial fills the default
    } else if (f.kind === "message") {
      out[f.prop] = messageFromAmino(f.message!, v as Obj);
    } else {
      out[f.prop] = scalarFromAmino(f, v);
    }
  }
  return out;
}

/** createCrucibleAminoConverters returns the amino converters of every Crucible message. */
export function createCrucibleAminoConverters(): AminoConverters {
  const converters: AminoConverters = {};
  for (const { typeUrl, aminoName } of crucibleMsgTypes) {
    const name = typeUrl.slice(1);
    converters[typeUrl] = {
      aminoType: aminoName,
      toAmino: (value: Obj) => messageToAmino(name, value),
      fromAmino: (value: Obj) => messageFromAmino(name, value),
    };
  }
  return converters;
}
