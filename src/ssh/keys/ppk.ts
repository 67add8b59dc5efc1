/**
 * PuTTY private key files, .ppk format versions 2 and 3 (PuTTY manual appendix C), as
 * puttygen ≥ 0.52 / ≥ 0.75 write them:
 *
 *   PuTTY-User-Key-File-<2|3>: <key type>
 *   Encryption: none | aes256-cbc
 *   Comment: <text>
 *   Public-Lines: n, then n lines of base64 public blob
 *   [v3, encrypted] Key-Derivation: Argon2id|Argon2i|Argon2d, Argon2-Memory (KiB),
 *                   Argon2-Passes, Argon2-Parallelism, Argon2-Salt (hex)
 *   Private-Lines: n, then n lines of base64 private blob (encrypted, padded to 16 bytes)
 *   Private-MAC: <hex>
 *
 * v2: cipher key = SHA-1(BE32(0) || pass) || SHA-1(BE32(1) || pass), first 32 bytes, IV zero;
 * MAC = HMAC-SHA-1 keyed with SHA-1("putty-private-key-file-mac-key" || pass). v3: Argon2
 * (no secret, no associated data) outputs cipher key (32) || IV (16) || MAC key (32); MAC =
 * HMAC-SHA-256, with an empty key when unencrypted. The MAC covers string type, string
 * encryption, string comment, string public blob, string private plaintext (with padding).
 *
 * A MAC mismatch on an encrypted file means a wrong passphrase (BAD_PASSPHRASE) unless the
 * decrypted private key matches the public key, which proves the passphrase right and the file
 * edited (KEY_FORMAT "MAC mismatch"); the key is never returned then. Argon2 cost is bounded by
 * ParsePrivateKeyOptions.maxArgon2MemoryKiB / maxArgon2Work.
 */
import { cbc } from "@noble/ciphers/aes.js";
import { argon2d, argon2i, argon2id } from "@noble/hashes/argon2.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { SshError } from "../../errors.js";
import { decodeBase64 } from "../wire/base64.js";
import { SshReader } from "../wire/reader.js";
import { SshWriter } from "../wire/writer.js";
import { bytesEqual } from "./bigint.js";
import { ECDSA_TYPES, ecdsaSignerFromScalar } from "./ecdsa.js";
import { ED25519, ed25519SignerFromSeed } from "./ed25519.js";
import {
  checkKdfLimit,
  fail,
  requirePassphrase,
  wipe,
  wrapSigner,
  type KeySigner,
  type ParsePrivateKeyOptions,
  type Passphrase,
  type PrivateKey,
} from "./key-common.js";
import { RSA, rsaSignerFromComponents } from "./rsa.js";

export const PPK_PREFIX = "PuTTY-User-Key-File-";
const ARGON2 = { Argon2id: argon2id, Argon2i: argon2i, Argon2d: argon2d } as const;
const MAX_LINES = 1024;
const utf8 = new TextEncoder();

/** Reads "Name: value" lines in the fixed order PuTTY writes them. */
class Lines {
  private i = 0;
  constructor(private readonly lines: string[]) {}

  header(name: string): string {
    const line = this.lines[this.i];
    if (line === undefined || !line.startsWith(`${name}: `)) fail(`PPK: expected a "${name}:" line at line ${this.i + 1}`);
    this.i++;
    return line.slice(name.length + 2);
  }

  peek(name: string): boolean {
    return this.lines[this.i]?.startsWith(`${name}: `) ?? false;
  }

  number(name: string, max: number): number {
    const v = this.header(name);
    if (!/^[0-9]{1,10}$/.test(v) || Number(v) > max) fail(`PPK: bad ${name} "${v.slice(0, 20)}"`);
    return Number(v);
  }

  base64(name: string): Uint8Array {
    const n = this.number(name, MAX_LINES);
    const body = this.lines.slice(this.i, this.i + n);
    if (body.length !== n) fail(`PPK: ${name} says ${n} lines but the file ends`);
    this.i += n;
    return decodeBase64(body.join(""), `PPK ${name}`);
  }

  end(): void {
    if (this.lines.slice(this.i).some((l) => l !== "")) fail(`PPK: unexpected text at line ${this.i + 1}`);
  }
}

