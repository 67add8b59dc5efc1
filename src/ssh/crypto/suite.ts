/**
 * Which backend computes each primitive, per `crypto` option:
 *
 * - "pure": noble for everything.
 * - "native": node:crypto for everything; a primitive the runtime lacks or computes wrongly is a
 *   typed error when a negotiated algorithm needs it. Poly1305 counts as node:crypto's when its
 *   RFC 8439 AEAD is there to build it from (poly1305-from-aead.ts).
 * - "auto": per primitive, node:crypto, else WebCrypto (AES only), else noble.
 *
 * A backend serves a primitive only after its known-answer check (known-answers.ts) passed on
 * this runtime. The checks run once per process: their answers are a fact about the runtime,
 * not connection state.
 *
 * One measured exception: Deno's node:crypto AES-GCM is a slow path (126-145 MB/s per CPU
 * second for 32 KiB packets, against 140-250 for Deno's WebCrypto in the same run; Node and
 * Bun do 400+ natively), so "auto" on Deno takes WebCrypto for AES-GCM when it passes.
 */
import { SshError } from "../../errors.js";
import { nativeChacha20, nativeChachaPolyAad, nativeCtr, nativeGcm, nativeHmac, nativeMd5, nativeRuntime } from "../../platform/native-crypto.js";
import type { CryptoBackend } from "./cipher.js";
import { checkChacha20, checkCtr, checkGcm, checkHmac, checkMd5, checkChachaPolyAad, checkPoly1305 } from "./known-answers.js";
import { NOBLE_SUITE, nobleChacha20, nobleCtr, nobleGcm, nobleHmac, nobleMd5, noblePoly1305 } from "./noble-primitives.js";
import { poly1305FromAead } from "./poly1305-from-aead.js";
import type { CryptoSuite, HashName, PolyKey } from "./primitives.js";
import { hasWebCrypto, webCtr, webGcm } from "./webcrypto-aes.js";

type GcmLength = 16 | 32;
type CtrLength = 16 | 24 | 32;

/**
 * Which backends passed their known-answer checks on this runtime. WebCrypto is checked only
 * where "auto" would use it (AES whose node:crypto check failed, AES-GCM on Deno): its first
 * call costs ~20 ms, more than all the node:crypto checks together, and would delay the first
 * connection of every process for nothing.
 */
export interface CryptoSupport {
  runtime: "node" | "deno" | "bun";
  native: { gcm: Record<GcmLength, boolean>; ctr: Record<CtrLength, boolean>; chacha20: boolean; poly1305: boolean; hmac: Record<HashName, boolean>; md5: boolean };
  /** False also where WebCrypto was not needed, so not checked. */
  webcrypto: { gcm: Record<GcmLength, boolean>; ctr: Record<CtrLength, boolean> };
}

async function probe(): Promise<CryptoSupport> {
  const runtime = nativeRuntime();
  const [g16, g32, c16, c24, c32, chacha, aead, poly, h1, h256, h512, md5] = await Promise.all([
    checkGcm(nativeGcm, 16),
    checkGcm(nativeGcm, 32),
    checkCtr(nativeCtr, 16),
    checkCtr(nativeCtr, 24),
    checkCtr(nativeCtr, 32),
    checkChacha20(nativeChacha20),
    checkChachaPolyAad(nativeChachaPolyAad),
    checkPoly1305(nativePoly1305),
    checkHmac(nativeHmac, "sha1"),
    checkHmac(nativeHmac, "sha256"),
    checkHmac(nativeHmac, "sha512"),
    checkMd5(nativeMd5),
  ]);
  const web = hasWebCrypto();
  const webGcmFor = (length: GcmLength, nativeOk: boolean) =>
    web && (!nativeOk || runtime === "deno") ? checkGcm(webGcm, length) : false;
  const webCtrFor = (length: CtrLength, nativeOk: boolean) => (web && !nativeOk ? checkCtr(webCtr, length) : false);
  const [wg16, wg32, wc16, wc24, wc32] = await Promise.all([
    webGcmFor(16, g16),
    webGcmFor(32, g32),
    webCtrFor(16, c16),
    webCtrFor(24, c24),
    webCtrFor(32, c32),
  ]);
  return {
    runtime,
    native: { gcm: { 16: g16, 32: g32 }, ctr: { 16: c16, 24: c24, 32: c32 }, chacha20: chacha, poly1305: aead && poly, hmac: { sha1: h1, sha256: h256, sha512: h512 }, md5 },
    webcrypto: { gcm: { 16: wg16, 32: wg32 }, ctr: { 16: wc16, 24: wc24, 32: wc32 } },
  };
}

