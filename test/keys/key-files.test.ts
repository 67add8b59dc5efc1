/**
 * Every committed fixture (test/vectors/keys/manifest.json) through parsePrivateKey: the right
 * type and public key, signatures that verify, and the passphrase error codes. Where the tools
 * are installed, the public key is also checked against `ssh-keygen -y` / `puttygen -L` /
 * `openssl pkey -pubout` on the same file, and OpenSSH verifies a signature made with the key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { needTools } from "../support/tools.js";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parsePrivateKey, type PrivateKey } from "../../src/ssh/keys/private-key.js";
import { parsePublicKeyLine } from "../../src/ssh/keys/public-key.js";
import { SshReader } from "../../src/ssh/wire/reader.js";
import {
  FIXTURES,
  TOOLS,
  basePublicLine,
  b64,
  codeOf,
  fixtureInput,
  privateCopy,
  tool,
  toolBytes,
  VECTORS,
  type Fixture,
} from "./fixtures.js";
import { makeSshsig, sshsigSignedData, tempDir } from "./helpers.js";

const ALGORITHMS: Record<string, string[]> = {
  "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
};
const message = new TextEncoder().encode("signed by a key read from a file\n");
const keyFixtures = FIXTURES.filter((f) => f.format !== "public" && !f.error);
const refused = FIXTURES.filter((f) => f.error);
const encrypted = keyFixtures.filter((f) => f.passphrase !== null);

let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The public key line the named tool derives from the same file (undefined: tool missing). */
function toolPublicLine(f: Fixture): string | undefined {
  const path = privateCopy(f, dir);
  if (f.format === "ppk") {
    if (!TOOLS.puttygen) return undefined;
    const args = [path, "-L"];
    if (f.passphrase !== null) {
      writeFileSync(join(dir, "pp"), f.passphrase + "\n");
      args.push("--old-passphrase", join(dir, "pp"));
    }
    return tool("/usr/bin/puttygen", args).trim();
  }
  if (f.base === "ed25519-openssl" || f.file.endsWith(".der")) {
    // ssh-keygen 9.x reads neither PKCS#8 Ed25519 nor DER; openssl prints the SPKI.
    if (!TOOLS.openssl) return undefined;
    const args = ["pkey", "-in", path, "-pubout", "-outform", "DER", "-passin", `pass:${f.passphrase ?? ""}`];
    if (f.file.endsWith(".der")) args.push("-inform", "DER");
    const spki = toolBytes("/usr/bin/openssl", args);
    return f.base === "ed25519-openssl" ? `ssh-ed25519 ${b64(Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), spki.subarray(-32)]))}` : undefined;
  }
  if (!TOOLS.sshKeygen) return undefined;
  return tool("/usr/bin/ssh-keygen", ["-y", "-P", f.passphrase ?? "", "-f", path]).trim();
}

