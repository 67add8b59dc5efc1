import { describe, expect, it } from "vitest";
import { PacketType, StatusCode } from "../../src/sftp/constants.js";
import { decodeRequest, type SftpResponse } from "../../src/sftp/packet.js";
import { PipelinedReader } from "../../src/sftp/pipeline.js";
import type { SftpSession } from "../../src/sftp/session.js";

/**
 * A session stand-in that records READ requests and answers each from `file` when `answer()`
 * is called (short reads when `short`), so the test sees exactly when requests are issued.
 */
function fakeSession(file: Uint8Array, readSize: number, short = 0) {
  const pending: { offset: number; length: number; resolve: (r: SftpResponse) => void }[] = [];
  let issued = 0;
  const session = {
    readSize,
    request(build: (id: number) => Uint8Array): Promise<SftpResponse> {
      const req = decodeRequest(build(++issued).subarray(4));
      if (req.type !== PacketType.READ) throw new Error("expected READ");
      return new Promise((resolve) => pending.push({ offset: Number(req.offset), length: req.length, resolve }));
    },
    recycle(_data: Uint8Array, waiting: number) {
      recycled.push(waiting);
    },
    trimReplyBuffers() {},
  } as unknown as SftpSession;
  const recycled: number[] = [];
  const answer = (n = pending.length) => {
    for (const p of pending.splice(0, n)) {
      const id = 0;
      if (p.offset >= file.length) p.resolve({ type: PacketType.STATUS, id, code: StatusCode.EOF, message: "", lang: "" } as SftpResponse);
      else p.resolve({ type: PacketType.DATA, id, data: file.slice(p.offset, Math.min(file.length, p.offset + Math.max(1, p.length - short))) } as SftpResponse);
    }
  };
  return { session, answer, inFlight: () => pending.length, issued: () => issued, recycled };
}

describe("PipelinedReader", () => {
  const file = new Uint8Array(1000).map((_, i) => i & 255);

  it("hands replies back asking the pool to keep the whole pipeline's worth, then what is left", async () => {
    const f = fakeSession(file, 10);
    const r = new PipelinedReader(f.session, Uint8Array.of(1), "/f", { maxInFlight: 16 });
    const first = r.next();
    f.answer();
    r.recycle((await first)!);
    // Replies answered but not consumed still need their buffers: the pipeline's depth, not
    // the 0 requests unanswered, is what the pool should keep.
    expect(f.recycled).toEqual([16]);
    const ranged = new PipelinedReader(f.session, Uint8Array.of(1), "/f", { start: 0, end: 30, maxInFlight: 16 });
    const a = ranged.next();
    f.answer();
    ranged.recycle((await a)!);
    expect(f.recycled.at(-1)).toBe(2); // every read of the range issued: the two still queued
    r.stop();
    r.recycle({ data: new Uint8Array(1) });
    expect(f.recycled.at(-1)).toBe(0);
  });

  it("keeps the pipeline full, refilling an eighth of it at a time", async () => {
    const f = fakeSession(file, 10);
    const r = new PipelinedReader(f.session, Uint8Array.of(1), "/f", { maxInFlight: 16 });
    const first = r.next();
    expect(f.issued()).toBe(16);
    f.answer(1);
    expect((await first)?.offset).toBe(0);
    const second = r.next(); // 15 in flight: above 16 - 2, no new request yet
    expect(f.issued()).toBe(16);
    f.answer(1);
    await second;
    void r.next(); // 14 in flight: refilled to 16 in one go
    expect(f.issued()).toBe(18);
    r.stop();
  });

  it("still issues one request at a time with maxInFlight 1", async () => {
    const f = fakeSession(file.subarray(0, 25), 10);
    const r = new PipelinedReader(f.session, Uint8Array.of(1), "/f", { maxInFlight: 1 });
    const got: number[] = [];
    for (;;) {
      const c = r.next();
      expect(f.inFlight()).toBeLessThanOrEqual(1);
      f.answer();
      const chunk = await c;
      if (!chunk) break;
      got.push(...chunk.data);
    }
    expect(got).toEqual(Array.from(file.subarray(0, 25)));
  });

  it("returns the whole file in order through batches and short reads", async () => {
    const f = fakeSession(file, 64, 7);
    const r = new PipelinedReader(f.session, Uint8Array.of(1), "/f", { maxInFlight: 8 });
    const out: number[] = [];
    let expected = 0;
    for (;;) {
      const c = r.next();
      f.answer();
      const chunk = await c;
      if (!chunk) break;
      expect(chunk.offset).toBe(expected);
      expected += chunk.data.length;
      out.push(...chunk.data);
    }
    expect(out).toEqual(Array.from(file));
  });

  it("batches only replies that have arrived, consecutive and up to the byte limit, then ends like next()", async () => {
    const f = fakeSession(file, 64, 7); // short reads: each asks for its rest next
    const r = new PipelinedReader(f.session, Uint8Array.of(1), "/f", { maxInFlight: 8 });
    const first = r.nextBatch(1 << 20);
    f.answer(1); // only the first reply: a batch of one, not waiting for the others
    const one = (await first)!;
    expect(one.parts.length).toBe(1);
    const out: number[] = [...one.parts[0]!];
    let sizes = 0;
    for (;;) {
      const b = r.nextBatch(150);
      f.answer();
      const batch = await b;
      if (!batch) break;
      expect(batch.offset).toBe(out.length);
      expect(batch.length).toBe(batch.parts.reduce((n, p) => n + p.length, 0));
      expect(batch.length - batch.parts.at(-1)!.length).toBeLessThan(150); // stops once the limit is reached
      sizes = Math.max(sizes, batch.parts.length);
      for (const p of batch.parts) out.push(...p);
    }
    expect(out).toEqual(Array.from(file));
    expect(sizes).toBeGreaterThan(1);
    expect(await r.nextBatch(150)).toBeUndefined();
  });
});
