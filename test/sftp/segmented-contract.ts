/**
 * Segmented transfers (src/sftp/segmented.ts) against any SFTP server, run by the same suites as
 * the client contract: OpenSSH (conformance/sftp.test.ts) and the embedded server
 * (test/server/client-roundtrip.test.ts). Streams are counted by watching SftpClient.open, the
 * one way a transfer opens another SFTP session.
 */
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, it, vi } from "vitest";
import { SftpClient } from "../../src/sftp/client.js";
import { decodeRecord } from "../../src/sftp/segmented.js";
import { randomBytes, sha256, type ContractContext } from "./client-contract.js";

const MiB = 1024 * 1024;

/** Counts the extra sessions transfers open (and the refused tries), and hands each to `onOpen`. */
export function watchSessions(onOpen: (c: SftpClient) => void = () => {}): { opened: SftpClient[]; refused: number } {
  const opened: SftpClient[] = [];
  const real = SftpClient.open.bind(SftpClient);
  const seen = { opened, refused: 0 };
  vi.spyOn(SftpClient, "open").mockImplementation(async (ssh) => {
    const c = await real(ssh).catch((e: unknown) => {
      seen.refused++;
      throw e;
    });
    opened.push(c);
    onOpen(c);
    return c;
  });
  return seen;
}

/** Transfer options that abort the transfer once more than `n` bytes have moved. */
export function abortAfter(n: number): { signal: AbortSignal; onProgress: (p: { transferred: number }) => void } {
  const ac = new AbortController();
  return { signal: ac.signal, onProgress: (p) => void (p.transferred > n && ac.abort(new Error("cut"))) };
}

