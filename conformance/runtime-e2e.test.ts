/**
 * The end-to-end subset every runtime runs (npm test runs it on Node, Bun and Deno): password
 * and key logins with strict host keys, listing, 64 MiB each way byte-identical, Web Streams,
 * and typed errors, against a real OpenSSH sshd.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connect } from "../src/connect.js";
import { HostKeyError, SftpError } from "../src/errors.js";
import { startSshd, type SshdServer } from "./sshd.js";
import { baseOptions, describeSshd } from "./helpers.js";

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

describeSshd(`end to end on ${runtime}`, () => {
  let s: SshdServer;
  let local: string;
  beforeAll(async () => {
    s = await startSshd();
    local = await mkdtemp(join(tmpdir(), `e2e-${runtime}-`));
  });
  afterAll(async () => {
    await s?.stop();
    await rm(local, { recursive: true, force: true });
  });

  it("password and key logins, list, 64 MiB up and down, streams", { timeout: 300_000 }, async () => {
    const byKey = await connect(baseOptions(s, { password: undefined, privateKey: s.clientKeys.ed25519 }));
    await byKey.close();
    const sftp = await connect(baseOptions(s));
    const dir = `${await sftp.realpath(".")}/e2e-${runtime}-${Date.now()}`;
    await sftp.mkdir(dir);
    const data = new Uint8Array(64 * MiB);
    for (let o = 0; o < data.length; o += 65536) crypto.getRandomValues(data.subarray(o, o + 65536));
    await writeFile(join(local, "up.bin"), data);
    await sftp.upload(join(local, "up.bin"), `${dir}/big.bin`);
    expect((await sftp.list(dir)).map((e) => [e.name, e.attrs.size])).toEqual([["big.bin", data.length]]);
    await sftp.download(`${dir}/big.bin`, join(local, "down.bin"));
    expect(sha256(await readFile(join(local, "down.bin")))).toBe(sha256(data));
    const parts: Uint8Array[] = [];
    for await (const c of sftp.createReadStream(`${dir}/big.bin`, { start: 0, end: MiB - 1 }) as unknown as AsyncIterable<Uint8Array>) parts.push(c);
    expect(sha256(new Uint8Array(Buffer.concat(parts)))).toBe(sha256(data.subarray(0, MiB)));
    const w = sftp.createWriteStream(`${dir}/w.txt`).getWriter();
    await w.write(new TextEncoder().encode("streamed"));
    await w.close();
    expect(new TextDecoder().decode(await sftp.readFile(`${dir}/w.txt`))).toBe("streamed");
    const missing = await sftp.stat(`${dir}/nope`).catch((e) => e);
    expect(missing).toBeInstanceOf(SftpError);
    expect(missing.code).toBe("NO_SUCH_FILE");
    await sftp.rmdir(dir, { recursive: true });
    await sftp.close();
  });

  it("refuses an unknown host key", async () => {
    await writeFile(join(local, "empty_known_hosts"), "");
    const err = await connect(baseOptions(s, { hostKeys: { knownHostsFile: join(local, "empty_known_hosts") } })).catch((e) => e);
    expect(err).toBeInstanceOf(HostKeyError);
    expect(err.code).toBe("HOST_KEY_UNKNOWN");
  });
});