/** node:crypto's Poly1305: OpenSSL's, inside the RFC 8439 AEAD keyed like the one-time keys. */
function nativePoly1305(chachaKey: Uint8Array): PolyKey {
  return poly1305FromAead(nativeChachaPolyAad(chachaKey));
}

let support: Promise<CryptoSupport> | undefined;

/** The known-answer results for this runtime (checked on first use). */
export function cryptoSupport(): Promise<CryptoSupport> {
  return (support ??= probe());
}

function unavailable(what: string, runtime: string): SshError {
  return new SshError(
    "NATIVE_CRYPTO_UNAVAILABLE",
    `crypto: "native" needs ${what} from node:crypto, which this runtime (${runtime}) lacks or computes wrongly: ` +
      `use crypto: "auto" or "pure", or allow other ciphers/MACs`,
  );
}

function nativeSuite(s: CryptoSupport): CryptoSuite {
  const n = s.native;
  const need = (ok: boolean, what: string) => {
    if (!ok) throw unavailable(what, s.runtime);
  };
  return {
    gcm: (key) => (need(n.gcm[key.length as GcmLength] ?? false, `AES-${key.length * 8}-GCM`), nativeGcm(key)),
    ctr: (key, iv) => (need(n.ctr[key.length as CtrLength] ?? false, `AES-${key.length * 8}-CTR`), nativeCtr(key, iv)),
    chacha20: (key) => (need(n.chacha20, "ChaCha20"), nativeChacha20(key)),
    poly1305: (key) => (need(n.poly1305, "Poly1305 (through chacha20-poly1305)"), nativePoly1305(key)),
    hmac: (hash, key) => (need(n.hmac[hash], `HMAC-${hash.toUpperCase()}`), nativeHmac(hash, key)),
  };
}

function autoSuite(s: CryptoSupport): CryptoSuite {
  const { native: n, webcrypto: w } = s;
  return {
    gcm(key) {
      const length = key.length as GcmLength;
      if (n.gcm[length] && !(s.runtime === "deno" && w.gcm[length])) return nativeGcm(key);
      return w.gcm[length] ? webGcm(key) : nobleGcm(key);
    },
    ctr(key, iv) {
      const length = key.length as CtrLength;
      if (n.ctr[length]) return nativeCtr(key, iv);
      return w.ctr[length] ? webCtr(key, iv) : nobleCtr(key, iv);
    },
    chacha20: (key) => (n.chacha20 ? nativeChacha20(key) : nobleChacha20(key)),
    poly1305: (key) => (n.poly1305 ? nativePoly1305(key) : noblePoly1305(key)),
    hmac: (hash, key) => (n.hmac[hash] ? nativeHmac(hash, key) : nobleHmac(hash, key)),
  };
}

/** The primitives a connection with this `crypto` option uses. */
export async function cryptoSuite(mode: CryptoBackend): Promise<CryptoSuite> {
  if (mode === "pure") return NOBLE_SUITE;
  const s = await cryptoSupport();
  return mode === "native" ? nativeSuite(s) : autoSuite(s);
}

/**
 * True when AES-GCM runs on a fast node:crypto (Node's OpenSSL, Bun's BoringSSL; not Deno's): 400+ MB per CPU
 * second for 32 KiB packets, ahead of ChaCha20-Poly1305 wherever Poly1305 is noble's (Bun, short
 * packets) and not behind it elsewhere. Then the client offers the AES-GCMs first.
 */
export async function fastAesGcm(mode: CryptoBackend): Promise<boolean> {
  if (mode === "pure") return false;
  const s = await cryptoSupport();
  return s.runtime !== "deno" && s.native.gcm[16] && s.native.gcm[32];
}

/**
 * MD5 for ftrack.server uploads (accessor/server-upload.ts), by the same rule as the SSH
 * primitives: node:crypto's when it passed RFC 1321's test suite (about ten times noble's speed),
 * else noble's; "pure" always noble; "native" a typed error where the runtime has none.
 */
export async function md5Function(mode: CryptoBackend): Promise<(data: Uint8Array) => Uint8Array> {
  if (mode === "pure") return nobleMd5;
  const s = await cryptoSupport();
  if (s.native.md5) return nativeMd5;
  if (mode === "native") throw unavailable("MD5", s.runtime);
  return nobleMd5;
}
