/** openssh-key-v1 parsing: error codes for other formats, encryption and corruption. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { generateEd25519Key, parsePrivateKey } from "../../src/ssh/keys/private-key.js";
import { parsePublicKey } from "../../src/ssh/keys/public-key.js";
import { SshError } from "../../src/errors.js";
import { SshReader } from "../../src/ssh/wire/reader.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import { keygen, run, tempDir, type GeneratedKey } from "./helpers.js";

interface V1 {
  cipher: string;
  kdf: string;
  kdfOptions: Uint8Array;
  publics: Uint8Array[];
  section: Uint8Array;
}
const MAGIC = "openssh-key-v1\0";

function unarmor(text: string): Uint8Array {
  const body = text.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  return new Uint8Array(Buffer.from(body, "base64"));
}
function armor(bin: Uint8Array): string {
  const b64 = Buffer.from(bin).toString("base64").match(/.{1,70}/g)!.join("\n");
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`;
}
function split(text: string): V1 {
  const r = new SshReader(unarmor(text));
  r.raw(MAGIC.length);
  const [cipher, kdf, kdfOptions] = [r.ascii(), r.ascii(), r.string()];
  const n = r.uint32();
  const publics = Array.from({ length: n }, () => r.string());
  return { cipher, kdf, kdfOptions, publics, section: r.string().slice() };
}
function join1(v: V1): string {
  const w = new SshWriter().raw(new TextEncoder().encode(MAGIC)).string(v.cipher).string(v.kdf).string(v.kdfOptions);
  w.uint32(v.publics.length);
  for (const p of v.publics) w.string(p);
  return armor(w.string(v.section).finish());
}
/** "CODE: message" of the SshError `f` throws. */
const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SshError);
    return `${(e as SshError).code}: ${(e as SshError).message}`;
  }
  return "no error";
};

