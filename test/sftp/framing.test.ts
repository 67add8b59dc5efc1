import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ProtocolError } from "../../src/errors.js";
import { DEFAULT_MAX_PACKET_LENGTH, SftpFramer } from "../../src/sftp/framing.js";
import { encodeRequest } from "../../src/sftp/packet.js";
import { concat } from "../../src/ssh/wire/writer.js";
import { request, unframe } from "./arbitraries.js";

const framed = (body: number[]) => {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
};

describe("SftpFramer", () => {
  const packets = [framed([1, 0, 0, 0, 3]), framed([101, 0, 0, 0, 1, 9, 9, 9, 9]), framed([4]), framed([200, 1])];
  const stream = concat(...packets);
  const bodies = packets.map(unframe);

  it("reassembles packets split at every pair of boundaries", () => {
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j++) {
        const f = new SftpFramer();
        const out = [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)].flatMap((c) => f.feed(c));
        expect(out).toEqual(bodies);
        expect(f.buffered).toBe(0);
      }
    }
  });

  it("reassembles byte by byte", () => {
    const f = new SftpFramer();
    const out: Uint8Array[] = [];
    for (const b of stream) out.push(...f.feed(Uint8Array.of(b)));
    expect(out).toEqual(bodies);
  });

  it("reassembles random packets under random splits", () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (reqs, cuts) => {
        const encoded = reqs.map(encodeRequest);
        const all = concat(...encoded);
        const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
        const f = new SftpFramer();
        const out: Uint8Array[] = [];
        let prev = 0;
        for (const p of [...points, all.length]) {
          out.push(...f.feed(all.subarray(prev, p)));
          prev = p;
        }
        expect(out).toEqual(encoded.map(unframe));
      }),
      { numRuns: 300 },
    );
  });

  it("hands out a view, not a copy, when a packet lies inside one chunk", () => {
    const f = new SftpFramer();
    const [a, b] = f.feed(stream);
    expect(a!.buffer).toBe(stream.buffer);
    expect(b!.buffer).toBe(stream.buffer);
  });

  it("rejects an oversize length as soon as the length arrives, and stays failed", () => {
    const f = new SftpFramer();
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, DEFAULT_MAX_PACKET_LENGTH + 1);
    let err: unknown;
    try {
      f.feed(head);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe("SFTP_PACKET_TOO_LARGE");
    expect(f.buffered).toBe(0);
    expect(() => f.push(new Uint8Array(10))).toThrow(err as Error);
    expect(() => f.next()).toThrow(err as Error);
  });

  it("accepts exactly the limit and honours a custom one", () => {
    const f = new SftpFramer(8);
    expect(f.feed(framed([1, 2, 3, 4, 5, 6, 7, 8]))).toHaveLength(1);
    expect(() => f.feed(framed([1, 2, 3, 4, 5, 6, 7, 8, 9]))).toThrow(/exceeds the 8-byte limit/);
    expect(new SftpFramer().maxPacketLength).toBe(256 * 1024 + 1024);
  });

  it("rejects a zero length (a packet needs its type byte)", () => {
    expect(() => new SftpFramer().feed(new Uint8Array(4))).toThrow(expect.objectContaining({ code: "SFTP_BAD_PACKET" }));
  });

  describe("nextParts", () => {
    /** A framed packet of `n` bytes (type + body): byte i of the body is i & 255. */
    const packet = (n: number) => {
      const p = new Uint8Array(4 + n).map((_, i) => (i - 4) & 255);
      new DataView(p.buffer).setUint32(0, n);
      return p;
    };
    /** `bytes` cut at `cuts` (offsets), each piece a copy in memory of its own. */
    const cut = (bytes: Uint8Array, cuts: number[]) => {
      const points = [0, ...cuts, bytes.length];
      return points.slice(1).map((end, i) => bytes.slice(points[i], end));
    };

    it("hands out a packet spanning chunks as views of them, in order, joining nothing", () => {
      const wire = packet(100_000);
      const chunks = cut(wire, [3, 5, 32_768, 32_769, 65_000, 99_999]);
      const f = new SftpFramer();
      let got: Uint8Array[] | undefined;
      for (const c of chunks) {
        f.push(c);
        expect(got).toBeUndefined();
        got = f.nextParts();
      }
      expect(got).toBeDefined();
      expect(concat(...got!)).toEqual(wire.subarray(4));
      // Every part lies in one of the chunks pushed: nothing was copied.
      for (const part of got!) expect(chunks.some((c) => c.buffer === part.buffer)).toBe(true);
      expect(got!.every((p) => p.length > 0)).toBe(true);
      expect(f.buffered).toBe(0);
    });

    it("returns packets whole and in order whatever the cuts, the same as next()", () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 30 }), (sizes, cuts) => {
          const wire = concat(...sizes.map(packet));
          const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
          const byParts = new SftpFramer();
          const joined = new SftpFramer();
          const a: Uint8Array[] = [];
          const b: Uint8Array[] = [];
          for (const c of cut(wire, points)) {
            byParts.push(c);
            for (let p = byParts.nextParts(); p; p = byParts.nextParts()) a.push(concat(...p));
            b.push(...joined.feed(c));
          }
          const bodies = sizes.map((n) => packet(n).subarray(4));
          expect(a).toEqual(bodies);
          expect(b).toEqual(bodies);
        }),
        { numRuns: 100 },
      );
    });

    it(`keeps at most 64 parts: a packet sent a byte at a time is copied into one buffer instead`, () => {
      const wire = packet(1000);
      const f = new SftpFramer();
      let got: Uint8Array[] | undefined;
      for (const b of wire) {
        f.push(Uint8Array.of(b));
        got = f.nextParts() ?? got;
        expect((f as unknown as { parts?: unknown[] }).parts?.length ?? 0).toBeLessThanOrEqual(64);
      }
      expect(got).toHaveLength(1);
      expect(got![0]).toEqual(wire.subarray(4));
    });

    it("keeps at most 64 parts when many tiny chunks were queued before the packet was asked for", () => {
      const wire = packet(1000);
      const f = new SftpFramer();
      for (const b of wire.subarray(0, 500)) f.push(Uint8Array.of(b)); // nobody takes packets meanwhile
      expect(f.nextParts()).toBeUndefined();
      f.push(wire.subarray(500));
      const got = f.nextParts();
      expect(got).toHaveLength(1);
      expect(got![0]).toEqual(wire.subarray(4));
    });
  });
});
