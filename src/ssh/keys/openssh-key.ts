/**
 * OpenSSH's own private key format, openssh-key-v1 (OpenSSH PROTOCOL.key; sshkey.c
 * sshkey_parse_private2), the default of ssh-keygen since 7.8, plain or encrypted:
 *
 *   "openssh-key-v1\0" string ciphername, string kdfname, string kdfoptions, uint32 N (= 1),
 *   string publickey, string encrypted-section [, authentication tag for AEAD ciphers]
 *
 * kdfname "bcrypt": kdfoptions = string salt, uint32 rounds; bcrypt_pbkdf(passphrase, salt,
 * rounds) yields key || IV for the cipher. Ciphers (OpenSSH cipher.c): aes128/192/256-ctr,
 * aes128/192/256-cbc, aes128/256-gcm@openssh.com (12-byte IV, 16-byte tag after the section,
 * no AAD) and chacha20-poly1305@openssh.com (64-byte key, sequence number 0, the tag after the
 * section; only the main key K_2 = first 32 bytes is used, as there is no length to encrypt).
 * 3des-cbc is refused (UNSUPPORTED_CIPHER).
 *
 * Wrong passphrase: the check-ints differ after decryption (CTR/CBC) or the tag fails (GCM,
 * ChaCha20-Poly1305); both are BAD_PASSPHRASE, as in OpenSSH.
 *
 * bcrypt rounds are bounded by ParsePrivateKeyOptions.maxBcryptRounds (default 4096): each round
 * costs one bcrypt_hash per 32 bytes of key + IV (≈ 4.6 ms here), so 16 rounds ≈ 0.15 s and
 * the default bound ≈ 38 s. A hostile file can otherwise ask for 2^32 − 1 rounds.
 */
import { cbc, ctr, gcm } from "@noble/ciphers/aes.js";
import { chacha20orig } from "@noble/ciphers/chacha.js";
import { poly1305 } from "@noble/ciphers/_poly1305.js";
import { SshReader } from "../wire/reader.js";
import { bcryptPbkdf } from "./bcrypt-pbkdf.js";
import { bytesEqual } from "./bigint.js";
import { ECDSA_TYPES, readEcdsaPrivate } from "./ecdsa.js";
import { ED25519, readEd25519Private } from "./ed25519.js";
import {
  checkKdfLimit,
  fail,
  orBadPassphrase,
  requirePassphrase,
  wipe,
  wrapSigner,
  type KeySigner,
  type ParsePrivateKeyOptions,
  type Passphrase,
  type PrivateKey,
} from "./key-common.js";
import { RSA, readRsaPrivate } from "./rsa.js";

export const OPENSSH_MAGIC = new TextEncoder().encode("openssh-key-v1\0");
export const OPENSSH_LABEL = "OPENSSH PRIVATE KEY";

interface Cipher {
  readonly keyLength: number;
  readonly ivLength: number;
  readonly blockSize: number;
  readonly tagLength: number;
  /** Decrypts (and for AEADs authenticates) the section; throws on a bad tag. */
  decrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array, tag: Uint8Array): Uint8Array;
}

const aesCtr = (keyLength: number): Cipher => ({
  keyLength, ivLength: 16, blockSize: 16, tagLength: 0,
  decrypt: (key, iv, data) => ctr(key, iv).decrypt(data),
});
const aesCbc = (keyLength: number): Cipher => ({
  keyLength, ivLength: 16, blockSize: 16, tagLength: 0,
  decrypt: (key, iv, data) => cbc(key, iv, { disablePadding: true }).decrypt(data),
});
const aesGcm = (keyLength: number): Cipher => ({
  keyLength, ivLength: 12, blockSize: 16, tagLength: 16,
  decrypt: (key, iv, data, tag) => {
    const sealed = new Uint8Array(data.length + tag.length);
    sealed.set(data);
    sealed.set(tag, data.length);
    return gcm(key, iv).decrypt(sealed);
  },
});
const chachaPoly: Cipher = {
  keyLength: 64, ivLength: 0, blockSize: 8, tagLength: 16,
  decrypt: (key, _iv, data, tag) => {
    const k2 = key.subarray(0, 32);
    const nonce = new Uint8Array(8); // the packet sequence number, 0 for key files
    const polyKey = chacha20orig(k2, nonce, new Uint8Array(32), undefined, 0);
    const ok = bytesEqual(poly1305(data, polyKey), tag);
    wipe(polyKey);
    if (!ok) throw new Error("Poly1305 tag mismatch");
    return chacha20orig(k2, nonce, data, undefined, 1);
  },
};

const CIPHERS: Record<string, Cipher> = {
  "aes128-ctr": aesCtr(16),
  "aes192-ctr": aesCtr(24),
  "aes256-ctr": aesCtr(32),
  "aes128-cbc": aesCbc(16),
  "aes192-cbc": aesCbc(24),
  "aes256-cbc": aesCbc(32),
  "aes128-gcm@openssh.com": aesGcm(16),
  "aes256-gcm@openssh.com": aesGcm(32),
  "chacha20-poly1305@openssh.com": chachaPoly,
};

/** Ciphers this module can decrypt, for messages and tests. */
export const OPENSSH_KEY_CIPHERS = Object.keys(CIPHERS);

