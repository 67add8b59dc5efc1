/**
 * The server's host keys: loaded from PrivateKey objects or key file text/bytes, one per key
 * type, and the host key algorithms they can sign with (what our KEXINIT offers).
 */
import { SshError } from "../../errors.js";
import { parsePrivateKey, type PrivateKey } from "../keys/private-key.js";
import { HOST_KEY_ALGORITHMS, keyTypeForAlgorithm } from "../keys/public-key.js";

/** A host key: a parsed key, or the text or bytes of an unencrypted private key file. */
export type HostKeyInput = PrivateKey | string | Uint8Array;

export function loadHostKeys(input: HostKeyInput | readonly HostKeyInput[]): PrivateKey[] {
  const list = Array.isArray(input) ? input : [input as HostKeyInput];
  const keys = list.map((k) => (typeof k === "string" || k instanceof Uint8Array ? parsePrivateKey(k) : k));
  if (keys.length === 0) throw new SshError("INVALID_ARGUMENT", "the server needs at least one host key");
  const types = new Set<string>();
  for (const k of keys) {
    if (types.has(k.type)) throw new SshError("INVALID_ARGUMENT", `two ${k.type} host keys: give at most one key per type`);
    types.add(k.type);
  }
  return keys;
}

/** Host key algorithms in preference order, restricted to the loaded keys (rsa-sha2-* only for RSA). */
export function hostKeyAlgorithms(keys: readonly PrivateKey[]): string[] {
  const types = new Set(keys.map((k) => k.type));
  const algs = HOST_KEY_ALGORITHMS.filter((a) => types.has(keyTypeForAlgorithm(a) ?? ""));
  if (algs.length === 0) throw new SshError("UNSUPPORTED_KEY_TYPE", `no usable host key among: ${[...types].join(", ")}`);
  return algs;
}
