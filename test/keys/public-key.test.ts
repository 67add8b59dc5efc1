/** Public key API details: algorithm tables, unsupported types, the one-line text form. */
import { describe, expect, it } from "vitest";
import {
  HOST_KEY_ALGORITHMS,
  LEGACY_HOST_KEY_ALGORITHMS,
  keyTypeForAlgorithm,
  parsePublicKey,
  parsePublicKeyLine,
  publicKeyLine,
} from "../../src/ssh/keys/public-key.js";
import { generateEd25519Key } from "../../src/ssh/keys/private-key.js";
import { ProtocolError } from "../../src/errors.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";

describe("public keys", () => {
  it("maps every signature algorithm to its key type", () => {
    for (const alg of [...HOST_KEY_ALGORITHMS, ...LEGACY_HOST_KEY_ALGORITHMS]) {
      expect(keyTypeForAlgorithm(alg)).toBe(alg.startsWith("rsa-") || alg === "ssh-rsa" ? "ssh-rsa" : alg);
    }
    expect(keyTypeForAlgorithm("ssh-dss")).toBeUndefined();
    expect(HOST_KEY_ALGORITHMS[0]).toBe("ssh-ed25519");
  });

  it("names unsupported types and rejects trailing bytes", () => {
    const dss = new SshWriter().string("ssh-dss").mpint(5n).finish();
    expect(() => parsePublicKey(dss)).toThrow(/"ssh-dss"/);
    expect(() => parsePublicKey(dss)).toThrow(expect.objectContaining({ code: "UNSUPPORTED_KEY_TYPE" }));
    const blob = generateEd25519Key().publicKey.blob;
    expect(() => parsePublicKey(Uint8Array.from([...blob, 0]))).toThrow(ProtocolError);
  });

  it("reads and writes the OpenSSH one-line form", () => {
    const key = generateEd25519Key().publicKey;
    const line = publicKeyLine(key, "a comment with spaces");
    const back = parsePublicKeyLine(`  ${line}\r\n`);
    expect(back.comment).toBe("a comment with spaces");
    expect(back.key.fingerprint).toBe(key.fingerprint);
    expect(parsePublicKeyLine(publicKeyLine(key)).comment).toBe("");
    expect(() => parsePublicKeyLine(line.replace("ssh-ed25519", "ssh-rsa"))).toThrow(/says "ssh-rsa"/);
    expect(() => parsePublicKeyLine("ssh-ed25519")).toThrow(ProtocolError);
    expect(() => parsePublicKeyLine(`${line}\n${line}`)).toThrow(ProtocolError);
  });

  it("verify: malformed blob is a ProtocolError, wrong algorithm is false", async () => {
    const k = generateEd25519Key();
    const data = new Uint8Array(1);
    const sig = await k.sign("ssh-ed25519", data);
    await expect(k.publicKey.verify("ssh-ed25519", sig.subarray(0, 10), data)).rejects.toThrow(ProtocolError);
    await expect(k.publicKey.verify("ssh-ed25519", Uint8Array.from([...sig, 1]), data)).rejects.toThrow(ProtocolError);
    expect(await k.publicKey.verify("ecdsa-sha2-nistp256", sig, data)).toBe(false);
  });
});
