/**
 * Directory transfers (src/sftp/transfers-dir.ts, file-spread.ts) against any SFTP server, run
 * by the suites that run the client contract: OpenSSH (conformance/sftp.test.ts) and the embedded
 * server (test/server/client-roundtrip.test.ts). Sessions are counted by watching
 * SftpClient.open (segmented-contract.ts), the one way a transfer opens another session.
 */
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { getEventListeners } from "node:events";
import { join } from "node:path";
import { afterEach, expect, it, vi } from "vitest";
import type { SftpClient } from "../../src/sftp/client.js";
import { DIR_AUTO_SESSIONS, PER_SESSION } from "../../src/sftp/transfers-dir.js";
import { randomBytes, sha256, type ContractContext } from "./client-contract.js";
import { abortAfter, watchSessions } from "./segmented-contract.js";

const KiB = 1024;

/** Writes `count` files (sizes from `size(i)`) spread over three subdirectories; returns path → sha256. */
async function writeTree(root: string, count: number, size: (i: number) => number): Promise<Map<string, string>> {
  const sums = new Map<string, string>();
  for (const d of ["a", "b", "b/c"]) await mkdir(join(root, d), { recursive: true });
  for (let i = 0; i < count; i++) {
    const rel = `${["a", "b", "b/c"][i % 3]}/f${i}.bin`;
    const data = randomBytes(size(i));
    await writeFile(join(root, rel), data);
    sums.set(rel, sha256(data));
  }
  return sums;
}

/** Every file under a local directory, path → sha256 (temp files included, so leftovers show). */
async function localTree(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(join(e.parentPath, e.name).slice(root.length + 1), sha256(await readFile(join(e.parentPath, e.name))));
  }
  return out;
}

/** Every file under a remote directory, path → sha256, read back over `sftp`. */
async function remoteTree(sftp: SftpClient, root: string, prefix = ""): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await sftp.list(root)) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.attrs.isDirectory()) for (const [k, v] of await remoteTree(sftp, `${root}/${e.name}`, rel)) out.set(k, v);
    else out.set(rel, sha256(await sftp.readFile(`${root}/${e.name}`)));
  }
  return out;
}

const sorted = (m: Map<string, string>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));

/**
 * A server that allows two sessions a connection: the tree moves over the caller's and the one
 * more it allows; the refused tries end the opening. `connect` connects to that server.
 */
export async function refusedSessionsCase(connect: () => Promise<SftpClient>, remoteDir: string, local: string): Promise<void> {
  const sftp = await connect();
  try {
    // Enough files for every session "auto" would open.
    const sums = await writeTree(join(local, "ms"), DIR_AUTO_SESSIONS * PER_SESSION, (i) => 1 + i * 1000);
    const sessions = watchSessions();
    await sftp.uploadDir(join(local, "ms"), `${remoteDir}/ms`, { streams: DIR_AUTO_SESSIONS });
    expect(sessions.opened).toHaveLength(1);
    expect(sessions.refused).toBe(DIR_AUTO_SESSIONS - 2);
    expect(sorted(await remoteTree(sftp, `${remoteDir}/ms`))).toEqual(sorted(sums));
    await sftp.downloadDir(`${remoteDir}/ms`, join(local, "ms.down"), { streams: DIR_AUTO_SESSIONS });
    expect(sessions.opened).toHaveLength(2);
    expect(sessions.opened.every((c) => c.session.closed)).toBe(true);
    expect(sorted(await localTree(join(local, "ms.down")))).toEqual(sorted(sums));
  } finally {
    vi.restoreAllMocks();
    await sftp.close();
  }
}

