/**
 * The session's scheduler (src/sftp/server/request-order.ts) and what each request touches
 * (request-access.ts), with requests whose completion the test controls: which may run at the
 * same time, which must wait, and that a later request may finish first.
 */
import { describe, expect, it } from "vitest";
import type { FsFile } from "../../src/platform/server-fs.js";
import { PacketType } from "../../src/sftp/constants.js";
import { HandleTable } from "../../src/sftp/server/handles.js";
import { accessOf } from "../../src/sftp/server/request-access.js";
import { BARRIER, RequestScheduler, conflicts, type Access } from "../../src/sftp/server/request-order.js";
import { deferred } from "../../src/util/async-queue.js";

const rd = (key: string, start: number, end: number): Access => ({ kind: "file", key, start, end, write: false });
const wr = (key: string, start: number, end: number): Access => ({ kind: "file", key, start, end, write: true });

/** A scheduler whose requests log when they start and finish only when the test says so. */
function harness(mayStart: () => boolean = () => true) {
  const started: string[] = [];
  const finished: string[] = [];
  const gates = new Map<string, ReturnType<typeof deferred<void>>>();
  let finishes = 0;
  const s = new RequestScheduler(mayStart, () => finishes++);
  return {
    s,
    started,
    finished,
    get finishes() {
      return finishes;
    },
    add(name: string, access: Access) {
      const gate = deferred<void>();
      gates.set(name, gate);
      s.submit(access, async () => {
        started.push(name);
        await gate.promise;
        finished.push(name);
      });
    },
    async done(name: string) {
      gates.get(name)!.resolve();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    },
  };
}

describe("conflicts", () => {
  it("reads commute; writes conflict where they overlap; a barrier conflicts with everything", () => {
    expect(conflicts(rd("a", 0, 10), rd("a", 0, 10))).toBe(false);
    expect(conflicts(wr("a", 0, 10), wr("a", 10, 20))).toBe(false);
    expect(conflicts(wr("a", 0, 10), wr("a", 9, 20))).toBe(true);
    expect(conflicts(wr("a", 0, 10), wr("b", 0, 10))).toBe(false);
    expect(conflicts(BARRIER, rd("a", 0, 1))).toBe(true);
    expect(conflicts(rd("a", 0, 1), BARRIER)).toBe(true);
  });

  it("a read below a write's end waits for it (the write may extend the file over it), at or past it does not", () => {
    expect(conflicts(wr("a", 100, 200), rd("a", 0, 50))).toBe(true);
    expect(conflicts(rd("a", 0, 50), wr("a", 100, 200))).toBe(true);
    expect(conflicts(wr("a", 100, 200), rd("a", 200, 300))).toBe(false);
    expect(conflicts(wr("a", 0, Infinity), rd("a", 1e15, 1e15 + 1))).toBe(true);
  });
});

describe("RequestScheduler", () => {
  it("runs non-conflicting requests at once and lets a later one finish first", async () => {
    const h = harness();
    h.add("w1", wr("a", 0, 10));
    h.add("r-b", rd("b", 0, 10));
    h.add("w2", wr("a", 10, 20));
    expect(h.started).toEqual(["w1", "r-b", "w2"]);
    await h.done("w2");
    await h.done("r-b");
    expect(h.finished).toEqual(["w2", "r-b"]); // out of order: allowed
    await h.done("w1");
    expect(h.s.size).toBe(0);
    expect(h.finishes).toBe(3);
  });

  it("holds an overlapping write, and the reads behind it, until the earlier write is done", async () => {
    const h = harness();
    h.add("w1", wr("a", 0, 100));
    h.add("w2", wr("a", 50, 150));
    h.add("r", rd("a", 60, 70));
    h.add("other", wr("b", 0, 100));
    expect(h.started).toEqual(["w1", "other"]);
    await h.done("w1");
    expect(h.started).toEqual(["w1", "other", "w2"]); // the read waits for w2, sent before it
    await h.done("w2");
    expect(h.started).toEqual(["w1", "other", "w2", "r"]);
  });

  it("a barrier waits for everything before it and holds back everything after it", async () => {
    const h = harness();
    h.add("r1", rd("a", 0, 10));
    h.add("open", BARRIER);
    h.add("r2", rd("b", 0, 10));
    expect(h.started).toEqual(["r1"]);
    await h.done("r1");
    expect(h.started).toEqual(["r1", "open"]);
    await h.done("open");
    expect(h.started).toEqual(["r1", "open", "r2"]);
  });

  it("a waiting write is not overtaken by a later read of its range (no starvation)", async () => {
    const h = harness();
    h.add("r1", rd("a", 0, 10));
    h.add("w", wr("a", 0, 10));
    h.add("r2", rd("a", 0, 10));
    expect(h.started).toEqual(["r1"]);
    await h.done("r1");
    expect(h.started).toEqual(["r1", "w"]);
  });

  it("starts nothing while mayStart says no, and resumes on startReady", async () => {
    let room = 2;
    const h = harness(() => room-- > 0);
    for (let i = 0; i < 5; i++) h.add(`r${i}`, rd("a", 0, 10));
    expect(h.started).toEqual(["r0", "r1"]);
    room = 1;
    h.s.startReady();
    expect(h.started).toEqual(["r0", "r1", "r2"]);
  });

  it("stop drops the waiting requests and resolves once the running ones are done", async () => {
    const h = harness();
    h.add("w1", wr("a", 0, 10));
    h.add("w2", wr("a", 0, 10));
    let stopped = false;
    const stop = h.s.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    await h.done("w1");
    await stop;
    expect(h.started).toEqual(["w1"]);
    expect(h.s.size).toBe(0);
  });
});

describe("accessOf", () => {
  const file = { close: async () => {} } as unknown as FsFile;

  it("keys requests on a handle by the file's host path; unknown handles are barriers", () => {
    const t = new HandleTable(8);
    const h1 = t.add({ kind: "file", file, host: "/srv/a" });
    const h2 = t.add({ kind: "file", file, host: "/srv/a" });
    const ap = t.add({ kind: "file", file, host: "/srv/log", append: true });
    const read = accessOf({ type: PacketType.READ, id: 1, handle: h1, offset: 10, length: 5 }, t);
    const write = accessOf({ type: PacketType.WRITE, id: 2, handle: h2, offset: 12, data: new Uint8Array(3) }, t);
    expect(read).toEqual(rd("/srv/a", 10, 15));
    expect(write).toEqual(wr("/srv/a", 12, 15));
    expect(conflicts(read, write)).toBe(true); // two handles, one file
    expect(accessOf({ type: PacketType.WRITE, id: 3, handle: ap, offset: 0, data: new Uint8Array(1) }, t)).toEqual(wr("/srv/log", 0, Infinity));
    expect(accessOf({ type: PacketType.CLOSE, id: 4, handle: h1 }, t)).toEqual(wr("/srv/a", 0, Infinity));
    expect(accessOf({ type: PacketType.FSTAT, id: 5, handle: h1 }, t)).toEqual(rd("/srv/a", 0, Infinity));
    expect(accessOf({ type: PacketType.READ, id: 6, handle: new Uint8Array([0, 0, 0, 99]), offset: 0, length: 1 }, t)).toBe(BARRIER);
    expect(accessOf({ type: PacketType.STAT, id: 7, path: "/a" }, t)).toBe(BARRIER);
  });
});
