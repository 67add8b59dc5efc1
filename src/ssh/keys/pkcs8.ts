/**
 * PKCS#8 private keys, as `ssh-keygen -m PKCS8` and `openssl genpkey`/`openssl pkcs8` write them:
 *
 *   -----BEGIN PRIVATE KEY-----            PrivateKeyInfo / OneAsymmetricKey (RFC 5208, 5958)
 *   -----BEGIN ENCRYPTED PRIVATE KEY-----  EncryptedPrivateKeyInfo (RFC 5958 §3)
 *
 * Key algorithms: rsaEncryption (PKCS#1 inside, RFC 8017), id-ecPublicKey with the named curves
 * P-256/384/521 (SEC1 inside, RFC 5915 / RFC 5480), id-Ed25519 (RFC 8410 §7; the optional v2
 * publicKey is checked). Encryption: PBES2 (RFC 8018 §6.2) with PBKDF2 (HMAC-SHA-1/224/256/
 * 384/512, §5.2) or scrypt (RFC 7914 §7) and AES-128/192/256-CBC (RFC 8018 §B.2.5, PKCS#7
 * padding). PBES1, PKCS#12 PBE and 3DES are refused with UNSUPPORTED_CIPHER.
 */
import { pbkdf2 } from "@noble/hashes/pbkdf2.js";
import { scrypt } from "@noble/hashes/scrypt.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { sha224, sha256, sha384, sha512 } from "@noble/hashes/sha2.js";
import type { CHash } from "@noble/hashes/utils.js";
import { SshError } from "../../errors.js";
import { DerReader, TAG, absentOrNull, algorithmIdentifier, bitStringBytes } from "./der.js";
import { ED25519, ed25519SignerFromSeed } from "./ed25519.js";
import {
  checkKdfLimit,
  fail,
  orBadPassphrase,
  requirePassphrase,
  wipe,
  wrapSigner,
  type ParsePrivateKeyOptions,
  type Passphrase,
  type PrivateKey,
} from "./key-common.js";
import { aesCbcUnpad, ecFromSec1, rsaFromPkcs1 } from "./pem.js";

const OID = {
  rsaEncryption: "1.2.840.113549.1.1.1",
  rsassaPss: "1.2.840.113549.1.1.10",
  ecPublicKey: "1.2.840.10045.2.1",
  ed25519: "1.3.101.112",
  dsa: "1.2.840.10040.4.1",
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
  scrypt: "1.3.6.1.4.1.11591.4.11",
};

const KEY_ALGORITHM_NAMES: Record<string, string> = {
  [OID.rsassaPss]: "RSASSA-PSS", [OID.dsa]: "DSA", "1.3.101.113": "Ed448", "1.3.101.110": "X25519", "1.3.101.111": "X448",
};

const PRFS: Record<string, CHash> = {
  "1.2.840.113549.2.7": sha1,
  "1.2.840.113549.2.8": sha224,
  "1.2.840.113549.2.9": sha256,
  "1.2.840.113549.2.10": sha384,
  "1.2.840.113549.2.11": sha512,
};

const AES_CBC: Record<string, number> = {
  "2.16.840.1.101.3.4.1.2": 16,
  "2.16.840.1.101.3.4.1.22": 24,
  "2.16.840.1.101.3.4.1.42": 32,
};

interface PrivateKeyInfo {
  algorithm: string;
  params: DerReader;
  privateKey: Uint8Array;
  publicKey: Uint8Array | undefined;
}

/** The structure of PrivateKeyInfo / OneAsymmetricKey, without interpreting the key. */
function decodePrivateKeyInfo(der: Uint8Array): PrivateKeyInfo {
  const r = new DerReader(der, "PrivateKeyInfo");
  const s = r.sequence();
  r.end();
  const version = s.small("version", 255);
  if (version > 1) fail(`PKCS#8 version ${version + 1} is not supported`);
  const { oid: algorithm, params } = algorithmIdentifier(s, "privateKeyAlgorithm");
  const privateKey = s.octetString("privateKey");
  if (s.peekTag() === 0xa0) s.any(); // [0] IMPLICIT attributes: nothing here needs them
  let publicKey: Uint8Array | undefined;
  if (s.peekTag() === 0x81) {
    // [1] IMPLICIT BIT STRING: OneAsymmetricKey (version 2, encoded 1) only.
    if (version !== 1) fail("PKCS#8 v1 key with a v2 publicKey field");
    publicKey = bitStringBytes(s.any().value, "OneAsymmetricKey publicKey");
  }
  s.end();
  return { algorithm, params, privateKey, publicKey };
}

function fromPrivateKeyInfo(info: PrivateKeyInfo): PrivateKey {
  const { algorithm, params } = info;
  if (algorithm === OID.rsaEncryption) {
    if (!absentOrNull(params)) fail("rsaEncryption parameters must be NULL");
    return rsaFromPkcs1(info.privateKey);
  }
  if (algorithm === OID.ecPublicKey) {
    if (params.peekTag() !== TAG.OID) fail("explicit EC curve parameters are not supported (only named curves)", "UNSUPPORTED_KEY_TYPE");
    const curve = params.oid("namedCurve");
    params.end();
    return ecFromSec1(info.privateKey, curve);
  }
  if (algorithm === OID.ed25519) {
    params.end(); // RFC 8410 §3: parameters MUST be absent
    const inner = new DerReader(info.privateKey, "CurvePrivateKey");
    const seed = inner.octetString("CurvePrivateKey");
    inner.end();
    if (info.publicKey && info.publicKey.length !== 32) fail("Ed25519 publicKey is not 32 bytes");
    return wrapSigner(ED25519, "", ed25519SignerFromSeed(seed, info.publicKey));
  }
  const name = KEY_ALGORITHM_NAMES[algorithm];
  return fail(`PKCS#8 ${name ?? "key algorithm " + algorithm} keys are not supported`, "UNSUPPORTED_KEY_TYPE");
}

