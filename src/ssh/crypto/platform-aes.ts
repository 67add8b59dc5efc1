/**
 * Platform AES through WebCrypto (Node, Deno, Bun and browsers all have it), with the key
 * imported once per direction. noble's webcrypto wrappers import the raw key on every call,
 * which costs more than encrypting a 32 KiB packet; everything else here is the same call.
 */

/** Whether a WebCrypto implementation is present. */
export function hasWebCrypto(): boolean {
  return typeof globalThis.crypto?.subtle?.encrypt === "function";
}

type Mode = "AES-GCM" | "AES-CTR";
type Params =
  | { name: "AES-GCM"; iv: Uint8Array; additionalData: Uint8Array; tagLength: number }
  | { name: "AES-CTR"; counter: Uint8Array; length: number };
// WebCrypto's typings want ArrayBuffer-backed views; ours always are, so one cast suffices.
type Web = AesGcmParams | AesCtrParams;

/** One imported key; `run` encrypts or decrypts with per-call parameters. */
export function platformAes(mode: Mode, rawKey: Uint8Array) {
  const raw = rawKey.slice();
  const key = crypto.subtle.importKey("raw", raw, { name: mode }, false, ["encrypt", "decrypt"]);
  // The CryptoKey (non-extractable) holds the key from now on; our copy is wiped once imported,
  // and the key is then used directly: one promise hop less per packet.
  let ready: CryptoKey | undefined;
  key.then((k) => ((ready = k), raw.fill(0)), () => raw.fill(0));
  return {
    async encrypt(params: Params, data: Uint8Array): Promise<Uint8Array> {
      return new Uint8Array(await crypto.subtle.encrypt(params as Web, ready ?? (await key), data as Uint8Array<ArrayBuffer>));
    },
    async decrypt(params: Params, data: Uint8Array): Promise<Uint8Array> {
      return new Uint8Array(await crypto.subtle.decrypt(params as Web, ready ?? (await key), data as Uint8Array<ArrayBuffer>));
    },
  };
}
