/**
 * Private keys from OpenSSH's own file format, openssh-key-v1 (OpenSSH PROTOCOL.key), the
 * default of ssh-keygen since 7.8. Unencrypted keys only for now; bcrypt_pbkdf comes later.
 *
 * Errors are SshError with codes: KEY_FORMAT (not this format, or malformed/corrupt),
 * UNSUPPORTED_KEY_TYPE, PASSPHRASE_REQUIRED / KEY_ENCRYPTED (encrypted key), BAD_PASSPHRASE
 * (check-ints differ), UNSUPPORTED_ALGORITHM (sign() with an algorithm the key can't use).
 */
import { ProtocolError, SshError } from "../../errors.js";
import type { CryptoBackend } from "../crypto/cipher.js";
import { decodeBase64 } from "../wire/base64.js";
import { SshReader } from "../wire/reader.js";
import { bytesEqual } from "./bigint.js";
import { ECDSA_TYPES, readEcdsaPrivate } from "./ecdsa.js";
import { ED25519, generateEd25519Signer, readEd25519Private } from "./ed25519.js";
import { parsePublicKey, signatureBlob, type PublicKey } from "./public-key.js";
import { RSA, readRsaPrivate } from "./rsa.js";

export interface PrivateKey {
  /** Key type, e.g. "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa". */
  readonly type: string;
  readonly publicKey: PublicKey;
  /** The comment stored with the key (often user@host); may be empty. */
  readonly comment: string;
  /**
   * Signs `data` and returns the full RFC 4253 §6.6 signature blob (string algorithm, string
   * signature). `algorithm` must suit the key: for ssh-rsa keys rsa-sha2-512, rsa-sha2-256 or
   * (legacy, SHA-1) ssh-rsa; otherwise the key type itself.
   */
  sign(algorithm: string, data: Uint8Array, backend?: CryptoBackend): Promise<Uint8Array>;
}

/** What one key type module provides for its private half. */
export interface KeySigner {
  readonly algorithms: readonly string[];
  /** The matching public key blob. */
  readonly publicBlob: Uint8Array;
  /** Returns the signature string that goes inside the blob. */
  sign(algorithm: string, data: Uint8Array, backend: CryptoBackend): Promise<Uint8Array>;
}

const MAGIC = new TextEncoder().encode("openssh-key-v1\0");
const LABEL = "OPENSSH PRIVATE KEY";

function fail(message: string, code = "KEY_FORMAT"): never {
  throw new SshError(code, message);
}

function wrap(type: string, comment: string, signer: KeySigner): PrivateKey {
  const publicKey = parsePublicKey(signer.publicBlob);
  return {
    type,
    publicKey,
    comment,
    async sign(algorithm, data, backend = "auto") {
      if (!signer.algorithms.includes(algorithm)) {
        fail(`a ${type} key cannot sign with "${algorithm}" (use ${signer.algorithms.join(", ")})`, "UNSUPPORTED_ALGORITHM");
      }
      return signatureBlob(algorithm, await signer.sign(algorithm, data, backend));
    },
  };
}

/** Finds the base64 body of the armored key, or says which other format the text is in. */
function unarmor(text: string): Uint8Array {
  const begin = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
  if (!begin) {
    if (text.startsWith("PuTTY-User-Key-File-")) fail("PuTTY .ppk keys are not supported: convert with puttygen -O private-openssh-new");
    if (text.includes("---- BEGIN SSH2")) fail("SSH2 (RFC 4716 / ssh.com) keys are not supported: convert with ssh-keygen -i");
    if (/^\s*(ssh-|ecdsa-|sk-)\S*\s+[A-Za-z0-9+/]/.test(text)) fail("this is a public key, not a private key");
    fail("not a recognised private key format (expected -----BEGIN OPENSSH PRIVATE KEY-----)");
  }
  if (begin[1] !== LABEL) {
    fail(`"${begin[1]}" PEM keys are not supported yet: rewrite the key in OpenSSH format with ssh-keygen -p -f <file>`);
  }
  const start = begin.index + begin[0].length;
  const end = text.indexOf(`-----END ${LABEL}-----`, start);
  if (end < 0) fail(`missing -----END ${LABEL}----- line`);
  return decodeBase64(text.slice(start, end).replace(/\s+/g, ""), "OpenSSH private key base64");
}

