/**
 * Our client against the embedded server: the SFTP client contract (test/sftp/client-contract.ts)
 * and what only this server shows: its extensions and limits, files as they land in the root,
 * error codes, links and attributes, and the open-handle limit.
 */
import { readFile, writeFile, lstat, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { SftpError } from "../../src/errors.js";
import { PacketType } from "../../src/sftp/constants.js";
import type { SftpClient } from "../../src/sftp/client.js";
import { sftpClientContract, text } from "../sftp/client-contract.js";
import { dirContract, refusedSessionsCase } from "../sftp/dir-contract.js";
import { atomicWriteContract } from "../sftp/atomic-write-contract.js";
import { segmentedContract, watchSessions } from "../sftp/segmented-contract.js";
import { randomBytes, startTestServer, type TestServer } from "./helpers.js";

describe("our client against the embedded server", () => {
  let t: TestServer;
  let sftp: SftpClient;
  let dir: string;
  let n = 0;
  let local: string;

  beforeAll(async () => {
    t = await startTestServer();
    sftp = await t.connect();
    local = await mkdtemp(join(tmpdir(), "sftp-local-"));
  });
  afterAll(async () => {
    await sftp?.close();
    await t?.stop();
    await rm(local, { recursive: true, force: true });
  });
  beforeEach(async () => {
    dir = `/t${++n}`;
    await sftp.mkdir(dir);
  });

  sftpClientContract(
    () => ({ sftp, dir, local, connectAnother: () => t.connect(), serverFile: (p) => readFile(join(t.root, p)) }),
    { bigMiB: 64, smallFiles: 300, smallConcurrency: 32, killMiB: 16, killAfterMiB: 2 },
  );
  segmentedContract(() => ({ sftp, dir, local, connectAnother: () => t.connect(), serverFile: (p) => readFile(join(t.root, p)) }));
  dirContract(() => ({ sftp, dir, local, connectAnother: () => t.connect(), serverFile: (p) => readFile(join(t.root, p)) }));
  atomicWriteContract(() => ({ sftp, dir, local, connectAnother: () => t.connect(), serverFile: (p) => readFile(join(t.root, p)) }));

  it("negotiates strict kex, announces the extensions and limits", () => {
    expect(sftp.ssh.strictKex).toBe(true);
    expect(sftp.ssh.serverVersion).toMatch(/^SSH-2\.0-puresftp_/);
    expect([...sftp.extensions.keys()]).toEqual(expect.arrayContaining([
      "posix-rename@openssh.com", "limits@openssh.com", "statvfs@openssh.com", "fstatvfs@openssh.com",
      "fsync@openssh.com", "hardlink@openssh.com", "expand-path@openssh.com", "home-directory",
    ]));
    expect(sftp.session.readSize).toBe(255 * 1024);
    expect(sftp.session.maxOpenHandles).toBe(64);
  });

  it("writes, reads, stats, lists and removes files", async () => {
    await sftp.writeFile(`${dir}/a.txt`, "hello", { mode: 0o640 });
    expect(text(await sftp.readFile(`${dir}/a.txt`))).toBe("hello");
    expect(text(await readFile(join(t.root, dir, "a.txt")))).toBe("hello");
    const st = await sftp.stat(`${dir}/a.txt`);
    expect(st.isFile()).toBe(true);
    expect(st.size).toBe(5);
    expect(st.mode! & 0o777).toBe(0o640);
    expect(await sftp.exists(`${dir}/a.txt`)).toBe(true);
    expect(await sftp.exists(`${dir}/nope`)).toBe(false);
    await sftp.mkdir(`${dir}/sub`);
    const entries = await sftp.list(dir);
    expect(entries.map((e) => e.name).sort()).toEqual(["a.txt", "sub"]);
    expect(entries.find((e) => e.name === "sub")!.attrs.isDirectory()).toBe(true);
    expect(entries.find((e) => e.name === "a.txt")!.longname).toMatch(/^-rw-r-----\s+1 .* a\.txt$/);
    await sftp.remove(`${dir}/a.txt`);
    expect(await sftp.exists(`${dir}/a.txt`)).toBe(false);
  });

  it("lists a directory larger than one READDIR batch", async () => {
    await Promise.all(Array.from({ length: 250 }, (_, i) => writeFile(join(t.root, dir, `f${i}`), "")));
    expect((await sftp.list(dir)).length).toBe(250);
  });

  it("maps errors to SftpError codes with the path", async () => {
    const missing = await sftp.stat(`${dir}/missing`).catch((e) => e);
    expect(missing).toBeInstanceOf(SftpError);
    expect(missing.code).toBe("NO_SUCH_FILE");
    expect(missing.path).toBe(`${dir}/missing`);
    const notEmpty = await sftp.rmdir("/").catch((e) => e);
    expect(notEmpty.code).toBe("PERMISSION_DENIED");
    await sftp.writeFile(`${dir}/x`, "x");
    const rmdirFile = await sftp.rmdir(dir).catch((e) => e);
    expect(rmdirFile.code).toBe("FAILURE");
    const exists = await sftp.mkdir(dir).catch((e) => e);
    expect(exists.code).toBe("FAILURE");
    expect(exists.message).not.toContain(t.root); // host paths never leak
  });

  it("symlinks, readlink, lstat, realpath, hardlink", async () => {
    await sftp.writeFile(`${dir}/target`, "t");
    await sftp.symlink("target", `${dir}/link`);
    expect(await sftp.readlink(`${dir}/link`)).toBe("target");
    expect((await sftp.lstat(`${dir}/link`)).isSymbolicLink()).toBe(true);
    expect((await sftp.stat(`${dir}/link`)).isFile()).toBe(true);
    await sftp.symlink(`${dir}/target`, `${dir}/abs`);
    expect(await sftp.readlink(`${dir}/abs`)).toBe(`${dir}/target`);
    expect(text(await sftp.readFile(`${dir}/abs`))).toBe("t");
    expect(await sftp.realpath(`${dir}/./sub/..`)).toBe(dir);
    expect(await sftp.realpath(`${dir}/link`)).toBe(`${dir}/target`);
    expect(await sftp.realpath(".")).toBe("/");
    await sftp.hardlink(`${dir}/target`, `${dir}/hard`);
    expect(text(await sftp.readFile(`${dir}/hard`))).toBe("t");
    expect((await lstat(join(t.root, dir, "hard"))).nlink).toBe(2);
  });

  it("chmod, utimes, setAttrs, statvfs, homeDirectory, expandPath, copy, fsync", async () => {
    await sftp.writeFile(`${dir}/f`, "data");
    await sftp.chmod(`${dir}/f`, 0o600);
    expect((await sftp.stat(`${dir}/f`)).mode! & 0o777).toBe(0o600);
    await sftp.utimes(`${dir}/f`, 1_000_000, 2_000_000);
    const st = await sftp.stat(`${dir}/f`);
    expect([st.atime, st.mtime]).toEqual([1_000_000, 2_000_000]);
    await sftp.setAttrs(`${dir}/f`, { size: 2 });
    expect(text(await sftp.readFile(`${dir}/f`))).toBe("da");
    await sftp.symlink("f", `${dir}/fl`);
    await sftp.setAttrs(`${dir}/fl`, { atime: 5, mtime: 6 }, { followSymlinks: false });
    expect((await sftp.lstat(`${dir}/fl`)).mtime).toBe(6);
    expect((await sftp.stat(`${dir}/fl`)).mtime).not.toBe(6); // the target keeps its own times
    const vfs = await sftp.statvfs(dir);
    expect(vfs.bsize).toBeGreaterThan(0n);
    expect(await sftp.homeDirectory()).toBe("/");
    expect(await sftp.homeDirectory("someone-else").catch((e) => e.code)).toBe("NO_SUCH_FILE");
    expect(await sftp.expandPath("~/x")).toBe("/x");
    expect(await sftp.expandPath(`~${sftp.ssh.username}${dir}`)).toBe(dir);
    await sftp.copy(`${dir}/f`, `${dir}/g`);
    expect(text(await sftp.readFile(`${dir}/g`))).toBe("da");
    await sftp.fsync(`${dir}/g`);
  });

  it("file handles: read, write at offsets, stat, setAttrs, fsync, statvfs", async () => {
    const f = await sftp.open(`${dir}/h`, "w+");
    await f.write(new TextEncoder().encode("0123456789"), 0);
    await f.write(new TextEncoder().encode("ab"), 4);
    expect(text(await f.read(2, 6))).toBe("23ab67");
    expect((await f.stat()).size).toBe(10);
    await f.setAttrs({ permissions: 0o604 });
    expect((await f.stat()).mode! & 0o777).toBe(0o604);
    await f.fsync();
    expect((await f.statvfs()).blocks).toBeGreaterThan(0n);
    await f.close();
    const a = await sftp.open(`${dir}/h`, "a");
    await a.write(new TextEncoder().encode("Z"), 0);
    await a.close();
    expect(text(await sftp.readFile(`${dir}/h`))).toBe("0123ab6789Z");
    expect(await sftp.open(`${dir}/h`, "wx").catch((e) => e.code)).toBe("FAILURE");
  });

  it("uploads in whole WRITE requests of the negotiated size: only the file's last is short", async () => {
    const size = 3 * 1024 * 1024 + 1000;
    const data = randomBytes(size);
    await writeFile(join(local, "whole.bin"), data);
    const lengths: number[] = [];
    const original = sftp.session.send.bind(sftp.session);
    const send = vi.spyOn(sftp.session, "send").mockImplementation((build) => original((id) => {
      const parts = build(id);
      // A WRITE goes down as its header (length, type, ...) and the data (pipeline.ts).
      if (parts[0]![4] === PacketType.WRITE) lengths.push(parts[1]!.length);
      return parts;
    }));
    try {
      await sftp.upload(join(local, "whole.bin"), `${dir}/whole.bin`, { streams: 1 });
    } finally {
      send.mockRestore();
    }
    expect(Buffer.compare(await readFile(join(t.root, dir, "whole.bin")), data)).toBe(0);
    const w = sftp.session.writeSize;
    expect(lengths.reduce((a, b) => a + b, 0)).toBe(size);
    expect(lengths.slice(0, -1).every((n) => n === w)).toBe(true);
    expect(lengths.length).toBe(Math.ceil(size / w));
  });

  it("refuses handles beyond the limit, and serves again once they are closed", async () => {
    await sftp.writeFile(`${dir}/f`, "x");
    const files = await Promise.all(Array.from({ length: 64 }, () => sftp.open(`${dir}/f`, "r")));
    const err = await sftp.open(`${dir}/f`, "r").catch((e) => e);
    expect(err.code).toBe("FAILURE");
    expect(err.message).toMatch(/too many open handles/);
    await Promise.all(files.map((f) => f.close()));
    expect(text(await sftp.readFile(`${dir}/f`))).toBe("x");
  });
});

describe("segmented transfers when the server refuses more sessions", () => {
  it("carries on with the sessions the server allows, byte-identical", { timeout: 60_000 }, async () => {
    const t = await startTestServer({ limits: { authFailureDelayMs: 20, maxSessions: 2 } });
    const local = await mkdtemp(join(tmpdir(), "sftp-local-"));
    try {
      const sftp = await t.connect();
      const data = randomBytes(20 * 1024 * 1024);
      await writeFile(join(local, "a.bin"), data);
      const sessions = watchSessions();
      await sftp.upload(join(local, "a.bin"), "/a.bin", { streams: 6 });
      // The one more session the server allows was used; the refused tries stopped the opening.
      expect(sessions.opened).toHaveLength(1);
      expect(sessions.refused).toBeGreaterThan(0);
      expect(Buffer.compare(await readFile(join(t.root, "a.bin")), data)).toBe(0);
      await sftp.download("/a.bin", join(local, "b.bin"), { streams: 6 });
      expect(Buffer.compare(await readFile(join(local, "b.bin")), data)).toBe(0);
      expect(sessions.opened).toHaveLength(2);
      await sftp.close();
      vi.restoreAllMocks();
    } finally {
      await t.stop();
      await rm(local, { recursive: true, force: true });
    }
  });

  it("a tree is carried by the sessions the server allows, byte-identical", { timeout: 60_000 }, async () => {
    const t = await startTestServer({ limits: { authFailureDelayMs: 20, maxSessions: 2 } });
    const local = await mkdtemp(join(tmpdir(), "sftp-local-"));
    try {
      await refusedSessionsCase(() => t.connect(), "/", local);
    } finally {
      await t.stop();
      await rm(local, { recursive: true, force: true });
    }
  });
});
