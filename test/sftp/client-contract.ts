/**
 * What SftpClient must do against any SFTP v3 server, as one set of cases run against each:
 * OpenSSH's internal-sftp and sftp-server (conformance/sftp.test.ts) and the embedded server
 * (test/server/client-roundtrip.test.ts). Each suite adds the cases only its server can show.
 */
import { createHash } from "node:crypto";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, it } from "vitest";
import { SftpError } from "../../src/errors.js";
import type { SftpClient } from "../../src/sftp/client.js";

export const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
export const text = (b: Uint8Array) => new TextDecoder().decode(b);
const MiB = 1024 * 1024;

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
}

/** The suite's state, read when each case runs (its beforeAll/beforeEach set it up). */
export interface ContractContext {
  sftp: SftpClient;
  /** A fresh remote directory for this case. */
  dir: string;
  /** A local scratch directory. */
  local: string;
  /** A second, independent client on the same server. */
  connectAnother(): Promise<SftpClient>;
  /** The bytes of a remote file as the server's file system holds them. */
  serverFile(remotePath: string): Promise<Uint8Array>;
}

export interface ContractSizes {
  /** The big upload/download, in MiB. */
  bigMiB: number;
  /** How many 4 KiB files, with how many in flight. */
  smallFiles: number;
  smallConcurrency: number;
  /** The upload killed mid-way, in MiB, and when (MiB transferred). */
  killMiB: number;
  killAfterMiB: number;
}

export function sftpClientContract(ctx: () => ContractContext, sizes: ContractSizes): void {
  it("mkdir -p and rmdir -r", async () => {
    const { sftp, dir } = ctx();
    await sftp.mkdir(`${dir}/x/y/z`, { recursive: true });
    await sftp.mkdir(`${dir}/x/y/z`, { recursive: true });
    await sftp.writeFile(`${dir}/x/y/z/f`, "1");
    await sftp.writeFile(`${dir}/x/f2`, "2");
    await sftp.rmdir(`${dir}/x`, { recursive: true });
    expect(await sftp.exists(`${dir}/x`)).toBe(false);
  });

  it("renames, with and without overwrite", async () => {
    const { sftp, dir } = ctx();
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

  it("handles names with spaces, unicode and newlines", async () => {
    const { sftp, dir } = ctx();
    const names = ["with space.txt", "ünïcødé-文件.txt", "new\nline", "emoji-🎬.exr"];
    for (const name of names) await sftp.writeFile(`${dir}/${name}`, name);
    expect((await sftp.list(dir)).map((e) => e.name).sort()).toEqual([...names].sort());
    for (const name of names) expect(text(await sftp.readFile(`${dir}/${name}`))).toBe(name);
  });

  it("streams read and write, with ranges, for-await and append", async () => {
    const { sftp, dir } = ctx();
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
    // Append mode continues at the end.
    const aw = sftp.createWriteStream(`${dir}/stream.bin`, { flags: "a" }).getWriter();
    await aw.write(new TextEncoder().encode("tail"));
    await aw.close();
    expect((await sftp.stat(`${dir}/stream.bin`)).size).toBe(data.length + 4);
  });

  it(`uploads and downloads ${sizes.bigMiB} MiB byte-identical, with progress`, { timeout: 600_000 }, async () => {
    const { sftp, dir, local, serverFile } = ctx();
    const data = randomBytes(sizes.bigMiB * MiB);
    const src = join(local, "big.bin");
    await writeFile(src, data);
    const progress: number[] = [];
    let t0 = performance.now();
    await sftp.upload(src, `${dir}/big.bin`, { onProgress: (p) => progress.push(p.transferred) });
    const up = performance.now() - t0;
    expect(progress.at(-1)).toBe(data.length);
    expect(sha256(await serverFile(`${dir}/big.bin`))).toBe(sha256(data));
    expect((await sftp.list(dir)).map((e) => e.name)).toEqual(["big.bin"]); // no temp file left
    const dst = join(local, "big.down");
    t0 = performance.now();
    await sftp.download(`${dir}/big.bin`, dst);
    const down = performance.now() - t0;
    expect(sha256(await readFile(dst))).toBe(sha256(data));
    expect((await readdir(local)).filter((f) => f.endsWith(".part"))).toEqual([]);
    // The download's pipeline pooled up to 64 reply buffers; idle again, the session keeps 8 (2 MiB).
    expect(sftp.session.pooledReplyBytes).toBeLessThanOrEqual(8 * (256 * 1024 + 1024));
    const mb = (ms: number) => (sizes.bigMiB / (ms / 1000)).toFixed(1);
    console.log(`${sizes.bigMiB} MiB (${sftp.ssh.algorithms.cipherClientToServer}, ${sftp.ssh.serverVersion}): upload ${mb(up)} MB/s, download ${mb(down)} MB/s`);
  });

  it(`${sizes.smallFiles} files of 4 KiB up and down, ${sizes.smallConcurrency} in flight`, { timeout: 300_000 }, async () => {
    const { sftp, dir } = ctx();
    const files = Array.from({ length: sizes.smallFiles }, (_, i) => ({ name: `f${i}`, data: randomBytes(4096) }));
    let next = 0;
    const worker = async (fn: (f: (typeof files)[number]) => Promise<void>) => {
      while (next < files.length) await fn(files[next++]!);
    };
    const workers = (fn: (f: (typeof files)[number]) => Promise<void>) =>
      Promise.all(Array.from({ length: sizes.smallConcurrency }, () => worker(fn)));
    await workers((f) => sftp.writeFile(`${dir}/${f.name}`, f.data));
    expect((await sftp.list(dir)).length).toBe(sizes.smallFiles);
    next = 0;
    await workers(async (f) => expect(await sftp.readFile(`${dir}/${f.name}`)).toEqual(f.data));
  });

  it("an aborted upload leaves nothing at the target and no temp file", async () => {
    const { sftp, dir, local } = ctx();
    const src = join(local, "abort.bin");
    await writeFile(src, randomBytes(8 * MiB));
    const ac = new AbortController();
    const err = await sftp.upload(src, `${dir}/abort.bin`, { signal: ac.signal, onProgress: () => ac.abort(new Error("stop")) }).catch((e) => e);
    expect(err.code).toBe("ABORTED");
    expect(await sftp.list(dir)).toEqual([]);
  });

  it("a connection killed mid-upload leaves no file at the target, and a new upload succeeds", { timeout: 120_000 }, async () => {
    const { sftp, dir, local, connectAnother } = ctx();
    const src = join(local, "kill.bin");
    const data = randomBytes(sizes.killMiB * MiB);
    await writeFile(src, data);
    const victim = await connectAnother();
    const err = await victim.upload(src, `${dir}/kill.bin`, {
      onProgress: (p) => {
        if (p.transferred > sizes.killAfterMiB * MiB) void victim.ssh.close();
      },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(await sftp.exists(`${dir}/kill.bin`)).toBe(false);
    await sftp.upload(src, `${dir}/kill.bin`);
    expect(sha256(await sftp.readFile(`${dir}/kill.bin`))).toBe(sha256(data));
  });

  it("pending requests fail with CONNECTION_LOST when the connection drops", async () => {
    const { dir, connectAnother } = ctx();
    const c = await connectAnother();
    const pending = c.stat(dir);
    void c.ssh.close();
    const later = await c.stat(dir).catch((e) => e);
    await pending.catch(() => {});
    expect(later).toBeInstanceOf(SftpError);
    expect(later.code).toBe("CONNECTION_LOST");
  });
}