const hexBytes = (s: string, what: string): Uint8Array => {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(s)) fail(`PPK: ${what} is not hex`);
  return Uint8Array.from(s.match(/../g)!, (h) => parseInt(h, 16));
};

/** The private key from the two blobs; throws when they are inconsistent. */
function signerFor(type: string, publicBlob: Uint8Array, privateBlob: Uint8Array): KeySigner {
  const pub = new SshReader(publicBlob, "PPK public key");
  if (pub.ascii() !== type) fail("PPK: public key type differs from the header");
  const priv = new SshReader(privateBlob, "PPK private key");
  let signer: KeySigner;
  if (type === RSA) {
    const e = pub.mpint();
    const n = pub.mpint();
    const [d, p, q, iqmp] = [priv.mpint(), priv.mpint(), priv.mpint(), priv.mpint()];
    signer = rsaSignerFromComponents(n, e, d, iqmp, p, q);
  } else if (type === ED25519) {
    signer = ed25519SignerFromSeed(priv.string(), pub.string());
  } else if (ECDSA_TYPES.includes(type)) {
    pub.string(); // curve id, checked by the blob comparison below
    signer = ecdsaSignerFromScalar(type, priv.mpint(), pub.string());
  } else {
    fail(`PPK key type "${type}" is not supported`, "UNSUPPORTED_KEY_TYPE");
  }
  pub.end();
  // Whatever follows the fields is padding (random in v3); the MAC covers it.
  if (!bytesEqual(signer.publicBlob, publicBlob)) fail("corrupt PPK: public key does not match private key");
  return signer;
}

interface Keys {
  cipherKey: Uint8Array;
  iv: Uint8Array;
  macKey: Uint8Array;
}

function v2Keys(pass: Uint8Array): Keys {
  const block = (n: number) => {
    const input = new SshWriter(pass.length + 4).uint32(n).raw(pass).finish();
    const digest = sha1(input);
    wipe(input);
    return digest;
  };
  const cipherKey = new Uint8Array(40);
  for (const n of [0, 1]) {
    const digest = block(n);
    cipherKey.set(digest, 20 * n);
    wipe(digest);
  }
  const label = utf8.encode("putty-private-key-file-mac-key");
  const macInput = new Uint8Array(label.length + pass.length);
  macInput.set(label);
  macInput.set(pass, label.length);
  const macKey = sha1(macInput);
  wipe(macInput);
  const key = cipherKey.slice(0, 32);
  wipe(cipherKey);
  return { cipherKey: key, iv: new Uint8Array(16), macKey };
}

/** Zeroes the derived keys (for v3 the three are the whole Argon2 output). */
function wipeKeys(keys: Keys): void {
  wipe(keys.cipherKey, keys.iv, keys.macKey);
}

function v3Keys(lines: Lines, pass: Uint8Array, options: ParsePrivateKeyOptions | undefined): Keys {
  const kdfName = lines.header("Key-Derivation");
  const kdf = ARGON2[kdfName as keyof typeof ARGON2];
  if (!Object.hasOwn(ARGON2, kdfName) || !kdf) fail(`PPK key derivation "${kdfName}" is not supported`, "UNSUPPORTED_CIPHER");
  const m = lines.number("Argon2-Memory", 0xffffffff);
  const t = lines.number("Argon2-Passes", 0xffffffff);
  const p = lines.number("Argon2-Parallelism", 0xffffff);
  const salt = hexBytes(lines.header("Argon2-Salt"), "Argon2-Salt");
  checkKdfLimit(options, "maxArgon2MemoryKiB", m, "Argon2 memory (KiB)");
  checkKdfLimit(options, "maxArgon2Work", m * t, "Argon2 memory × passes (KiB)");
  if (t < 1 || p < 1 || p > 64 || m < 8 * p || salt.length < 8 || salt.length > 1024) {
    fail(`PPK: invalid Argon2 parameters (memory ${m}, passes ${t}, parallelism ${p}, salt ${salt.length} bytes)`);
  }
  let out: Uint8Array;
  try {
    out = kdf(pass, salt, { t, m, p, dkLen: 80, maxmem: m * 1024 + (1 << 20) });
  } catch (err) {
    throw new SshError("KEY_FORMAT", `PPK: Argon2 refused its parameters: ${(err as Error).message}`);
  }
  return { cipherKey: out.subarray(0, 32), iv: out.subarray(32, 48), macKey: out.subarray(48, 80) };
}

