/** Malformed and hostile peer messages must end in ProtocolError, never another error. */
import { describe, expect, it } from "vitest";
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { KEX_METHODS } from "../../src/ssh/kex/methods.js";
import { DH_GEX_SHA256 } from "../../src/ssh/kex/dh-gex.js";
import * as dh from "../../src/ssh/kex/dh-groups.js";
import { modPow } from "../../src/ssh/kex/modpow.js";
import type { KexMethod } from "../../src/ssh/kex/kex.js";
import { HOST_KEY_BLOB, INPUTS, SIGNATURE, dummyHostKey, ecdhPeer, expectProtocolError, mpint, msg, scriptedIO, str, u32 } from "./helpers.js";

const m = (name: string): KexMethod => KEX_METHODS[name]!;
const reply = (q: Buffer) => msg(31, str(HOST_KEY_BLOB), q, str(SIGNATURE));
const client = (method: KexMethod, ...replies: Uint8Array[]) => method.client(scriptedIO(replies), INPUTS);
const server = (method: KexMethod, ...inits: Uint8Array[]) => method.server(scriptedIO(inits), INPUTS, dummyHostKey());
const le = (n: bigint) => Buffer.from(n.toString(16).padStart(64, "0"), "hex").reverse();

const P25519 = 2n ** 255n - 19n;
/** Low-order u-coordinates (cr.yp.to/ecdh.html#validate) and their non-canonical aliases. */
const LOW_ORDER_U = [
  0n,
  1n,
  0xb8495f16056286fdb1329ceb8d09da6ac49ff1fae35616aeb8413b7c7aebe0n, // order 8
  0x57119fd0dd4e22d8868e1c58c45c44045bef839c55b1d0b1248c50a3bc959c5fn, // order 8
  P25519 - 1n,
  P25519,
  P25519 + 1n,
  // Bit 255 is ignored on decoding (RFC 7748 §5), so these alias 0 and an order-8 point.
  1n << 255n,
  (1n << 255n) | 0xb8495f16056286fdb1329ceb8d09da6ac49ff1fae35616aeb8413b7c7aebe0n,
].map((u) => le(u));


describe("every INIT/REPLY method", () => {
  const simple = Object.keys(KEX_METHODS).filter((n) => n !== "diffie-hellman-group-exchange-sha256");
  for (const name of simple) {
    it(`${name}: wrong message number, truncation, trailing bytes and garbage are ProtocolErrors`, async () => {
      // A structurally valid reply from a real server run, to mutate.
      const good = await captureReply(m(name));
      await expectProtocolError(client(m(name), Uint8Array.of(20, ...good.subarray(1))));
      await expectProtocolError(client(m(name), Uint8Array.of(33, ...good.subarray(1))));
      for (const cut of [1, 5, 20, good.length - 1]) await expectProtocolError(client(m(name), good.subarray(0, cut)));
      await expectProtocolError(client(m(name), Uint8Array.of(...good, 0)));
      await expectProtocolError(client(m(name), new Uint8Array(0)));
      // Server side: the INIT must be message 30 with exactly one field.
      await expectProtocolError(server(m(name), Uint8Array.of(31, 0, 0, 0, 0)));
      await expectProtocolError(server(m(name), Uint8Array.of(30)));
      await expectProtocolError(server(m(name), Uint8Array.of(30, 0, 0, 0, 1)));
    });
  }
});

describe("curve25519 (RFC 8731 §3)", () => {
  for (const name of ["curve25519-sha256", "curve25519-sha256@libssh.org"]) {
    it(`${name}: low-order points and wrong lengths are refused by client and server`, async () => {
      for (const u of LOW_ORDER_U) {
        await expectProtocolError(client(m(name), reply(str(u))));
        await expectProtocolError(server(m(name), msg(30, str(u))));
      }
      for (const len of [0, 31, 33, 65]) {
        await expectProtocolError(client(m(name), reply(str(Buffer.alloc(len, 9)))));
        await expectProtocolError(server(m(name), msg(30, str(Buffer.alloc(len, 9)))));
      }
    });
  }
});

describe("ECDH (RFC 5656 §4)", () => {
  for (const [name, curve] of [
    ["ecdh-sha2-nistp256", "P-256"],
    ["ecdh-sha2-nistp384", "P-384"],
    ["ecdh-sha2-nistp521", "P-521"],
  ] as const) {
    it(`${name}: off-curve, compressed, infinity and wrong-length points are refused`, async () => {
      const good = ecdhPeer(curve).raw;
      const offCurve = Buffer.from(good);
      offCurve[offCurve.length - 1]! ^= 1;
      const compressed = ecdhPeer(curve).compressed;
      const bad = [offCurve, compressed, Buffer.from([0]), good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.from([0])])];
      const wrongPrefix = Buffer.from(good);
      wrongPrefix[0] = 0x06; // hybrid form, not allowed
      bad.push(wrongPrefix);
      for (const q of bad) {
        await expectProtocolError(client(m(name), reply(str(q))));
        await expectProtocolError(server(m(name), msg(30, str(q))));
      }
    });
  }
});

