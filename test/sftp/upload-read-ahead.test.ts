import { describe, expect, it } from "vitest";
import { PacketType, StatusCode } from "../../src/sftp/constants.js";
import { decodeRequest, type SftpResponse } from "../../src/sftp/packet.js";
import { PipelinedWriter } from "../../src/sftp/pipeline.js";
import type { SftpSession } from "../../src/sftp/session.js";
import { READ_AHEAD, sendLocal } from "../../src/sftp/transfers.js";
import type { LocalFile } from "../../src/platform/local-files.js";
import { bytesEqual } from "../../src/util/bytes.js";

/** A promise with its resolve and reject, to decide from the test when something completes. */
function later<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/**
 * A session stand-in for PipelinedWriter: records each WRITE (offset and a copy of its data, as
 * a channel copies data into packets) and answers OK at once; `sent` resolves when the test
 * says, one request at a time in order, as a channel's window would let them out.
 */
function fakeSession(writeSize: number) {
  const writes: { offset: number; data: Uint8Array }[] = [];
  const sentGates: (() => void)[] = [];
  let id = 0;
  const session = {
    writeSize,
    send(build: (id: number) => Uint8Array[]) {
      const [header, data] = build(++id);
      const packet = new Uint8Array(header!.length - 4 + data!.length);
      packet.set(header!.subarray(4));
      packet.set(data!, header!.length - 4);
      const req = decodeRequest(packet);
      if (req.type !== PacketType.WRITE) throw new Error("expected WRITE");
      const gate = later();
      sentGates.push(() => {
        writes.push({ offset: Number(req.offset), data: data!.slice() });
        gate.resolve();
      });
      const reply = Promise.resolve({ type: PacketType.STATUS, id, code: StatusCode.OK, message: "", lang: "" } as SftpResponse);
      return { reply, sent: gate.promise };
    },
  } as unknown as SftpSession;
  /** Lets the oldest `n` issued requests out (copies their data as it is now). */
  const release = (n = sentGates.length) => {
    for (const f of sentGates.splice(0, n)) f();
  };
  return { session, writes, release, issued: () => sentGates.length };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

/** A local file over `bytes`; reads answer at once, and are counted. */
function localFile(bytes: Uint8Array) {
  const reads: number[] = [];
  const bufferSizes: number[] = [];
  const file: LocalFile = {
    async read(buf, position) {
      reads.push(position);
      bufferSizes.push(buf.length);
      const n = Math.max(0, Math.min(buf.length, bytes.length - position));
      buf.set(bytes.subarray(position, position + n));
      return n;
    },
    write: () => Promise.reject(new Error("read-only")),
    writev: () => Promise.reject(new Error("read-only")),
    size: async () => bytes.length,
    truncate: () => Promise.reject(new Error("read-only")),
    close: async () => {},
  };
  return { file, reads, bufferSizes };
}

describe("PipelinedWriter with overlapping writes", () => {
  it("issues each write's requests after the one before it, at consecutive offsets", async () => {
    const f = fakeSession(4);
    const w = new PipelinedWriter(f.session, Uint8Array.of(1), "/f", { offset: 100 });
    const a = Uint8Array.of(1, 2, 3, 4, 5, 6);
    const b = Uint8Array.of(7, 8, 9);
    const first = w.write(a);
    const second = w.write(b); // before the first is sent
    await tick();
    expect(f.issued()).toBe(3); // 4 + 2 bytes, then 3
    f.release();
    await Promise.all([first, second]);
    await w.flush();
    expect(f.writes.map((x) => [x.offset, ...x.data])).toEqual([[100, 1, 2, 3, 4], [104, 5, 6], [106, 7, 8, 9]]);
  });
});

describe("sendLocal", () => {
  const MiB = 1024 * 1024;
  const bytes = new Uint8Array(5 * MiB + 123).map((_, i) => (i * 7) & 255);

  it("reads the next chunk and queues it while the one before waits for the window", async () => {
    const f = fakeSession(256 * 1024);
    const w = new PipelinedWriter(f.session, Uint8Array.of(1), "/f");
    const src = localFile(bytes);
    const sent: number[] = [];
    const sending = sendLocal(src.file, w, { start: 0, size: bytes.length }, undefined, (n) => sent.push(n));
    for (let i = 0; i < 20; i++) await tick();
    // Nothing has left yet, and READ_AHEAD chunks (4 requests of 256 KiB each) are queued already.
    const ahead = Array.from({ length: READ_AHEAD }, (_, i) => i * MiB);
    expect(READ_AHEAD).toBeGreaterThanOrEqual(2);
    expect(src.reads).toEqual(ahead);
    expect(f.issued()).toBe(4 * READ_AHEAD);
    expect(sent).toEqual([]);
    // Once the first chunk is out, its buffer takes the next chunk before the second is out.
    f.release(4);
    for (let i = 0; i < 20; i++) await tick();
    expect(src.reads).toEqual([...ahead, READ_AHEAD * MiB]);
    expect(sent).toEqual([MiB]);
    while (f.issued() > 0 || src.reads.length < 6) {
      f.release();
      await tick();
    }
    await sending;
    await w.flush();
    expect(sent.reduce((a, b) => a + b)).toBe(bytes.length);
    const out = new Uint8Array(bytes.length);
    for (const x of f.writes) out.set(x.data, x.offset);
    expect(bytesEqual(out, bytes)).toBe(true); // no buffer was refilled before its data was in packets
  });

  it("stops at `end`, and calls eof when the file ends before it", async () => {
    const f = fakeSession(64 * 1024);
    const w = new PipelinedWriter(f.session, Uint8Array.of(1), "/f", { offset: 1000 });
    const src = localFile(bytes.subarray(0, 3000));
    const pumping = setInterval(() => f.release(), 1);
    try {
      await sendLocal(src.file, w, { start: 1000, end: 2500, size: 3000 }, undefined, () => {});
      await w.flush();
      expect(f.writes.map((x) => [x.offset, x.data.length])).toEqual([[1000, 1500]]);
      const short = sendLocal(src.file, w, { start: 2500, end: 9000, size: 9000 }, undefined, () => {}, (at) => {
        throw new Error(`ended at ${at}`);
      });
      await expect(short).rejects.toThrow("ended at 3000");
    } finally {
      clearInterval(pumping);
    }
  });

  it("reads a small file in small buffers, and a file that grew since its size was taken to its end", async () => {
    const f = fakeSession(256 * 1024);
    const pumping = setInterval(() => f.release(), 1);
    try {
      const small = localFile(bytes.subarray(0, 5000));
      await sendLocal(small.file, new PipelinedWriter(f.session, Uint8Array.of(1), "/f"), { start: 0, size: 5000 }, undefined, () => {});
      expect(Math.max(...small.bufferSizes)).toBeLessThanOrEqual(64 * 1024);
      const grown = localFile(bytes.subarray(0, 300_000));
      const w = new PipelinedWriter(f.session, Uint8Array.of(2), "/g");
      let total = 0;
      await sendLocal(grown.file, w, { start: 0, size: 100_000 }, undefined, (n) => (total += n));
      await w.flush();
      expect(total).toBe(300_000);
    } finally {
      clearInterval(pumping);
    }
  });

  it("ends with a write's failure while later chunks are still queued, and leaves nothing unhandled", async () => {
    const failing = {
      writeSize: 1024,
      send: () => {
        // As SftpSession.send does: a failed send fails the session, and so every reply; both
        // are marked handled when made.
        const sent = Promise.reject(new Error("connection lost"));
        const reply = Promise.reject(new Error("connection lost"));
        sent.catch(() => {});
        reply.catch(() => {});
        return { reply, sent };
      },
    } as unknown as SftpSession;
    const w = new PipelinedWriter(failing, Uint8Array.of(1), "/f");
    const src = localFile(bytes);
    await expect(sendLocal(src.file, w, { start: 0, size: bytes.length }, undefined, () => {})).rejects.toThrow("connection lost");
    await tick(); // an unhandled rejection would be reported by vitest here
  });

  it("stops on abort while a chunk waits for the window", async () => {
    const f = fakeSession(256 * 1024);
    const w = new PipelinedWriter(f.session, Uint8Array.of(1), "/f");
    const ac = new AbortController();
    const sending = sendLocal(localFile(bytes).file, w, { start: 0, size: bytes.length }, ac.signal, () => {});
    await tick();
    ac.abort();
    await expect(sending).rejects.toMatchObject({ code: "ABORTED" });
    w.stop(new Error("aborted"));
    f.release();
  });
});
