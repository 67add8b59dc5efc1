/**
 * Registries of the packet ciphers and MACs this library implements, by their SSH names
 * (RFC 4253 §6.3, §6.4 and OpenSSH's @openssh.com extensions), and the default preference
 * lists offered in KEXINIT (RFC 4253 §7.1: most preferred first).
 */
import { AES128_CTR, AES192_CTR, AES256_CTR } from "./aes-ctr.js";
import { AES128_GCM, AES256_GCM } from "./aes-gcm.js";
import { CHACHA20_POLY1305 } from "./chacha20-poly1305.js";
import type { CipherAlgorithm, CryptoBackend, MacAlgorithm } from "./cipher.js";
import {
  HMAC_SHA1,
  HMAC_SHA1_ETM,
  HMAC_SHA2_256,
  HMAC_SHA2_256_ETM,
  HMAC_SHA2_512,
  HMAC_SHA2_512_ETM,
} from "./mac.js";
import { fastAesGcm } from "./suite.js";

export { LEGACY_MACS } from "./mac.js";

const byName = <T extends { name: string }>(...items: T[]): Record<string, T> =>
  Object.fromEntries(items.map((item) => [item.name, item]));

/** Every supported cipher, keyed by its SSH name. */
export const CIPHERS: Readonly<Record<string, CipherAlgorithm>> = Object.freeze(
  byName(CHACHA20_POLY1305, AES128_CTR, AES192_CTR, AES256_CTR, AES128_GCM, AES256_GCM),
);

/** Every supported MAC, keyed by its SSH name, including the legacy SHA-1 ones. */
export const MACS: Readonly<Record<string, MacAlgorithm>> = Object.freeze(
  byName(HMAC_SHA2_256_ETM, HMAC_SHA2_512_ETM, HMAC_SHA2_256, HMAC_SHA2_512, HMAC_SHA1_ETM, HMAC_SHA1),
);

/**
 * OpenSSH 9.x's client cipher order (myproposal.h KEX_CLIENT_ENCRYPT). OpenSSH 10.0 moved
 * AES-GCM ahead of AES-CTR; either order only matters when chacha20 is not shared.
 */
export const DEFAULT_CIPHERS: readonly string[] = Object.freeze([
  "chacha20-poly1305@openssh.com",
  "aes128-ctr",
  "aes192-ctr",
  "aes256-ctr",
  "aes128-gcm@openssh.com",
  "aes256-gcm@openssh.com",
]);

/**
 * The client's default order when AES-GCM runs on a fast node:crypto (suite.ts fastAesGcm):
 * AES-GCM is then several times faster than chacha20-poly1305, whose Poly1305 stays on noble.
 * The same algorithms as DEFAULT_CIPHERS, so what can be negotiated does not change.
 */
export const AES_GCM_FIRST_CIPHERS: readonly string[] = Object.freeze([
  "aes128-gcm@openssh.com",
  "aes256-gcm@openssh.com",
  "chacha20-poly1305@openssh.com",
  "aes128-ctr",
  "aes192-ctr",
  "aes256-ctr",
]);

/** The client's default cipher order for a `crypto` option on this runtime. */
export async function defaultCiphers(backend: CryptoBackend): Promise<readonly string[]> {
  return (await fastAesGcm(backend)) ? AES_GCM_FIRST_CIPHERS : DEFAULT_CIPHERS;
}

/**
 * OpenSSH's KEX_CLIENT_MAC order without the umac-* entries (not implemented) and without
 * hmac-sha1 (LEGACY_MACS; offered only when the caller lists it).
 */
export const DEFAULT_MACS: readonly string[] = Object.freeze([
  "hmac-sha2-256-etm@openssh.com",
  "hmac-sha2-512-etm@openssh.com",
  "hmac-sha2-256",
  "hmac-sha2-512",
]);
