/**
 * The embedded server serves one session's requests concurrently (request-order.ts) yet gives
 * the results draft-ietf-secsh-filexfer-02 §6.1 asks for: what pipelined requests on one file
 * would give one at a time. Requests go out back to back through the client's raw request
 * call (no waiting between them), over TCP to the real server; the bytes on disk are checked.
 */
import { readFile, readdir, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PacketType, StatusCode } from "../../src/sftp/constants.js";
import { encodeClose, encodeFstat, encodeRead, encodeWrite } from "../../src/sftp/packets/handle.js";
import type { SftpResponse } from "../../src/sftp/packet.js";
import type { SftpClient } from "../../src/sftp/client.js";
import { startFaultProxy } from "../support/fault-proxy.js";
import { startTestServer, type TestServer } from "./helpers.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t?.stop());

const fill = (n: number, byte: number) => new Uint8Array(n).fill(byte);
const write = (c: SftpClient, handle: Uint8Array, offset: number, data: Uint8Array) =>
  c.session.request((id) => encodeWrite(id, { handle, offset, data }));
const read = (c: SftpClient, handle: Uint8Array, offset: number, length: number) =>
  c.session.request((id) => encodeRead(id, { handle, offset, length }));
const close = (c: SftpClient, handle: Uint8Array) => c.session.request((id) => encodeClose(id, { handle }));
const status = (r: SftpResponse) => (r.type === PacketType.STATUS ? r.code : -1);

/** Descriptors of this process that point into the server's root (the server's open handles). */
async function descriptorsUnderRoot(): Promise<number> {
  let n = 0;
  for (const fd of await readdir("/proc/self/fd")) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => "");
    if (target.startsWith(t.root + "/")) n++;
  }
  return n;
}

it("overlapping writes to one handle land in the order sent; CLOSE waits for them; a request after CLOSE fails", async () => {
  const c = await t.connect();
  const f = await c.open("/overlap", "w");
  // Write i covers [i*16K, i*16K+32K): its second half is overwritten by write i+1.
  const n = 64;
  const writes = Array.from({ length: n }, (_, i) => write(c, f.handle, i * 16384, fill(32768, i + 1)));
  const closed = close(c, f.handle);
  const after = read(c, f.handle, 0, 10);
  expect((await Promise.all(writes)).map(status)).toEqual(Array(n).fill(StatusCode.OK));
  expect(status(await closed)).toBe(StatusCode.OK);
  expect(status(await after)).toBe(StatusCode.FAILURE); // the handle is gone (§6.3)
  const bytes = await readFile(join(t.root, "overlap"));
  expect(bytes.length).toBe((n + 1) * 16384);
  for (let i = 0; i <= n; i++) {
    const region = bytes.subarray(i * 16384, (i + 1) * 16384);
    expect(region.every((b) => b === Math.min(i, n - 1) + 1), `region ${i}`).toBe(true);
  }
  await c.close();
});

it("a small write sent after a large one to the same range is not overtaken by it", async () => {
  const c = await t.connect();
  const f = await c.open("/sizes", "w");
  // Large and small writes at offset 0, alternating: one run concurrently would finish first.
  const n = 64;
  const writes = Array.from({ length: n }, (_, i) => write(c, f.handle, 0, fill(i % 2 === 0 ? 200 * 1024 : 4096, i + 1)));
  expect((await Promise.all(writes)).map(status)).toEqual(Array(n).fill(StatusCode.OK));
  await f.close();
  const bytes = await readFile(join(t.root, "sizes"));
  expect(bytes.subarray(0, 4096).every((b) => b === n)).toBe(true);
  expect(bytes.subarray(4096).every((b) => b === n - 1)).toBe(true);
  await c.close();
});

it("a read sees every write sent before it, on the same handle and on another handle to the same file", async () => {
  const c = await t.connect();
  await writeFile(join(t.root, "rw"), new Uint8Array(0));
  const w = await c.open("/rw", "r+");
  const r = await c.open("/rw", "r");
  const reads: Promise<SftpResponse>[] = [];
  const sizes: Promise<SftpResponse>[] = [];
  for (let i = 0; i < 40; i++) {
    void write(c, w.handle, (i % 4) * 8192, fill(8192, i + 1)).catch(() => {});
    reads.push(read(c, i % 2 === 0 ? w.handle : r.handle, (i % 4) * 8192, 8192));
    sizes.push(c.session.request((id) => encodeFstat(id, { handle: r.handle })));
  }
  const got = await Promise.all(reads);
  got.forEach((res, i) => {
    expect(res.type, `read ${i}`).toBe(PacketType.DATA);
    const data = (res as { data: Uint8Array }).data;
    expect(data.length).toBe(8192);
    expect(data.every((b) => b === i + 1), `read ${i}`).toBe(true);
  });
  // FSTAT through the other handle sees the size the writes before it made.
  const seen = (await Promise.all(sizes)).map((s) => (s as { attrs: { size?: bigint } }).attrs.size);
  seen.forEach((size, i) => expect(Number(size), `fstat ${i}`).toBe(Math.min(i, 3) * 8192 + 8192));
  await w.close();
  await r.close();
  await c.close();
});

