/**
 * Known answers and independent peers: each method runs against a peer written in this test with
 * node:crypto (and noble's ML-KEM, which Node 20 lacks; finite-field DH with the test's own BigInt
 * arithmetic), and its K and H are recomputed here with the test's own encoders and hashes.
 *
 * The MODP primes come from their RFC 2409 / RFC 3526 definition (pi's binary expansion), computed
 * here, not from node:crypto's named groups: Bun (BoringSSL) lacks modp1/modp2, and a second
 * derivation is a stronger check of src's constants than a second table.
 */
import {
  createDiffieHellman,
  createHash,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
  getDiffieHellman,
} from "node:crypto";
import { describe, expect, it } from "vitest";
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { curve25519Method, CURVE25519_SHA256, CURVE25519_SHA256_LIBSSH } from "../../src/ssh/kex/curve25519.js";
import { ECDH_SHA2_NISTP256, ECDH_SHA2_NISTP384, ECDH_SHA2_NISTP521 } from "../../src/ssh/kex/ecdh.js";
import * as dh from "../../src/ssh/kex/dh-groups.js";
import { DH_GEX_SHA256 } from "../../src/ssh/kex/dh-gex.js";
import { MLKEM768X25519_SHA256 } from "../../src/ssh/kex/mlkem768x25519.js";
import type { KexMethod } from "../../src/ssh/kex/kex.js";
import { HOST_KEY_BLOB, INPUTS, SIGNATURE, dummyHostKey, ecdhPeer, fields, independentHash, ioPair, mpint, msg, str, u32 } from "./helpers.js";

const hexBuf = (h: string) => Buffer.from(h, "hex");
const X25519_SPKI_PREFIX = hexBuf("302a300506032b656e032100");

function nodeX25519() {
  const { publicKey, privateKey } = generateKeyPairSync("x25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  const shared = (peer: Uint8Array) =>
    diffieHellman({ privateKey, publicKey: createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, peer]), format: "der", type: "spki" }) });
  return { raw, shared };
}

/**
 * floor(pi * 2^bits) by Machin's formula, pi = 16 atan(1/5) - 4 atan(1/239), in fixed point with
 * 64 guard bits: they absorb the few thousand units truncated along the way, so the floor could
 * only come out wrong at a run of some 50 equal bits of pi right there (the named-group test below,
 * on Node and Deno, shows there is none).
 */
function piTimes2Pow(bits: number): bigint {
  const guard = 64n;
  const one = 1n << (BigInt(bits) + guard);
  const atanInv = (x: bigint) => {
    let sum = 0n;
    let term = one / x;
    for (let k = 1n, sign = 1n; term !== 0n; k += 2n, sign = -sign, term /= x * x) sum += (sign * term) / k;
    return sum;
  };
  return (16n * atanInv(5n) - 4n * atanInv(239n)) >> guard;
}

/** RFC 2409 §6.2 / RFC 3526: p = 2^N - 2^(N-64) - 1 + 2^64 * (floor(2^(N-130) pi) + offset), g = 2. */
function modpPrime(bits: number, offset: number): bigint {
  const n = BigInt(bits);
  return (1n << n) - (1n << (n - 64n)) - 1n + (1n << 64n) * (piTimes2Pow(bits - 130) + BigInt(offset));
}

const MODP = {
  modp2: modpPrime(1024, 129093),
  modp14: modpPrime(2048, 124476),
  modp15: modpPrime(3072, 1690314),
  modp16: modpPrime(4096, 240904),
  modp17: modpPrime(6144, 929484),
  modp18: modpPrime(8192, 4743158),
};

const bigBuf = (n: bigint) => hexBuf(n.toString(16).padStart(Math.ceil(n.toString(16).length / 2) * 2, "0"));

/** Square-and-multiply, written here: the test's peer must not share src/ssh/kex/modpow.ts. */
function powMod(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  for (base %= mod; exp > 0n; exp >>= 1n) {
    if (exp & 1n) result = (result * base) % mod;
    base = (base * base) % mod;
  }
  return result;
}