describe("finite-field DH (RFC 4253 §8)", () => {
  const p = dh.MODP_2048.p;
  const badValues = [0n, 1n, 2n, p - 1n, p, p + 1n, 2n ** 64n];
  it("group14: e and f outside 1 < y < p-1 (or trivially weak) are refused", async () => {
    for (const v of badValues) {
      await expectProtocolError(server(m("diffie-hellman-group14-sha256"), msg(30, mpint(v))));
      await expectProtocolError(client(m("diffie-hellman-group14-sha256"), reply(mpint(v))));
    }
    // Negative (0xff = -1) and non-minimal encodings.
    await expectProtocolError(server(m("diffie-hellman-group14-sha256"), msg(30, str(Buffer.from([0xff])))));
    await expectProtocolError(server(m("diffie-hellman-group14-sha256"), msg(30, str(Buffer.from([0, 1, 2, 3])))));
  });

  it("refuses an oversized mpint before converting it", async () => {
    const huge = str(Buffer.alloc(200_000, 0x11));
    const t = performance.now();
    await expectProtocolError(server(m("diffie-hellman-group18-sha512"), msg(30, huge)));
    expect(performance.now() - t).toBeLessThan(1000);
  });

  it("accepts a valid e at the edge of the range", async () => {
    const e = p - 2n;
    const r = await server(m("diffie-hellman-group14-sha256"), msg(30, mpint(e)));
    expect(r.sharedSecret.length).toBeGreaterThan(4);
  });
});

describe("group exchange (RFC 4419, RFC 8270)", () => {
  const gex = DH_GEX_SHA256;
  const group = (p: bigint, g: bigint | Buffer) => msg(31, mpint(p), typeof g === "bigint" ? mpint(g) : g);
  const p3072 = dh.MODP_3072.p;

  it("client refuses groups below 2048 bits or above 8192 bits", async () => {
    await expectProtocolError(client(gex, group(dh.OAKLEY_GROUP_2.p, 2n)));
    await expectProtocolError(client(gex, group((1n << 2046n) + 1n, 2n))); // 2047 bits
    await expectProtocolError(client(gex, group((1n << 8200n) + 1n, 2n))); // 8201 bits
    await expectProtocolError(client(gex, group((1n << 8192n) + 1n, 2n))); // 8193 bits
  });

  it("client refuses an even modulus and generators outside (1, p-1)", async () => {
    await expectProtocolError(client(gex, group(p3072 + 1n, 2n)));
    for (const g of [0n, 1n, p3072 - 1n, p3072]) await expectProtocolError(client(gex, group(p3072, g)));
    await expectProtocolError(client(gex, group(p3072, str(Buffer.from([0xfe])))));
    await expectProtocolError(client(gex, msg(31, str(Buffer.alloc(300_000, 0x7f)), mpint(2n))));
  });

  it("client refuses a wrong message number, trailing bytes, and a bad f", async () => {
    await expectProtocolError(client(gex, msg(33, mpint(p3072), mpint(2n))));
    await expectProtocolError(client(gex, Uint8Array.of(...group(p3072, 2n), 0)));
    for (const f of [1n, p3072 - 1n]) {
      await expectProtocolError(client(gex, group(p3072, 2n), msg(33, str(HOST_KEY_BLOB), mpint(f), str(SIGNATURE))));
    }
    await expectProtocolError(client(gex, group(p3072, 2n), reply(mpint(modPow(2n, 12345n, p3072)))));
  });

  it("server refuses inconsistent or unsatisfiable requests and bad e", async () => {
    const req = (a: number, b: number, c: number) => msg(34, u32(a), u32(b), u32(c));
    await expectProtocolError(server(gex, req(4096, 3072, 8192))); // min > n
    await expectProtocolError(server(gex, req(2048, 8192, 4096))); // n > max
    await expectProtocolError(server(gex, req(1024, 1024, 1024))); // nothing that small
    await expectProtocolError(server(gex, req(9000, 9000, 10000))); // nothing that large
    await expectProtocolError(server(gex, msg(30, u32(2048)))); // REQUEST_OLD
    await expectProtocolError(server(gex, msg(34, u32(2048), u32(3072))));
    for (const e of [1n, p3072 - 1n]) await expectProtocolError(server(gex, req(2048, 3072, 8192), msg(32, mpint(e))));
    await expectProtocolError(server(gex, req(2048, 3072, 8192), msg(30, mpint(12345678901234567n))));
  });
});

describe("mlkem768x25519-sha256", () => {
  const name = "mlkem768x25519-sha256";
  it("refuses wrong lengths, a bad encapsulation key and a low-order X25519 key", async () => {
    for (const len of [0, 32, 1184, 1215, 1217]) {
      await expectProtocolError(server(m(name), msg(30, str(Buffer.alloc(len, 1)))));
    }
    for (const len of [0, 32, 1088, 1119, 1121]) await expectProtocolError(client(m(name), reply(str(Buffer.alloc(len, 1)))));

    const ek = Buffer.from(ml_kem768.keygen().publicKey);
    const x = validPointX25519();
    const badEk = Buffer.from(ek);
    badEk.fill(0xff, 0, 3); // coefficients 0xfff >= q = 3329: fails the FIPS 203 modulus check
    await expectProtocolError(server(m(name), msg(30, str(Buffer.concat([badEk, x])))));
    for (const u of LOW_ORDER_U) {
      await expectProtocolError(server(m(name), msg(30, str(Buffer.concat([ek, u])))));
      await expectProtocolError(client(m(name), reply(str(Buffer.concat([Buffer.alloc(1088, 3), u])))));
    }
  });
});

function validPointX25519(): Buffer {
  return le(9n);
}

/** Runs a real server against a real client once and returns the server's REPLY payload. */
async function captureReply(method: KexMethod): Promise<Uint8Array> {
  const c = scriptedIO([]);
  void method.client(c, INPUTS).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 0));
  const s = scriptedIO([c.sent[0]!]);
  await method.server(s, INPUTS, dummyHostKey());
  return s.sent[0]!;
}
