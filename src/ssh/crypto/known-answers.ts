/**
 * Known-answer checks run once per primitive and backend before a backend is trusted with
 * packets. Each exercises what SSH relies on, not just "the cipher exists": AES-GCM with AAD
 * (RFC 5647 §7.3 authenticates packet_length), AES-CTR carrying past 2^64 and continuing across
 * calls (RFC 4344 §4 runs one 128-bit counter through the connection), ChaCha20 with a nonce in
 * the last two state words and a stream split at a block boundary (OpenSSH's layout), HMAC over
 * two parts. The GCM/CTR/ChaCha20 answers are noble's and agree with OpenSSL; the HMAC answers
 * are RFC 2202 §3 / RFC 4231 §4.3 test case 2; the MD5 answers are RFC 1321 §A.5's test suite.
 */
import type { ChachaKey, ChachaPolyAadKey, CtrStream, GcmKey, HashName, HmacKey, PolyKey } from "./primitives.js";

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));
const counting = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Runs a check; a throw or rejection is a failed check (a runtime without the primitive). */
async function passes(check: () => boolean | Promise<boolean>): Promise<boolean> {
  try {
    return await check();
  } catch {
    return false;
  }
}

const GCM_SEALED: Record<number, string> = {
  16: "e40f218c2b6a90c83ff477deeb0ac5110a8d46b402c15d88bdf2132a5b382f9211373020ee230b1295f9a247c572237d",
  32: "5ddfba356dec1c94e25c22362354477ce7617c3d2ff76186dfc0d85c62696ae453e338de609c087d6fb06183dc6dee76",
};

/** Key 00..0f (or ..1f), nonce 10..1b, AAD 00000020, plaintext 20..3f. */
export function checkGcm(make: (key: Uint8Array) => GcmKey, keyLength: 16 | 32): Promise<boolean> {
  return passes(async () => {
    const key = make(counting(keyLength));
    const nonce = counting(12, 0x10);
    const aad = hex("00000020");
    const buf = new Uint8Array(48);
    buf.set(counting(32, 0x20));
    await key.seal(nonce, aad, buf.subarray(0, 32), buf);
    const expected = hex(GCM_SEALED[keyLength]!);
    if (!same(buf, expected)) return false;
    if (!same(await key.open(nonce, aad, expected.slice()), counting(32, 0x20))) return false;
    const forged = expected.slice();
    forged[47]! ^= 1;
    return (await passes(async () => (await key.open(nonce, aad, forged), true))) === false;
  });
}

const CTR_STREAM: Record<number, string> = {
  16: "40c29b8d0ca315d65ef7bc4e147f712dea6dde47b8bab5d0881276f069b4c6da8f65ffef0d7c7d3a62ee432b216ca0ba",
  24: "85ea965c71377aa206cb7f2fd465ee9369f15e3ea9e75e691e1c516d271d2034614c048a42d476060aa320a6bf029b2d",
  32: "6231c239506d4c5114362365bee61cdd2b207a6bb73d3b618968ebc1f337a6e0941ec904c21b75f09645e86164e04952",
};

/** Key 00.., IV 0001020304050607ffffffffffffffff (the second block carries into the high half), plaintext 40..6f. */
export function checkCtr(make: (key: Uint8Array, iv: Uint8Array) => CtrStream, keyLength: 16 | 24 | 32): Promise<boolean> {
  return passes(async () => {
    const stream = make(counting(keyLength), hex("0001020304050607ffffffffffffffff"));
    const plain = counting(48, 0x40);
    const first = stream.xorSync(plain.slice(0, 16));
    const rest = await stream.xor(plain.slice(16));
    return same(new Uint8Array([...first, ...rest]), hex(CTR_STREAM[keyLength]!));
  });
}