let dir: string;
let ed: GeneratedKey;
let ec: GeneratedKey;
beforeAll(() => {
  dir = tempDir();
  ed = keygen(dir, "ed", ["-t", "ed25519"]);
  ec = keygen(dir, "ec", ["-t", "ecdsa", "-b", "256"]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("parsePrivateKey errors", () => {
  it("encrypted keys: PASSPHRASE_REQUIRED without a passphrase, decrypted with it, BAD_PASSPHRASE when wrong", () => {
    const enc = keygen(dir, "enc", ["-t", "ed25519"], []);
    run(["-p", "-q", "-P", "", "-N", "secret", "-a", "2", "-f", enc.path]);
    const text = readFileSync(enc.path, "utf8");
    expect(codeOf(() => parsePrivateKey(text))).toMatch(/^PASSPHRASE_REQUIRED:/);
    expect(parsePrivateKey(text, "secret").publicKey.fingerprint).toBe(parsePrivateKey(enc.privateText).publicKey.fingerprint);
    expect(codeOf(() => parsePrivateKey(text, "Secret"))).toMatch(/^BAD_PASSPHRASE:/);
  });

  it("other formats: parsed, or KEY_FORMAT naming what the text is", () => {
    for (const fmt of ["PEM", "PKCS8"] as const) {
      const p = join(dir, `ec.${fmt}`);
      copyFileSync(ec.path, p);
      run(["-p", "-q", "-P", "", "-N", "", "-m", fmt, "-f", p]);
      expect(parsePrivateKey(readFileSync(p, "utf8")).publicKey.fingerprint).toBe(parsePrivateKey(ec.privateText).publicKey.fingerprint);
    }
    expect(() => parsePrivateKey(ed.publicLine)).toThrow(/public key/);
    expect(codeOf(() => parsePrivateKey("PuTTY-User-Key-File-3: ssh-ed25519\n"))).toMatch(/^KEY_FORMAT: PPK: expected a "Encryption:" line/);
    expect(codeOf(() => parsePrivateKey("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))).toMatch(/^KEY_FORMAT: .*certificate/);
    expect(codeOf(() => parsePrivateKey("-----BEGIN FOO BAR-----\nAAAA\n-----END FOO BAR-----\n"))).toMatch(/^KEY_FORMAT: "FOO BAR"/);
    expect(codeOf(() => parsePrivateKey("hello"))).toMatch(/^KEY_FORMAT:/);
    expect(codeOf(() => parsePrivateKey(new Uint8Array([0xff, 0xfe, 0x00])))).toMatch(/^KEY_FORMAT:/);
    expect(codeOf(() => parsePrivateKey(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05])))).toMatch(/^KEY_FORMAT: .*unrecognised DER/);
    expect(codeOf(() => parsePrivateKey("x".repeat((1 << 20) + 1)))).toMatch(/^KEY_FORMAT: key file of \d+ bytes is too large/);
  });

  it("round-trips our own re-encoding unchanged (sanity check for the mutations below)", () => {
    expect(parsePrivateKey(join1(split(ed.privateText))).comment).toBe("ed@test");
  });

  it("check-int mismatch: BAD_PASSPHRASE", () => {
    const v = split(ed.privateText);
    v.section[0]! ^= 1;
    expect(codeOf(() => parsePrivateKey(join1(v)))).toMatch(/^BAD_PASSPHRASE:/);
  });

  it("corruption: KEY_FORMAT", () => {
    const mutate = (f: (v: V1) => void) => {
      const v = split(ed.privateText);
      f(v);
      return codeOf(() => parsePrivateKey(join1(v)));
    };
    // Seed byte flipped: the public half no longer matches.
    expect(mutate((v) => (v.section[8 + 15 + 36 + 4]! ^= 1))).toMatch(/^KEY_FORMAT: .*halves differ/);
    // Padding byte changed.
    expect(mutate((v) => (v.section[v.section.length - 1]! ^= 0x40))).toMatch(/^KEY_FORMAT: bad padding/);
    // Outer public key from another key.
    const other = parsePrivateKey(ec.privateText).publicKey.blob;
    expect(mutate((v) => (v.publics[0] = other))).toMatch(/^KEY_FORMAT: .*does not match/);
    // Two keys, truncated section, unaligned section, kdf without cipher.
    expect(mutate((v) => v.publics.push(v.publics[0]!))).toMatch(/^KEY_FORMAT: .*2 keys/);
    expect(mutate((v) => (v.section = v.section.subarray(0, 40)))).toMatch(/^KEY_FORMAT: malformed .*truncated/);
    expect(mutate((v) => (v.section = v.section.subarray(0, v.section.length - 3)))).toMatch(/^KEY_FORMAT: .*multiple of 8/);
    expect(mutate((v) => (v.kdf = "bcrypt"))).toMatch(/^KEY_FORMAT: unencrypted key with kdf/);
    // Unknown key type inside: same-length rename of "ssh-ed25519".
    expect(mutate((v) => (v.section[8 + 4 + 10] = 0x38))).toMatch(/^UNSUPPORTED_KEY_TYPE: .*"ssh-ed25518"/);
  });

  it("corrupt ECDSA scalar: KEY_FORMAT", () => {
    const v = split(ec.privateText);
    // Layout: checkints(8) type(4+19) curve(4+8) Q(4+65) mpint d(4+32|33) …
    const dAt = 8 + 23 + 12 + 69 + 4;
    v.section[dAt + 5]! ^= 1;
    expect(codeOf(() => parsePrivateKey(join1(v)))).toMatch(/^KEY_FORMAT: .*does not match public point/);
  });
});

describe("generateEd25519Key", () => {
  it("signs and verifies", async () => {
    const k = generateEd25519Key("me");
    const data = new TextEncoder().encode("hi");
    const sig = await k.sign("ssh-ed25519", data);
    expect(await k.publicKey.verify("ssh-ed25519", sig, data)).toBe(true);
    expect(await k.publicKey.verify("ssh-ed25519", sig, new Uint8Array(2))).toBe(false);
    expect(parsePublicKey(k.publicKey.blob).fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
