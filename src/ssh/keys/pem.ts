/**
 * PEM armor (RFC 7468, with RFC 1421 headers) and the two "traditional" OpenSSL key formats
 * that `ssh-keygen -m PEM` writes:
 *
 *   -----BEGIN RSA PRIVATE KEY-----  PKCS#1 RSAPrivateKey (RFC 8017 §A.1.2)
 *   -----BEGIN EC PRIVATE KEY-----   SEC1 ECPrivateKey (RFC 5915 §3)
 *
 * both optionally encrypted the legacy OpenSSL way: headers `Proc-Type: 4,ENCRYPTED` and
 * `DEK-Info: <cipher>,<hex IV>`, key = EVP_BytesToKey(MD5, salt = first 8 IV bytes, count 1),
 * CBC with PKCS#7 padding. AES-128/192/256-CBC are supported; DES-EDE3-CBC and DES-CBC are
 * refused (UNSUPPORTED_CIPHER): noble has no DES, and 3DES keys should be re-encrypted anyway.
 * One MD5 pass makes this KDF weak; prefer openssh-key-v1 or PKCS#8 PBES2 for new keys.
 *
 * The PKCS#1 and SEC1 decoders here are also used for the insides of PKCS#8 (pkcs8.ts).
 */
import { cbc } from "@noble/ciphers/aes.js";
import { md5 } from "@noble/hashes/legacy.js";
import { decodeBase64 } from "../wire/base64.js";
import { DerReader } from "./der.js";
import { ecdsaScalarBytes, ecdsaSignerFromScalar, ecdsaTypeForOid } from "./ecdsa.js";
import { fail, orBadPassphrase, requirePassphrase, wipe, wrapSigner, type Passphrase, type PrivateKey } from "./key-common.js";
import { RSA, rsaSignerFromComponents } from "./rsa.js";
import { bytesToBigInt } from "./bigint.js";

export interface PemBlock {
  /** The label between BEGIN and the dashes, e.g. "RSA PRIVATE KEY". */
  readonly label: string;
  /** RFC 1421 headers by name, as written (Proc-Type, DEK-Info, …). */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Uint8Array;
}

/**
 * Finds the first PEM block in `text` (text before it, as RFC 7468 §5.2 allows, is ignored) and
 * decodes its headers and strict base64 body. Undefined when there is no BEGIN line. An
 * `EC PARAMETERS` block, which `openssl ecparam -genkey` writes before the key, is skipped.
 */
export function findPemBlock(text: string): PemBlock | undefined {
  const re = /-----BEGIN ([A-Z0-9][A-Z0-9 ]{0,62})-----/g;
  let begin = re.exec(text);
  if (begin?.[1] === "EC PARAMETERS") {
    const after = text.indexOf("-----END EC PARAMETERS-----", re.lastIndex);
    if (after >= 0) {
      re.lastIndex = after;
      begin = re.exec(text) ?? begin;
    }
  }
  if (!begin) return undefined;
  const label = begin[1]!;
  const start = begin.index + begin[0].length;
  const endLine = `-----END ${label}-----`;
  const end = text.indexOf(endLine, start);
  if (end < 0) fail(`missing ${endLine} line`);
  // Lines are trimmed, so indented blocks (YAML, configuration files) work; RFC 1421 header
  // continuation lines are therefore not supported (no key format uses them).
  const lines = text.slice(start, end).split(/\r\n|\r|\n/).map((l) => l.trim());
  const headers = new Map<string, string>();
  let i = 0;
  while (i < lines.length && lines[i] === "") i++;
  for (; i < lines.length; i++) {
    const h = /^([A-Za-z][A-Za-z0-9-]*):[ \t]*(.*)$/.exec(lines[i]!);
    if (!h) break;
    if (headers.has(h[1]!)) fail(`duplicate PEM header "${h[1]}"`);
    headers.set(h[1]!, h[2]!);
  }
  if (headers.size > 0 && lines[i] === "") i++;
  const b64 = lines.slice(i).join("");
  if (/[^A-Za-z0-9+/=]/.test(b64)) fail(`unexpected characters in the base64 body of the ${label} block`);
  if (b64.length === 0) fail(`empty ${label} block`);
  return { label, headers, body: decodeBase64(b64, `${label} base64`) };
}

/** OpenSSL's EVP_BytesToKey with MD5 and one iteration: D_i = MD5(D_{i-1} || pass || salt). */
export function evpBytesToKeyMd5(pass: Uint8Array, salt: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let prev = new Uint8Array(0);
  for (let at = 0; at < length; at += 16) {
    const input = new Uint8Array(prev.length + pass.length + salt.length);
    input.set(prev);
    input.set(pass, prev.length);
    input.set(salt, prev.length + pass.length);
    wipe(prev);
    prev = md5(input);
    wipe(input);
    out.set(prev.subarray(0, Math.min(16, length - at)), at);
  }
  wipe(prev);
  return out;
}

const LEGACY_AES: Record<string, number> = { "AES-128-CBC": 16, "AES-192-CBC": 24, "AES-256-CBC": 32 };

/** CBC decryption with PKCS#7 padding; bad padding → BAD_PASSPHRASE. */
export function aesCbcUnpad(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length === 0 || data.length % 16 !== 0) fail(`encrypted key of ${data.length} bytes is not whole AES blocks`);
  return orBadPassphrase(() => cbc(key, iv).decrypt(data), "wrong passphrase (bad padding after decryption)");
}

