/**
 * PuTTY .ppk specifics: MAC failures (tampering vs. wrong passphrase), Argon2 limits, header
 * strictness, line endings, and fresh files from puttygen when it is installed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { needTools } from "../support/tools.js";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parsePrivateKey } from "../../src/ssh/keys/private-key.js";
import { BEFORE_ANY_KDF_WORK_MS, PASS, codeOf, fixtureText, tool } from "./fixtures.js";
import { tempDir } from "./helpers.js";

let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const header = (text: string, name: string, value: string) => text.replace(new RegExp(`^${name}: .*$`, "m"), `${name}: ${value}`);

describe("PPK", () => {
  it("MAC mismatch on an unencrypted file is KEY_FORMAT", () => {
    for (const file of ["ppk/ed25519.v3.ppk", "ppk/rsa2048.v2.ppk"]) {
      const edited = header(fixtureText(file), "Comment", "someone else");
      expect(codeOf(() => parsePrivateKey(edited))).toMatch(/^KEY_FORMAT: PPK: MAC mismatch/);
    }
  });

  it("MAC mismatch on an encrypted file: KEY_FORMAT if the key decrypts consistently, else BAD_PASSPHRASE", () => {
    for (const file of ["ppk/ecdsa256.v3-argon2id.ppk", "ppk/ed25519.v2-aes.ppk"]) {
      const edited = header(fixtureText(file), "Comment", "someone else");
      expect(codeOf(() => parsePrivateKey(edited, PASS))).toMatch(/^KEY_FORMAT: PPK: MAC mismatch: the passphrase is right/);
      expect(codeOf(() => parsePrivateKey(edited, "nope"))).toMatch(/^BAD_PASSPHRASE:/);
      const badMac = fixtureText(file).replace(/^(Private-MAC: )(.)/m, (_, h: string, c: string) => h + (c === "0" ? "1" : "0"));
      expect(codeOf(() => parsePrivateKey(badMac, PASS))).toMatch(/^KEY_FORMAT: PPK: MAC mismatch/);
    }
  });

  it("bounds Argon2 memory and work (KDF_LIMIT) before running it", () => {
    const text = fixtureText("ppk/ed25519.v3-argon2id.ppk");
    const t0 = performance.now();
    expect(codeOf(() => parsePrivateKey(header(text, "Argon2-Memory", "4294967295"), PASS))).toMatch(/^KDF_LIMIT: Argon2 memory/);
    expect(codeOf(() => parsePrivateKey(header(text, "Argon2-Passes", "4294967295"), PASS))).toMatch(/^KDF_LIMIT: Argon2 memory × passes/);
    expect(performance.now() - t0).toBeLessThan(BEFORE_ANY_KDF_WORK_MS);
    expect(codeOf(() => parsePrivateKey(text, PASS, { maxArgon2MemoryKiB: 512 }))).toMatch(/^KDF_LIMIT:/);
    expect(codeOf(() => parsePrivateKey(text, PASS, { maxArgon2Work: 2047 }))).toMatch(/^KDF_LIMIT:/);
    expect(parsePrivateKey(text, PASS, { maxArgon2Work: 2048 }).type).toBe("ssh-ed25519");
  });

  it("rejects invalid Argon2 parameters and unknown KDFs and ciphers", () => {
    const text = fixtureText("ppk/ed25519.v3-argon2id.ppk");
    expect(codeOf(() => parsePrivateKey(header(text, "Argon2-Parallelism", "0"), PASS))).toMatch(/^KEY_FORMAT: PPK: invalid Argon2/);
    expect(codeOf(() => parsePrivateKey(header(text, "Argon2-Passes", "0"), PASS))).toMatch(/^KEY_FORMAT: PPK: invalid Argon2/);
    expect(codeOf(() => parsePrivateKey(header(text, "Argon2-Salt", "0011"), PASS))).toMatch(/^KEY_FORMAT: PPK: invalid Argon2/);
    expect(codeOf(() => parsePrivateKey(header(text, "Argon2-Salt", "xyz"), PASS))).toMatch(/^KEY_FORMAT: PPK: Argon2-Salt is not hex/);
    expect(codeOf(() => parsePrivateKey(header(text, "Argon2-Memory", "-1"), PASS))).toMatch(/^KEY_FORMAT: PPK: bad Argon2-Memory/);
    expect(codeOf(() => parsePrivateKey(header(text, "Key-Derivation", "scrypt"), PASS))).toMatch(/^UNSUPPORTED_CIPHER: .*"scrypt"/);
    expect(codeOf(() => parsePrivateKey(header(text, "Key-Derivation", "toString"), PASS))).toMatch(/^UNSUPPORTED_CIPHER:/);
    expect(codeOf(() => parsePrivateKey(header(text, "Encryption", "aes128-cbc"), PASS))).toMatch(/^UNSUPPORTED_CIPHER: .*aes128-cbc/);
  });

  it("is strict about structure", () => {
    const text = fixtureText("ppk/ecdsa384.v3.ppk");
    expect(codeOf(() => parsePrivateKey(text.replace("File-3:", "File-1:")))).toMatch(/^KEY_FORMAT: PPK format version 1/);
    expect(codeOf(() => parsePrivateKey(text.replace(/^Comment: .*\n/m, "")))).toMatch(/^KEY_FORMAT: PPK: expected a "Comment:" line/);
    expect(codeOf(() => parsePrivateKey(header(text, "Private-Lines", "9")))).toMatch(/^KEY_FORMAT: /);
    expect(codeOf(() => parsePrivateKey(header(text, "Public-Lines", "99999")))).toMatch(/^KEY_FORMAT: PPK: bad Public-Lines/);
    expect(codeOf(() => parsePrivateKey(text + "extra\n"))).toMatch(/^KEY_FORMAT: PPK: unexpected text/);
    expect(codeOf(() => parsePrivateKey(header(text, "PuTTY-User-Key-File-3", "ssh-ed25519")))).toMatch(/^KEY_FORMAT: PPK: public key type differs|MAC/);
    const unencryptedWithKdf = text.replace(/^Private-Lines/m, "Key-Derivation: Argon2id\nPrivate-Lines");
    expect(codeOf(() => parsePrivateKey(unencryptedWithKdf))).toMatch(/^KEY_FORMAT: PPK: key derivation parameters on an unencrypted key/);
  });

  it("accepts CRLF and CR line endings (PuTTY writes LF, older versions CRLF)", () => {
    const text = fixtureText("ppk/rsa2048.v2-aes.ppk");
    const want = parsePrivateKey(text, PASS).publicKey.fingerprint;
    expect(parsePrivateKey(text.replace(/\n/g, "\r\n"), PASS).publicKey.fingerprint).toBe(want);
    expect(parsePrivateKey(text.replace(/\n/g, "\r"), PASS).publicKey.fingerprint).toBe(want);
  });

  it("reads files puttygen writes now, and refuses DSA and Ed448 keys by type", (ctx) => {
    needTools(ctx, "/usr/bin/puttygen");
    const pp = join(dir, "pass");
    writeFileSync(pp, "fresh pass\n");
    for (const [type, bits, params] of [["ed25519", "", "version=3,memory=256,passes=1"], ["ecdsa", "384", "version=2"], ["rsa", "1024", "version=3,kdf=argon2d,memory=64,passes=2"]] as const) {
      const path = join(dir, `fresh-${type}.ppk`);
      const args = ["-q", "-t", type, "-C", "fresh", "-o", path, "--new-passphrase", pp, "--ppk-param", params];
      if (bits) args.push("-b", bits);
      tool("/usr/bin/puttygen", args);
      const key = parsePrivateKey(readFileSync(path, "utf8"), "fresh pass");
      const line = tool("/usr/bin/puttygen", [path, "-L", "--old-passphrase", pp]).trim();
      expect(`${key.type} ${Buffer.from(key.publicKey.blob).toString("base64")} ${key.comment}`).toBe(line);
    }
    const empty = join(dir, "empty");
    writeFileSync(empty, "\n");
    for (const type of ["dsa", "ed448"]) {
      const path = join(dir, `fresh-${type}.ppk`);
      tool("/usr/bin/puttygen", ["-q", "-t", type, ...(type === "dsa" ? ["-b", "1024"] : []), "-o", path, "--new-passphrase", empty, "--ppk-param", "version=3"]);
      expect(codeOf(() => parsePrivateKey(readFileSync(path, "utf8")))).toMatch(/^UNSUPPORTED_KEY_TYPE: PPK key type "ssh-(dss|ed448)"/);
    }
  });
});
