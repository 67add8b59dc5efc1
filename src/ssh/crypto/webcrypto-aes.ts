/**
 * Platform AES through WebCrypto (Node, Deno, Bun and browsers all have it), with the key
 * imported once per direction. noble's webcrypto wrappers import the raw key on every call,
 * which costs more than encrypting a 32 KiB packet. Asynchronous: each call is a promise (in
 * Node, ~75 µs of main thread per call), so node:crypto comes first where it works.
 */
import type { CtrStream, GcmKey } from "./primitives.js";
import { ctrCounter, nobleCtrAt } from "./noble-primitives.js";

const WEB = "webcrypto" as const;
const BLOCK = 16;

/** Whether a WebCrypto implementation is present. */
export function hasWebCrypto(): boolean {
  return typeof globalThis.crypto?.subtle?.encrypt === "function";
}

type Mode = "AES-GCM" | "AES-CTR";
// WebCrypto's typings want ArrayBuffer-backed views; ours always are, so one cast suffices.
type Web = AesGcmParams | AesCtrParams;
type Data = Uint8Array<ArrayBuffer>;

/** One imported key; `run` encrypts or decrypts with per-call parameters. */
function importKey(mode: Mode, rawKey: Uint8Array) {
  const raw = rawKey.slice();
  const key = crypto.subtle.importKey("raw", raw, { name: mode }, false, ["encrypt", "decrypt"]);
  // The CryptoKey (non-extractable) holds the key from now on; our copy is wiped once imported,
  // and the key is then used directly: one promise hop less per packet.
  let ready: CryptoKey | undefined;
  key.then((k) => ((ready = k), raw.fill(0)), () => raw.fill(0));
  return {
    async encrypt(params: Web, data: Uint8Array): Promise<Uint8Array> {
      return new Uint8Array(await crypto.subtle.encrypt(params, ready ?? (await key), data as Data));
    },
    async decrypt(params: Web, data: Uint8Array): Promise<Uint8Array> {
      return new Uint8Array(await crypto.subtle.decrypt(params, ready ?? (await key), data as Data));
    },
  };
}

export function webGcm(rawKey: Uint8Array): GcmKey {
  const web = importKey("AES-GCM", rawKey);
  const params = (nonce: Uint8Array, aad: Uint8Array) =>
    ({ name: "AES-GCM", iv: nonce as Data, additionalData: aad as Data, tagLength: 128 }) as const;
  return {
    implementation: WEB,
    // No copy: the caller leaves `plain` alone until the ciphertext comes back.
    seal: (nonce, aad, plain, into) => web.encrypt(params(nonce, aad), plain).then((sealed) => into.set(sealed)),
    open: (nonce, aad, sealed) => web.decrypt(params(nonce, aad), sealed),
  };
}

/**
 * WebCrypto AES-CTR with the whole 128-bit block as the counter (`length: 128`), so it wraps
 * as RFC 4344 §4 expects. The synchronous path (the encrypted packet_length) is noble's, at
 * the same counter.
 */
export function webCtr(rawKey: Uint8Array, iv: Uint8Array): CtrStream {
  const key = rawKey.slice();
  const web = importKey("AES-CTR", key);
  const take = ctrCounter(iv);
  return {
    implementation: WEB,
    xor: (data) => web.encrypt({ name: "AES-CTR", counter: take(data.length / BLOCK) as Data, length: 128 }, data),
    xorSync: (data) => nobleCtrAt(key, take(data.length / BLOCK), data),
  };
}