export function segmentedContract(ctx: () => ContractContext): void {
  afterEach(() => vi.restoreAllMocks());

  it("moves a file over 4 streams each way, byte-identical, with progress to the end", { timeout: 120_000 }, async () => {
    const { sftp, dir, local, serverFile } = ctx();
    const data = randomBytes(20 * MiB + 12345);
    const src = join(local, "seg.bin");
    await writeFile(src, data);
    const sessions = watchSessions();
    const progress: number[] = [];
    await sftp.upload(src, `${dir}/seg.bin`, { streams: 4, onProgress: (p) => progress.push(p.transferred) });
    expect(sessions.opened).toHaveLength(3);
    expect(progress.at(-1)).toBe(data.length);
    expect(sha256(await serverFile(`${dir}/seg.bin`))).toBe(sha256(data));
    expect((await sftp.list(dir)).map((e) => e.name)).toEqual(["seg.bin"]);
    await sftp.download(`${dir}/seg.bin`, join(local, "seg.down"), { streams: 4 });
    expect(sessions.opened).toHaveLength(6);
    expect(sha256(await readFile(join(local, "seg.down")))).toBe(sha256(data));
    expect((await readdir(local)).filter((f) => f.includes(".part"))).toEqual([]);
  });

  it("refuses streams or connections out of range with INVALID_ARGUMENT, before touching either side", async () => {
    const { sftp, dir, local } = ctx();
    await writeFile(join(local, "opt.bin"), randomBytes(1024));
    const sessions = watchSessions();
    for (const bad of [{ streams: 0 }, { streams: 17 }, { streams: 2.5 }, { connections: 0 }, { connections: 9 }, { connections: Number.NaN }]) {
      await expect(sftp.upload(join(local, "opt.bin"), `${dir}/opt.bin`, bad)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
      await expect(sftp.download(`${dir}/opt.bin`, join(local, "opt.down"), bad)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
    expect(sessions.opened).toHaveLength(0);
    expect((await sftp.list(dir)).map((e) => e.name)).toEqual([]);
    expect((await readdir(local)).filter((f) => f.startsWith("opt.down"))).toEqual([]);
  });

  it("with connections: 2, moves a file each way byte-identical and closes any extra connection it opened", { timeout: 120_000 }, async () => {
    const { sftp, dir, local, serverFile } = ctx();
    const data = randomBytes(20 * MiB + 999);
    await writeFile(join(local, "conn.bin"), data);
    const sessions = watchSessions();
    await sftp.upload(join(local, "conn.bin"), `${dir}/conn.bin`, { streams: 3, connections: 2 });
    expect(sha256(await serverFile(`${dir}/conn.bin`))).toBe(sha256(data));
    await sftp.download(`${dir}/conn.bin`, join(local, "conn.down"), { streams: 3, connections: 2 });
    expect(sha256(await readFile(join(local, "conn.down")))).toBe(sha256(data));
    // Whether the extra connection was up before the ranges ran out depends on the machine's speed;
    // one was opened at most per transfer, and none is left open.
    const extra = new Set(sessions.opened.map((c) => c.ssh).filter((ssh) => ssh !== sftp.ssh));
    expect(extra.size).toBeLessThanOrEqual(2);
    expect([...extra].every((ssh) => ssh.closed)).toBe(true);
    expect(sftp.ssh.closed).toBe(false);
  });

  it('"auto" moves a small file over one stream', async () => {
    const { sftp, dir, local } = ctx();
    await writeFile(join(local, "small.bin"), randomBytes(MiB));
    const sessions = watchSessions();
    await sftp.upload(join(local, "small.bin"), `${dir}/small.bin`);
    await sftp.download(`${dir}/small.bin`, join(local, "small.down"));
    expect(sessions.opened).toHaveLength(0);
  });

  it("retries the range of a stream that fails on another stream", { timeout: 120_000 }, async () => {
    const { sftp, dir, local, serverFile } = ctx();
    const data = randomBytes(24 * MiB);
    await writeFile(join(local, "retry.bin"), data);
    // The first extra session dies once it has carried some data.
    let victim: SftpClient | undefined;
    watchSessions((c) => (victim ??= c));
    let killed = false;
    const onProgress = (p: { transferred: number }) => {
      if (!killed && victim && p.transferred > 6 * MiB) {
        killed = true;
        void victim.session.close().catch(() => {});
      }
    };
    await sftp.upload(join(local, "retry.bin"), `${dir}/retry.bin`, { streams: 3, onProgress });
    expect(killed).toBe(true);
    expect(sha256(await serverFile(`${dir}/retry.bin`))).toBe(sha256(data));
    victim = undefined;
    killed = false;
    await sftp.download(`${dir}/retry.bin`, join(local, "retry.down"), { streams: 3, onProgress });
    expect(killed).toBe(true);
    expect(sha256(await readFile(join(local, "retry.down")))).toBe(sha256(data));
  });

  it("an aborted segmented transfer leaves nothing at the target and no temp file", async () => {
    const { sftp, dir, local } = ctx();
    await writeFile(join(local, "abort.bin"), randomBytes(20 * MiB));
    const up = await sftp.upload(join(local, "abort.bin"), `${dir}/abort.bin`, { streams: 4, ...abortAfter(5 * MiB) }).catch((e) => e);
    expect(up.code).toBe("ABORTED");
    expect(await sftp.list(dir)).toEqual([]);
    await sftp.upload(join(local, "abort.bin"), `${dir}/whole.bin`, { streams: 1 });
    const down = await sftp.download(`${dir}/whole.bin`, join(local, "abort.down"), { streams: 4, ...abortAfter(5 * MiB) }).catch((e) => e);
    expect(down.code).toBe("ABORTED");
    expect((await readdir(local)).filter((f) => f.startsWith("abort.down"))).toEqual([]);
  });

  it("an abort while a stream's OPEN is in flight: the handle granted after it is closed, not leaked", async () => {
    const { sftp, dir, local } = ctx();
    await writeFile(join(local, "late.bin"), randomBytes(20 * MiB));
    await sftp.upload(join(local, "late.bin"), `${dir}/late.bin`, { streams: 1 });
    const granted: Promise<unknown>[] = [];
    for (const [mode, run] of [
      ["r+", (signal: AbortSignal) => sftp.upload(join(local, "late.bin"), `${dir}/late.up`, { streams: 4, signal })],
      ["r", (signal: AbortSignal) => sftp.download(`${dir}/late.bin`, join(local, "late.down"), { streams: 4, signal })],
    ] as const) {
      const controller = new AbortController();
      const open = SftpClient.prototype.open;
      // The first OPEN of a stream's handle goes out, then the caller gives up before its reply.
      const spy = vi.spyOn(SftpClient.prototype, "open").mockImplementation(function (this: SftpClient, ...args: Parameters<SftpClient["open"]>) {
        const p = open.apply(this, args);
        if (args[1] === mode && !controller.signal.aborted) {
          granted.push(p.catch(() => undefined));
          controller.abort();
        }
        return p;
      });
      try {
        expect(((await run(controller.signal).catch((e: unknown) => e)) as { code?: string }).code).toBe("ABORTED");
      } finally {
        spy.mockRestore();
      }
    }
    const files = (await Promise.all(granted)).filter((f) => f !== undefined) as { closed: boolean }[];
    expect(files.length).toBe(2);
    // Closed as soon as the late reply arrives (the CLOSE is sent, not awaited, by the abort).
    await expect.poll(() => files.map((f) => f.closed)).toEqual([true, true]);
  });

  it("resumes from the recorded ranges, redoing a range whose bytes no longer match, byte-identical", { timeout: 120_000 }, async () => {
    const { sftp, dir, local, serverFile } = ctx();
    const data = randomBytes(40 * MiB);
    const src = join(local, "resume.bin");
    await writeFile(src, data);
    // Cut at 3/4: at most six ranges (two per stream) are moving at once, 24 of the 40 MiB, so
    // by then at least one range is complete and recorded, whatever the timing.
    // Upload: cut, then resume; the second run starts from the ranges already there.
    const cut = await sftp.upload(src, `${dir}/resume.bin`, { streams: 3, resume: true, ...abortAfter(30 * MiB) }).catch((e) => e);
    expect(cut.code).toBe("ABORTED");
    const names = (await sftp.list(dir)).map((e) => e.name).sort();
    expect(names).toEqual([".resume.bin.resume.part", ".resume.bin.resume.part.ranges"]);
    const record = decodeRecord(await sftp.readFile(`${dir}/.resume.bin.resume.part.ranges`), data.length)!;
    expect(record.done.length).toBeGreaterThan(0);
    let first = -1;
    await sftp.upload(src, `${dir}/resume.bin`, { streams: 1, resume: true, onProgress: (p) => first < 0 && (first = p.transferred) });
    expect(first).toBeGreaterThan(record.done.length * record.segment - 1);
    expect(sha256(await serverFile(`${dir}/resume.bin`))).toBe(sha256(data));
    expect((await sftp.list(dir)).map((e) => e.name)).toEqual(["resume.bin"]);

    // Download: cut, damage the tail of a recorded range in the partial file, resume.
    const dst = join(local, "resume.down");
    const cut2 = await sftp.download(`${dir}/resume.bin`, dst, { streams: 3, resume: true, ...abortAfter(30 * MiB) }).catch((e) => e);
    expect(cut2.code).toBe("ABORTED");
    const rec2 = decodeRecord(await readFile(`${dst}.resume.part.ranges`), data.length)!;
    const damaged = rec2.done[0]!;
    const partial = new Uint8Array(await readFile(`${dst}.resume.part`));
    const at = Math.min(data.length, (damaged + 1) * rec2.segment) - 10;
    partial[at] = partial[at]! ^ 0xff;
    await writeFile(`${dst}.resume.part`, partial);
    // Resumed over one stream: the partial has holes, so only its record can resume it.
    await sftp.download(`${dir}/resume.bin`, dst, { streams: 1, resume: true });
    expect(sha256(await readFile(dst))).toBe(sha256(data));
    expect((await readdir(local)).filter((f) => f.startsWith("resume.down."))).toEqual([]);
  });

  it("a transfer cut before any range completes resumes from its record, not from the end of its holes", { timeout: 120_000 }, async () => {
    const { sftp, dir, local, serverFile } = ctx();
    const data = randomBytes(24 * MiB);
    const src = join(local, "early.bin");
    await writeFile(src, data);
    // Three streams each start a range: the partial has data at 0, 4 and 8 MiB and holes
    // between; a resume that trusted its end would keep the holes.
    expect((await sftp.upload(src, `${dir}/early.bin`, { streams: 3, resume: true, ...abortAfter(2 * MiB) }).catch((e) => e)).code).toBe("ABORTED");
    expect(decodeRecord(await sftp.readFile(`${dir}/.early.bin.resume.part.ranges`), data.length)).toBeDefined();
    await sftp.upload(src, `${dir}/early.bin`, { streams: 1, resume: true });
    expect(sha256(await serverFile(`${dir}/early.bin`))).toBe(sha256(data));
    const dst = join(local, "early.down");
    expect((await sftp.download(`${dir}/early.bin`, dst, { streams: 3, resume: true, ...abortAfter(2 * MiB) }).catch((e) => e)).code).toBe("ABORTED");
    expect(decodeRecord(await readFile(`${dst}.resume.part.ranges`), data.length)).toBeDefined();
    await sftp.download(`${dir}/early.bin`, dst, { streams: 1, resume: true });
    expect(sha256(await readFile(dst))).toBe(sha256(data));
  });
}