describe.each(keyFixtures.map((f) => [f.file, f] as const))("%s", (_name, f) => {
  let key: PrivateKey;
  beforeAll(() => {
    key = parsePrivateKey(fixtureInput(f), f.passphrase ?? undefined);
  });

  it("has the public key of the key it was made from", () => {
    const expected = parsePublicKeyLine(basePublicLine(f));
    expect(key.type).toBe(expected.key.type);
    expect(b64(key.publicKey.blob)).toBe(b64(expected.key.blob));
    // Formats with comments keep the ssh-keygen one; PEM/PKCS#8 have none.
    expect(key.comment).toBe(f.format === "openssh" || f.format === "ppk" ? `${f.base}@fixture` : "");
  });

  it("matches the public key the reference tool derives from the same file", () => {
    const line = toolPublicLine(f);
    if (line === undefined) return; // tool not installed (or cannot read this file)
    expect(b64(key.publicKey.blob)).toBe(line.split(/\s+/)[1]);
  });

  it("signs with every algorithm of its type, and the signatures verify", async () => {
    for (const alg of ALGORITHMS[key.type] ?? [key.type]) {
      const sig = await key.sign(alg, message);
      expect(new SshReader(sig).ascii()).toBe(alg);
      expect(await key.publicKey.verify(alg, sig, message)).toBe(true);
      expect(await key.publicKey.verify(alg, sig, message.subarray(1))).toBe(false);
    }
  });

  it("makes a signature OpenSSH accepts (ssh-keygen -Y check-novalidate)", async (ctx) => {
    needTools(ctx, "/usr/bin/ssh-keygen");
    const alg = key.type === "ssh-rsa" ? "rsa-sha2-512" : key.type;
    const signature = await key.sign(alg, sshsigSignedData("file@test", "sha512", message));
    const sigPath = join(dir, `${f.file.replace(/\//g, "_")}.sig`);
    writeFileSync(sigPath, makeSshsig({ publicKey: key.publicKey.blob, namespace: "file@test", hashAlgorithm: "sha512", signature }));
    const out = tool("/usr/bin/ssh-keygen", ["-Y", "check-novalidate", "-n", "file@test", "-s", sigPath], message);
    expect(out).toMatch(/Good "file@test" signature/);
  });

  if (f.passphrase !== null) it("wants its passphrase: PASSPHRASE_REQUIRED without, BAD_PASSPHRASE when wrong", () => {
    expect(codeOf(() => parsePrivateKey(fixtureInput(f)))).toMatch(/^PASSPHRASE_REQUIRED:/);
    expect(codeOf(() => parsePrivateKey(fixtureInput(f), ""))).toMatch(/^PASSPHRASE_REQUIRED:/);
    expect(codeOf(() => parsePrivateKey(fixtureInput(f), f.passphrase + "x"))).toMatch(/^BAD_PASSPHRASE:/);
  });

  // Bytes passphrases: every format, but only the cheap-KDF files (bcrypt at 16 rounds is 0.15 s).
  if (f.passphrase !== null && (f.format !== "openssh" || /rounds1|utf8/.test(f.file)) && !f.file.includes("defaults"))
    it("accepts the passphrase as UTF-8 bytes too", () => {
    const again = parsePrivateKey(fixtureInput(f), new TextEncoder().encode(f.passphrase!));
    expect(again.publicKey.fingerprint).toBe(key.publicKey.fingerprint);
  });

  if (f.passphrase === null && !f.file.endsWith(".der")) it("parses from bytes and with CRLF line endings", () => {
    const text = fixtureInput(f) as string;
    expect(parsePrivateKey(new TextEncoder().encode(text)).publicKey.fingerprint).toBe(key.publicKey.fingerprint);
    expect(parsePrivateKey(text.replace(/\n/g, "\r\n")).publicKey.fingerprint).toBe(key.publicKey.fingerprint);
  });
});

describe("refused fixtures", () => {
  it.each(refused.map((f) => [f.file, f] as const))("%s: its expected error code", (_name, f) => {
    expect(codeOf(() => parsePrivateKey(fixtureInput(f), f.passphrase ?? undefined))).toMatch(new RegExp(`^${f.error}:`));
  });

  it("covers every format and passphrase-protected files of every format", () => {
    const formats = new Set(keyFixtures.map((f) => f.format));
    expect([...formats].sort()).toEqual(["openssh", "pem", "pkcs8", "ppk"]);
    expect(new Set(encrypted.map((f) => f.format)).size).toBe(4);
    for (const type of ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"]) {
      for (const format of ["openssh", "ppk", "pkcs8"]) {
        expect(keyFixtures.some((f) => f.format === format && basePublicLine(f).startsWith(type + " ")), `${format} ${type}`).toBe(true);
      }
    }
  });
});

describe("the manifest", () => {
  it("lists files that exist", () => {
    for (const f of FIXTURES) expect(() => readFileSync(join(VECTORS, f.file))).not.toThrow();
  });
});
