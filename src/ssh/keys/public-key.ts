/**
 * Public keys in the SSH wire encoding (RFC 4253 §6.6) and the OpenSSH one-line text form, with
 * signature verification for ssh-ed25519, ecdsa-sha2-nistp256/384/521 and ssh-rsa.
 *
 * Error policy: a signature blob that is not even well-formed SSH (truncated, trailing bytes)
 * throws ProtocolError — the peer broke the protocol. A well-formed blob whose signature does not
 * check out (wrong algorithm for the key, wrong length, wrong value) returns false.
 */
import { ProtocolError } from "../../errors.js";
import type { CryptoBackend } from "../crypto/cipher.js";
import { decodeBase64, encodeBase64 } from "../wire/base64.js";
import { SshReader } from "../wire/reader.js";
import { SshWriter } from "../wire/writer.js";
import { certificateKeyTypeForAlgorithm, isCertificateType, parseCertificate, type Certificate } from "./certificate.js";
import { ECDSA_TYPES, readEcdsaPublic } from "./ecdsa.js";
import { ED25519, readEd25519Public } from "./ed25519.js";
import { fingerprintSha256 } from "./fingerprint.js";
import { RSA, readRsaPublic } from "./rsa.js";

export interface PublicKey {
  /** Key type, the blob's first string, e.g. "ssh-ed25519" or "ssh-rsa". */
  readonly type: string;
  /** RFC 4253 §6.6 public key blob (what known_hosts stores, base64-encoded). */
  readonly blob: Uint8Array;
  /** `SHA256:…` as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string;
  /**
   * Checks an RFC 4253 §6.6 signature blob (string algorithm, string signature) over `data`.
   * False when `algorithm` is not valid for this key, differs from the blob's name, or the
   * signature is wrong; ProtocolError when the blob itself is malformed.
   */
  verify(algorithm: string, signature: Uint8Array, data: Uint8Array, backend?: CryptoBackend): Promise<boolean>;
  /**
   * Set when this is an OpenSSH certificate (type …-cert-v01@openssh.com; certificate.ts): its
   * fields, the certified key that verify() delegates to, and the CA. `fingerprint` is then the
   * certified key's, as ssh-keygen -l prints it.
   */
  readonly certificate?: Certificate;
}

/** What one key type module provides for its public half. */
export interface KeyVerifier {
  /** Signature algorithms usable with this key, most preferred first. */
  readonly algorithms: readonly string[];
  /** `sig` is the signature string inside the blob; false when it does not verify. */
  verify(algorithm: string, sig: Uint8Array, data: Uint8Array, backend: CryptoBackend): Promise<boolean>;
}

/** Default host key algorithm preference, OpenSSH 9's order (ssh_config(5) HostKeyAlgorithms). */
export const HOST_KEY_ALGORITHMS: readonly string[] = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
];

/** SHA-1 RSA signatures (RFC 8332 §1 deprecates them): only for old servers, on request. */
export const LEGACY_HOST_KEY_ALGORITHMS: readonly string[] = ["ssh-rsa"];

/**
 * The key type that signs with signature algorithm `alg` (RFC 8332 §3: rsa-sha2-* use ssh-rsa
 * keys; rsa-sha2-*-cert-v01@openssh.com use ssh-rsa-cert-v01@openssh.com certificates);
 * undefined for algorithms this library does not know.
 */
export function keyTypeForAlgorithm(alg: string): string | undefined {
  if (alg === "rsa-sha2-256" || alg === "rsa-sha2-512" || alg === RSA) return RSA;
  if (alg === ED25519 || ECDSA_TYPES.includes(alg)) return alg;
  return certificateKeyTypeForAlgorithm(alg);
}

class SshPublicKey implements PublicKey {
  readonly fingerprint: string;
  constructor(
    readonly type: string,
    readonly blob: Uint8Array,
    private readonly impl: KeyVerifier,
  ) {
    this.fingerprint = fingerprintSha256(blob);
  }

  async verify(algorithm: string, signature: Uint8Array, data: Uint8Array, backend: CryptoBackend = "auto"): Promise<boolean> {
    const r = new SshReader(signature, "signature blob");
    const name = r.ascii();
    const sig = r.string();
    r.end();
    // RFC 8332 §3 / RFC 4253 §6.6: the blob must name the negotiated algorithm; accepting another
    // (e.g. ssh-rsa for rsa-sha2-256) would allow a downgrade to SHA-1.
    if (name !== algorithm || !this.impl.algorithms.includes(algorithm)) return false;
    return this.impl.verify(algorithm, sig, data, backend);
  }
}

/**
 * Decodes an RFC 4253 §6.6 public key blob, or an OpenSSH certificate (certificate.ts; its CA
 * signature is not checked here). ProtocolError when malformed or of an unknown type.
 */
export function parsePublicKey(blob: Uint8Array): PublicKey {
  const r = new SshReader(blob, "public key blob");
  const type = r.ascii();
  if (isCertificateType(type)) return parseCertificate(blob);
  let impl: KeyVerifier;
  if (type === ED25519) impl = readEd25519Public(r);
  else if (type === RSA) impl = readRsaPublic(r);
  else if (ECDSA_TYPES.includes(type)) impl = readEcdsaPublic(r, type);
  else throw new ProtocolError(`unsupported public key type "${type}"`, "UNSUPPORTED_KEY_TYPE");
  r.end();
  return new SshPublicKey(type, blob.slice(), impl);
}

/**
 * Parses OpenSSH's one-line public key form `type base64 [comment]` (the .pub file format,
 * sshd(8) AUTHORIZED_KEYS FILE FORMAT without options). The leading type must match the blob's.
 */
export function parsePublicKeyLine(text: string): { key: PublicKey; comment: string } {
  const m = /^[ \t]*(\S+)[ \t]+(\S+)(?:[ \t]+(.*?))?[ \t\r\n]*$/.exec(text);
  if (!m) throw new ProtocolError("public key line must be: type base64 [comment]");
  const key = parsePublicKey(decodeBase64(m[2]!, "public key base64"));
  if (key.type !== m[1]) throw new ProtocolError(`public key line says "${m[1]}" but the key is "${key.type}"`);
  return { key, comment: m[3] ?? "" };
}

/** Formats a key as one OpenSSH public key line (no trailing newline). */
export function publicKeyLine(key: PublicKey, comment?: string): string {
  const line = `${key.type} ${encodeBase64(key.blob)}`;
  return comment ? `${line} ${comment}` : line;
}

/** RFC 4253 §6.6 signature blob: string algorithm, string signature. */
export function signatureBlob(algorithm: string, sig: Uint8Array): Uint8Array {
  return new SshWriter(sig.length + algorithm.length + 8).string(algorithm).string(sig).finish().slice();
}
