/**
 * Encrypted openssh-key-v1: every cipher against keys ssh-keygen encrypts now (when installed),
 * the AEAD tags, the rounds limit, and malformed KDF fields.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { needTools } from "../support/tools.js";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parsePrivateKey } from "../../src/ssh/keys/private-key.js";
import { OPENSSH_KEY_CIPHERS } from "../../src/ssh/keys/openssh-key.js";
import { SshReader } from "../../src/ssh/wire/reader.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import { BEFORE_ANY_KDF_WORK_MS, PASS, codeOf, fixtureText, tool } from "./fixtures.js";
import { tempDir } from "./helpers.js";

interface V1 {
  cipher: string;
  kdf: string;
  kdfOptions: Uint8Array;
  publicKey: Uint8Array;
  section: Uint8Array;
  tail: Uint8Array;
}
const MAGIC = new TextEncoder().encode("openssh-key-v1\0");
const unarmor = (text: string) => new Uint8Array(Buffer.from(text.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64"));
function split(text: string): V1 {
  const r = new SshReader(unarmor(text));
  r.raw(MAGIC.length);
  const [cipher, kdf, kdfOptions] = [r.ascii(), r.ascii(), r.string().slice()];
  expect(r.uint32()).toBe(1);
  return { cipher, kdf, kdfOptions, publicKey: r.string().slice(), section: r.string().slice(), tail: r.rest().slice() };
}
function join1(v: V1): Uint8Array {
  return new SshWriter()
    .raw(MAGIC).string(v.cipher).string(v.kdf).string(v.kdfOptions).uint32(1).string(v.publicKey).string(v.section).raw(v.tail)
    .finish().slice();
}
const bcryptOptions = (salt: Uint8Array, rounds: number) => new SshWriter().string(salt).uint32(rounds).finish().slice();

let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("encrypted openssh-key-v1", () => {
  it("supports every cipher OpenSSH offers for key files except 3des-cbc", () => {
    expect(OPENSSH_KEY_CIPHERS.sort()).toEqual([
      "aes128-cbc", "aes128-ctr", "aes128-gcm@openssh.com", "aes192-cbc", "aes192-ctr",
      "aes256-cbc", "aes256-ctr", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
    ]);
  });

  it("decrypts fresh ssh-keygen keys with each cipher and several round counts", (ctx) => {
    needTools(ctx, "/usr/bin/ssh-keygen");
    for (const [cipher, rounds, type] of [
      ["aes256-ctr", "1", "ed25519"], ["aes128-ctr", "3", "ecdsa"], ["aes256-cbc", "2", "ed25519"],
      ["aes256-gcm@openssh.com", "1", "ecdsa"], ["chacha20-poly1305@openssh.com", "2", "ed25519"],
    ] as const) {
      const path = join(dir, `k-${cipher}-${rounds}`);
      tool("/usr/bin/ssh-keygen", ["-q", "-t", type, "-N", "pw 🔑", "-Z", cipher, "-a", rounds, "-C", "c", "-f", path]);
      const key = parsePrivateKey(readFileSync(path, "utf8"), "pw 🔑");
      expect(`${key.type} ${Buffer.from(key.publicKey.blob).toString("base64")} c`).toBe(readFileSync(path + ".pub", "utf8").trim());
      expect(split(readFileSync(path, "utf8")).cipher).toBe(cipher);
    }
  });

  it("treats a broken GCM or Poly1305 tag as a wrong passphrase", () => {
    for (const file of ["openssh/rsa2048.aes256-gcm.rounds1", "openssh/ed25519.chacha20-poly1305"]) {
      const v = split(fixtureText(file));
      expect(v.tail).toHaveLength(16);
      v.tail[3]! ^= 1;
      expect(codeOf(() => parsePrivateKey(join1(v), PASS))).toMatch(/^BAD_PASSPHRASE: .*tag/);
      v.tail[3]! ^= 1;
      v.section[20]! ^= 1;
      expect(codeOf(() => parsePrivateKey(join1(v), PASS))).toMatch(/^BAD_PASSPHRASE:/);
    }
  });

  it("requires the tag for AEAD ciphers and nothing after it", () => {
    const v = split(fixtureText("openssh/rsa2048.aes256-gcm.rounds1"));
    expect(codeOf(() => parsePrivateKey(join1({ ...v, tail: v.tail.subarray(0, 15) }), PASS))).toMatch(/^KEY_FORMAT: .*truncated/);
    expect(codeOf(() => parsePrivateKey(join1({ ...v, tail: Uint8Array.from([...v.tail, 0]) }), PASS))).toMatch(/^KEY_FORMAT: .*trailing/);
    const ctr = split(fixtureText("openssh/ed25519.aes256-ctr.rounds1"));
    expect(codeOf(() => parsePrivateKey(join1({ ...ctr, tail: new Uint8Array(1) }), PASS))).toMatch(/^KEY_FORMAT: .*trailing/);
  });

  it("bounds bcrypt rounds (KDF_LIMIT) before doing any work, and the bound is adjustable", () => {
    const v = split(fixtureText("openssh/ed25519.aes256-ctr.rounds1"));
    const salt = new SshReader(v.kdfOptions).string().slice();
    const huge = join1({ ...v, kdfOptions: bcryptOptions(salt, 0xffffffff) });
    const t0 = performance.now();
    expect(codeOf(() => parsePrivateKey(huge, PASS))).toMatch(/^KDF_LIMIT: bcrypt_pbkdf rounds is 4294967295, above the limit of 4096/);
    expect(performance.now() - t0).toBeLessThan(BEFORE_ANY_KDF_WORK_MS);
    expect(codeOf(() => parsePrivateKey(join1({ ...v, kdfOptions: bcryptOptions(salt, 17) }), PASS, { maxBcryptRounds: 16 }))).toMatch(/^KDF_LIMIT:/);
    // Without a passphrase the question of cost never arises.
    expect(codeOf(() => parsePrivateKey(huge))).toMatch(/^PASSPHRASE_REQUIRED:/);
    // Within the bound, a changed round count just gives a different key: wrong passphrase.
    expect(codeOf(() => parsePrivateKey(join1({ ...v, kdfOptions: bcryptOptions(salt, 2) }), PASS))).toMatch(/^BAD_PASSPHRASE:/);
  });

  it("rejects malformed KDF fields and unknown ciphers and KDFs", () => {
    const v = split(fixtureText("openssh/ed25519.aes256-ctr.rounds1"));
    const salt = new SshReader(v.kdfOptions).string().slice();
    const cases: [Partial<V1>, RegExp][] = [
      [{ kdfOptions: bcryptOptions(salt, 0) }, /^KEY_FORMAT: bcrypt rounds is 0/],
      [{ kdfOptions: bcryptOptions(new Uint8Array(0), 16) }, /^KEY_FORMAT: bcrypt salt of 0 bytes/],
      [{ kdfOptions: Uint8Array.from([...bcryptOptions(salt, 1), 0]) }, /^KEY_FORMAT: .*trailing bytes in bcrypt kdf options/],
      [{ kdfOptions: salt }, /^KEY_FORMAT: .*truncated/],
      [{ kdf: "scrypt" }, /^UNSUPPORTED_CIPHER: unsupported key derivation "scrypt"/],
      [{ kdf: "none" }, /^UNSUPPORTED_CIPHER:/],
      [{ cipher: "twofish256-ctr" }, /^UNSUPPORTED_CIPHER: .*twofish256-ctr/],
      [{ section: v.section.subarray(0, 40) }, /^KEY_FORMAT: encrypted section is not a multiple of 16/],
      [{ section: new Uint8Array(0) }, /^KEY_FORMAT: encrypted section/],
    ];
    for (const [change, expected] of cases) expect(codeOf(() => parsePrivateKey(join1({ ...v, ...change }), PASS))).toMatch(expected);
  });

  it("detects a wrong passphrase by the check-ints with CTR and CBC", () => {
    expect(codeOf(() => parsePrivateKey(fixtureText("openssh/ed25519.aes256-ctr.rounds1"), "Correct horse battery staple"))).toMatch(
      /^BAD_PASSPHRASE: check-ints differ/,
    );
  });

  it("rejects an encrypted key whose outer public key was swapped", () => {
    const v = split(fixtureText("openssh/ed25519.aes256-ctr.rounds1"));
    const other = split(fixtureText("base/ed25519"));
    expect(other.publicKey).toHaveLength(51);
    const swapped = parsePrivateKey(fixtureText("base/ecdsa256")).publicKey.blob;
    expect(codeOf(() => parsePrivateKey(join1({ ...v, publicKey: swapped }), PASS))).toMatch(/^KEY_FORMAT: .*does not match/);
  });
});
