/**
 * localChunks: an upload's local reads, each running while the chunk before it is sent. Checked
 * against an in-memory file whose reads are slow, short at random, and counted.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { LocalFile } from "../../src/platform/local-files.js";
import { localChunks } from "../../src/sftp/local-chunks.js";

function memoryFile(bytes: Uint8Array, shortBy: (position: number) => number = () => 0) {
  const state = { running: 0, maxRunning: 0, reads: 0 };
  const file: LocalFile = {
    async read(buf, position) {
      state.running++;
      state.maxRunning = Math.max(state.maxRunning, state.running);
      state.reads++;
      await new Promise((r) => setTimeout(r, 1));
      const n = Math.max(1, Math.min(buf.length - shortBy(position), bytes.length - position));
      const got = position >= bytes.length ? 0 : n;
      buf.set(bytes.subarray(position, position + got));
      state.running--;
      return got;
    },
    write: () => Promise.reject(new Error("read-only")),
    writev: () => Promise.reject(new Error("read-only")),
    size: async () => bytes.length,
    truncate: () => Promise.reject(new Error("read-only")),
    close: async () => {},
  };
  return { file, state };
}

describe("localChunks", () => {
  it("yields exactly the bytes from start to end, whatever the chunk size and short reads", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 3000 }),
        fc.integer({ min: 1, max: 700 }),
        fc.nat(),
        fc.nat(),
        fc.array(fc.nat({ max: 300 }), { minLength: 1, maxLength: 8 }),
        async (bytes, size, a, b, shorts) => {
          const start = bytes.length ? a % (bytes.length + 1) : 0;
          const end = start + (b % (bytes.length - start + 1));
          const { file } = memoryFile(bytes, (p) => shorts[p % shorts.length]!);
          const seen: number[] = [];
          for await (const chunk of localChunks(file, start, end, size)) {
            expect(chunk.length).toBeGreaterThan(0);
            expect(chunk.length).toBeLessThanOrEqual(size);
            seen.push(...chunk); // the chunk is read before the next one is asked for
          }
          expect(Uint8Array.from(seen)).toEqual(bytes.subarray(start, end));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("reads the next chunk while the caller works on this one, never more than one ahead", async () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
    const { file, state } = memoryFile(bytes);
    let during = 0;
    for await (const chunk of localChunks(file, 0, undefined, 100)) {
      void chunk;
      if (state.running > 0) during++;
      await new Promise((r) => setTimeout(r, 5)); // "sending"
    }
    expect(during).toBeGreaterThanOrEqual(9); // every chunk but the last had its successor reading
    expect(state.maxRunning).toBe(1);
    expect(state.reads).toBe(11); // 10 chunks and the read that finds the end
  });

  it("stops early at the end of a file shorter than `end`, and waits for its read-ahead when the caller stops", async () => {
    const { file } = memoryFile(new Uint8Array(250));
    let total = 0;
    for await (const chunk of localChunks(file, 0, 1000, 100)) total += chunk.length;
    expect(total).toBe(250); // the caller sees the shortfall

    const slow = memoryFile(new Uint8Array(1000));
    for await (const chunk of localChunks(slow.file, 0, undefined, 100)) {
      void chunk;
      expect(slow.state.running).toBe(1);
      break; // e.g. the upload failed: the generator's cleanup waits for that read
    }
    expect(slow.state.running).toBe(0);
  });
});