/** PrivateKeyInfo (unencrypted PKCS#8) DER → key. */
export function parsePkcs8(der: Uint8Array): PrivateKey {
  return fromPrivateKeyInfo(decodePrivateKeyInfo(der));
}

/** The key-derivation half of PBES2-params: derives `keyLength` bytes from the passphrase. */
function deriveKey(kdf: { oid: string; params: DerReader }, keyLength: number, pass: Uint8Array, options?: ParsePrivateKeyOptions): Uint8Array {
  const p = kdf.params.sequence(kdf.oid === OID.scrypt ? "scrypt-params" : "PBKDF2-params");
  kdf.params.end();
  const salt = p.octetString("salt");
  if (kdf.oid === OID.pbkdf2) {
    const c = p.small("iterationCount", 0xffffffff);
    let declared: number | undefined;
    if (p.peekTag() === TAG.INTEGER) declared = p.small("keyLength", 1024);
    let hash: CHash = sha1; // DEFAULT algid-hmacWithSHA1
    if (!p.done) {
      const prf = algorithmIdentifier(p, "prf");
      const h = PRFS[prf.oid];
      if (!h) fail(`PBKDF2 PRF ${prf.oid} is not supported`, "UNSUPPORTED_CIPHER");
      if (!absentOrNull(prf.params)) fail("PBKDF2 PRF parameters must be NULL");
      hash = h;
    }
    p.end();
    if (c < 1) fail("PBKDF2 iteration count 0");
    if (declared !== undefined && declared !== keyLength) fail(`PBKDF2 keyLength ${declared} does not fit the cipher`);
    checkKdfLimit(options, "maxPbkdf2Iterations", c, "PBKDF2 iteration count");
    return pbkdf2(hash, pass, salt, { c, dkLen: keyLength });
  }
  if (kdf.oid === OID.scrypt) {
    const N = p.small("costParameter", 2 ** 40);
    const r = p.small("blockSize", 1 << 20);
    const par = p.small("parallelizationParameter", 1 << 20);
    if (!p.done) {
      const declared = p.small("keyLength", 1024);
      if (declared !== keyLength) fail(`scrypt keyLength ${declared} does not fit the cipher`);
    }
    p.end();
    if (N < 2 || (N & (N - 1)) !== 0 || r < 1 || par < 1 || par > 16) fail(`invalid scrypt parameters N=${N} r=${r} p=${par}`);
    checkKdfLimit(options, "maxScryptMemoryBytes", 128 * N * r, "scrypt memory (128·N·r bytes)");
    try {
      return scrypt(pass, salt, { N, r, p: par, dkLen: keyLength, maxmem: 128 * N * r * (par + 1) + 1024 });
    } catch (err) {
      throw new SshError("KEY_FORMAT", `scrypt refused its parameters: ${(err as Error).message}`);
    }
  }
  return fail(`PBES2 key derivation ${kdf.oid} is not supported (only PBKDF2 and scrypt)`, "UNSUPPORTED_CIPHER");
}

/** EncryptedPrivateKeyInfo DER → key. */
export function parseEncryptedPkcs8(der: Uint8Array, passphrase: Passphrase | undefined, options?: ParsePrivateKeyOptions): PrivateKey {
  const r = new DerReader(der, "EncryptedPrivateKeyInfo");
  const s = r.sequence();
  r.end();
  const scheme = algorithmIdentifier(s, "encryptionAlgorithm");
  const data = s.octetString("encryptedData");
  s.end();
  if (scheme.oid !== OID.pbes2) {
    fail(
      `PKCS#8 encryption ${scheme.oid} (PBES1 / PKCS#12) is not supported: re-encrypt with openssl pkcs8 -topk8 -v2 aes-256-cbc`,
      "UNSUPPORTED_CIPHER",
    );
  }
  const pbes2 = scheme.params.sequence("PBES2-params");
  scheme.params.end();
  const kdf = algorithmIdentifier(pbes2, "keyDerivationFunc");
  const enc = algorithmIdentifier(pbes2, "encryptionScheme");
  pbes2.end();
  const keyLength = AES_CBC[enc.oid];
  if (keyLength === undefined) fail(`PBES2 cipher ${enc.oid} is not supported (only AES-CBC)`, "UNSUPPORTED_CIPHER");
  const iv = enc.params.octetString("IV");
  enc.params.end();
  if (iv.length !== 16) fail(`AES-CBC IV of ${iv.length} bytes`);
  if (data.length === 0 || data.length % 16 !== 0) fail(`encrypted key of ${data.length} bytes is not whole AES blocks`);
  const pass = requirePassphrase(passphrase, "PKCS#8 PBES2");
  let key: Uint8Array | undefined;
  let plain: Uint8Array | undefined;
  try {
    key = deriveKey(kdf, keyLength, pass, options);
    plain = aesCbcUnpad(key, iv, data);
    const decrypted = plain;
    // Garbage from a wrong key never decodes as PrivateKeyInfo; a right key then parses normally.
    const info = orBadPassphrase(() => decodePrivateKeyInfo(decrypted));
    return fromPrivateKeyInfo(info);
  } finally {
    wipe(pass, key, plain);
  }
}