/** Undoes Proc-Type/DEK-Info encryption; returns `block.body` as is when there is none. */
function legacyDecrypt(block: PemBlock, passphrase: Passphrase | undefined): Uint8Array {
  const proc = block.headers.get("Proc-Type");
  const dek = block.headers.get("DEK-Info");
  if (proc === undefined && dek === undefined) return block.body;
  if (proc?.replace(/\s/g, "") !== "4,ENCRYPTED" || dek === undefined) fail(`unsupported PEM headers (Proc-Type: ${proc ?? "none"})`);
  const m = /^([A-Za-z0-9-]+),([0-9A-Fa-f]+)$/.exec(dek.replace(/\s/g, ""));
  if (!m) fail(`malformed DEK-Info header "${dek}"`);
  const cipher = m[1]!.toUpperCase();
  const keyLength = LEGACY_AES[cipher];
  if (keyLength === undefined) {
    fail(`PEM encryption ${cipher} is not supported (only AES-CBC): re-encrypt with ssh-keygen -p or openssl`, "UNSUPPORTED_CIPHER");
  }
  if (m[2]!.length !== 32) fail(`DEK-Info IV must be 16 bytes for ${cipher}`);
  const iv = Uint8Array.from(m[2]!.match(/../g)!, (h) => parseInt(h, 16));
  const pass = requirePassphrase(passphrase, `PEM ${cipher}`);
  const key = evpBytesToKeyMd5(pass, iv.subarray(0, 8), keyLength);
  wipe(pass);
  let plain: Uint8Array;
  try {
    plain = aesCbcUnpad(key, iv, block.body);
  } finally {
    wipe(key);
  }
  // A wrong key leaves valid padding about 1 time in 256; it never leaves a well-formed DER
  // SEQUENCE that fills the plaintext exactly.
  try {
    orBadPassphrase(() => {
      const r = new DerReader(plain);
      r.sequence();
      r.end();
    });
  } catch (e) {
    wipe(plain);
    throw e;
  }
  return plain;
}

/** PKCS#1 RSAPrivateKey → signer. Two-prime (version 0) keys only. */
export function rsaFromPkcs1(der: Uint8Array): PrivateKey {
  const r = new DerReader(der, "RSAPrivateKey");
  const s = r.sequence();
  r.end();
  const version = s.small("version", 255);
  if (version === 1) fail("multi-prime RSA keys (RFC 8017 §A.1.2 version 1) are not supported", "UNSUPPORTED_KEY_TYPE");
  if (version !== 0) fail(`RSAPrivateKey version ${version}`);
  const [n, e, d, p, q, dP, dQ, qInv] = ["n", "e", "d", "p", "q", "dP", "dQ", "qInv"].map((f) => s.unsigned(f)) as [
    bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint,
  ];
  s.end();
  const signer = rsaSignerFromComponents(n, e, d, qInv, p, q);
  // The CRT exponents are redundant; a file whose copies disagree is corrupt.
  if (dP !== d % (p - 1n) || dQ !== d % (q - 1n)) fail("corrupt RSA private key: CRT exponents do not match d");
  return wrapSigner(RSA, "", signer);
}

/**
 * SEC1 ECPrivateKey → signer. `outerCurve` is the namedCurve of a PKCS#8 wrapper, which may
 * replace the optional [0] parameters; when both are present they must agree.
 */
export function ecFromSec1(der: Uint8Array, outerCurve?: string): PrivateKey {
  const r = new DerReader(der, "ECPrivateKey");
  const s = r.sequence();
  r.end();
  if (s.small("version", 255) !== 1) fail("ECPrivateKey version is not 1");
  const d = s.octetString("privateKey");
  const params = s.optionalContext(0, "parameters");
  let curve = outerCurve;
  if (params) {
    if (params.peekTag() !== 0x06) fail("explicit EC curve parameters are not supported (only named curves)", "UNSUPPORTED_KEY_TYPE");
    const inner = params.oid("namedCurve");
    params.end();
    if (curve !== undefined && curve !== inner) fail(`ECPrivateKey curve ${inner} differs from the PKCS#8 curve ${curve}`);
    curve = inner;
  }
  const pubField = s.optionalContext(1, "publicKey");
  const q = pubField?.bitString("publicKey");
  pubField?.end();
  s.end();
  if (curve === undefined) fail("ECPrivateKey names no curve");
  const type = ecdsaTypeForOid(curve);
  if (!type) fail(`EC curve ${curve} is not supported (only P-256, P-384, P-521)`, "UNSUPPORTED_KEY_TYPE");
  if (d.length === 0 || d.length > ecdsaScalarBytes(type)) fail(`ECPrivateKey scalar of ${d.length} bytes for ${type}`);
  return wrapSigner(type, "", ecdsaSignerFromScalar(type, bytesToBigInt(d), q));
}

/** Parses a RSA PRIVATE KEY or EC PRIVATE KEY block, decrypting it if needed. */
export function parseTraditionalPem(block: PemBlock, passphrase: Passphrase | undefined): PrivateKey {
  const der = legacyDecrypt(block, passphrase);
  try {
    if (block.label === "RSA PRIVATE KEY") return rsaFromPkcs1(der);
    if (block.label === "EC PRIVATE KEY") return ecFromSec1(der);
    return fail(`"${block.label}" is not a traditional PEM private key`);
  } finally {
    // The decrypted DER is ours; an unencrypted body is wiped by parsePrivateKey.
    if (der !== block.body) wipe(der);
  }
}
