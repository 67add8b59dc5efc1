import { afterEach, describe, expect, it } from "vitest";
import { createServer, type Server, type Socket } from "node:net";
import { connectTcp } from "../../src/ssh/socket/tcp.js";
import type { ByteChannel } from "../../src/ssh/socket/byte-channel.js";

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A server that writes `data` in pieces of varying size to each client, then ends. */
async function serve(data: Uint8Array): Promise<number> {
  server = createServer((s: Socket) => {
    let pos = 0;
    let step = 1;
    const pump = () => {
      while (pos < data.length) {
        const end = Math.min(data.length, pos + ((step++ * 7919) % 200_000) + 1);
        const more = s.write(data.subarray(pos, end));
        pos = end;
        if (!more) return void s.once("drain", pump);
      }
      s.end();
    };
    pump();
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  return (server.address() as { port: number }).port;
}

async function readAll(ch: ByteChannel, delayFirstMs = 0): Promise<Uint8Array[]> {
  if (delayFirstMs) await new Promise((r) => setTimeout(r, delayFirstMs));
  const chunks: Uint8Array[] = [];
  for (let c = await ch.read(); c; c = await ch.read()) chunks.push(c);
  return chunks;
}

/** Index of the first difference, -1 when equal (toEqual on 24 MiB arrays exhausts the heap). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) (out.set(c, o), (o += c.length));
  return out;
}

describe("TCP socket channel", () => {
  const data = new Uint8Array(24 * 1024 * 1024).map((_, i) => (i * 131 + (i >>> 11)) & 255);

  it("delivers every byte in order, reading consecutive regions of one buffer", async () => {
    const ch = await connectTcp("127.0.0.1", await serve(data));
    const chunks = await readAll(ch);
    ch.close();
    // Reads into the same buffer continue each other, so the packet layer can join them.
    let adjacent = 0;
    for (let i = 1; i < chunks.length; i++) {
      const a = chunks[i - 1]!, b = chunks[i]!;
      if (a.buffer !== b.buffer) continue;
      expect(b.byteOffset).toBe(a.byteOffset + a.length);
      adjacent++;
    }
    expect(adjacent).toBeGreaterThan(0);
    // A region is never handed out twice: later reads did not overwrite earlier chunks.
    expect(firstDifference(concat(chunks), data)).toBe(-1);
  });

  it("after alignFrom(k), puts stream offset k and every 8th after it on 8-byte boundaries", async () => {
    const ch = await connectTcp("127.0.0.1", await serve(data));
    const first = (await ch.read())!;
    const k = 41; // e.g. where an SSH version line ends
    ch.alignFrom!(k);
    let offset = first.length;
    let checked = 0;
    for (let c = await ch.read(); c; c = await ch.read()) {
      // Reads already asked for before the call may keep the old placement.
      if (offset > first.length + 4 * 1024 * 1024) {
        expect((c.byteOffset - (offset - k)) & 7).toBe(0);
        checked++;
      }
      offset += c.length;
    }
    ch.close();
    expect(offset).toBe(data.length);
    expect(checked).toBeGreaterThan(0);
  });

  it("loses nothing when the reader lags 300 ms behind a fast sender", async () => {
    const ch = await connectTcp("127.0.0.1", await serve(data));
    const chunks = await readAll(ch, 300); // the client lags: the socket is paused at its high water
    ch.close();
    expect(firstDifference(concat(chunks), data)).toBe(-1);
  });

  it("reads into released memory again, and a chunk not yet released is never overwritten", async () => {
    const ch = await connectTcp("127.0.0.1", await serve(data));
    const copies: Uint8Array[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let unreleased: Uint8Array | undefined; // held back one read: it must keep its bytes meanwhile
    let checked = 0;
    for (let c = await ch.read(); c; c = await ch.read()) {
      if (unreleased) {
        expect(firstDifference(unreleased, copies.at(-1)!)).toBe(-1);
        checked++;
        ch.release!(unreleased);
      }
      copies.push(c.slice());
      buffers.add(c.buffer);
      unreleased = c;
    }
    ch.close();
    expect(firstDifference(concat(copies), data)).toBe(-1);
    expect(checked).toBeGreaterThan(0);
    // 24 MiB through a handful of 2 MiB buffers (plus the smaller ones it grows through).
    expect(buffers.size).toBeLessThan(10);
  });
});
