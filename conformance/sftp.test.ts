/**
 * The SFTP client against OpenSSH's internal-sftp and its sftp-server binary: the SFTP client
 * contract (test/sftp/client-contract.ts) and what depends on OpenSSH: its extensions, error
 * mapping, links, attributes and the extensions' answers for a real home directory.
 */
import { mkdtemp, readFile, rm, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { connect } from "../src/connect.js";
import { SftpError } from "../src/errors.js";
import type { SftpClient } from "../src/sftp/client.js";
import { startSshd, type SshdServer } from "./sshd.js";
import { baseOptions, describeSshd } from "./helpers.js";
import { sftpClientContract } from "../test/sftp/client-contract.js";
import { dirContract } from "../test/sftp/dir-contract.js";
import { atomicWriteContract } from "../test/sftp/atomic-write-contract.js";
import { segmentedContract } from "../test/sftp/segmented-contract.js";

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
    const made = (dir = `${home}/t${++n}-${Date.now()}`);
    await sftp.mkdir(made);
    // sshd runs here: its user's home is on this disk, and every run would leave its files there.
    return () => rm(made, { recursive: true, force: true });
  });

  // sshd runs on this machine: the remote path is the file itself.
  sftpClientContract(
    () => ({ sftp, dir, local, connectAnother: () => connect(baseOptions(s)), serverFile: (p) => readFile(p) }),
    { bigMiB: 256, smallFiles: 1000, smallConcurrency: 16, killMiB: 32, killAfterMiB: 4 },
  );
  segmentedContract(() => ({ sftp, dir, local, connectAnother: () => connect(baseOptions(s)), serverFile: (p) => readFile(p) }));
  dirContract(() => ({ sftp, dir, local, connectAnother: () => connect(baseOptions(s)), serverFile: (p) => readFile(p) }));
  atomicWriteContract(() => ({ sftp, dir, local, connectAnother: () => connect(baseOptions(s)), serverFile: (p) => readFile(p) }));

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

  it("a missing local file is a typed error", async () => {
    const err = await sftp.upload(join(local, "nope"), `${dir}/x`).catch((e) => e);
    expect(err.code).toBe("LOCAL_ENOENT");
    await chmod(local, 0o700);
  });

});
