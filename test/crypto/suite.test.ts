/**
 * Backend choice: the known-answer checks accept correct primitives and refuse subtly wrong
 * ones, and each `crypto` mode picks what suite.ts says on this runtime.
 */
import { describe, expect, it } from "vitest";
import { ctr } from "@noble/ciphers/aes.js";
import { SshError } from "../../src/errors.js";
import { checkChacha20, checkCtr, checkGcm, checkHmac, checkMd5, checkPoly1305 } from "../../src/ssh/crypto/known-answers.js";
import { NOBLE_SUITE, nobleChacha20, nobleCtr, nobleGcm, nobleHmac, nobleMd5, noblePoly1305, noblePoly1305Tag } from "../../src/ssh/crypto/noble-primitives.js";
import { nativeMd5 } from "../../src/platform/native-crypto.js";
import type { ChachaKey, CtrStream, GcmKey, PolyKey } from "../../src/ssh/crypto/primitives.js";
import { cryptoSuite, cryptoSupport, fastAesGcm, md5Function } from "../../src/ssh/crypto/suite.js";
import { AES128_GCM } from "../../src/ssh/crypto/aes-gcm.js";
import { CHACHA20_POLY1305 } from "../../src/ssh/crypto/chacha20-poly1305.js";
import { AES128_CTR } from "../../src/ssh/crypto/aes-ctr.js";
import { HMAC_SHA2_256_ETM } from "../../src/ssh/crypto/mac.js";
import { AES_GCM_FIRST_CIPHERS, DEFAULT_CIPHERS, defaultCiphers } from "../../src/ssh/crypto/algorithms.js";
import { zeroKeys } from "./harness.js";

const runtime = (globalThis as { Deno?: unknown }).Deno ? "deno" : (globalThis as { Bun?: unknown }).Bun ? "bun" : "node";

describe("known-answer checks", () => {
  it("pass for noble on every primitive (the expected answers are right)", async () => {
    expect(await checkGcm(nobleGcm, 16)).toBe(true);
    expect(await checkGcm(nobleGcm, 32)).toBe(true);
    for (const n of [16, 24, 32] as const) expect(await checkCtr(nobleCtr, n)).toBe(true);
    expect(await checkChacha20(nobleChacha20)).toBe(true);
    expect(await checkPoly1305(noblePoly1305)).toBe(true);
    for (const h of ["sha1", "sha256", "sha512"] as const) expect(await checkHmac(nobleHmac, h)).toBe(true);
    expect(await checkMd5(nobleMd5)).toBe(true);
  });

  it("refuse an MD5 that is wrong past the first block, and one that throws (FIPS)", async () => {
    const firstBlockOnly = (data: Uint8Array) => nobleMd5(data.subarray(0, 64));
    expect(await checkMd5(firstBlockOnly)).toBe(false);
    expect(await checkMd5(() => {
      throw new Error("digital envelope routines::unsupported");
    })).toBe(false);
  });

  it("refuse an AES-CTR whose counter carries only through the low 64 bits", async () => {
    const low64 = (key: Uint8Array, iv: Uint8Array): CtrStream => {
      const counter = iv.slice();
      const xor = (data: Uint8Array) => {
        const out = new Uint8Array(data.length);
        for (let off = 0; off < data.length; off += 16) {
          out.set(ctr(key, counter).encrypt(data.subarray(off, off + 16)), off);
          const v = new DataView(counter.buffer);
          v.setBigUint64(8, (v.getBigUint64(8) + 1n) & 0xffffffffffffffffn);
        }
        return out;
      };
      return { implementation: "noble", xor, xorSync: xor };
    };
    expect(await checkCtr(low64, 16)).toBe(false);
  });

  it("refuse an AES-GCM that ignores the AAD, or accepts a forged tag", async () => {
    const noAad = (key: Uint8Array): GcmKey => {
      const g = nobleGcm(key);
      const empty = new Uint8Array(0);
      return { ...g, seal: (n, _a, p, into) => g.seal(n, empty, p, into), open: (n, _a, s) => g.open(n, empty, s) };
    };
    expect(await checkGcm(noAad, 16)).toBe(false);
    // GCM's decryption without the tag check: CTR from nonce || 00000002 (SP 800-38D §7.2).
    const noCheck = (key: Uint8Array): GcmKey => ({
      ...nobleGcm(key),
      open: (n, _a, s) => ctr(key, Uint8Array.from([...n, 0, 0, 0, 2])).decrypt(s.subarray(0, s.length - 16)),
    });
    expect(await checkGcm(noCheck, 16)).toBe(false);
  });

  it("refuse a Poly1305 that leaves out a short last block", async () => {
    const wholeBlocksOnly = (): PolyKey => ({
      implementation: "noble",
      tag: (_nonce, key, data, out) => noblePoly1305Tag(key, data.subarray(0, data.length - (data.length % 16)), out),
    });
    expect(await checkPoly1305(wholeBlocksOnly)).toBe(false);
  });

  it("refuse a ChaCha20 with the nonce in the wrong state words, or one that restarts each call", async () => {
    const swapped = (key: Uint8Array): ChachaKey => {
      const c = nobleChacha20(key);
      return { ...c, stream: (nonce) => c.stream(Uint8Array.from([...nonce.subarray(4), ...nonce.subarray(0, 4)])) };
    };
    expect(await checkChacha20(swapped)).toBe(false);
    const restarting = (key: Uint8Array): ChachaKey => {
      const c = nobleChacha20(key);
      return { ...c, stream: (nonce) => ({ xor: (d, into) => c.stream(nonce).xor(d, into) }) };
    };
    expect(await checkChacha20(restarting)).toBe(false);
  });

  it("count a throwing primitive (a runtime without it) as a failure", async () => {
    expect(await checkChacha20(() => { throw new Error("Unknown cipher"); })).toBe(false);
  });
});

