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

  describe("recycle", () => {
    /** A framed packet of `n` bytes (type + body) filled with `fill`, split in two chunks. */
    const framed = (n: number, fill: number) => {
      const p = new Uint8Array(4 + n).fill(fill);
      new DataView(p.buffer).setUint32(0, n);
      return [p.slice(0, 1000), p.slice(1000)];
    };
    const receive = (f: SftpFramer, n: number, fill: number) => {
      const out = framed(n, fill).flatMap((c) => f.feed(c));
      expect(out).toHaveLength(1);
      return out[0]!;
    };

    it("reuses a large packet's buffer once it is handed back, with only the new bytes in view", () => {
      const f = new SftpFramer();
      const a = receive(f, 200_000, 1);
      f.recycle(a.subarray(9)); // any view into the packet will do, e.g. a DATA's data
      const b = receive(f, 150_000, 2);
      expect(b.buffer).toBe(a.buffer);
      expect(b.length).toBe(150_000);
      expect(b.every((x) => x === 2)).toBe(true);
    });

    it("copies a packet that arrived whole across chunks into a pooled buffer too", () => {
      const f = new SftpFramer();
      const a = receive(f, 200_000, 1);
      f.recycle(a);
      // Both chunks are queued before the packet is asked for: the copy out of the queue, not
      // the fill-as-it-arrives path, takes the pooled buffer.
      for (const c of framed(180_000, 2)) f.push(c);
      const b = f.next()!;
      expect(b.buffer).toBe(a.buffer);
      expect(b.length).toBe(180_000);
      expect(b.every((x) => x === 2)).toBe(true);
      expect(f.next()).toBeUndefined();
    });

    it("never lends one buffer twice, and ignores memory it did not lend", () => {
      const f = new SftpFramer();
      const a = receive(f, 200_000, 1);
      f.recycle(a);
      f.recycle(a); // a second hand-back of the same buffer is ignored
      f.recycle(new Uint8Array(DEFAULT_MAX_PACKET_LENGTH)); // not the framer's
      const b = receive(f, 200_000, 2);
      const c = receive(f, 200_000, 3);
      expect(b.buffer).toBe(a.buffer);
      expect(c.buffer).not.toBe(a.buffer);
      expect(b.every((x) => x === 2)).toBe(true);
    });

    it("keeps as many buffers as replies are wanted (8 to 64), so an idle session holds 2 MiB", () => {
      const kept = (inFlight: number) => {
        const f = new SftpFramer();
        const lent = Array.from({ length: 70 }, (_, i) => receive(f, 100_000, i));
        for (const p of lent) f.recycle(p, inFlight);
        const mine = new Set(lent.map((p) => p.buffer));
        // Packets now reuse what was kept, then get new buffers.
        return Array.from({ length: 70 }, (_, i) => receive(f, 100_000, i)).filter((p) => mine.has(p.buffer)).length;
      };
      expect(kept(0)).toBe(8);
      expect(kept(30)).toBe(30);
      expect(kept(64)).toBe(64);
      expect(kept(500)).toBe(64);
    });

    it("trim keeps what the replies still wanted need, at least 8 buffers", () => {
      const f = new SftpFramer();
      const lent = Array.from({ length: 40 }, (_, i) => receive(f, 100_000, i));
      for (const p of lent) f.recycle(p, 64);
      expect(f.pooled).toBe(40 * DEFAULT_MAX_PACKET_LENGTH);
      f.trim(20);
      expect(f.pooled).toBe(20 * DEFAULT_MAX_PACKET_LENGTH);
      f.trim(-3);
      expect(f.pooled).toBe(8 * DEFAULT_MAX_PACKET_LENGTH);
    });

    it("gives exact buffers to packets above the default limit (a raised server limit)", () => {
      const f = new SftpFramer(16 * 1024 * 1024);
      const a = receive(f, 300_000, 1);
      expect(a.buffer.byteLength).toBe(300_000);
      expect(receive(f, 200_000, 2).buffer.byteLength).toBe(DEFAULT_MAX_PACKET_LENGTH);
    });

    it("does not pool small packets", () => {
      const f = new SftpFramer();
      const a = receive(f, 5000, 1);
      f.recycle(a);
      const b = receive(f, 5000, 2);
      expect(b.buffer).not.toBe(a.buffer);
      expect(a.every((x) => x === 1)).toBe(true);
    });
  });
});
