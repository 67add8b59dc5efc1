/**
 * bcrypt_pbkdf against published vectors: OpenBSD's regress/lib/libutil/bcrypt_pbkdf set (as
 * carried by RustCrypto's bcrypt-pbkdf tests), dchest/bcrypt_pbkdf's Go vectors including the
 * bare bcrypt_hash one, plus OpenSSH itself through the encrypted key fixtures.
 */
import { describe, expect, it } from "vitest";
import { BCRYPT_HASH_SIZE, bcryptHash, bcryptPbkdf } from "../../src/ssh/keys/bcrypt-pbkdf.js";
import { SshError } from "../../src/errors.js";
import { hex } from "./fixtures.js";

const bytes = (s: string) => new TextEncoder().encode(s);

// password, salt, rounds, expected key (its length is the key length).
const OPENBSD: [string, string, number, string][] = [
  ["password", "salt", 4, "5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9"],
  ["password", "\0", 4, "c12b566235eee04c212598970a579a67"],
  ["\0", "salt", 4, "6051be18c2f4f82cbf0efee5471b4bb9"],
  ["password\0", "salt\0", 4, "7410e44cf4fa07bfaac8a928b1727fac001375e7bf7384370f48efd121743050"],
  ["pass\0wor", "sa\0l", 4, "c2bffd9db38f6569efef4372f4de83c0"],
  ["pass\0word", "sa\0lt", 4, "4ba4ac3925c0e8d7f0cdb6bb1684a56f"],
  [
    "password", "salt", 8,
    "e1367ec5151a33faac4cc1c144cd23fa15d5548493ecc99b9b5d9c0d3b27bec76227ea66088b849b20ab7aa478010246e74bba51723fefa9f9474d6508845e8d",
  ],
  ["password", "salt", 42, "833cf0dcf56db65608e8f0dc0ce882bd"],
  [
    "Lorem ipsum dolor sit amet, consectetur adipisicing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. " +
      "Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. " +
      "Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. " +
      "Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.",
    "salis\0", 8, "10978b07253df57f71a162eb0e8ad30a",
  ],
];

const DCHEST: [string, string, number, string][] = [
  ["password", "salt", 12, "1ae42c05d487bc02f64921a4ebe4ea93bcacfe135fda99974c06b7b01fae149a"],
  ["passwordy\0PASSWORD\0", "salty\0SALT\0", 3, "7f310bd3e78c3280c59ce4595211a2928e8d4ec744c1ed2efc9f764e3388e0ad"],
  [
    "секретное слово", "посолить немножко", 8,
    "8df43fc6fe131fc47f0c9e39224bd94c70b6fcc8ee8135faddf61156e6cb2733ea765f315a3e1e4afc35bf8687d189254c1e05a6fe80c0617f9183d67260d6a1" +
      "15c6c94e3603e2303fbb43a76a64523ffda686b1d4518543",
  ],
];

describe("bcrypt_pbkdf", () => {
  it("bcrypt_hash(0..63, 64..127) matches the published value", () => {
    const pass = Uint8Array.from({ length: 64 }, (_, i) => i);
    const salt = Uint8Array.from({ length: 64 }, (_, i) => i + 64);
    expect(hex(bcryptHash(pass, salt))).toBe("87904870eef9deddf8e7611a140106e6aaf1a363d9a2c504db356443721eb555");
  });

  it.each(OPENBSD)("OpenBSD vector %#", (password, salt, rounds, expected) => {
    expect(hex(bcryptPbkdf(bytes(password), bytes(salt), rounds, expected.length / 2))).toBe(expected);
  });

  it.each(DCHEST)("dchest/bcrypt_pbkdf vector %#", (password, salt, rounds, expected) => {
    expect(hex(bcryptPbkdf(bytes(password), bytes(salt), rounds, expected.length / 2))).toBe(expected);
  });

  it("interleaves blocks: a longer key is not an extension of a shorter one", () => {
    const short = bcryptPbkdf(bytes("pw"), bytes("salt"), 2, 32);
    const long = bcryptPbkdf(bytes("pw"), bytes("salt"), 2, 48);
    // 48 bytes = 2 blocks, stride 2: block 1 fills the even positions with its first 24 bytes.
    expect(hex(long.filter((_, i) => i % 2 === 0))).toBe(hex(short.subarray(0, 24)));
    expect(hex(long.subarray(0, 32))).not.toBe(hex(short));
  });

  it("rejects what OpenSSH rejects, with SshError", () => {
    const bad: [Uint8Array, Uint8Array, number, number][] = [
      [bytes(""), bytes("salt"), 4, 32],
      [bytes("pw"), bytes(""), 4, 32],
      [bytes("pw"), bytes("salt"), 0, 32],
      [bytes("pw"), bytes("salt"), 4, 0],
      [bytes("pw"), bytes("salt"), 4, BCRYPT_HASH_SIZE * BCRYPT_HASH_SIZE + 1],
      [bytes("pw"), bytes("salt"), 1.5, 32],
    ];
    for (const [p, s, r, n] of bad) expect(() => bcryptPbkdf(p, s, r, n)).toThrow(SshError);
    expect(() => bcryptHash(new Uint8Array(63), new Uint8Array(64))).toThrow(SshError);
  });

  it("costs about 0.1–0.2 s at OpenSSH's default 16 rounds for a 48-byte aes256-ctr key + IV", () => {
    const t0 = performance.now();
    bcryptPbkdf(bytes("correct horse battery staple"), new Uint8Array(16), 16, 48);
    const ms = performance.now() - t0;
    console.log(`bcrypt_pbkdf, 16 rounds, 48 bytes: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(5000); // only a guard against pathological slowness
  });
});
