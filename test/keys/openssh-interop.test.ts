/**
 * Interop with OpenSSH's ssh-keygen: fingerprints and blobs of real keys, our verifiers against
 * OpenSSH's signer (SSHSIG, `ssh-keygen -Y sign`) and our signer against OpenSSH's verifier
 * (`ssh-keygen -Y verify`), for every key type and RSA signature algorithm.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parsePrivateKey, type PrivateKey } from "../../src/ssh/keys/private-key.js";
import { parsePublicKeyLine, publicKeyLine } from "../../src/ssh/keys/public-key.js";
import { SshReader } from "../../src/ssh/wire/reader.js";
import type { CryptoBackend } from "../../src/ssh/crypto/cipher.js";
import {
  keygen,
  makeSshsig,
  opensshFingerprint,
  parseSshsig,
  run,
  sshsigSignedData,
  tempDir,
  type GeneratedKey,
} from "./helpers.js";

const KEYS: { name: string; args: string[]; type: string; sshsigAlgs: string[] }[] = [
  { name: "ed25519", args: ["-t", "ed25519"], type: "ssh-ed25519", sshsigAlgs: ["ssh-ed25519"] },
  { name: "ecdsa256", args: ["-t", "ecdsa", "-b", "256"], type: "ecdsa-sha2-nistp256", sshsigAlgs: ["ecdsa-sha2-nistp256"] },
  { name: "ecdsa384", args: ["-t", "ecdsa", "-b", "384"], type: "ecdsa-sha2-nistp384", sshsigAlgs: ["ecdsa-sha2-nistp384"] },
  { name: "ecdsa521", args: ["-t", "ecdsa", "-b", "521"], type: "ecdsa-sha2-nistp521", sshsigAlgs: ["ecdsa-sha2-nistp521"] },
  { name: "rsa2048", args: ["-t", "rsa", "-b", "2048"], type: "ssh-rsa", sshsigAlgs: ["rsa-sha2-256", "rsa-sha2-512"] },
  { name: "rsa3072", args: ["-t", "rsa", "-b", "3072"], type: "ssh-rsa", sshsigAlgs: ["rsa-sha2-256", "rsa-sha2-512"] },
];
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const BACKENDS: CryptoBackend[] = ["auto", "pure"];
const message = new TextEncoder().encode("the quick brown fox jumps over the lazy dog\n");

let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(KEYS)("$name key from ssh-keygen", ({ name, args, type, sshsigAlgs }) => {
  let gen: GeneratedKey;
  let key: PrivateKey;
  beforeAll(() => {
    gen = keygen(dir, name, args);
    key = parsePrivateKey(gen.privateText);
  });

  it("parses with the right type, comment, blob and fingerprint", () => {
    expect(key.type).toBe(type);
    expect(key.publicKey.type).toBe(type);
    expect(key.comment).toBe(`${name}@test`);
    const b64 = gen.publicLine.split(" ")[1]!;
    expect(Buffer.from(key.publicKey.blob).toString("base64")).toBe(b64);
    expect(key.publicKey.fingerprint).toBe(opensshFingerprint(gen.path + ".pub"));
    expect(publicKeyLine(key.publicKey, key.comment)).toBe(gen.publicLine.trim());
    const line = parsePublicKeyLine(gen.publicLine);
    expect(line.comment).toBe(`${name}@test`);
    expect(line.key.fingerprint).toBe(key.publicKey.fingerprint);
  });

  it("parses the same key from bytes", () => {
    const again = parsePrivateKey(new Uint8Array(readFileSync(gen.path)));
    expect(again.publicKey.fingerprint).toBe(key.publicKey.fingerprint);
  });

  it("verifies signatures made by ssh-keygen -Y sign (both backends)", async () => {
    const msgPath = join(dir, `${name}.msg`);
    writeFileSync(msgPath, message);
    for (const hashAlg of ["sha512", "sha256"] as const) {
      rmSync(msgPath + ".sig", { force: true });
      run(["-Y", "sign", "-q", "-f", gen.path, "-n", "test", "-O", `hashalg=${hashAlg}`, msgPath]);
      const sig = parseSshsig(readFileSync(msgPath + ".sig", "utf8"));
      expect(sig.hashAlgorithm).toBe(hashAlg);
      expect(hex(sig.publicKey)).toBe(hex(key.publicKey.blob));
      const alg = new SshReader(sig.signature).ascii();
      expect(sshsigAlgs).toContain(alg);
      const signed = sshsigSignedData("test", hashAlg, message);
      for (const backend of BACKENDS) {
        expect(await key.publicKey.verify(alg, sig.signature, signed, backend)).toBe(true);
        const otherMsg = sshsigSignedData("test", hashAlg, new TextEncoder().encode("other"));
        expect(await key.publicKey.verify(alg, sig.signature, otherMsg, backend)).toBe(false);
        const otherNs = sshsigSignedData("tesu", hashAlg, message);
        expect(await key.publicKey.verify(alg, sig.signature, otherNs, backend)).toBe(false);
      }
    }
  });

  it.each(sshsigAlgs)("signs with %s in a way ssh-keygen -Y verify accepts (both backends)", async (alg) => {
    const signers = join(dir, `${name}.allowed`);
    writeFileSync(signers, `tester@example.com ${publicKeyLine(key.publicKey)}\n`);
    const signed = sshsigSignedData("test", "sha512", message);
    const sigs: Uint8Array[] = [];
    for (const backend of BACKENDS) {
      const blob = await key.sign(alg, signed, backend);
      sigs.push(blob);
      for (const vb of BACKENDS) expect(await key.publicKey.verify(alg, blob, signed, vb)).toBe(true);
      const sigPath = join(dir, `${name}.${alg}.${backend}.sig`);
      writeFileSync(sigPath, makeSshsig({ publicKey: key.publicKey.blob, namespace: "test", hashAlgorithm: "sha512", signature: blob }));
      const out = run(["-Y", "verify", "-f", signers, "-I", "tester@example.com", "-n", "test", "-s", sigPath], message);
      expect(out).toContain("Good");
      // And OpenSSH refuses it for a different message.
      expect(() => run(["-Y", "verify", "-f", signers, "-I", "tester@example.com", "-n", "test", "-s", sigPath], "x")).toThrow();
    }
    // Every algorithm here is deterministic (Ed25519, RFC 6979 ECDSA, PKCS#1 v1.5): the
    // backends must agree byte for byte.
    expect(hex(sigs[0]!)).toBe(hex(sigs[1]!));
  });
});