/**
 * A DH peer in the group (p, 2) with a random 512-bit exponent, shaped like node:crypto's
 * DiffieHellman. Not node:crypto's own: Bun checks an explicit prime before using it, which takes
 * 27 s for the 8192-bit one. "DH groups" below ties this peer to node:crypto in modp14.
 */
function dhPeer(p: bigint) {
  const x = BigInt("0x" + randomBytes(64).toString("hex")) | (1n << 511n);
  return {
    generateKeys: () => bigBuf(powMod(2n, x, p)),
    computeSecret: (other: Uint8Array) => bigBuf(powMod(BigInt("0x" + Buffer.from(other).toString("hex")), x, p)),
  };
}

/** Runs `method.client` against a test-written server step; returns the client result and the test's K and H. */
async function clientVsPeer(method: KexMethod, peer: (init: Uint8Array) => { reply: Uint8Array; K: Buffer; H: Buffer }) {
  const [cio, sio] = ioPair();
  const pending = method.client(cio, INPUTS);
  const { reply, K, H } = peer(await sio.receive());
  sio.send(reply);
  return { result: await pending, K, H };
}

describe("RFC 7748 / RFC 8731 curve25519-sha256 known answer", () => {
  const alice = hexBuf("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const alicePub = hexBuf("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  const bob = hexBuf("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  const bobPub = hexBuf("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const shared = hexBuf("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

  it("gives the RFC 7748 §6.1 shared secret as K and the expected H", async () => {
    const client = curve25519Method("curve25519-sha256", () => new Uint8Array(alice));
    const server = curve25519Method("curve25519-sha256", () => new Uint8Array(bob));
    const [cio, sio] = ioPair();
    const [c, s] = await Promise.all([client.client(cio, INPUTS), server.server(sio, INPUTS, dummyHostKey())]);
    expect(fields(cio.sent[0]!)[0]).toEqual(alicePub);
    expect(fields(sio.sent[0]!)[1]).toEqual(bobPub);
    // RFC 8731 §3.1: the 32 bytes read as a big-endian unsigned integer, as an mpint (0x4a < 0x80: no pad).
    expect(Buffer.from(c.sharedSecret)).toEqual(Buffer.concat([u32(32), shared]));
    const H = independentHash("sha256", HOST_KEY_BLOB, str(alicePub), str(bobPub), mpint(shared));
    expect(Buffer.from(c.exchangeHash)).toEqual(H);
    expect(Buffer.from(s.exchangeHash)).toEqual(H);
  });
});

describe("client against independent peers", () => {
  for (const [m, curve, alg] of [
    [ECDH_SHA2_NISTP256, "P-256", "sha256"],
    [ECDH_SHA2_NISTP384, "P-384", "sha384"],
    [ECDH_SHA2_NISTP521, "P-521", "sha512"],
  ] as const) {
    it(`${m.name} matches node:crypto ECDH`, async () => {
      const { result, K, H } = await clientVsPeer(m, (init) => {
        const qc = fields(init)[0]!;
        const node = ecdhPeer(curve);
        const qs = node.raw;
        const K = mpint(node.shared(qc));
        const H = independentHash(alg, HOST_KEY_BLOB, str(qc), str(qs), K);
        return { reply: msg(31, str(HOST_KEY_BLOB), str(qs), str(SIGNATURE)), K, H };
      });
      expect(Buffer.from(result.sharedSecret)).toEqual(K);
      expect(Buffer.from(result.exchangeHash)).toEqual(H);
    });
  }

  for (const m of [CURVE25519_SHA256, CURVE25519_SHA256_LIBSSH]) {
    it(`${m.name} matches node:crypto X25519`, async () => {
      const { result, K, H } = await clientVsPeer(m, (init) => {
        const qc = fields(init)[0]!;
        const node = nodeX25519();
        const K = mpint(node.shared(qc));
        const H = independentHash("sha256", HOST_KEY_BLOB, str(qc), str(node.raw), K);
        return { reply: msg(31, str(HOST_KEY_BLOB), str(node.raw), str(SIGNATURE)), K, H };
      });
      expect(Buffer.from(result.sharedSecret)).toEqual(K);
      expect(Buffer.from(result.exchangeHash)).toEqual(H);
    });
  }

  for (const [m, group, alg] of [
    [dh.DH_GROUP14_SHA256, "modp14", "sha256"],
    [dh.DH_GROUP16_SHA512, "modp16", "sha512"],
    [dh.DH_GROUP18_SHA512, "modp18", "sha512"],
    [dh.DH_GROUP14_SHA1, "modp14", "sha1"],
    [dh.DH_GROUP1_SHA1, "modp2", "sha1"],
  ] as const) {
    it(`${m.name} matches an independent DH peer in ${group}`, async () => {
      const { result, K, H } = await clientVsPeer(m, (init) => {
        const e = mpintBody(init);
        const node = dhPeer(MODP[group]);
        const f = node.generateKeys();
        const K = mpint(node.computeSecret(e));
        const H = independentHash(alg, HOST_KEY_BLOB, mpint(e), mpint(f), K);
        return { reply: msg(31, str(HOST_KEY_BLOB), mpint(f), str(SIGNATURE)), K, H };
      });
      expect(Buffer.from(result.sharedSecret)).toEqual(K);
      expect(Buffer.from(result.exchangeHash)).toEqual(H);
    });
  }

  it("diffie-hellman-group-exchange-sha256 matches an independent peer in a 3072-bit group", async () => {
    const [cio, sio] = ioPair();
    const pending = DH_GEX_SHA256.client(cio, INPUTS);
    const req = Buffer.from(await sio.receive());
    expect(req[0]).toBe(34);
    const [min, n, max] = [req.readUInt32BE(1), req.readUInt32BE(5), req.readUInt32BE(9)];
    expect([min, n, max, req.length]).toEqual([2048, 3072, 8192, 13]);
    const p = MODP.modp15;
    const g = Buffer.from([2]);
    sio.send(msg(31, mpint(p), mpint(g)));
    const init = await sio.receive();
    expect(init[0]).toBe(32);
    const e = mpintBody(init);
    const node = dhPeer(p);
    const f = node.generateKeys();
    const K = mpint(node.computeSecret(e));
    sio.send(msg(33, str(HOST_KEY_BLOB), mpint(f), str(SIGNATURE)));
    const result = await pending;
    const H = independentHash("sha256", HOST_KEY_BLOB, u32(min), u32(n), u32(max), mpint(p), mpint(g), mpint(e), mpint(f), K);
    expect(Buffer.from(result.sharedSecret)).toEqual(K);
    expect(Buffer.from(result.exchangeHash)).toEqual(H);
  });

  it("mlkem768x25519-sha256 matches an ML-KEM + node:crypto X25519 peer (K as a string)", async () => {
    const { result, K, H } = await clientVsPeer(MLKEM768X25519_SHA256, (init) => {
      const qc = fields(init)[0]!;
      expect(qc.length).toBe(1184 + 32);
      const { cipherText, sharedSecret } = ml_kem768.encapsulate(qc.subarray(0, 1184));
      const node = nodeX25519();
      const ecdh = node.shared(qc.subarray(1184));
      const K = str(createHash("sha256").update(Buffer.concat([sharedSecret, ecdh])).digest());
      const qs = Buffer.concat([cipherText, node.raw]);
      const H = independentHash("sha256", HOST_KEY_BLOB, str(qc), str(qs), K);
      return { reply: msg(31, str(HOST_KEY_BLOB), str(qs), str(SIGNATURE)), K, H };
    });
    expect(Buffer.from(result.sharedSecret)).toEqual(K);
    expect(result.sharedSecret.length).toBe(4 + 32);
    expect(Buffer.from(result.exchangeHash)).toEqual(H);
  });
});

describe("server against independent peers", () => {
  it("ecdh-sha2-nistp256 server matches a node:crypto client", async () => {
    const [cio, sio] = ioPair();
    const node = ecdhPeer("P-256");
    const qc = node.raw;
    cio.send(msg(30, str(qc)));
    const result = await ECDH_SHA2_NISTP256.server(sio, INPUTS, dummyHostKey());
    const [ks, qs, sig] = fields(await cio.receive());
    expect(ks).toEqual(HOST_KEY_BLOB);
    expect(sig).toEqual(SIGNATURE);
    const K = mpint(node.shared(qs!));
    expect(Buffer.from(result.sharedSecret)).toEqual(K);
    expect(Buffer.from(result.exchangeHash)).toEqual(independentHash("sha256", HOST_KEY_BLOB, str(qc), str(qs!), K));
  });

  it("diffie-hellman-group16-sha512 server matches an independent client", async () => {
    const [cio, sio] = ioPair();
    const node = dhPeer(MODP.modp16);
    const e = node.generateKeys();
    cio.send(msg(30, mpint(e)));
    const result = await dh.DH_GROUP16_SHA512.server(sio, INPUTS, dummyHostKey());
    const reply = await cio.receive();
    const f = fields(reply)[1]!;
    const K = mpint(node.computeSecret(f));
    expect(Buffer.from(result.sharedSecret)).toEqual(K);
    expect(Buffer.from(result.exchangeHash)).toEqual(independentHash("sha512", HOST_KEY_BLOB, mpint(e), mpint(f), K));
  });

  it("mlkem768x25519-sha256 server matches an ML-KEM + node:crypto X25519 client", async () => {
    const [cio, sio] = ioPair();
    const kem = ml_kem768.keygen();
    const x = nodeX25519();
    const qc = Buffer.concat([kem.publicKey, x.raw]);
    cio.send(msg(30, str(qc)));
    const result = await MLKEM768X25519_SHA256.server(sio, INPUTS, dummyHostKey());
    const qs = fields(await cio.receive())[1]!;
    expect(qs.length).toBe(1088 + 32);
    const kemSecret = ml_kem768.decapsulate(qs.subarray(0, 1088), kem.secretKey);
    const K = str(createHash("sha256").update(Buffer.concat([kemSecret, x.shared(qs.subarray(1088))])).digest());
    expect(Buffer.from(result.sharedSecret)).toEqual(K);
    expect(Buffer.from(result.exchangeHash)).toEqual(independentHash("sha256", HOST_KEY_BLOB, str(qc), str(qs), K));
  });
});

describe("DH groups", () => {
  it("the test's DH peer agrees with node:crypto's in modp14", () => {
    const ours = dhPeer(MODP.modp14);
    const node = createDiffieHellman(bigBuf(MODP.modp14), Buffer.from([2]));
    const [a, b] = [ours.generateKeys(), node.generateKeys()];
    expect(mpint(ours.computeSecret(b))).toEqual(mpint(node.computeSecret(a)));
  });


  const cases = [
    [dh.OAKLEY_GROUP_2, "modp2", 1024],
    [dh.MODP_2048, "modp14", 2048],
    [dh.MODP_3072, "modp15", 3072],
    [dh.MODP_4096, "modp16", 4096],
    [dh.MODP_6144, "modp17", 6144],
    [dh.MODP_8192, "modp18", 8192],
  ] as const;

  it("match the RFC 2409 / RFC 3526 definitions, g = 2", () => {
    for (const [grp, name, bits] of cases) {
      expect(grp.p).toBe(MODP[name]);
      expect(grp.g).toBe(2n);
      expect(grp.bits).toBe(bits);
    }
  });

  // A third source: OpenSSL's tables on Node and Deno. Bun (BoringSSL) has no modp2, and its
  // getDiffieHellman spends seconds per group (30 s for modp17/18) before returning the prime.
  it.skipIf("Bun" in globalThis)("match the runtime's named groups", () => {
    for (const [grp, name] of cases) expect(grp.p).toBe(BigInt("0x" + getDiffieHellman(name).getPrime("hex")));
  });
});

/** The body of the first mpint after the message number (test-side decoder). */
function mpintBody(payload: Uint8Array): Buffer {
  return fields(payload)[0]!;
}