describe(`backend choice on this runtime (${runtime})`, () => {
  it("finds node:crypto for every primitive, except raw ChaCha20 on Bun", async () => {
    const s = await cryptoSupport();
    expect(s.runtime).toBe(runtime);
    expect(s.native.gcm).toEqual({ 16: true, 32: true });
    expect(s.native.ctr).toEqual({ 16: true, 24: true, 32: true });
    expect(s.native.hmac).toEqual({ sha1: true, sha256: true, sha512: true });
    expect(s.native.chacha20).toBe(runtime !== "bun");
    expect(s.native.poly1305).toBe(runtime !== "bun");
    expect(s.native.md5).toBe(true);
  });

  it("MD5: node:crypto for auto and native, noble for pure, the same digests either way", async () => {
    expect(await md5Function("auto")).toBe(nativeMd5);
    expect(await md5Function("native")).toBe(nativeMd5);
    expect(await md5Function("pure")).toBe(nobleMd5);
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 100_000]) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
      expect(nativeMd5(data), `${n} bytes`).toEqual(nobleMd5(data));
    }
  });

  it("auto: node:crypto first, WebCrypto AES-GCM on Deno, noble where nothing else works", async () => {
    const auto = await cryptoSuite("auto");
    const key = new Uint8Array(16);
    expect(auto.gcm(key).implementation).toBe(runtime === "deno" ? "webcrypto" : "node:crypto");
    expect(auto.ctr(key, new Uint8Array(16)).implementation).toBe("node:crypto");
    expect(auto.chacha20(new Uint8Array(32)).implementation).toBe(runtime === "bun" ? "noble" : "node:crypto");
    expect(auto.poly1305(new Uint8Array(32)).implementation).toBe(runtime === "bun" ? "noble" : "node:crypto");
    expect(auto.hmac("sha256", key).implementation).toBe("node:crypto");
    expect(await fastAesGcm("auto")).toBe(runtime !== "deno");
  });

  it("pure: noble for every primitive, and AES-GCM is not preferred", async () => {
    const pure = await cryptoSuite("pure");
    expect(pure).toBe(NOBLE_SUITE);
    const sealer = CHACHA20_POLY1305.createSealer(zeroKeys(CHACHA20_POLY1305, undefined), undefined, pure);
    expect(sealer.implementation).toBe("chacha20: noble, poly1305: noble");
    expect(await fastAesGcm("pure")).toBe(false);
  });

  it("native: node:crypto, a typed error where the runtime lacks a primitive, and says who computes what", async () => {
    const native = await cryptoSuite("native");
    const gcm = AES128_GCM.createOpener(zeroKeys(AES128_GCM, undefined), undefined, native);
    expect(gcm.implementation).toBe("aes-gcm: node:crypto");
    const ctrEtm = AES128_CTR.createSealer(zeroKeys(AES128_CTR, HMAC_SHA2_256_ETM), HMAC_SHA2_256_ETM, native);
    expect(ctrEtm.implementation).toBe("aes-ctr: node:crypto, hmac: node:crypto");
    const chacha = () => CHACHA20_POLY1305.createSealer(zeroKeys(CHACHA20_POLY1305, undefined), undefined, native);
    if (runtime === "bun") {
      expect(chacha).toThrow(SshError);
      expect(chacha).toThrow(expect.objectContaining({ code: "NATIVE_CRYPTO_UNAVAILABLE" }));
    } else {
      expect(chacha().implementation).toBe("chacha20: node:crypto, poly1305: node:crypto");
    }
  });
});

describe("the client's default cipher order", () => {
  it("puts AES-GCM first only where it runs on fast node:crypto, offering the same ciphers either way", async () => {
    expect(await defaultCiphers("pure")).toBe(DEFAULT_CIPHERS);
    expect(DEFAULT_CIPHERS[0]).toBe("chacha20-poly1305@openssh.com");
    expect(await defaultCiphers("auto")).toBe(runtime === "deno" ? DEFAULT_CIPHERS : AES_GCM_FIRST_CIPHERS);
    expect([...AES_GCM_FIRST_CIPHERS].sort()).toEqual([...DEFAULT_CIPHERS].sort());
    expect(AES_GCM_FIRST_CIPHERS.slice(0, 2)).toEqual(["aes128-gcm@openssh.com", "aes256-gcm@openssh.com"]);
  });
});