/** Parses a .ppk file (its text). */
export function parsePpk(text: string, passphrase?: Passphrase, options?: ParsePrivateKeyOptions): PrivateKey {
  const lines = new Lines(text.split(/\r\n|\r|\n/));
  const first = /^PuTTY-User-Key-File-([0-9]+): (.*)$/.exec(text.slice(0, 200).split(/\r|\n/)[0] ?? "");
  if (!first) fail("not a PuTTY key file");
  const version = first[1]!;
  if (version !== "2" && version !== "3") fail(`PPK format version ${version} is not supported (only 2 and 3): re-save it with a current puttygen`);
  const type = lines.header(`PuTTY-User-Key-File-${version}`);
  const encryption = lines.header("Encryption");
  if (encryption !== "none" && encryption !== "aes256-cbc") fail(`PPK encryption "${encryption}" is not supported`, "UNSUPPORTED_CIPHER");
  const encrypted = encryption !== "none";
  const comment = lines.header("Comment");
  const publicBlob = lines.base64("Public-Lines");

  let keys: Keys;
  if (!encrypted) keys = version === "2" ? v2Keys(new Uint8Array(0)) : { cipherKey: new Uint8Array(0), iv: new Uint8Array(0), macKey: new Uint8Array(0) };
  else {
    const pass = requirePassphrase(passphrase, `PuTTY ${encryption}`);
    try {
      keys = version === "2" ? v2Keys(pass) : v3Keys(lines, pass, options);
    } finally {
      wipe(pass);
    }
  }
  let privateBlob: Uint8Array | undefined;
  let macData: Uint8Array | undefined;
  try {
    if (!encrypted && lines.peek("Key-Derivation")) fail("PPK: key derivation parameters on an unencrypted key");
    privateBlob = lines.base64("Private-Lines");
    const mac = hexBytes(lines.header("Private-MAC"), "Private-MAC");
    lines.end();

    if (encrypted) {
      if (privateBlob.length === 0 || privateBlob.length % 16 !== 0) fail("PPK: encrypted private key is not whole AES blocks");
      privateBlob = cbc(keys.cipherKey, keys.iv, { disablePadding: true }).decrypt(privateBlob);
    }
    // Sized to fit, so the writer never leaves a stale copy of the private blob behind.
    macData = new SshWriter(publicBlob.length + privateBlob.length + type.length + encryption.length + utf8.encode(comment).length + 32)
      .string(type).string(encryption).string(comment).string(publicBlob).string(privateBlob).finish();
    const expected = version === "2" ? hmac(sha1, keys.macKey, macData) : hmac(sha256, keys.macKey, macData);
    return checkedKey(expected, mac, encrypted, type, comment, publicBlob, privateBlob);
  } finally {
    // The private blob (decrypted, or plain base64-decoded) and everything derived from the
    // passphrase; the signer has taken its own copy of the key.
    wipe(privateBlob, macData);
    wipeKeys(keys);
  }
}

/** Compares the MAC and returns the key; tells a wrong passphrase from a modified file. */
function checkedKey(
  expected: Uint8Array, mac: Uint8Array, encrypted: boolean, type: string, comment: string, publicBlob: Uint8Array, privateBlob: Uint8Array,
): PrivateKey {
  if (!bytesEqual(expected, mac)) {
    if (!encrypted) fail("PPK: MAC mismatch: the file is corrupt or was modified");
    let consistent = false;
    try {
      signerFor(type, publicBlob, privateBlob);
      consistent = true;
    } catch {
      consistent = false;
    }
    if (consistent) fail("PPK: MAC mismatch: the passphrase is right but the file was modified");
    fail("wrong passphrase (PPK MAC mismatch)", "BAD_PASSPHRASE");
  }
  return wrapSigner(type, comment, signerFor(type, publicBlob, privateBlob));
}
