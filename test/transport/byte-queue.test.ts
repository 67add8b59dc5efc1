import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ByteQueue } from "../../src/ssh/transport/byte-queue.js";

describe("ByteQueue", () => {
  it("returns the same bytes as the concatenation, whatever the chunking and adjacency", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 4000 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 700 }), fc.boolean()), { minLength: 1, maxLength: 40 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 900 }), fc.boolean()), { minLength: 1, maxLength: 40 }),
        (data, cuts, takes) => {
          // The data lives in one buffer; each chunk is either a view into it (adjacent to the
          // previous one) or a copy in its own memory.
          const backing = new Uint8Array(data.length + 16);
          backing.set(data, 8);
          const q = new ByteQueue();
          let pos = 0;
          for (const [n, shared] of cuts) {
            if (pos >= data.length) break;
            const end = Math.min(data.length, pos + n);
            q.push(shared ? backing.subarray(8 + pos, 8 + end) : data.slice(pos, end));
            pos = end;
          }
          if (pos < data.length) q.push(backing.subarray(8 + pos, 8 + data.length));
          let read = 0;
          for (const [n, peekFirst] of takes) {
            const k = Math.min(n, q.length);
            if (k === 0) break;
            if (peekFirst) expect(q.peek(k)).toEqual(data.subarray(read, read + k));
            expect(q.take(k)).toEqual(data.subarray(read, read + k));
            read += k;
            expect(q.length).toBe(data.length - read);
          }
          expect(q.takeAll()).toEqual(data.subarray(read));
        },
      ),
    );
  });

  it("joins chunks that continue each other in memory, so a range across them is a view", () => {
    const buf = new Uint8Array(100).map((_, i) => i);
    const q = new ByteQueue();
    q.push(buf.subarray(0, 30));
    q.push(buf.subarray(30, 70));
    q.push(buf.subarray(70, 100));
    expect(q.take(5)).toEqual(buf.subarray(0, 5));
    const across = q.take(80);
    expect(across.buffer).toBe(buf.buffer); // not a copy
    expect(across.byteOffset).toBe(5);
    expect(across).toEqual(buf.subarray(5, 85));
  });

  it("copies a range across chunks in different memory, and does not join a gap", () => {
    const buf = new Uint8Array(100).map((_, i) => i);
    const q = new ByteQueue();
    q.push(buf.subarray(0, 30));
    q.push(buf.subarray(31, 60)); // one byte skipped: not adjacent
    const across = q.take(50);
    expect(across.buffer).not.toBe(buf.buffer);
    expect(Array.from(across)).toEqual([...Array.from(buf.subarray(0, 30)), ...Array.from(buf.subarray(31, 51))]);
  });

  it("hands each chunk to drained() once, when its last byte has been taken, and only when asked to track", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 300 }), fc.boolean()), { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 30 }),
        (cuts, takes) => {
          const backing = new Uint8Array(cuts.reduce((n, [k]) => n + k + 1, 0));
          const q = new ByteQueue(true);
          const untracked = new ByteQueue();
          let at = 0;
          for (const [n, gap] of cuts) {
            at += gap ? 1 : 0; // a gap keeps the chunk apart from the one before
            q.push(backing.subarray(at, at + n));
            untracked.push(backing.subarray(at, at + n));
            at += n;
          }
          const total = q.length;
          let taken = 0;
          let drained = 0;
          for (const n of takes) {
            const k = Math.min(n, q.length);
            if (k === 0) break;
            q.take(k);
            untracked.take(k);
            taken += k;
            for (const c of q.drained()) drained += c.length;
            // Everything drained was taken; what was taken but not drained is in the chunk still being read.
            expect(drained).toBeLessThanOrEqual(taken);
            expect(q.drained()).toEqual([]);
          }
          if (q.length > 0) q.take(q.length);
          for (const c of q.drained()) drained += c.length;
          expect(drained).toBe(total);
          expect(untracked.drained()).toEqual([]);
        },
      ),
    );
  });
});
