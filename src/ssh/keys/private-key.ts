/**
 * Private key files in every common format, plain or passphrase-protected:
 *
 *   -----BEGIN OPENSSH PRIVATE KEY-----     openssh-key-v1 (openssh-key.ts), or its raw binary
 *   -----BEGIN RSA PRIVATE KEY-----         PKCS#1, optionally legacy-encrypted (pem.ts)
 *   -----BEGIN EC PRIVATE KEY-----          SEC1, optionally legacy-encrypted (pem.ts)
 *   -----BEGIN PRIVATE KEY-----             PKCS#8 (pkcs8.ts)
 *   -----BEGIN ENCRYPTED PRIVATE KEY-----   PKCS#8 PBES2 (pkcs8.ts)
 *   PuTTY-User-Key-File-2/3:                PuTTY .ppk (ppk.ts)
 *   binary DER                              PKCS#8, encrypted PKCS#8, PKCS#1 or SEC1
 *
 * Key types: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa. Every parser throws SshError
 * only; the codes are listed in key-common.ts (KEY_FORMAT, UNSUPPORTED_KEY_TYPE,
 * UNSUPPORTED_CIPHER, PASSPHRASE_REQUIRED, BAD_PASSPHRASE, KDF_LIMIT).
 */
import { ProtocolError, SshError } from "../../errors.js";
import { bytesEqual } from "./bigint.js";
import { DerReader, TAG } from "./der.js";
import { generateEd25519Signer, ED25519 } from "./ed25519.js";
import { fail, wipe, wrapSigner, type ParsePrivateKeyOptions, type Passphrase, type PrivateKey } from "./key-common.js";
import { OPENSSH_LABEL, OPENSSH_MAGIC, parseOpensshKey } from "./openssh-key.js";
import { ecFromSec1, findPemBlock, parseTraditionalPem, rsaFromPkcs1 } from "./pem.js";
import { parseEncryptedPkcs8, parsePkcs8 } from "./pkcs8.js";
import { PPK_PREFIX, parsePpk } from "./ppk.js";

export type { KeySigner, ParsePrivateKeyOptions, Passphrase, PrivateKey } from "./key-common.js";
export { DEFAULT_KDF_LIMITS } from "./key-common.js";

/** Larger inputs are refused outright; real key files are a few KiB. */
export const MAX_KEY_FILE_BYTES = 1 << 20;

const LABELS: Record<string, string> = {
  "DSA PRIVATE KEY": "DSA keys are not supported (OpenSSH disabled them in 7.0); use Ed25519, ECDSA or RSA",
  "PUBLIC KEY": "this is a public key, not a private key",
  "CERTIFICATE": "this is an X.509 certificate, not a private key",
};

/** Guesses which DER structure `der` is from its first fields, without decoding it all. */
function parseDer(der: Uint8Array, passphrase: Passphrase | undefined, options: ParsePrivateKeyOptions | undefined): PrivateKey {
  const s = new DerReader(der, "DER key").sequence();
  const first = s.peekTag();
  if (first === TAG.SEQUENCE) return parseEncryptedPkcs8(der, passphrase, options); // AlgorithmIdentifier first
  const version = s.small("version", 255);
  const next = s.peekTag();
  if (next === TAG.SEQUENCE) return parsePkcs8(der);
  if (version === 1 && next === TAG.OCTET_STRING) return ecFromSec1(der);
  if (next === TAG.INTEGER) return rsaFromPkcs1(der);
  return fail("unrecognised DER key structure (expected PKCS#8, PKCS#1 or SEC1)");
}

function parseText(text: string, passphrase: Passphrase | undefined, options: ParsePrivateKeyOptions | undefined): PrivateKey {
  const trimmed = text.replace(/^\uFEFF/, "").trimStart();
  if (trimmed.startsWith(PPK_PREFIX)) return parsePpk(trimmed, passphrase, options);
  if (text.includes("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----")) {
    fail("ssh.com (SECSH) private keys are not supported: convert with ssh-keygen -i or puttygen -O private-openssh-new");
  }
  if (text.includes("---- BEGIN SSH2 PUBLIC KEY ----") || /^\s*(ssh-|ecdsa-|sk-)\S*\s+[A-Za-z0-9+/]/.test(text)) {
    fail("this is a public key, not a private key");
  }
  const block = findPemBlock(text);
  if (!block) fail("not a recognised private key format (expected -----BEGIN … PRIVATE KEY----- or a PuTTY .ppk)");
  const refusal = LABELS[block.label];
  if (refusal !== undefined) fail(refusal, block.label.startsWith("DSA") ? "UNSUPPORTED_KEY_TYPE" : "KEY_FORMAT");
  const plain = block.label !== "RSA PRIVATE KEY" && block.label !== "EC PRIVATE KEY";
  try {
    if (plain && block.headers.size > 0) fail(`unexpected headers in a ${block.label} block`);
    switch (block.label) {
      case OPENSSH_LABEL:
        return parseOpensshKey(block.body, passphrase, options);
      case "RSA PRIVATE KEY":
      case "EC PRIVATE KEY":
        return parseTraditionalPem(block, passphrase);
      case "PRIVATE KEY":
        return parsePkcs8(block.body);
      case "ENCRYPTED PRIVATE KEY":
        return parseEncryptedPkcs8(block.body, passphrase, options);
      default:
        return fail(`"${block.label}" PEM blocks are not a supported private key format`);
    }
  } finally {
    // The decoded body may be an unencrypted key: the signer holds its own copy now.
    wipe(block.body);
  }
}

/**
 * Parses a private key file: text in any format listed in the module comment, or bytes (a file
 * read as is: UTF-8 text, openssh-key-v1 binary, or DER). `passphrase` is needed only for
 * encrypted keys; `options` bound the KDF work an encrypted file may demand (key-common.ts).
 */
export function parsePrivateKey(input: string | Uint8Array, passphrase?: Passphrase, options?: ParsePrivateKeyOptions): PrivateKey {
  try {
    if (input.length > MAX_KEY_FILE_BYTES) fail(`key file of ${input.length} bytes is too large`);
    if (typeof input !== "string") {
      if (input.length >= OPENSSH_MAGIC.length && bytesEqual(input.subarray(0, OPENSSH_MAGIC.length), OPENSSH_MAGIC)) {
        return parseOpensshKey(input, passphrase, options);
      }
      if (input[0] === TAG.SEQUENCE) return parseDer(input, passphrase, options);
      let text: string;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(input);
      } catch {
        fail("not a recognised private key format (neither text, openssh-key-v1 binary nor DER)");
      }
      return parseText(text, passphrase, options);
    }
    return parseText(input, passphrase, options);
  } catch (err) {
    if (err instanceof SshError && !(err instanceof ProtocolError)) throw err;
    if (err instanceof ProtocolError && err.code === "UNSUPPORTED_KEY_TYPE") {
      throw new SshError(err.code, err.message, { cause: err });
    }
    const detail = err instanceof Error ? err.message : String(err);
    throw new SshError("KEY_FORMAT", `malformed private key: ${detail}`, { cause: err });
  }
}

/** A fresh random ssh-ed25519 key, for tests and throwaway identities. */
export function generateEd25519Key(comment = ""): PrivateKey {
  return wrapSigner(ED25519, comment, generateEd25519Signer());
}