function decryptSection(
  cipherName: string, cipher: Cipher, kdf: string, kdfOptions: Uint8Array,
  section: Uint8Array, tag: Uint8Array, passphrase: Passphrase | undefined, options: ParsePrivateKeyOptions | undefined,
): Uint8Array {
  if (kdf !== "bcrypt") fail(`unsupported key derivation "${kdf}" for an encrypted key`, "UNSUPPORTED_CIPHER");
  const o = new SshReader(kdfOptions, "bcrypt kdf options");
  const salt = o.string();
  const rounds = o.uint32();
  o.end();
  if (salt.length === 0 || salt.length > 1024) fail(`bcrypt salt of ${salt.length} bytes`);
  if (rounds < 1) fail("bcrypt rounds is 0");
  const pass = requirePassphrase(passphrase, `${cipherName}, kdf bcrypt`);
  let material: Uint8Array | undefined;
  try {
    checkKdfLimit(options, "maxBcryptRounds", rounds, "bcrypt_pbkdf rounds");
    material = bcryptPbkdf(pass, salt, rounds, cipher.keyLength + cipher.ivLength);
    const key = material.subarray(0, cipher.keyLength);
    const iv = material.subarray(cipher.keyLength);
    return orBadPassphrase(
      () => cipher.decrypt(key, iv, section, tag),
      "wrong passphrase (authentication tag mismatch)",
    );
  } finally {
    wipe(pass, material);
  }
}

/**
 * Refuses a private section of an unknown type. The name comes from the (decrypted) private
 * section, and messages never show key material: it is echoed only when it looks like an SSH
 * algorithm name (lower-case, at most 64 characters, RFC 4251 §6). SshReader.ascii() already
 * refuses binary bytes, so a misaligned read of a corrupt file cannot echo key bytes either.
 */
function unsupportedType(type: string): never {
  const named = /^[a-z0-9][a-z0-9@.+_-]{0,63}$/.test(type) ? ` "${type}"` : "";
  return fail(`unsupported private key type${named}`, "UNSUPPORTED_KEY_TYPE");
}

/** Parses the binary (base64-decoded) form of an openssh-key-v1 file. */
export function parseOpensshKey(bin: Uint8Array, passphrase?: Passphrase, options?: ParsePrivateKeyOptions): PrivateKey {
  const r = new SshReader(bin, "OpenSSH private key");
  if (!bytesEqual(r.raw(OPENSSH_MAGIC.length), OPENSSH_MAGIC)) fail("not an openssh-key-v1 key (bad magic)");
  const cipherName = r.ascii();
  const kdf = r.ascii();
  const kdfOptions = r.string();
  const count = r.uint32();
  // OpenSSH itself only ever writes and reads files with exactly one key.
  if (count !== 1) fail(`OpenSSH private key file holds ${count} keys; exactly one is supported`);
  const outerPublic = r.string();
  const section = r.string();

  let plain: Uint8Array;
  let blockSize = 8; // PROTOCOL.key §3: padded to the cipher block size, 8 for "none"
  if (cipherName === "none") {
    r.end();
    if (kdf !== "none" || kdfOptions.length !== 0) fail(`unencrypted key with kdf "${kdf}"`);
    plain = section;
  } else {
    const cipher = CIPHERS[cipherName];
    if (!cipher) fail(`OpenSSH key cipher "${cipherName}" is not supported; re-encrypt with ssh-keygen -p -Z aes256-ctr`, "UNSUPPORTED_CIPHER");
    const tag = r.raw(cipher.tagLength);
    r.end();
    blockSize = cipher.blockSize;
    if (section.length === 0 || section.length % blockSize !== 0) fail(`encrypted section is not a multiple of ${blockSize} bytes`);
    plain = decryptSection(cipherName, cipher, kdf, kdfOptions, section, tag, passphrase, options);
  }
  try {
    return parseSection(plain, blockSize, outerPublic);
  } finally {
    // A decrypted section is ours to wipe; an unencrypted one is part of the caller's input
    // (parsePrivateKey wipes the base64-decoded copy it made of a text file).
    if (cipherName !== "none") wipe(plain);
  }
}

/** The private section (PROTOCOL.key §3), decrypted: check-ints, the key, comment, padding. */
function parseSection(plain: Uint8Array, blockSize: number, outerPublic: Uint8Array): PrivateKey {
  if (plain.length % blockSize !== 0) fail(`private key section is not a multiple of ${blockSize} bytes`);

  const p = new SshReader(plain, "OpenSSH private key section");
  // Two equal random check-ints: after decryption they prove the passphrase was right. Unencrypted,
  // a mismatch means corruption; OpenSSH reports both as "wrong passphrase", and so do we.
  if (p.uint32() !== p.uint32()) fail("check-ints differ: wrong passphrase or corrupt key", "BAD_PASSPHRASE");
  const type = p.ascii();
  let signer: KeySigner;
  if (type === ED25519) signer = readEd25519Private(p);
  else if (type === RSA) signer = readRsaPrivate(p);
  else if (ECDSA_TYPES.includes(type)) signer = readEcdsaPrivate(p, type);
  else unsupportedType(type);
  const comment = p.utf8();
  const padding = p.rest();
  // Padding is 1, 2, 3, … (PROTOCOL.key §3); OpenSSH rejects anything else, which also catches
  // most corruption of the fields above.
  if (padding.some((b, i) => b !== i + 1)) fail("bad padding in private key section");
  if (!bytesEqual(signer.publicBlob, outerPublic)) fail("corrupt key: public key does not match private key");
  return wrapSigner(type, comment, signer);
}