it("pipelined reads of a file, across its end: each gets its bytes, the one at the end fewer, the rest EOF", async () => {
  const c = await t.connect();
  const size = 100_000;
  const content = new Uint8Array(size).map((_, i) => (i * 13 + 7) & 0xff);
  await writeFile(join(t.root, "tail"), content);
  const f = await c.open("/tail", "r");
  // Consecutive 32 KiB reads, sent together (the server may read them as one run), twice over.
  const reads = Array.from({ length: 16 }, (_, i) => read(c, f.handle, (i % 8) * 32768, 32768));
  const got = await Promise.all(reads);
  got.forEach((res, i) => {
    const offset = (i % 8) * 32768;
    const expected = content.subarray(offset, Math.min(size, offset + 32768));
    if (expected.length === 0) return expect(status(res), `read ${i}`).toBe(StatusCode.EOF);
    expect(res.type, `read ${i}`).toBe(PacketType.DATA);
    expect((res as { data: Uint8Array }).data, `read ${i}`).toEqual(expected);
  });
  await f.close();
  await c.close();
});

it("pipelined consecutive writes land byte for byte; consecutive writes that fail are each answered", async () => {
  const c = await t.connect();
  const f = await c.open("/seq", "w");
  const blocks = Array.from({ length: 40 }, (_, i) => fill(8192, i + 1));
  const replies = await Promise.all(blocks.map((b, i) => write(c, f.handle, i * 8192, b)));
  expect(replies.map(status)).toEqual(Array(40).fill(StatusCode.OK));
  await f.close();
  const bytes = await readFile(join(t.root, "seq"));
  expect(bytes.length).toBe(40 * 8192);
  blocks.forEach((b, i) => expect(bytes[i * 8192], `block ${i}`).toBe(b[0]));

  await writeFile(join(t.root, "ro2"), fill(10, 1));
  const ro = await c.open("/ro2", "r");
  const refused = await Promise.all(Array.from({ length: 8 }, (_, i) => write(c, ro.handle, i * 100, fill(100, 2))));
  expect(refused.every((r) => r.type === PacketType.STATUS && status(r) !== StatusCode.OK)).toBe(true);
  expect(new Set(refused.map((r) => (r as { id: number }).id)).size).toBe(8);
  await ro.close();
  expect(await readFile(join(t.root, "ro2"))).toEqual(Buffer.from(fill(10, 1)));
  await c.close();
});

it("failures mid-burst are answered and do not disturb the rest; nothing stays open", async () => {
  const c = await t.connect();
  await writeFile(join(t.root, "ro"), fill(1000, 7));
  const ro = await c.open("/ro", "r");
  const files = await Promise.all([0, 1, 2, 3].map((k) => c.open(`/burst${k}`, "w")));
  const bogus = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
  const good: Promise<SftpResponse>[] = [];
  const bad: Promise<SftpResponse>[] = [];
  for (let i = 0; i < 200; i++) {
    good.push(write(c, files[i % 4]!.handle, Math.floor(i / 4) * 4096, fill(4096, (i % 250) + 1)));
    if (i % 10 === 0) bad.push(write(c, ro.handle, 0, fill(10, 1))); // not open for writing
    if (i % 10 === 5) bad.push(read(c, bogus, 0, 10)); // never opened
  }
  expect((await Promise.all(good)).map(status)).toEqual(Array(200).fill(StatusCode.OK));
  expect((await Promise.all(bad)).every((r) => status(r) !== StatusCode.OK && r.type === PacketType.STATUS)).toBe(true);
  await Promise.all([...files, ro].map((f) => f.close()));
  for (let k = 0; k < 4; k++) {
    const bytes = await readFile(join(t.root, `burst${k}`));
    expect(bytes.length).toBe(50 * 4096);
    for (let j = 0; j < 50; j++) expect(bytes[j * 4096], `burst${k} block ${j}`).toBe(((j * 4 + k) % 250) + 1);
  }
  expect(await readFile(join(t.root, "ro"))).toEqual(Buffer.from(fill(1000, 7)));
  expect(await descriptorsUnderRoot()).toBe(0);
  await c.close();
});

it("a client that vanishes mid-burst leaves no handle open", { timeout: 30_000 }, async () => {
  // The connection is reset after 3 MiB from the client: in the middle of the writes below.
  const proxy = await startFaultProxy({ targetPort: t.server.port, up: { kind: "reset", at: 3 * 1024 * 1024 } });
  try {
    const c = await t.connect({ port: proxy.port });
    const files = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((k) => c.open(`/gone${k}`, "w")));
    expect(await descriptorsUnderRoot()).toBe(8);
    const burst = Array.from({ length: 400 }, (_, i) =>
      write(c, files[i % 8]!.handle, Math.floor(i / 8) * 32768, fill(32768, 1)).catch((e: unknown) => e));
    const outcomes = await Promise.all(burst);
    expect(outcomes.some((o) => o instanceof Error)).toBe(true); // the reset cut the burst short
    await c.close().catch(() => {});
    await expect.poll(() => t.server.connectionCount, { timeout: 10_000 }).toBe(0);
    await expect.poll(() => descriptorsUnderRoot(), { timeout: 10_000 }).toBe(0);
    expect(t.server.outgoingBytes).toBe(0);
  } finally {
    await proxy.close();
  }
});