export function dirContract(ctx: () => ContractContext): void {
  afterEach(() => vi.restoreAllMocks());

  it("auto: one session where the round trip is short, spread where it is long (the session's measured round trip)", { timeout: 120_000 }, async () => {
    const { sftp, dir, local } = ctx();
    const sums = await writeTree(join(local, "short"), DIR_AUTO_SESSIONS * PER_SESSION, () => 64 * KiB);
    const measured = sftp.session.roundTripMs;
    // The start-up round trip decides; set it as a short and a long link would have measured it,
    // so the choice does not depend on this machine's load.
    try {
      const sessions = watchSessions();
      sftp.session.roundTripMs = 0.2;
      await sftp.uploadDir(join(local, "short"), `${dir}/short`);
      await sftp.downloadDir(`${dir}/short`, join(local, "short.down"));
      expect(sessions.opened).toHaveLength(0);
      sftp.session.roundTripMs = 100;
      await sftp.uploadDir(join(local, "short"), `${dir}/long`);
      expect(sessions.opened).toHaveLength(DIR_AUTO_SESSIONS - 1);
      await sftp.downloadDir(`${dir}/long`, join(local, "long.down"));
      expect(sessions.opened).toHaveLength(2 * (DIR_AUTO_SESSIONS - 1));
      expect(sessions.opened.every((c) => c.session.closed)).toBe(true);
    } finally {
      sftp.session.roundTripMs = measured;
    }
    expect(sorted(await localTree(join(local, "short.down")))).toEqual(sorted(sums));
    expect(sorted(await localTree(join(local, "long.down")))).toEqual(sorted(sums));
  });

  it("streams: N spreads a tree's files over N sessions each way, byte-identical, and closes them", { timeout: 120_000 }, async () => {
    const { sftp, dir, local } = ctx();
    const count = (DIR_AUTO_SESSIONS - 1) * PER_SESSION + 2;
    const sums = await writeTree(join(local, "src"), count, (i) => (i === 0 ? 0 : 1 + ((i * 7919) % (200 * KiB))));
    const sessions = watchSessions();
    const up = await sftp.uploadDir(join(local, "src"), `${dir}/up`, { streams: DIR_AUTO_SESSIONS });
    expect(up).toMatchObject({ files: count, skipped: [] });
    // More files than DIR_AUTO_SESSIONS - 1 sessions take: the most it may open, all at once.
    expect(sessions.opened).toHaveLength(DIR_AUTO_SESSIONS - 1);
    expect(sessions.opened.every((c) => c.session.closed)).toBe(true);
    expect(sorted(await remoteTree(sftp, `${dir}/up`))).toEqual(sorted(sums));
    const down = await sftp.downloadDir(`${dir}/up`, join(local, "dst"), { streams: DIR_AUTO_SESSIONS });
    expect(down.bytes).toBe(up.bytes);
    expect(sessions.opened).toHaveLength(2 * (DIR_AUTO_SESSIONS - 1));
    expect(sessions.opened.every((c) => c.session.closed)).toBe(true);
    expect(sorted(await localTree(join(local, "dst")))).toEqual(sorted(sums));
  });

  it("streams: 1 moves a tree over the one session; a small tree opens no more than it fills", { timeout: 60_000 }, async () => {
    const { sftp, dir, local } = ctx();
    const sums = await writeTree(join(local, "one"), 12, () => 10 * KiB);
    const sessions = watchSessions();
    await sftp.uploadDir(join(local, "one"), `${dir}/one`, { streams: 1 });
    await sftp.downloadDir(`${dir}/one`, join(local, "one.down"), { streams: 1, concurrency: 2 });
    expect(sessions.opened).toHaveLength(0);
    expect(sorted(await localTree(join(local, "one.down")))).toEqual(sorted(sums));
    // 12 files, 6 a session: two sessions, the caller's and one more, however many it may open.
    await sftp.downloadDir(`${dir}/one`, join(local, "two.down"), { streams: DIR_AUTO_SESSIONS, concurrency: 6 });
    expect(sessions.opened).toHaveLength(1);
    expect(sorted(await localTree(join(local, "two.down")))).toEqual(sorted(sums));
  });

  it("a caller's signal carries one listener however many files are in flight, and Node warns of no leak", { timeout: 60_000 }, async () => {
    const { sftp, dir, local } = ctx();
    const sums = await writeTree(join(local, "sig"), 3 * PER_SESSION, () => 64 * KiB);
    const controller = new AbortController();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, getEventListeners(controller.signal, "abort").length)), 1);
    try {
      await sftp.uploadDir(join(local, "sig"), `${dir}/sig`, { streams: 1, signal: controller.signal });
      await sftp.downloadDir(`${dir}/sig`, join(local, "sig.down"), { streams: 1, signal: controller.signal });
    } finally {
      clearInterval(watch);
      // Warnings are emitted on the next tick.
      await new Promise((r) => setImmediate(r));
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => w.includes("MaxListeners"))).toEqual([]);
    expect(most).toBe(1);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    expect(sorted(await localTree(join(local, "sig.down")))).toEqual(sorted(sums));
  });

  it("a concurrency or streams that is not a number from 1 up is INVALID_ARGUMENT, before anything moves", async () => {
    const { sftp, dir, local } = ctx();
    await writeTree(join(local, "bad"), 3, () => 10);
    // The same check as upload()/download(): a fraction or more than MAX_STREAMS is refused too.
    for (const bad of [{ concurrency: Number.NaN }, { concurrency: 0 }, { streams: Number.NaN }, { streams: -1 }, { streams: 2.5 }, { streams: 17 }, { connections: 0 }]) {
      await expect(sftp.uploadDir(join(local, "bad"), `${dir}/bad`, bad)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
    expect(await sftp.list(dir)).toEqual([]);
  });

  it("a session cut mid-directory: its files move again on the others, byte-identical", { timeout: 120_000 }, async () => {
    const { sftp, dir, local } = ctx();
    const sums = await writeTree(join(local, "cut"), 2 * DIR_AUTO_SESSIONS * PER_SESSION, () => 128 * KiB);
    let victim: SftpClient | undefined;
    watchSessions((c) => (victim ??= c));
    let killed = false;
    const onProgress = (p: { transferred: number }) => {
      if (!killed && victim && p.transferred > 2 * 1024 * KiB) {
        killed = true;
        void victim.session.close().catch(() => {});
      }
    };
    await sftp.uploadDir(join(local, "cut"), `${dir}/cut`, { streams: DIR_AUTO_SESSIONS, onProgress });
    expect(killed).toBe(true);
    // Every file is whole under its name. A file cut with its session may leave its temporary
    // name (the session that would have removed it is gone), never anything under a target name.
    const remote = await remoteTree(sftp, `${dir}/cut`);
    for (const [k, v] of sums) expect(remote.get(k), k).toBe(v);
    const uploadTemp = /(^|\/)\.f\d+\.bin\.[0-9a-f]{12}\.part$/;
    for (const k of remote.keys()) if (!sums.has(k)) expect(k).toMatch(uploadTemp);

    victim = undefined;
    killed = false;
    await sftp.downloadDir(`${dir}/cut`, join(local, "cut.down"), { streams: DIR_AUTO_SESSIONS, onProgress });
    expect(killed).toBe(true);
    // Locally the cut file's temporary copy is removed: the tree is the remote one (which may
    // hold the upload's leftover temporary names), and nothing more.
    const got = await localTree(join(local, "cut.down"));
    expect(sorted(got)).toEqual(sorted(remote));
  });

  it("an aborted tree transfer rejects with ABORTED and closes every session it opened", { timeout: 60_000 }, async () => {
    const { sftp, dir, local } = ctx();
    await writeTree(join(local, "ab"), DIR_AUTO_SESSIONS * PER_SESSION + 8, () => 128 * KiB);
    const sessions = watchSessions();
    const up = await sftp.uploadDir(join(local, "ab"), `${dir}/ab`, { streams: DIR_AUTO_SESSIONS, ...abortAfter(1024 * KiB) }).catch((e) => e);
    expect(up.code).toBe("ABORTED");
    expect(sessions.opened.every((c) => c.session.closed)).toBe(true);
    await sftp.uploadDir(join(local, "ab"), `${dir}/ab`, { streams: 1 });
    const down = await sftp.downloadDir(`${dir}/ab`, join(local, "ab.down"), { streams: DIR_AUTO_SESSIONS, ...abortAfter(1024 * KiB) }).catch((e) => e);
    expect(down.code).toBe("ABORTED");
    expect(sessions.opened.every((c) => c.session.closed)).toBe(true);
    expect([...(await localTree(join(local, "ab.down"))).keys()].filter((k) => k.endsWith(".part"))).toEqual([]);
    // The connection still works.
    expect((await sftp.list(`${dir}/ab`)).map((e) => e.name).sort()).toEqual(["a", "b"]);
  });

  it("resume: a tree cut mid-way and sent again with resume completes byte-identical, no partial left", { timeout: 120_000 }, async () => {
    const { sftp, dir, local } = ctx();
    const sums = await writeTree(join(local, "rs"), 24, () => 512 * KiB);
    const cut = await sftp.uploadDir(join(local, "rs"), `${dir}/rs`, { resume: true, ...abortAfter(5 * 1024 * KiB) }).catch((e) => e);
    expect(cut.code).toBe("ABORTED");
    await sftp.uploadDir(join(local, "rs"), `${dir}/rs`, { resume: true });
    expect(sorted(await remoteTree(sftp, `${dir}/rs`))).toEqual(sorted(sums));
    const cut2 = await sftp.downloadDir(`${dir}/rs`, join(local, "rs.down"), { resume: true, ...abortAfter(5 * 1024 * KiB) }).catch((e) => e);
    expect(cut2.code).toBe("ABORTED");
    await sftp.downloadDir(`${dir}/rs`, join(local, "rs.down"), { resume: true });
    expect(sorted(await localTree(join(local, "rs.down")))).toEqual(sorted(sums));
  });
}
