/**
 * ServerAccessor against a fake ftrack server and storage (support/fake-file-store.ts): single
 * PUT with checksum, multipart in parallel with sorted, unquoted ETags, retries of API calls,
 * parts and reads, resumed reads, redirects, abort, progress, the memory bound of streamed
 * writes, and the API key kept out of every error.
 */
import { createHash } from "node:crypto";
import { inspect } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AccessorError } from "../../src/accessor/accessor.js";
import { ServerAccessor, type ServerAccessorOptions } from "../../src/accessor/server-accessor.js";
import type { ServerWriteData } from "../../src/accessor/server-data.js";
import { redact } from "../../src/accessor/server-http.js";
import { MAX_UPLOAD_PARTS, uploadPartSize, type UploadProgress } from "../../src/accessor/server-upload.js";
import { readAll, sameBytes } from "./support/accessor-contract.js";
import { FakeSession } from "./support/fake-session.js";
import { API_KEY, API_USER, startFileStore, type FileStore } from "./support/fake-file-store.js";

let store: FileStore;
let session: FakeSession & { serverUrl: string; apiUser: string; apiKey: string };
const FAST: ServerAccessorOptions = { baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 5_000 };
const KiB = 1024;

beforeAll(async () => {
  store = await startFileStore();
  session = Object.assign(new FakeSession(store.memory), { serverUrl: store.url, apiUser: API_USER, apiKey: API_KEY });
});
afterAll(async () => {
  await store?.close();
});
beforeEach(() => {
  store.redirect = false;
  store.maxConcurrentPuts = 0;
  store.putDelayMs = 5;
  store.onPart = undefined;
});

const bytes = (n: number, seed = 1) => new Uint8Array(n).map((_, i) => (i * 31 + seed * 7 + (i >> 10)) & 0xff);

function component(size: number, name = "main", fileType = ".mov"): string {
  const { version } = store.memory.seedVersion();
  return store.memory.add("FileComponent", { name, file_type: fileType, size, version_id: version.id }).id;
}

async function upload(a: ServerAccessor, id: string, data: Uint8Array, chunk = 64 * KiB, options: { onProgress?: (p: UploadProgress) => void; signal?: AbortSignal } = {}): Promise<ServerWriteData> {
  const h = (await a.openWriter(id, options)) as ServerWriteData;
  for (let i = 0; i < data.length; i += chunk) await h.write(data.subarray(i, i + chunk));
  await h.close();
  return h;
}

async function failure(p: Promise<unknown>): Promise<AccessorError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(AccessorError);
  return e as AccessorError;
}

describe("part sizes", () => {
  it("follow @ftrack/api's table and stay within 10,000 parts", () => {
    const MiB = 1024 * 1024;
    const GiB = 1024 * MiB;
    expect(uploadPartSize(1)).toBe(8 * MiB);
    expect(uploadPartSize(128 * MiB)).toBe(8 * MiB);
    expect(uploadPartSize(128 * MiB + 1)).toBe(16 * MiB);
    expect(uploadPartSize(GiB + 1)).toBe(32 * MiB);
    expect(uploadPartSize(8 * GiB + 1)).toBe(64 * MiB);
    expect(uploadPartSize(64 * GiB + 1)).toBe(128 * MiB);
    expect(Math.ceil((128 * MiB * MAX_UPLOAD_PARTS) / uploadPartSize(128 * MiB * MAX_UPLOAD_PARTS))).toBe(MAX_UPLOAD_PARTS);
    expect(() => uploadPartSize(128 * MiB * MAX_UPLOAD_PARTS + 1)).toThrow(RangeError);
  });
});

