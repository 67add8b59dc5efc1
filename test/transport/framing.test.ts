import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { CIPHERS, MACS } from "../../src/ssh/crypto/algorithms.js";
import { PacketDecoder, PacketEncoder, MAX_PACKET_LENGTH } from "../../src/ssh/transport/framing.js";
import { ProtocolError } from "../../src/errors.js";
import { concat } from "../../src/ssh/wire/writer.js";
import { NOBLE_SUITE } from "../../src/ssh/crypto/noble-primitives.js";
import { nativeCtr, nativeGcm } from "../../src/platform/native-crypto.js";

const rand = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/**
 * An encoder and a decoder factory sharing one set of keys for the given cipher (and MAC), so
 * several fresh decoders (sequence number 0) can read what one encoder wrote.
 */
function pair(cipherName?: string, macName?: string) {
  const c = cipherName ? CIPHERS[cipherName]! : undefined;
  const mac = macName ? MACS[macName] : undefined;
  const keys = c && { iv: rand(c.ivLength), key: rand(c.keyLength), macKey: rand(mac?.keyLength ?? 0) };
  const copy = () => keys && { iv: keys.iv.slice(), key: keys.key.slice(), macKey: keys.macKey.slice() };
  const enc = new PacketEncoder();
  if (c) enc.sealer = c.createSealer(copy()!, mac, NOBLE_SUITE);
  const newDecoder = () => {
    const d = new PacketDecoder();
    if (c) d.opener = c.createOpener(copy()!, mac, NOBLE_SUITE);
    return d;
  };
  return { enc, dec: newDecoder(), newDecoder };
}

async function drain(dec: PacketDecoder): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let p = dec.next(); p !== undefined; p = dec.next()) out.push((await p).slice());
  return out;
}

const modes: [string | undefined, string | undefined][] = [
  [undefined, undefined],
  ["chacha20-poly1305@openssh.com", undefined],
  ["aes128-gcm@openssh.com", undefined],
  ["aes128-ctr", "hmac-sha2-256"],
  ["aes256-ctr", "hmac-sha2-512-etm@openssh.com"],
];

