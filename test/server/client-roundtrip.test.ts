/**
 * Our client against the embedded server: every SftpClient method, error codes, names that
 * need care, streams, and 64 MiB each way byte-identical.
 */
import { createHash } from "node:crypto";
import { readFile, readdir, writeFile, lstat, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SftpError } from "../../src/errors.js";
import type { SftpClient } from "../../src/sftp/client.js";
import { randomBytes, startTestServer, type TestServer } from "./helpers.js";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const MiB = 1024 * 1024;

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

  it("mkdir -p and rmdir -r", async () => {
    await sftp.mkdir(`${dir}/x/y/z`, { recursive: true });
    await sftp.mkdir(`${dir}/x/y/z`, { recursive: true });
    await sftp.writeFile(`${dir}/x/y/z/f`, "1");
    await sftp.writeFile(`${dir}/x/f2`, "2");
    await sftp.rmdir(`${dir}/x`, { recursive: true });
    expect(await sftp.exists(`${dir}/x`)).toBe(false);
  });

  it("renames, with and without overwrite", async () => {
    await sftp.writeFile(`${dir}/a`, "A");
    await sftp.writeFile(`${dir}/b`, "B");
    const err = await sftp.rename(`${dir}/a`, `${dir}/b`).catch((e) => e);
    expect(err).toBeInstanceOf(SftpError);
    expect(text(await sftp.readFile(`${dir}/b`))).toBe("B");
    await sftp.rename(`${dir}/a`, `${dir}/b`, { overwrite: true });
    expect(text(await sftp.readFile(`${dir}/b`))).toBe("A");
    await sftp.rename(`${dir}/b`, `${dir}/c`);
    expect(await sftp.exists(`${dir}/c`)).toBe(true);
    await sftp.mkdir(`${dir}/d1`);
    await sftp.rename(`${dir}/d1`, `${dir}/d2`);
    expect((await sftp.stat(`${dir}/d2`)).isDirectory()).toBe(true);
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

  it("handles names with spaces, unicode and newlines", async () => {
    const names = ["with space.txt", "ünïcødé-文件.txt", "new\nline", "emoji-🎬.exr"];
    for (const name of names) await sftp.writeFile(`${dir}/${name}`, name);
    expect((await sftp.list(dir)).map((e) => e.name).sort()).toEqual([...names].sort());
    for (const name of names) expect(text(await sftp.readFile(`${dir}/${name}`))).toBe(name);
  });

  it("streams read and write, with ranges", async () => {
    const data = randomBytes(3 * MiB + 123);
    const w = sftp.createWriteStream(`${dir}/stream.bin`).getWriter();
    for (let o = 0; o < data.length; o += 100_000) await w.write(data.subarray(o, o + 100_000));
    await w.close();
    const parts: Uint8Array[] = [];
    for await (const chunk of sftp.createReadStream(`${dir}/stream.bin`) as unknown as AsyncIterable<Uint8Array>) parts.push(chunk);
    expect(sha256(Buffer.concat(parts))).toBe(sha256(data));
    const ranged: Uint8Array[] = [];
    for await (const chunk of sftp.createReadStream(`${dir}/stream.bin`, { start: 10, end: 1_000_009 }) as unknown as AsyncIterable<Uint8Array>) ranged.push(chunk);
    expect(Buffer.concat(ranged)).toEqual(Buffer.from(data.subarray(10, 1_000_010)));
  });

  it("uploads and downloads 64 MiB byte-identical", { timeout: 300_000 }, async () => {
    const data = randomBytes(64 * MiB);
    const src = join(local, "big.bin");
    await writeFile(src, data);
    let t0 = performance.now();
    await sftp.upload(src, `${dir}/big.bin`);
    const up = performance.now() - t0;
    expect(sha256(await readFile(join(t.root, dir, "big.bin")))).toBe(sha256(data));
    expect((await sftp.list(dir)).map((e) => e.name)).toEqual(["big.bin"]);
    const dst = join(local, "big.down");
    t0 = performance.now();
    await sftp.download(`${dir}/big.bin`, dst);
    const down = performance.now() - t0;
    expect(sha256(await readFile(dst))).toBe(sha256(data));
    expect((await readdir(local)).filter((f) => f.endsWith(".part"))).toEqual([]);
    console.log(`64 MiB against the embedded server: upload ${(64 / (up / 1000)).toFixed(1)} MB/s, download ${(64 / (down / 1000)).toFixed(1)} MB/s`);
  });

  it("many concurrent small files, within the open-handle limit", { timeout: 120_000 }, async () => {
    const files = Array.from({ length: 300 }, (_, i) => ({ name: `f${i}`, data: randomBytes(4096) }));
    let next = 0;
    const worker = async (fn: (f: (typeof files)[number]) => Promise<void>) => {
      while (next < files.length) await fn(files[next++]!);
    };
    await Promise.all(Array.from({ length: 32 }, () => worker((f) => sftp.writeFile(`${dir}/${f.name}`, f.data))));
    expect((await sftp.list(dir)).length).toBe(300);
    next = 0;
    await Promise.all(Array.from({ length: 32 }, () => worker(async (f) => expect(await sftp.readFile(`${dir}/${f.name}`)).toEqual(f.data))));
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
  it("an aborted upload leaves nothing at the target and no temp file", async () => {
    const src = join(local, "abort.bin");
    await writeFile(src, randomBytes(8 * MiB));
    const ac = new AbortController();
    const err = await sftp.upload(src, `${dir}/abort.bin`, { signal: ac.signal, onProgress: () => ac.abort(new Error("stop")) }).catch((e) => e);
    expect(err.code).toBe("ABORTED");
    expect(await sftp.list(dir)).toEqual([]);
  });

  it("a connection killed mid-upload leaves no file at the target, its handles are closed, and a new upload succeeds", { timeout: 120_000 }, async () => {
    const src = join(local, "kill.bin");
    const data = randomBytes(16 * MiB);
    await writeFile(src, data);
    const victim = await t.connect();
    const err = await victim.upload(src, `${dir}/kill.bin`, { onProgress: (p) => { if (p.transferred > 2 * MiB) void victim.ssh.close(); } }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(await sftp.exists(`${dir}/kill.bin`)).toBe(false);
    await sftp.upload(src, `${dir}/kill.bin`);
    expect(sha256(await sftp.readFile(`${dir}/kill.bin`))).toBe(sha256(data));
  });

  it("pending requests fail with CONNECTION_LOST when the connection drops", async () => {
    const c = await t.connect();
    const pending = c.stat(dir);
    void c.ssh.close();
    const later = await c.stat(dir).catch((e) => e);
    await pending.catch(() => {});
    expect(later).toBeInstanceOf(SftpError);
    expect(later.code).toBe("CONNECTION_LOST");
  });
});