describe("ServerAccessor", () => {
  it("uploads a small file as one PUT with the signed headers and its MD5, and reads it back", async () => {
    const a = new ServerAccessor(session, FAST);
    const id = component(100 * KiB, "plate", "exr");
    const data = bytes(100 * KiB);
    const progress: number[] = [];
    await upload(a, id, data, 16 * KiB, { onProgress: (p) => progress.push(p.transferred) });
    expect(sameBytes(store.files.get(id)!, data)).toBe(true);
    const sent = store.singleUploads.find((u) => u.componentId === id)!;
    expect(sent.fileName).toBe("plate.exr");
    expect(sent.size).toBe(data.length);
    expect(sent.checksum).toBe(createHash("md5").update(data).digest("base64"));
    expect(progress).toEqual([data.length]);
    expect(sameBytes(await readAll(a, id), data)).toBe(true);
  });

  it("uploads parts in parallel (at most `parallel`), completes them sorted with unquoted ETags", async () => {
    const a = new ServerAccessor(session, { ...FAST, partSize: 64 * KiB, parallel: 3 });
    store.putDelayMs = 30;
    const data = bytes(64 * KiB * 9 + 123, 2);
    const id = component(data.length);
    const progress: UploadProgress[] = [];
    const h = await upload(a, id, data, 40 * KiB, { onProgress: (p) => progress.push(p) });
    expect(h.upload.partCount).toBe(10);
    expect(store.maxConcurrentPuts).toBe(3);
    const done = store.completions.find((c) => c.componentId === id)!;
    expect(done.parts.map((p) => p.part_number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(done.parts.every((p) => /^[0-9a-f]{32}$/.test(p.e_tag))).toBe(true);
    expect(sameBytes(store.files.get(id)!, data)).toBe(true);
    expect(progress.at(-1)).toEqual({ transferred: data.length, total: data.length });
    expect(progress.map((p) => p.transferred)).toEqual([...progress.map((p) => p.transferred)].sort((x, y) => x - y));
  });

  it("streams: parts leave while the data is still being written, and memory stays at a few parts", async () => {
    const partSize = 32 * KiB;
    const a = new ServerAccessor(session, { ...FAST, partSize, parallel: 2 });
    const data = bytes(partSize * 40, 3);
    const id = component(data.length);
    let writtenAtFirstPart = -1;
    let written = 0;
    store.onPart = () => {
      if (writtenAtFirstPart < 0) writtenAtFirstPart = written;
    };
    const h = (await a.openWriter(id)) as ServerWriteData;
    // One buffer, reused for every write as a stream reader would: written bytes are copied in.
    const buffer = new Uint8Array(8 * KiB);
    for (let i = 0; i < data.length; i += buffer.length) {
      buffer.set(data.subarray(i, i + buffer.length));
      await h.write(buffer);
      buffer.fill(0xee);
      written = i + buffer.length;
    }
    await h.close();
    expect(writtenAtFirstPart).toBeGreaterThan(0);
    expect(writtenAtFirstPart).toBeLessThan(data.length / 4);
    // One part per slot, plus the one being filled (or waiting for a slot).
    expect(h.upload.peakBuffered).toBe(3 * partSize);
    expect(sameBytes(store.files.get(id)!, data)).toBe(true);
  });

  it.each(["auto", "pure"] as const)("retries API calls, parts and single PUTs on 5xx and dropped connections, and damaged parts (verifyParts, MD5 %s)", async (crypto) => {
    const a = new ServerAccessor(session, { ...FAST, partSize: 16 * KiB, verifyParts: true, crypto });
    const data = bytes(16 * KiB * 5, 4);
    const id = component(data.length);
    store.fail("api", "503");
    store.fail("part", "500");
    store.fail("part", "drop");
    store.fail("part", "bad-etag");
    store.fail("part", "no-etag");
    await upload(a, id, data);
    expect(sameBytes(store.files.get(id)!, data)).toBe(true);

    const small = bytes(1000, 5);
    const sid = component(small.length);
    store.fail("single", "drop");
    store.fail("single", "503");
    await upload(a, sid, small);
    expect(sameBytes(store.files.get(sid)!, small)).toBe(true);
  });

  it("without verifyParts, a damaged part fails the upload at completion and nothing is stored", async () => {
    const a = new ServerAccessor(session, { ...FAST, partSize: 16 * KiB });
    const id = component(16 * KiB * 4);
    store.fail("part", "bad-etag");
    const e = await failure(upload(a, id, bytes(16 * KiB * 4)));
    expect(e.message).toMatch(/complete_multipart_upload failed: .*InvalidPart/);
    expect(store.files.has(id)).toBe(false);
  });

  it("gives up after the attempts, and does not retry a 4xx", async () => {
    const a = new ServerAccessor(session, { ...FAST, attempts: 2 });
    const id = component(10);
    store.fail("single", "500", 2);
    const e = await failure(upload(a, id, bytes(10)));
    expect(e.code).toBe("ACCESSOR_CONNECTION_FAILED");
    expect(store.files.has(id)).toBe(false);

    // A refused part (403) is final too: one PUT, no retry.
    const parts = new ServerAccessor(session, { ...FAST, partSize: 16 * KiB, parallel: 1 });
    const pid = component(16 * KiB * 3);
    const putsBefore = store.log.filter((l) => l.method === "PUT").length;
    store.fail("part", "403");
    const refused = await failure(upload(parts, pid, bytes(16 * KiB * 3)));
    expect(refused.code).toBe("ACCESSOR_PERMISSION_DENIED");
    expect(store.log.filter((l) => l.method === "PUT").length - putsBefore).toBe(1);

    // An unknown component: the API answers with an exception, which is final.
    const before = store.log.filter((l) => l.path === "/api").length;
    const missing = await failure(a.openWriter("no-such-component", { size: 1, fileName: "x" }).then((h) => h.write(new Uint8Array(1)).then(() => h.close())));
    expect(missing.code).toBe("ACCESSOR_OPERATION_FAILED");
    expect(store.log.filter((l) => l.path === "/api").length - before).toBe(1);
  });

  it("refuses more or fewer bytes than the component's size", async () => {
    const a = new ServerAccessor(session, FAST);
    const id = component(10);
    const h = await a.openWriter(id);
    await expect(h.write(bytes(11))).rejects.toMatchObject({ code: "ACCESSOR_OPERATION_FAILED" });
    const short = await a.openWriter(id);
    await short.write(bytes(5));
    await expect(short.close()).rejects.toThrow(/5 bytes written, 10 announced/);
    expect(store.files.has(id)).toBe(false);
    await expect(a.openWriter(id, { size: 2 ** 41 })).rejects.toMatchObject({ code: "ACCESSOR_OPERATION_FAILED", message: expect.stringMatching(/1,280 GiB/) });
    await expect(a.openWriter(id, { size: -1 })).rejects.toBeInstanceOf(AccessorError);
  });

  it("aborts through the signal and through abort(), stopping parts in flight", async () => {
    const a = new ServerAccessor(session, { ...FAST, partSize: 16 * KiB, parallel: 2 });
    store.putDelayMs = 200;
    const data = bytes(16 * KiB * 8, 6);
    const id = component(data.length);
    const controller = new AbortController();
    const h = await a.openWriter(id, { signal: controller.signal });
    const writing = (async () => {
      for (let i = 0; i < data.length; i += 16 * KiB) await h.write(data.subarray(i, i + 16 * KiB));
      await h.close();
    })();
    setTimeout(() => controller.abort(), 50);
    const e = await failure(writing);
    expect(e.message).toMatch(/aborted/);
    expect(store.files.has(id)).toBe(false);
    expect(store.completions.some((c) => c.componentId === id)).toBe(false);

    const h2 = await a.openWriter(id);
    await h2.write(data.subarray(0, 40 * KiB));
    await h2.abort();
    await expect(h2.write(data.subarray(0, 1))).rejects.toBeInstanceOf(AccessorError);
    expect(store.files.has(id)).toBe(false);
  });

  it("reads through a redirect and resumes a cut body with a Range request", async () => {
    const a = new ServerAccessor(session, FAST);
    const data = bytes(300 * KiB, 7);
    const id = component(data.length);
    store.files.set(id, data);
    store.redirect = true;
    expect(sameBytes(await readAll(a, id), data)).toBe(true);
    store.redirect = false;
    store.ranges.length = 0;
    store.fail("get", "cut-body");
    expect(sameBytes(await readAll(a, id), data)).toBe(true);
    expect(store.ranges).toHaveLength(1);
    expect(store.ranges[0]).toMatch(/^bytes=\d+-$/);
    store.fail("get", "503");
    store.fail("get", "drop");
    expect(sameBytes(await readAll(a, id), data)).toBe(true);
  });

  it("maps a missing component to ACCESSOR_RESOURCE_NOT_FOUND, removes data, has no existence", async () => {
    const a = new ServerAccessor(session, FAST);
    expect((await failure(a.open("missing-id", "rb"))).code).toBe("ACCESSOR_RESOURCE_NOT_FOUND");
    const id = component(3);
    store.files.set(id, bytes(3));
    expect(await a.exists(id)).toBe(false);
    store.fail("remove", "503");
    await a.remove(id);
    expect(store.files.has(id)).toBe(false);
    expect((await failure(a.remove(id))).code).toBe("ACCESSOR_RESOURCE_NOT_FOUND");
    expect((await failure(a.list(""))).code).toBe("ACCESSOR_UNSUPPORTED");
    expect((await failure(a.getContainer(id))).code).toBe("ACCESSOR_PARENT_NOT_FOUND");
    expect(await a.getUrl(id)).toBe(`${store.url}/component/get?id=${id}`);
  });

  it("never shows the API key: not in errors, causes, inspect output, URLs or the accessor", async () => {
    const wrongUser = Object.assign(new FakeSession(store.memory), { serverUrl: store.url, apiUser: "someone", apiKey: API_KEY });
    const a = new ServerAccessor(wrongUser, { ...FAST, attempts: 1 });
    const id = component(3);
    store.files.set(id, bytes(3));
    const denied = await failure(a.open(id, "rb"));
    expect(denied.code).toBe("ACCESSOR_PERMISSION_DENIED");
    // A server that is gone: the fetch error itself.
    const gone = new ServerAccessor(Object.assign(new FakeSession(store.memory), { serverUrl: "http://127.0.0.1:9", apiUser: API_USER, apiKey: API_KEY }), { ...FAST, attempts: 1 });
    const unreachable = await failure(gone.open(id, "rb"));
    const removeFailed = await failure(gone.remove(id));
    for (const e of [denied, unreachable, removeFailed]) {
      const shown = `${e.message} ${inspect(e, { depth: 8 })} ${JSON.stringify(e)} ${String(e.stack)}`;
      expect(shown).not.toContain(API_KEY);
      expect(shown).not.toContain(encodeURIComponent(API_KEY));
    }
    expect(inspect(a, { depth: 8 })).not.toContain(API_KEY);
    expect(JSON.stringify(a)).not.toContain(API_KEY);
    expect(await a.getUrl(id)).not.toContain("apiKey");
    expect(redact(`x?apiKey=${encodeURIComponent(API_KEY)}&y=${API_KEY}`, [API_KEY])).toBe("x?apiKey=***&y=***");
  });

  it("needs the session's credentials", () => {
    expect(() => new ServerAccessor({ query: session.query.bind(session), serverUrl: store.url, apiUser: API_USER, apiKey: "" })).toThrow(/apiKey/);
  });
});
