import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { sha1 } from "@noble/hashes/legacy.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { deriveKey, type KeyLetter } from "../../src/ssh/transport/key-derivation.js";
import { mpint } from "./helpers.js";

/** RFC 4253 §7.2 written out independently with node:crypto. */
function reference(alg: string, K: Uint8Array, H: Uint8Array, letter: string, sid: Uint8Array, len: number): Buffer {
  const h = (...parts: Uint8Array[]) => createHash(alg).update(Buffer.concat(parts)).digest();
  let out = h(K, H, Buffer.from(letter, "ascii"), sid);
  while (out.length < len) out = Buffer.concat([out, h(K, H, out)]);
  return out.subarray(0, len);
}

describe("key derivation (RFC 4253 §7.2)", () => {
  it("matches paramiko's published vector (SHA-1, K as mpint, letter C, 32 bytes)", () => {
    // paramiko tests/test_transport.py test_compute_key: two SHA-1 blocks, truncated to 32 bytes.
    const K = mpint(
      123281095979686581523377256114209720774539068973101330872763622971399429481072519713536292772709507296759612401802191955568143056534122385270077606457721553469730659233569339356140085284052436697480759510519672848743794433460113118986816826624865291116513647975790797391795651716378444844877749505443714557929n,
    );
    const H = Buffer.from("0C8307CDE6856FF30BA93684EB0F04C2520E9ED3", "hex");
    const key = deriveKey((d) => sha1(d), K, H, "C", H, 32);
    expect(Buffer.from(key).toString("hex").toUpperCase()).toBe(
      "207E66594CA87C44ECCBA3B3CD39FDDB378E6FDB0F97C54B2AA0CFBF900CD995",
    );
  });

  it("matches an independent computation for every letter and lengths across block boundaries", () => {
    const hashes = [
      ["sha256", (d: Uint8Array) => sha256(d)],
      ["sha512", (d: Uint8Array) => sha512(d)],
    ] as const;
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 5, maxLength: 80 }),
        fc.uint8Array({ minLength: 32, maxLength: 64 }),
        fc.uint8Array({ minLength: 32, maxLength: 64 }),
        fc.constantFrom<KeyLetter>("A", "B", "C", "D", "E", "F"),
        fc.integer({ min: 0, max: 200 }),
        fc.constantFrom(0, 1),
        (K, H, sid, letter, len, which) => {
          const [alg, fn] = hashes[which]!;
          const got = deriveKey(fn, K, H, letter, sid, len);
          expect(got.length).toBe(len);
          expect(Buffer.from(got)).toEqual(reference(alg, K, H, letter, sid, len));
        },
      ),
    );
  });

  it("gives different keys for different letters, and a longer key extends a shorter one", () => {
    const K = mpint(123456789n), H = new Uint8Array(32).fill(1);
    const a = deriveKey((d) => sha256(d), K, H, "A", H, 64);
    const b = deriveKey((d) => sha256(d), K, H, "B", H, 64);
    expect(Buffer.from(a)).not.toEqual(Buffer.from(b));
    expect(Buffer.from(deriveKey((d) => sha256(d), K, H, "A", H, 20))).toEqual(Buffer.from(a.subarray(0, 20)));
  });
});
