/** ECDSA and Ed25519 edge cases: high-S (RFC 5656 signatures from OpenSSL), ranges, lengths. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import { p256, p384, p521 } from "@noble/curves/nist.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { parsePrivateKey } from "../../src/ssh/keys/private-key.js";
import { parsePublicKey } from "../../src/ssh/keys/public-key.js";
import { ProtocolError } from "../../src/errors.js";
import { SshReader } from "../../src/ssh/wire/reader.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import { keygen, tempDir } from "./helpers.js";

let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const data = new TextEncoder().encode("data");
const ecBlob = (alg: string, r: bigint, s: bigint) =>
  new SshWriter().string(alg).string(new SshWriter().mpint(r).mpint(s).finish()).finish().slice();

describe.each([
  [256, p256],
  [384, p384],
  [521, p521],
] as const)("ecdsa-sha2-nistp%i", (bits, curve) => {
  const alg = `ecdsa-sha2-nistp${bits}`;
  it("accepts high-S signatures, rejects out-of-range r and s", async () => {
    const key = parsePrivateKey(keygen(dir, `ec${bits}`, ["-t", "ecdsa", "-b", String(bits)]).privateText);
    const blob = await key.sign(alg, data);
    const outer = new SshReader(blob);
    expect(outer.ascii()).toBe(alg);
    const inner = new SshReader(outer.string());
    const [r, s] = [inner.mpint(), inner.mpint()];
    const n = curve.Point.Fn.ORDER;
    // Both s and n − s are valid ECDSA; OpenSSL (hence OpenSSH) emits either.
    expect(await key.publicKey.verify(alg, ecBlob(alg, r, n - s), data)).toBe(true);
    expect(await key.publicKey.verify(alg, ecBlob(alg, r, s), data)).toBe(true);
    for (const [rr, ss] of [[0n, s], [r, 0n], [r + n, s], [r, s + n], [-r, s], [r, n]] as const) {
      expect(await key.publicKey.verify(alg, ecBlob(alg, rr, ss), data)).toBe(false);
    }
    // Trailing bytes after s, or a body that is not two mpints: invalid signature, not an error.
    const body = new SshWriter().mpint(r).mpint(s).byte(0).finish().slice();
    expect(await key.publicKey.verify(alg, new SshWriter().string(alg).string(body).finish(), data)).toBe(false);
    // The curve name must match the key type, and Q must be an uncompressed point on the curve.
    const other = bits === 256 ? "nistp384" : "nistp256";
    const q = new SshReader(key.publicKey.blob);
    q.string();
    q.string();
    const point = q.string();
    expect(() => parsePublicKey(new SshWriter().string(alg).string(other).string(point).finish())).toThrow(ProtocolError);
    const compressed = curve.Point.fromBytes(point).toBytes(true);
    expect(() => parsePublicKey(new SshWriter().string(alg).string(`nistp${bits}`).string(compressed).finish())).toThrow(ProtocolError);
    const offCurve = point.slice();
    offCurve[offCurve.length - 1]! ^= 1;
    expect(() => parsePublicKey(new SshWriter().string(alg).string(`nistp${bits}`).string(offCurve).finish())).toThrow(/not a point/);
  });
});

describe("ssh-ed25519", () => {
  it("rejects wrong lengths and non-canonical S; rejects invalid points at parse", async () => {
    const key = parsePrivateKey(keygen(dir, "ed", ["-t", "ed25519"]).privateText);
    const blob = await key.sign("ssh-ed25519", data);
    const outer = new SshReader(blob);
    outer.string();
    const sig = outer.string().slice();
    const re = (b: Uint8Array) => new SshWriter().string("ssh-ed25519").string(b).finish();
    expect(await key.publicKey.verify("ssh-ed25519", re(sig), data)).toBe(true);
    expect(await key.publicKey.verify("ssh-ed25519", re(sig.subarray(0, 63)), data)).toBe(false);
    // S + L (RFC 8032 §5.1.7 requires S < L): same signature mathematically, must be refused.
    const L = ed25519.Point.Fn.ORDER;
    let S = 0n;
    for (let i = 63; i >= 32; i--) S = (S << 8n) | BigInt(sig[i]!);
    const big = S + L;
    const malleable = sig.slice();
    for (let i = 0; i < 32; i++) malleable[32 + i] = Number((big >> BigInt(8 * i)) & 0xffn);
    expect(await key.publicKey.verify("ssh-ed25519", re(malleable), data)).toBe(false);
    expect(() => parsePublicKey(new SshWriter().string("ssh-ed25519").string(new Uint8Array(31)).finish())).toThrow(ProtocolError);
  });
});