describe("binary packet protocol (RFC 4253 §6)", () => {
  for (const [c, m] of modes) {
    it(`reassembles packets split at every byte boundary (${c ?? "none"} ${m ?? ""})`, async () => {
      const { enc, newDecoder } = pair(c, m);
      const payloads = [new Uint8Array([94, 1, 2, 3]), rand(100), rand(1), rand(37)];
      const wire = concat(...(await Promise.all(payloads.map(async (p) => (await enc.encode(p)).slice()))));
      for (let cut = 0; cut <= wire.length; cut++) {
        const dec = newDecoder();
        dec.push(wire.slice(0, cut));
        const first = await drain(dec);
        dec.push(wire.slice(cut));
        expect([...first, ...(await drain(dec))]).toEqual(payloads);
      }
    });
  }

  it("pads to the block size with at least 4 random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 600 }), (payload) => {
        const enc = new PacketEncoder();
        const packet = enc.encode(payload) as Uint8Array;
        const len = new DataView(packet.buffer, packet.byteOffset).getUint32(0);
        expect((len + 4) % 8).toBe(0);
        expect(packet[4]!).toBeGreaterThanOrEqual(4);
        expect(len).toBe(1 + payload.length + packet[4]!);
      }),
    );
  });

  it("wraps sequence numbers at 2^32", async () => {
    const { enc, dec } = pair("chacha20-poly1305@openssh.com");
    enc.seq = dec.seq = 0xffffffff;
    dec.push(await enc.encode(new Uint8Array([2])));
    dec.push(await enc.encode(new Uint8Array([2, 9])));
    expect(await drain(dec)).toEqual([new Uint8Array([2]), new Uint8Array([2, 9])]);
    expect(enc.seq).toBe(1);
  });

  it("rejects lengths over the limit before buffering them", () => {
    const dec = new PacketDecoder();
    dec.push(new Uint8Array([0x80, 0, 0, 0, 1, 2, 3, 4]));
    expect(() => dec.next()).toThrow(ProtocolError);
    const dec2 = new PacketDecoder();
    const n = MAX_PACKET_LENGTH + 8;
    dec2.push(new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]));
    expect(() => dec2.next()).toThrow(/out of bounds/);
  });

  it("rejects bad padding and misaligned lengths", () => {
    const dec = new PacketDecoder();
    dec.push(new Uint8Array([0, 0, 0, 12, 3, 94, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])); // padding 3 < 4
    expect(() => dec.next()).toThrow(/padding/);
    const dec2 = new PacketDecoder();
    dec2.push(new Uint8Array([0, 0, 0, 13]));
    expect(() => dec2.next()).toThrow(/multiple/);
  });

  it("random bytes into the decoder only produce payloads or ProtocolError", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        const { dec } = pair("aes128-gcm@openssh.com");
        dec.push(bytes);
        try {
          await drain(dec);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
        }
      }),
    );
  });

  describe("reusing written packets' buffers", () => {
    for (const [c, m] of modes) {
      it(`a released packet's buffer takes the next packet of its size, fully rewritten (${c ?? "none"} ${m ?? ""})`, async () => {
        const { enc, dec } = pair(c, m);
        const first = await enc.encode(rand(9000));
        dec.push(first.slice());
        enc.release([first]);
        const payload = rand(9000);
        const second = await enc.encode(payload);
        expect(second.buffer).toBe(first.buffer);
        dec.push(second.slice());
        const out = await drain(dec);
        expect(out[1]).toEqual(payload);
      });
    }

    it("does not pool small packets, and ignores buffers it did not lend or got back already", async () => {
      const { enc } = pair("chacha20-poly1305@openssh.com");
      const small = await enc.encode(rand(100));
      enc.release([small]);
      expect((await enc.encode(rand(100))).buffer).not.toBe(small.buffer);
      const big = await enc.encode(rand(8000));
      enc.release([big, big, new Uint8Array(big.length)]);
      const a = await enc.encode(rand(8000));
      const b = await enc.encode(rand(8000));
      expect(a.buffer).toBe(big.buffer);
      expect(b.buffer).not.toBe(big.buffer);
    });
  });

  describe("releasing received bytes (PacketDecoder.release)", () => {
    /** Packets of `cipher` from one encoder, as one wire buffer, and a decoder for them. */
    async function received(cipher: string, suite: typeof NOBLE_SUITE, macName?: string) {
      const c = CIPHERS[cipher]!;
      const mac = macName ? MACS[macName] : undefined;
      const keys = { iv: rand(c.ivLength), key: rand(c.keyLength), macKey: rand(mac?.keyLength ?? 0) };
      const enc = new PacketEncoder();
      enc.sealer = c.createSealer({ iv: keys.iv.slice(), key: keys.key.slice(), macKey: keys.macKey.slice() }, mac, suite);
      const dec = new PacketDecoder();
      dec.opener = c.createOpener(keys, mac, suite);
      const payloads = [rand(5000), rand(1), rand(33_000), rand(200), concat(rand(60_000), rand(10_000)), rand(16)];
      const wire = concat(...(await Promise.all(payloads.map(async (p) => (await enc.encode(p)).slice()))));
      return { dec, payloads, wire };
    }

    /** Pushes `wire` as adjacent views of one buffer, cut every `step` bytes; a released chunk is overwritten at once. */
    async function decodeReusing(dec: PacketDecoder, wire: Uint8Array, step: number) {
      const released: Uint8Array[] = [];
      dec.release = (chunk) => {
        released.push(chunk);
        chunk.fill(0xee); // as if the socket read new bytes into it right away
      };
      const out: Uint8Array[] = [];
      for (let at = 0; at < wire.length; at += step) {
        dec.push(wire.subarray(at, Math.min(wire.length, at + step)));
        for (let p = dec.next(); p !== undefined; p = dec.next()) out.push(await p);
      }
      return { out, released };
    }

    // Every opener returns new memory: node:crypto's AES-GCM; chacha20-poly1305, which
    // decrypts into a buffer of its own so that the socket's read buffer can be reused; and
    // AES-CTR in both MAC orders, with noble (which decrypts in place) and node:crypto.
    const cases = [
      ["aes128-gcm@openssh.com", { ...NOBLE_SUITE, gcm: nativeGcm }],
      ["chacha20-poly1305@openssh.com", NOBLE_SUITE],
      ["aes128-ctr", NOBLE_SUITE, "hmac-sha2-256"],
      ["aes128-ctr", NOBLE_SUITE, "hmac-sha2-256-etm@openssh.com"],
      ["aes128-ctr", { ...NOBLE_SUITE, ctr: nativeCtr }, "hmac-sha2-256"],
      ["aes128-ctr", { ...NOBLE_SUITE, ctr: nativeCtr }, "hmac-sha2-256-etm@openssh.com"],
    ] as const;
    for (const [cipher, suite, mac] of cases) {
      for (const step of [1000, 4096, 65_536, 1 << 20]) {
        it(`${cipher}${mac ? ` + ${mac}` : ""}${suite === NOBLE_SUITE ? "" : " (node:crypto)"}: gives back every byte once, never one a packet still needs (cut every ${step})`, async () => {
          const { dec, payloads, wire } = await received(cipher, suite, mac);
          const { out, released } = await decodeReusing(dec, wire, step);
          expect(out).toEqual(payloads); // every tag verified although released bytes were overwritten
          expect(released.reduce((n, c) => n + c.length, 0)).toBe(wire.length);
          for (const c of released) expect(c.buffer).toBe(wire.buffer);
        });
      }
    }

    it("keeps bytes that an opener returned views of (no cipher yet: payloads are the packets' own bytes)", async () => {
      const enc = new PacketEncoder();
      const dec = new PacketDecoder();
      const payloads = [rand(5000), rand(1), rand(33_000), rand(16)];
      const wire = concat(...(await Promise.all(payloads.map(async (p) => (await enc.encode(p)).slice()))));
      const { out, released } = await decodeReusing(dec, wire, 4096);
      expect(released).toEqual([]);
      expect(out).toEqual(payloads);
      expect(out.every((p) => p.buffer === wire.buffer)).toBe(true);
    });
  });
});