const CHACHA_KEYSTREAM =
  "8cea583fc7886a36cbaffaa595edd2e3a0d76956217379cdc6eabcd330936f24cc93ffa78f45908885cfa0eac4a5dd95" +
  "726a1318f4471646d17af1d6b9b0b6cbefe6a5f8a58ca89c10bfe8d68aec275e958c64511c4d281c1bd534e26ce8a585" +
  "37100f8d6a6f568f7d19870eda79eeb24e809a7f6b1ef702c7843a7c1167d0ed";

/**
 * Key 00..1f, nonce 0102030405060708, blocks 0 and 1 of the keystream in two calls: the first
 * into the caller's memory, the second into memory of the stream's own.
 */
export function checkChacha20(make: (key: Uint8Array) => ChachaKey): Promise<boolean> {
  return passes(() => {
    const s = make(counting(32)).stream(hex("0102030405060708"));
    const out = new Uint8Array(128);
    s.xor(new Uint8Array(64), out.subarray(0, 64));
    out.set(s.xor(new Uint8Array(64)), 64);
    return same(out, hex(CHACHA_KEYSTREAM));
  });
}

/**
 * Key 00..1f, nonce 00000000 0102030405060708, AAD 00..63 and no plaintext: the tag (noble's
 * chacha20poly1305 and OpenSSL's agree). poly1305-from-aead.ts would quietly fall back to noble
 * over an AEAD that answers wrong, so the AEAD is checked on its own, not only through it.
 */
export function checkChachaPolyAad(make: (key: Uint8Array) => ChachaPolyAadKey): Promise<boolean> {
  return passes(() => same(make(counting(32)).tag(hex("000000000102030405060708"), counting(100)), hex("363c932ea684ac833dd1482090fb03d4")));
}

/** Poly1305 tags of counting(n) under CHACHA_KEYSTREAM's first 32 bytes (noble's, and `openssl mac POLY1305`'s). */
const POLY1305_TAGS: [number, string][] = [
  [1100, "872041fa6ba5d17339fe9506e97cb286"],
  [4096, "5a10e4032267c8991c450159fef75f05"],
];

/**
 * Key 00..1f, nonce 0102030405060708 (the one-time key is block 0 of CHACHA_KEYSTREAM), over
 * messages long enough that a backend building Poly1305 from an AEAD (poly1305-from-aead.ts)
 * takes that path, one of them ending in a partial block and one in a whole one.
 */
export function checkPoly1305(make: (key: Uint8Array) => PolyKey): Promise<boolean> {
  return passes(() => {
    const poly = make(counting(32));
    const oneTimeKey = hex(CHACHA_KEYSTREAM.slice(0, 64));
    return POLY1305_TAGS.every(([n, tag]) => {
      const out = new Uint8Array(16);
      poly.tag(hex("0102030405060708"), oneTimeKey, counting(n), out);
      return same(out, hex(tag));
    });
  });
}

const HMAC_JEFE: Record<HashName, string> = {
  sha1: "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
  sha256: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  sha512:
    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554" +
    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
};

/** Key "Jefe", data "what do ya want for nothing?" given as two parts. */
export function checkHmac(make: (hash: HashName, key: Uint8Array) => HmacKey, hash: HashName): Promise<boolean> {
  const text = (s: string) => new TextEncoder().encode(s);
  return passes(() => {
    const mac = make(hash, text("Jefe"));
    const out = mac.mac(text("what do ya"), text(" want for nothing?"));
    return mac.length === out.length && same(out, hex(HMAC_JEFE[hash]));
  });
}

/** RFC 1321 §A.5: the empty string, "abc", and 80 digits (more than one 64-byte block). */
const MD5_SUITE: [string, string][] = [
  ["", "d41d8cd98f00b204e9800998ecf8427e"],
  ["abc", "900150983cd24fb0d6963f7d28e17f72"],
  ["12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"],
];

export function checkMd5(md5: (data: Uint8Array) => Uint8Array): Promise<boolean> {
  return passes(() => MD5_SUITE.every(([text, digest]) => same(md5(new TextEncoder().encode(text)), hex(digest))));
}
