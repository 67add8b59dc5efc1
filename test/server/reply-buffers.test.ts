/**
 * READ replies are built in buffers the session reuses once the channel has taken them
 * (reply-buffers.ts). Reuse must never show an earlier reply's bytes: every DATA carries exactly
 * the bytes read, however replies of different files, lengths and ends of file interleave.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PacketType, StatusCode } from "../../src/sftp/constants.js";
import { encodeRead } from "../../src/sftp/packets/handle.js";
import type { SftpResponse } from "../../src/sftp/packet.js";
import type { SftpClient } from "../../src/sftp/client.js";
import { DATA_HEADER_LENGTH } from "../../src/sftp/packets/response.js";
import { ReplyBuffers } from "../../src/sftp/server/reply-buffers.js";
import { BufferPool } from "../../src/util/buffer-pool.js";
import { startTestServer, type TestServer } from "./helpers.js";

const MAX_READ = 255 * 1024;

describe("ReplyBuffers", () => {
  it("lends a buffer again once it is given back, rounded up to whole pages within the READ cap", () => {
    const b = new ReplyBuffers(MAX_READ, 1024 * 1024);
    const first = b.data(MAX_READ);
    expect(first.length).toBe(DATA_HEADER_LENGTH + MAX_READ);
    b.give(first.subarray(0, 100)); // any view of it will do, as the session gives the finished reply
    expect(b.pooled).toBe(DATA_HEADER_LENGTH + MAX_READ);
    const again = b.data(MAX_READ - 100); // rounds up to the same full-size buffer (the page rounding is capped)
    expect(again.buffer).toBe(first.buffer);
    expect(again.length).toBe(DATA_HEADER_LENGTH + MAX_READ - 100);
    expect(b.pooled).toBe(0);
    const odd = b.take(40_000);
    expect(odd.buffer.byteLength).toBe(40_960);
    const bigger = b.take(300_000); // longer than any DATA reply (a run of READs): its own size
    expect(bigger.buffer.byteLength).toBe(300_000);
  });

  it("pools nothing small, nothing it did not lend, each buffer once, and at most its maximum", () => {
    const b = new ReplyBuffers(MAX_READ, 600 * 1024);
    const small = b.take(1000);
    b.give(small);
    expect(b.pooled).toBe(0);
    b.give(new Uint8Array(64 * 1024));
    expect(b.pooled).toBe(0);
    const lent = [b.data(MAX_READ), b.data(MAX_READ), b.data(MAX_READ)];
    b.give(lent[0]!);
    b.give(lent[0]!);
    expect(b.pooled).toBe(DATA_HEADER_LENGTH + MAX_READ);
    b.give(lent[1]!);
    b.give(lent[2]!); // over 600 KiB: left to the GC
    expect(b.pooled).toBe(2 * (DATA_HEADER_LENGTH + MAX_READ));
    b.clear();
    expect(b.pooled).toBe(0);
    expect(b.data(MAX_READ).buffer).not.toBe(lent[0]!.buffer);
  });

  it("BufferPool.clear empties the pool; a buffer lent before still comes back", () => {
    const p = new BufferPool(16, 1 << 20);
    const a = p.take(4096);
    const c = p.take(4096);
    p.give(a);
    expect(p.pooled).toBe(4096);
    p.clear();
    expect(p.pooled).toBe(0);
    p.give(c);
    expect(p.take(4096).buffer).toBe(c.buffer);
  });
});

describe("READ replies in reused buffers", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t?.stop());

  const read = (c: SftpClient, handle: Uint8Array, offset: number, length: number) =>
    c.session.request((id) => encodeRead(id, { handle, offset, length }));
  const pattern = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * seed + (i >>> 8)) & 0xff);

  it("many concurrent full-size READs of two files, across their ends, each get exactly their bytes", { timeout: 30_000 }, async () => {
    const a = pattern(3 * 1024 * 1024 + 12_345, 7);
    const b = pattern(700_000, 13);
    await writeFile(join(t.root, "a"), a);
    await writeFile(join(t.root, "b"), b);
    const c = await t.connect();
    const fa = await c.open("/a", "r");
    const fb = await c.open("/b", "r");
    for (let pass = 0; pass < 2; pass++) {
      // 64 READs at once, as OpenSSH's sftp keeps outstanding, alternating files and lengths,
      // several past an end of file: replies of every length go through the same buffers.
      const asked: { file: Uint8Array; handle: Uint8Array; offset: number; length: number }[] = [];
      for (let i = 0; i < 64; i++) {
        const [file, handle] = i % 3 === 2 ? [b, fb.handle] : [a, fa.handle];
        const length = i % 5 === 4 ? 1000 + i : MAX_READ;
        const offset = (i * 200_003 + pass * 77) % (file.length + 300_000);
        asked.push({ file, handle, offset, length });
      }
      const replies: SftpResponse[] = await Promise.all(asked.map((q) => read(c, q.handle, q.offset, q.length)));
      replies.forEach((r, i) => {
        const q = asked[i]!;
        const expected = q.file.subarray(q.offset, Math.min(q.file.length, q.offset + q.length));
        if (expected.length === 0) {
          expect(r.type === PacketType.STATUS && r.code, `read ${i}`).toBe(StatusCode.EOF);
          return;
        }
        expect(r.type, `read ${i}`).toBe(PacketType.DATA);
        const data = (r as { data: Uint8Array }).data;
        expect(data.length, `read ${i}`).toBe(expected.length);
        expect(Buffer.compare(data, expected), `read ${i}`).toBe(0);
      });
    }
    // A short read right after full ones: only the file's last bytes, nothing of the buffer's past.
    const tail = await read(c, fb.handle, b.length - 10, MAX_READ);
    expect((tail as { data: Uint8Array }).data).toEqual(b.subarray(b.length - 10));
    await fa.close();
    await fb.close();
    await c.close();
  });
});
