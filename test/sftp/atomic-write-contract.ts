/**
 * writeFile and createWriteStream replace a file atomically (src/sftp/atomic-write.ts), against
 * any SFTP v3 server: OpenSSH's internal-sftp and sftp-server (conformance/sftp.test.ts) and the
 * embedded server (test/server/client-roundtrip.test.ts). Until the write is complete and
 * committed the target keeps its old content, an abandoned write leaves neither a partial file
 * under the target's name nor a temporary file beside it, a replaced file keeps its permissions
 * unless the caller gives others, and a symbolic link is written through, not replaced.
 */
import { expect, it } from "vitest";
import { SftpError, SshError } from "../../src/errors.js";
import { randomBytes, sha256, text, type ContractContext } from "./client-contract.js";

export function atomicWriteContract(ctx: () => ContractContext): void {
  const permissions = async (path: string) => ((await ctx().sftp.stat(path)).mode ?? 0) & 0o7777;
  const names = async () => (await ctx().sftp.list(ctx().dir)).map((e) => e.name).sort();

  it("writeFile replaces a file, keeping its permissions unless given others, and leaves no temporary file", async () => {
    const { sftp, dir } = ctx();
    await sftp.writeFile(`${dir}/f`, "old");
    await sftp.chmod(`${dir}/f`, 0o640);
    await sftp.writeFile(`${dir}/f`, "new");
    expect(text(await sftp.readFile(`${dir}/f`))).toBe("new");
    expect(await permissions(`${dir}/f`)).toBe(0o640);
    await sftp.writeFile(`${dir}/f`, "newer", { mode: 0o600 });
    expect(text(await sftp.readFile(`${dir}/f`))).toBe("newer");
    expect(await permissions(`${dir}/f`)).toBe(0o600);
    await sftp.writeFile(`${dir}/g`, "in place", { atomic: false });
    expect(text(await sftp.readFile(`${dir}/g`))).toBe("in place");
    expect(await names()).toEqual(["f", "g"]);
  });

  it("writeFile and createWriteStream write through a symbolic link, atomically beside the file it points to", async () => {
    const { sftp, dir } = ctx();
    await sftp.mkdir(`${dir}/real`);
    await sftp.writeFile(`${dir}/real/f`, "old");
    await sftp.chmod(`${dir}/real/f`, 0o640);
    await sftp.symlink("real/f", `${dir}/link`);
    await sftp.writeFile(`${dir}/link`, "via link");
    expect((await sftp.lstat(`${dir}/link`)).isSymbolicLink()).toBe(true);
    expect(text(await sftp.readFile(`${dir}/real/f`))).toBe("via link");
    expect(await permissions(`${dir}/real/f`)).toBe(0o640);
    const w = sftp.createWriteStream(`${dir}/link`).getWriter();
    await w.write(new TextEncoder().encode("streamed via link"));
    await w.close();
    expect((await sftp.lstat(`${dir}/link`)).isSymbolicLink()).toBe(true);
    expect(text(await sftp.readFile(`${dir}/real/f`))).toBe("streamed via link");
    expect(await names()).toEqual(["link", "real"]);
    expect((await sftp.list(`${dir}/real`)).map((e) => e.name)).toEqual(["f"]);
  });

  it("writeFile into a missing directory fails with NO_SUCH_FILE and creates nothing", async () => {
    const { sftp, dir } = ctx();
    const err = await sftp.writeFile(`${dir}/missing/f`, "x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SftpError);
    expect((err as SftpError).code).toBe("NO_SUCH_FILE");
    expect(await names()).toEqual([]);
  });

  it("createWriteStream shows nothing under the target until close(); abort() leaves the old file and no temporary one", async () => {
    const { sftp, dir, serverFile } = ctx();
    const target = `${dir}/s.bin`;
    await sftp.writeFile(target, "old");
    const data = randomBytes(300_000);

    const aborted = sftp.createWriteStream(target).getWriter();
    await aborted.write(data.subarray(0, 200_000));
    expect(text(await serverFile(target))).toBe("old");
    await aborted.abort(new Error("changed my mind"));
    expect(text(await serverFile(target))).toBe("old");
    expect(await names()).toEqual(["s.bin"]);

    const w = sftp.createWriteStream(target).getWriter();
    await w.write(data.subarray(0, 200_000));
    await w.write(data.subarray(200_000));
    expect(text(await serverFile(target))).toBe("old");
    expect((await names()).length).toBe(2); // the target and the temporary file beside it
    await w.close();
    expect(sha256(await serverFile(target))).toBe(sha256(data));
    expect(await names()).toEqual(["s.bin"]);
  });

  it("createWriteStream with atomic: false writes in place; in-place flags cannot be atomic", async () => {
    const { sftp, dir, serverFile } = ctx();
    const w = sftp.createWriteStream(`${dir}/p.bin`, { atomic: false }).getWriter();
    await w.write(new TextEncoder().encode("abc"));
    // Written in place: the name exists (empty or not) before close().
    expect(await names()).toEqual(["p.bin"]);
    await w.close();
    expect(text(await serverFile(`${dir}/p.bin`))).toBe("abc");
    for (const flags of ["a", "r+", "wx"] as const) {
      let err: unknown;
      try {
        sftp.createWriteStream(`${dir}/p.bin`, { flags, atomic: true });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SshError);
      expect((err as SshError).code).toBe("INVALID_ARGUMENT");
    }
  });
}
