/** Directory transfers and resumed transfers against OpenSSH. */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile, truncate, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { connect } from "../src/connect.js";
import type { SftpClient } from "../src/sftp/client.js";
import { startSshd, type SshdServer } from "./sshd.js";
import { baseOptions, describeSshd } from "./helpers.js";
import { refusedSessionsCase } from "../test/sftp/dir-contract.js";

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const random = (n: number) => {
  const b = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(b.subarray(o, Math.min(n, o + 65536)));
  return b;
};

describeSshd("SFTP directory and resumed transfers", () => {
  let s: SshdServer;
  let sftp: SftpClient;
  let local: string;
  let remote: string;
  let n = 0;
  beforeAll(async () => {
    s = await startSshd();
    sftp = await connect(baseOptions(s));
  });
  afterAll(async () => {
    await sftp?.close();
    await s?.stop();
  });
  beforeEach(async () => {
    local = await mkdtemp(join(tmpdir(), "xfer-"));
    const made = (remote = `${await sftp.realpath(".")}/xfer-${++n}-${Date.now()}`);
    await sftp.mkdir(made);
    // sshd runs here: the remote folder is on this disk too.
    const here = local;
    return async () => {
      await rm(here, { recursive: true, force: true });
      await rm(made, { recursive: true, force: true });
    };
  });

  it("a tree is carried by the sessions sshd allows (MaxSessions 2), byte-identical", { timeout: 60_000 }, async () => {
    const limited = await startSshd({ extraConfig: ["MaxSessions 2"] });
    try {
      await refusedSessionsCase(() => connect(baseOptions(limited)), remote, local);
    } finally {
      await limited.stop();
    }
  });

  it("uploads and downloads a tree with progress, skipping symlinks", async () => {
    const tree: Record<string, Uint8Array> = {
      "a.txt": random(100),
      "seq/shot.1001.exr": random(70_000),
      "seq/shot.1002.exr": random(70_000),
      "seq/deep/er/file.bin": random(1 * MiB + 3),
      "empty.dat": new Uint8Array(0),
    };
    for (const [p, d] of Object.entries(tree)) {
      await mkdir(join(local, "src", p, ".."), { recursive: true });
      await writeFile(join(local, "src", p), d);
    }
    await mkdir(join(local, "src", "emptydir"));
    await symlink("a.txt", join(local, "src", "link"));
    let last = 0;
    const up = await sftp.uploadDir(join(local, "src"), `${remote}/up`, { concurrency: 3, onProgress: (p) => (last = p.transferred) });
    const total = Object.values(tree).reduce((a, b) => a + b.length, 0);
    expect(up).toMatchObject({ files: 5, bytes: total });
    expect(up.skipped).toEqual([join(local, "src", "link")]);
    expect(last).toBe(total);
    expect((await sftp.stat(`${remote}/up/emptydir`)).isDirectory()).toBe(true);
    const down = await sftp.downloadDir(`${remote}/up`, join(local, "dst"), { concurrency: 2 });
    expect(down.files).toBe(5);
    for (const [p, d] of Object.entries(tree)) expect(sha256(await readFile(join(local, "dst", p)))).toBe(sha256(d));
    expect(await readdir(join(local, "dst", "emptydir"))).toEqual([]);
  });

  it("resumes an interrupted upload after checking the overlap", async () => {
    // Reads run up to READ_AHEAD MiB ahead of the progress reported, and what was queued is
    // still sent after the abort: the file is large enough for the kept part to stop short.
    const data = random(16 * MiB);
    const src = join(local, "big.bin");
    await writeFile(src, data);
    const ac = new AbortController();
    const err = await sftp.upload(src, `${remote}/big.bin`, { resume: true, signal: ac.signal, onProgress: (p) => p.transferred >= 2 * MiB && ac.abort() }).catch((e) => e);
    expect(err.code).toBe("ABORTED");
    const partial = (await sftp.list(remote)).find((e) => e.name.endsWith(".part"))!;
    expect(partial.attrs.size).toBeGreaterThan(0);
    expect(partial.attrs.size).toBeLessThan(data.length);
    let first = -1;
    await sftp.upload(src, `${remote}/big.bin`, { resume: true, onProgress: (p) => first < 0 && (first = p.transferred) });
    // The first progress report already counts the kept part: the upload continued, not restarted.
    expect(first).toBeGreaterThan(partial.attrs.size!);
    expect(sha256(await sftp.readFile(`${remote}/big.bin`))).toBe(sha256(data));
    expect((await sftp.list(remote)).map((e) => e.name)).toEqual(["big.bin"]);
  });

  it("restarts an upload whose partial copy does not match", async () => {
    const data = random(2 * MiB);
    const src = join(local, "f.bin");
    await writeFile(src, data);
    await sftp.writeFile(`${remote}/.f.bin.resume.part`, random(1 * MiB));
    await sftp.upload(src, `${remote}/f.bin`, { resume: true });
    expect(sha256(await sftp.readFile(`${remote}/f.bin`))).toBe(sha256(data));
  });

  it("resumes an interrupted download, and restarts on a mismatch", async () => {
    const data = random(5 * MiB);
    await sftp.writeFile(`${remote}/d.bin`, data);
    const dst = join(local, "d.bin");
    const ac = new AbortController();
    const err = await sftp.download(`${remote}/d.bin`, dst, { resume: true, signal: ac.signal, onProgress: (p) => p.transferred >= 2 * MiB && ac.abort() }).catch((e) => e);
    expect(err.code).toBe("ABORTED");
    const partialPath = `${dst}.resume.part`;
    let first = -1;
    await sftp.download(`${remote}/d.bin`, dst, { resume: true, onProgress: (p) => first < 0 && (first = p.transferred) });
    expect(first).toBeGreaterThan(2 * MiB);
    expect(sha256(await readFile(dst))).toBe(sha256(data));
    // A corrupted partial file is detected and the download starts over.
    await writeFile(partialPath, random(3 * MiB));
    await sftp.download(`${remote}/d.bin`, dst, { resume: true });
    expect(sha256(await readFile(dst))).toBe(sha256(data));
    // A partial longer than the source is not trusted either.
    await writeFile(partialPath, random(6 * MiB));
    await sftp.download(`${remote}/d.bin`, dst, { resume: true });
    expect(sha256(await readFile(dst))).toBe(sha256(data));
    await truncate(dst, 0);
  });
});