function parseV1(bin: Uint8Array, passphrase: string | undefined): PrivateKey {
  const r = new SshReader(bin, "OpenSSH private key");
  if (!bytesEqual(r.raw(MAGIC.length), MAGIC)) fail("not an openssh-key-v1 key (bad magic)");
  const cipher = r.ascii();
  const kdf = r.ascii();
  const kdfOptions = r.string();
  const count = r.uint32();
  // OpenSSH itself only ever writes and reads files with exactly one key.
  if (count !== 1) fail(`OpenSSH private key file holds ${count} keys; exactly one is supported`);
  const outerPublic = r.string();
  const section = r.string();
  r.end();
  if (cipher !== "none") {
    if (!passphrase) fail(`the key is encrypted (${cipher}, kdf ${kdf}): a passphrase is required`, "PASSPHRASE_REQUIRED");
    fail(`encrypted OpenSSH keys (${cipher}, kdf ${kdf}) are not supported yet; decrypt with ssh-keygen -p`, "KEY_ENCRYPTED");
  }
  if (kdf !== "none" || kdfOptions.length !== 0) fail(`unencrypted key with kdf "${kdf}"`);
  // PROTOCOL.key §3: the section is padded to the cipher block size, 8 for "none".
  if (section.length % 8 !== 0) fail("private key section is not a multiple of 8 bytes");

  const p = new SshReader(section, "OpenSSH private key section");
  // Two equal random check-ints: after decryption they prove the passphrase was right. Unencrypted,
  // a mismatch means corruption; OpenSSH reports both as "wrong passphrase", and so do we.
  if (p.uint32() !== p.uint32()) fail("check-ints differ: wrong passphrase or corrupt key", "BAD_PASSPHRASE");
  const type = p.ascii();
  let signer: KeySigner;
  if (type === ED25519) signer = readEd25519Private(p);
  else if (type === RSA) signer = readRsaPrivate(p);
  else if (ECDSA_TYPES.includes(type)) signer = readEcdsaPrivate(p, type);
  else fail(`unsupported private key type "${type}"`, "UNSUPPORTED_KEY_TYPE");
  const comment = p.utf8();
  const padding = p.rest();
  // Padding is 1, 2, 3, … (PROTOCOL.key §3); OpenSSH rejects anything else, which also catches
  // most corruption of the fields above.
  if (padding.some((b, i) => b !== i + 1)) fail("bad padding in private key section");
  if (!bytesEqual(signer.publicBlob, outerPublic)) fail("corrupt key: public key does not match private key");
  return wrap(type, comment, signer);
}

/**
 * Parses a private key file. Supports the openssh-key-v1 format (armored text, or its raw binary
 * form), unencrypted. Throws SshError only (codes in the module comment).
 */
export function parsePrivateKey(text: string | Uint8Array, passphrase?: string): PrivateKey {
  try {
    if (typeof text !== "string") {
      if (text.length >= MAGIC.length && bytesEqual(text.subarray(0, MAGIC.length), MAGIC)) {
        return parseV1(text, passphrase);
      }
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(text);
      } catch {
        fail("not a recognised private key format (neither text nor openssh-key-v1 binary)");
      }
    }
    return parseV1(unarmor(text), passphrase);
  } catch (err) {
    if (err instanceof SshError && !(err instanceof ProtocolError)) throw err;
    if (err instanceof ProtocolError && err.code === "UNSUPPORTED_KEY_TYPE") {
      throw new SshError(err.code, err.message, { cause: err });
    }
    const detail = err instanceof Error ? err.message : String(err);
    throw new SshError("KEY_FORMAT", `malformed OpenSSH private key: ${detail}`, { cause: err });
  }
}

/** A fresh random ssh-ed25519 key, for tests and throwaway identities. */
export function generateEd25519Key(comment = ""): PrivateKey {
  return wrap(ED25519, comment, generateEd25519Signer());
}
