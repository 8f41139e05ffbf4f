// Signed requests to a provider sidecar's tenant API (sidecar/api/auth.go). Every request carries
//   X-Crucible-Address, X-Crucible-Pubkey (base64 33-byte key), X-Crucible-Timestamp (unix s),
//   X-Crucible-Nonce (16-64 random bytes, lowercase hex), X-Crucible-Signature (base64 r||s)
// and the signature is secp256k1 over SHA256(digest), where digest =
//   SHA256("crucible-tenant-api/v1\n" + method + "\n" + target + "\n" + ts + "\n" + nonce + "\n" + hex(SHA256(body)))
// (Cosmos keys hash once more before ECDSA, so the signed 32 bytes are SHA256(digest)).
import { makeCosmoshubPath, rawSecp256k1PubkeyToRawAddress } from "@cosmjs/amino";
import { Bip39, EnglishMnemonic, Random, Secp256k1, Secp256k1Signature, sha256, Slip10, Slip10Curve } from "@cosmjs/crypto";
import { toBase64, toBech32, toHex, toUtf8 } from "@cosmjs/encoding";

export const signDomain = "crucible-tenant-api/v1";

/** signBytes is the digest a tenant signs for a request (api.SignBytes). */
export function signBytes(method: string, target: string, timestamp: string, nonce: string, body: Uint8Array): Uint8Array {
  const text = [signDomain, method, target, timestamp, nonce, toHex(sha256(body))].join("\n");
  return sha256(toUtf8(text));
}

export interface TenantKey {
  address: string;
  /** 33-byte compressed secp256k1 public key */
  pubkey: Uint8Array;
  /** 32-byte private key */
  privkey: Uint8Array;
}

/** tenantKeyFromMnemonic derives the account key (m/44'/118'/0'/0/index, as crucibled keys) of a mnemonic. */
export async function tenantKeyFromMnemonic(mnemonic: string, index = 0, prefix = "cru"): Promise<TenantKey> {
  const seed = await Bip39.mnemonicToSeed(new EnglishMnemonic(mnemonic));
  const { privkey } = Slip10.derivePath(Slip10Curve.Secp256k1, seed, makeCosmoshubPath(index));
  const pubkey = Secp256k1.compressPubkey((await Secp256k1.makeKeypair(privkey)).pubkey);
  return { address: toBech32(prefix, rawSecp256k1PubkeyToRawAddress(pubkey)), pubkey, privkey };
}

/** signHeaders returns the five headers that sign a request to the tenant API. */
export async function signHeaders(
  key: TenantKey,
  method: string,
  target: string,
  body: Uint8Array = new Uint8Array(),
  opts: { timestamp?: number; nonce?: string } = {},
): Promise<Record<string, string>> {
  const ts = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? toHex(Random.getBytes(16));
  const digest = signBytes(method, target, ts, nonce, body);
  const sig = await Secp256k1.createSignature(sha256(digest), key.privkey);
  const fixed = new Secp256k1Signature(sig.r(32), sig.s(32)).toFixedLength();
  return {
    "X-Crucible-Address": key.address,
    "X-Crucible-Pubkey": toBase64(key.pubkey),
    "X-Crucible-Timestamp": ts,
    "X-Crucible-Nonce": nonce,
    "X-Crucible-Signature": toBase64(fixed),
  };
}

/** SidecarClient calls a provider's tenant API (the lease's host_uri) as the lease's tenant. */
export class SidecarClient {
  constructor(
    private readonly baseUrl: string,
    private readonly key: TenantKey,
  ) {}

  async request(method: string, path: string, body?: Uint8Array): Promise<Response> {
    const url = new URL(path, this.baseUrl);
    const target = url.pathname + url.search;
    const headers = await signHeaders(this.key, method, target, body ?? new Uint8Array());
    return fetch(url, { method, headers, body });
  }

  /** status: GET /v1/leases/{id} */
  async status(leaseId: bigint | number): Promise<unknown> {
    return json(await this.request("GET", `/v1/leases/${leaseId}`));
  }

  /** submitManifest: POST /v1/leases/{id}/manifest with the manifest's exact bytes */
  async submitManifest(leaseId: bigint | number, manifest: Uint8Array): Promise<unknown> {
    return json(await this.request("POST", `/v1/leases/${leaseId}/manifest`, manifest));
  }

  /** logs: GET /v1/leases/{id}/logs (what exists so far) */
  async logs(leaseId: bigint | number): Promise<string> {
    const res = await this.request("GET", `/v1/leases/${leaseId}/logs`);
    if (!res.ok) throw new Error(`logs: ${res.status} ${await res.text()}`);
    return res.text();
  }

  /** results: GET /v1/leases/{id}/results */
  async results(leaseId: bigint | number): Promise<unknown> {
    return json(await this.request("GET", `/v1/leases/${leaseId}/results`));
  }
}

async function json(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${res.status}: ${text}`);
  return JSON.parse(text);
}
