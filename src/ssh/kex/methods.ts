/**
 * The key-exchange methods this library implements, by their SSH names (RFC 4250 §4.10 and the
 * IANA registry), and the order a client offers them in.
 */
import type { KexMethod } from "./kex.js";
import { CURVE25519_SHA256, CURVE25519_SHA256_LIBSSH } from "./curve25519.js";
import { ECDH_SHA2_NISTP256, ECDH_SHA2_NISTP384, ECDH_SHA2_NISTP521 } from "./ecdh.js";
import {
  DH_GROUP14_SHA1,
  DH_GROUP14_SHA256,
  DH_GROUP16_SHA512,
  DH_GROUP18_SHA512,
  DH_GROUP1_SHA1,
} from "./dh-groups.js";
import { DH_GEX_SHA256 } from "./dh-gex.js";
import { MLKEM768X25519_SHA256 } from "./mlkem768x25519.js";

const ALL: readonly KexMethod[] = [
  MLKEM768X25519_SHA256,
  CURVE25519_SHA256,
  CURVE25519_SHA256_LIBSSH,
  ECDH_SHA2_NISTP256,
  ECDH_SHA2_NISTP384,
  ECDH_SHA2_NISTP521,
  DH_GEX_SHA256,
  DH_GROUP16_SHA512,
  DH_GROUP18_SHA512,
  DH_GROUP14_SHA256,
  DH_GROUP14_SHA1,
  DH_GROUP1_SHA1,
];

/** Every implemented method by name, legacy ones included. */
export const KEX_METHODS: Readonly<Record<string, KexMethod>> = Object.freeze(
  Object.fromEntries(ALL.map((m) => [m.name, m])),
);

/**
 * Offered by default, in OpenSSH 10's client order minus sntrup761x25519-sha512 (and its
 * @openssh.com alias), which is not implemented: post-quantum hybrid first, then X25519, the
 * NIST curves, and finite-field DH last because it is slowest.
 */
export const DEFAULT_KEX: readonly string[] = Object.freeze([
  "mlkem768x25519-sha256",
  "curve25519-sha256",
  "curve25519-sha256@libssh.org",
  "ecdh-sha2-nistp256",
  "ecdh-sha2-nistp384",
  "ecdh-sha2-nistp521",
  "diffie-hellman-group-exchange-sha256",
  "diffie-hellman-group16-sha512",
  "diffie-hellman-group18-sha512",
  "diffie-hellman-group14-sha256",
]);

/**
 * Implemented for old servers but never offered unless a caller asks: SHA-1 exchange hashes and
 * the 1024-bit group 1 (RFC 9142 §4).
 */
export const LEGACY_KEX: readonly string[] = Object.freeze([
  "diffie-hellman-group14-sha1",
  "diffie-hellman-group1-sha1",
]);
