/**
 * The SFTP client against OpenSSH's internal-sftp and its sftp-server binary: every SftpClient method, error mapping,
 * transfers byte-identical, names with spaces / unicode / newlines.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, writeFile, rm, readdir, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { connect } from "../src/connect.js";
import { SftpError } from "../src/errors.js";
import type { SftpClient } from "../src/sftp/client.js";
import { startSshd, type SshdServer } from "./sshd.js";
import { baseOptions, describeSshd } from "./helpers.js";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const MiB = 1024 * 1024;

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
}

for (const subsystem of ["internal-sftp", "/usr/lib/openssh/sftp-server"]) describeSshd(`SFTP client against OpenSSH ${subsystem}`, () => {
  let s: SshdServer;
  let sftp: SftpClient;
  let home: string;
  let dir: string; // a fresh remote directory per test
  let n = 0;
  let local: string;

  beforeAll(async () => {
    s = await startSshd({ extraConfig: [`Subsystem sftp ${subsystem}`] });
    sftp = await connect(baseOptions(s));
    home = await sftp.realpath(".");
    local = await mkdtemp(join(tmpdir(), "sftp-local-"));
  });
  afterAll(async () => {
    await sftp?.close();
    await s?.stop();
    await rm(local, { recursive: true, force: true });
  });
  beforeEach(async () => {
    dir = `${home}/t${++n}-${Date.now()}`;
    await sftp.mkdir(dir);
  });

  it("reports the session and announced extensions", () => {
    expect(sftp.ssh.serverVersion).toMatch(/OpenSSH/);
    expect([...sftp.extensions.keys()]).toEqual(expect.arrayContaining(["posix-rename@openssh.com", "limits@openssh.com", "statvfs@openssh.com"]));
    expect(sftp.session.readSize).toBeGreaterThan(32 * 1024);
  });

  it("writes, reads, stats, lists and removes files", async () => {
    await sftp.writeFile(`${dir}/a.txt`, "hello", { mode: 0o640 });
    expect(new TextDecoder().decode(await sftp.readFile(`${dir}/a.txt`))).toBe("hello");
    const st = await sftp.stat(`${dir}/a.txt`);
    expect(st.isFile()).toBe(true);
    expect(st.size).toBe(5);
    expect(st.mode! & 0o777).toBe(0o640);
    expect(await sftp.exists(`${dir}/a.txt`)).toBe(true);
    expect(await sftp.exists(`${dir}/nope`)).toBe(false);
    await sftp.mkdir(`${dir}/sub`);
    const names = (await sftp.list(dir)).map((e) => e.name).sort();
    expect(names).toEqual(["a.txt", "sub"]);
    expect((await sftp.list(dir)).find((e) => e.name === "sub")!.attrs.isDirectory()).toBe(true);
    await sftp.remove(`${dir}/a.txt`);
    expect(await sftp.exists(`${dir}/a.txt`)).toBe(false);
  });

  it("maps server errors to SftpError codes with the path", async () => {
    const missing = await sftp.stat(`${dir}/missing`).catch((e) => e);
    expect(missing).toBeInstanceOf(SftpError);
    expect(missing.code).toBe("NO_SUCH_FILE");
    expect(missing.path).toBe(`${dir}/missing`);
    await sftp.writeFile(`${dir}/locked`, "x");
    await sftp.chmod(`${dir}/locked`, 0o000);
    const denied = await sftp.readFile(`${dir}/locked`).catch((e) => e);
    expect(denied.code).toBe("PERMISSION_DENIED");
    const notEmpty = await sftp.rmdir(dir).catch((e) => e);
    expect(notEmpty).toBeInstanceOf(SftpError);
    expect(notEmpty.code).toBe("FAILURE");
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
    await sftp.rename(`${dir}/a`, `${dir}/b`, { overwrite: true });
    expect(new TextDecoder().decode(await sftp.readFile(`${dir}/b`))).toBe("A");
    await sftp.rename(`${dir}/b`, `${dir}/c`);
    expect(await sftp.exists(`${dir}/c`)).toBe(true);
  });

  it("symlinks, readlink, lstat, realpath, hardlink", async () => {
    await sftp.writeFile(`${dir}/target`, "t");
    await sftp.symlink("target", `${dir}/link`);
    expect(await sftp.readlink(`${dir}/link`)).toBe("target");
    expect((await sftp.lstat(`${dir}/link`)).isSymbolicLink()).toBe(true);
    expect((await sftp.stat(`${dir}/link`)).isFile()).toBe(true);
    expect(await sftp.realpath(`${dir}/./sub/..`).catch(() => "")).not.toContain("..");
    await sftp.hardlink(`${dir}/target`, `${dir}/hard`);
    expect(new TextDecoder().decode(await sftp.readFile(`${dir}/hard`))).toBe("t");
  });

  it("chmod, utimes, statvfs, homeDirectory, expandPath, copy, fsync", async () => {
    await sftp.writeFile(`${dir}/f`, "data");
    await sftp.chmod(`${dir}/f`, 0o600);
    expect((await sftp.stat(`${dir}/f`)).mode! & 0o777).toBe(0o600);
    await sftp.utimes(`${dir}/f`, 1_000_000, 2_000_000);
    const st = await sftp.stat(`${dir}/f`);
    expect([st.atime, st.mtime]).toEqual([1_000_000, 2_000_000]);
    const vfs = await sftp.statvfs(dir);
    expect(vfs.bsize).toBeGreaterThan(0n);
    expect(await sftp.homeDirectory()).toBe(home);
    expect(await sftp.expandPath("~/x")).toBe(`${home}/x`);
    await sftp.copy(`${dir}/f`, `${dir}/g`);
    expect(new TextDecoder().decode(await sftp.readFile(`${dir}/g`))).toBe("data");
    await sftp.fsync(`${dir}/g`);
  });

  it("handles names with spaces, unicode and newlines", async () => {
    const names = ["with space.txt", "ünïcødé-文件.txt", "new\nline", "emoji-🎬.exr"];
    for (const name of names) await sftp.writeFile(`${dir}/${name}`, name);
    const listed = (await sftp.list(dir)).map((e) => e.name).sort();
    expect(listed).toEqual([...names].sort());
    for (const name of names) expect(new TextDecoder().decode(await sftp.readFile(`${dir}/${name}`))).toBe(name);
  });

  it("streams read and write, with ranges and for-await", async () => {
    const data = randomBytes(3 * MiB + 123);
    const ws = sftp.createWriteStream(`${dir}/stream.bin`);
    const w = ws.getWriter();
    for (let o = 0; o < data.length; o += 100_000) await w.write(data.subarray(o, o + 100_000));
    await w.close();
    const parts: Uint8Array[] = [];
    for await (const chunk of sftp.createReadStream(`${dir}/stream.bin`) as unknown as AsyncIterable<Uint8Array>) parts.push(chunk);
    expect(sha256(Buffer.concat(parts))).toBe(sha256(data));
    const ranged: Uint8Array[] = [];
    for await (const chunk of sftp.createReadStream(`${dir}/stream.bin`, { start: 10, end: 1_000_009 }) as unknown as AsyncIterable<Uint8Array>) ranged.push(chunk);
    expect(Buffer.concat(ranged)).toEqual(Buffer.from(data.subarray(10, 1_000_010)));
    // Append mode continues at the end.
    const aw = sftp.createWriteStream(`${dir}/stream.bin`, { flags: "a" }).getWriter();
    await aw.write(new TextEncoder().encode("tail"));
    await aw.close();
    expect((await sftp.stat(`${dir}/stream.bin`)).size).toBe(data.length + 4);
  });

  it("uploads and downloads 256 MiB byte-identical, with progress", { timeout: 600_000 }, async () => {
    const data = randomBytes(256 * MiB);
    const src = join(local, "big.bin");
    await writeFile(src, data);
    const progress: number[] = [];
    let t0 = performance.now();
    await sftp.upload(src, `${dir}/big.bin`, { onProgress: (p) => progress.push(p.transferred) });
    const up = performance.now() - t0;
    expect(progress.at(-1)).toBe(data.length);
    expect((await sftp.list(dir)).map((e) => e.name)).toEqual(["big.bin"]); // no temp file left
    const dst = join(local, "big.down");
    t0 = performance.now();
    await sftp.download(`${dir}/big.bin`, dst);
    const down = performance.now() - t0;
    expect(sha256(await readFile(dst))).toBe(sha256(data));
    expect((await readdir(local)).filter((f) => f.endsWith(".part"))).toEqual([]);
    console.log(`256 MiB (${sftp.ssh.algorithms.cipherClientToServer}): upload ${(256 / (up / 1000)).toFixed(1)} MB/s, download ${(256 / (down / 1000)).toFixed(1)} MB/s`);
  });

  it("1000 files of 4 KiB up and down", { timeout: 300_000 }, async () => {
    const files = Array.from({ length: 1000 }, (_, i) => ({ name: `f${i}`, data: randomBytes(4096) }));
    let next = 0;
    const worker = async (fn: (f: (typeof files)[number]) => Promise<void>) => {
      while (next < files.length) await fn(files[next++]!);
    };
    await Promise.all(Array.from({ length: 16 }, () => worker((f) => sftp.writeFile(`${dir}/${f.name}`, f.data))));
    expect((await sftp.list(dir)).length).toBe(1000);
    next = 0;
    await Promise.all(Array.from({ length: 16 }, () => worker(async (f) => expect(await sftp.readFile(`${dir}/${f.name}`)).toEqual(f.data))));
  });

  it("an aborted upload leaves nothing at the target and no temp file", async () => {
    const src = join(local, "abort.bin");
    await writeFile(src, randomBytes(8 * MiB));
    const ac = new AbortController();
    const err = await sftp.upload(src, `${dir}/abort.bin`, { signal: ac.signal, onProgress: () => ac.abort(new Error("stop")) }).catch((e) => e);
    expect(err.code).toBe("ABORTED");
    expect(await sftp.list(dir)).toEqual([]);
  });

  it("a missing local file is a typed error", async () => {
    const err = await sftp.upload(join(local, "nope"), `${dir}/x`).catch((e) => e);
    expect(err.code).toBe("LOCAL_ENOENT");
    await chmod(local, 0o700);
  });

  it("a connection killed mid-upload leaves no file at the target, and a new upload succeeds", { timeout: 120_000 }, async () => {
    const src = join(local, "kill.bin");
    const data = randomBytes(32 * MiB);
    await writeFile(src, data);
    const victim = await connect(baseOptions(s));
    const err = await victim.upload(src, `${dir}/kill.bin`, { onProgress: (p) => { if (p.transferred > 4 * MiB) void victim.ssh.close(); } }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(await sftp.exists(`${dir}/kill.bin`)).toBe(false);
    await sftp.upload(src, `${dir}/kill.bin`);
    expect(sha256(await sftp.readFile(`${dir}/kill.bin`))).toBe(sha256(data));
  });

  it("pending requests fail with CONNECTION_LOST when the connection drops", async () => {
    const c = await connect(baseOptions(s));
    const pending = c.stat(dir);
    void c.ssh.close();
    const later = await c.stat(dir).catch((e) => e);
    await pending.catch(() => {});
    expect(later).toBeInstanceOf(SftpError);
    expect(later.code).toBe("CONNECTION_LOST");
  });
});
