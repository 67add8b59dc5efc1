/** RSA specifics: both backends, node:crypto (OpenSSL) cross-checks for SHA-1/256, limits. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import { parsePrivateKey, type PrivateKey } from "../../src/ssh/keys/private-key.js";
import { parsePublicKey } from "../../src/ssh/keys/public-key.js";
import { ProtocolError } from "../../src/errors.js";
import { SshReader } from "../../src/ssh/wire/reader.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import { keygen, run, tempDir } from "./helpers.js";

const NODE_HASH: Record<string, string> = { "ssh-rsa": "sha1", "rsa-sha2-256": "sha256", "rsa-sha2-512": "sha512" };
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const ALGS = Object.keys(NODE_HASH);

let dir: string;
let key: PrivateKey;
let pem: string;
beforeAll(() => {
  dir = tempDir();
  const gen = keygen(dir, "rsa", ["-t", "rsa", "-b", "2048"]);
  key = parsePrivateKey(gen.privateText);
  // An independent copy of the key in PKCS#1 PEM, rewritten by ssh-keygen, for OpenSSL.
  copyFileSync(gen.path, join(dir, "rsa.pem"));
  run(["-p", "-q", "-P", "", "-N", "", "-m", "PEM", "-f", join(dir, "rsa.pem")]);
  pem = readFileSync(join(dir, "rsa.pem"), "utf8");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sigBody = (blob: Uint8Array) => {
  const r = new SshReader(blob);
  r.string();
  return r.string();
};
const blobOf = (alg: string, body: Uint8Array) => new SshWriter().string(alg).string(body).finish().slice();
const data = new TextEncoder().encode("exchange hash stand-in");

describe("RSA (RFC 8332, RFC 8017 §8.2)", () => {
  it.each(ALGS)("%s: identical signatures from both backends, matching OpenSSL", async (alg) => {
    const a = await key.sign(alg, data, "auto");
    const p = await key.sign(alg, data, "pure");
    expect(hex(a)).toBe(hex(p));
    const openssl = nodeSign(NODE_HASH[alg]!, data, createPrivateKey(pem));
    expect(hex(sigBody(a))).toBe(hex(openssl));
    expect(nodeVerify(NODE_HASH[alg]!, data, createPublicKey(pem), sigBody(p))).toBe(true);
  });

  it.each(ALGS)("%s: verifies OpenSSL's signatures on both backends; rejects tampering", async (alg) => {
    const sig = new Uint8Array(nodeSign(NODE_HASH[alg]!, data, createPrivateKey(pem)));
    for (const backend of ["auto", "pure"] as const) {
      expect(await key.publicKey.verify(alg, blobOf(alg, sig), data, backend)).toBe(true);
      const bad = sig.slice();
      bad[100]! ^= 1;
      expect(await key.publicKey.verify(alg, blobOf(alg, bad), data, backend)).toBe(false);
      expect(await key.publicKey.verify(alg, blobOf(alg, sig), data.subarray(1), backend)).toBe(false);
      // s ≥ n and over-long signatures are invalid, not errors.
      expect(await key.publicKey.verify(alg, blobOf(alg, new Uint8Array(256).fill(0xff)), data, backend)).toBe(false);
      expect(await key.publicKey.verify(alg, blobOf(alg, new Uint8Array(257)), data, backend)).toBe(false);
      expect(await key.publicKey.verify(alg, blobOf(alg, new Uint8Array(0)), data, backend)).toBe(false);
    }
  });

  it("refuses a downgrade: the blob must name the requested algorithm", async () => {
    const blob = await key.sign("ssh-rsa", data);
    expect(await key.publicKey.verify("ssh-rsa", blob, data)).toBe(true);
    expect(await key.publicKey.verify("rsa-sha2-256", blob, data)).toBe(false);
    // Same bytes relabelled: the hash differs, so it must fail too.
    expect(await key.publicKey.verify("rsa-sha2-256", blobOf("rsa-sha2-256", sigBody(blob)), data)).toBe(false);
    expect(await key.publicKey.verify("ssh-ed25519", blob, data)).toBe(false);
    await expect(key.sign("ssh-ed25519", data)).rejects.toMatchObject({ code: "UNSUPPORTED_ALGORITHM" });
  });

  it("accepts signatures with leading zero bytes stripped (OpenSSH pads them)", async () => {
    let found = 0;
    for (let i = 0; i < 5000 && found < 1; i++) {
      const msg = new TextEncoder().encode(`msg ${i}`);
      const body = sigBody(await key.sign("rsa-sha2-256", msg, "auto"));
      if (body[0] !== 0) continue;
      found++;
      const short = blobOf("rsa-sha2-256", body.subarray(1));
      expect(await key.publicKey.verify("rsa-sha2-256", short, msg, "auto")).toBe(true);
      expect(await key.publicKey.verify("rsa-sha2-256", short, msg, "pure")).toBe(true);
    }
    expect(found).toBe(1);
  });

  it("rejects keys under 1024 bits, even exponents and e < 3", () => {
    const blob = (e: bigint, n: bigint) => new SshWriter().string("ssh-rsa").mpint(e).mpint(n).finish().slice();
    const small = generateKeyPairSync("rsa", { modulusLength: 768 }).publicKey.export({ format: "jwk" });
    const n = BigInt("0x" + Buffer.from(small.n!, "base64url").toString("hex"));
    expect(() => parsePublicKey(blob(65537n, n))).toThrow(ProtocolError);
    expect(() => parsePublicKey(blob(65537n, n))).toThrow(/768 bits/);
    const r = new SshReader(key.publicKey.blob);
    r.string();
    r.mpint();
    const n2048 = r.mpint();
    expect(parsePublicKey(blob(65537n, n2048)).fingerprint).toBe(key.publicKey.fingerprint);
    for (const e of [1n, 2n, 65536n, 0n, -3n, (1n << 40n) + 1n]) {
      expect(() => parsePublicKey(blob(e, n2048))).toThrow(ProtocolError);
    }
    expect(() => parsePublicKey(blob(65537n, n2048 + 1n))).toThrow(ProtocolError); // even n
  });
});
