/**
 * The CLI's get and put (--resume) cut, stalled or corrupted by the fault proxy on the way to
 * OpenSSH's sshd: the CLI process ends by itself with one error report (its exit code and a
 * JSON error with a code), never an unhandled rejection or a stack trace; nothing partial under
 * the target name; and `--resume` afterwards completes byte-identical. Node only: the CLI is a
 * Node program (its bin runs on node).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeSshd } from "../../conformance/helpers.js";
import { startSshd, type SshdServer } from "../../conformance/sshd.js";
import { startFaultProxy } from "../support/fault-proxy.js";
import { CHILD_BOUND_MS, connectDirect, isAllowedTemp, runChild, runtimeCommand } from "./cases.js";
import { faultCases, seededBytes } from "./generate.js";
import { ROOT } from "./suite.js";

const SEED = Number(process.env.FAULT_SEED ?? 20261206);
const RUNS = Number(process.env.FAULT_RUNS ?? 1);
const MAIN = join(ROOT, "src/cli/main.ts");

describeSshd("faults never crash or hang the CLI: get and put against OpenSSH", () => {
  let s: SshdServer;
  let local: string;
  let remoteDir: string;
  beforeAll(async () => {
    s = await startSshd();
    local = await mkdtemp(join(tmpdir(), "faults-cli-"));
    const sftp = await connectDirect({ port: s.port, username: s.username, password: s.password, fingerprints: s.hostKeys.map((k) => k.fingerprint), remoteDir: "", hostDir: "", localDir: local });
    remoteDir = `${await sftp.realpath(".")}/faults-cli-${Date.now()}`;
    await sftp.mkdir(remoteDir);
    await sftp.close();
  });
  afterAll(async () => {
    if (remoteDir) await rm(remoteDir, { recursive: true, force: true });
    await rm(local, { recursive: true, force: true });
    await s?.stop();
  });

  /** The CLI on `port`, trusting the server's keys there, with 1 s keepalives (its minimum). */
  const cli = async (port: number, args: string[]) => {
    const knownHosts = join(local, `known_hosts_${port}`);
    await writeFile(knownHosts, s.hostKeys.map((k) => `[127.0.0.1]:${port} ${k.publicKeyLine}\n`).join(""));
    const conn = ["-p", String(port), "-i", s.clientKeyPaths.ed25519, "-o", `UserKnownHostsFile=${knownHosts}`, "-o", "ServerAliveInterval=1"];
    return runChild(runtimeCommand("node", ROOT), [MAIN, "--json", "-q", args[0]!, ...conn, ...args.slice(1)], CHILD_BOUND_MS);
  };

  for (const c of faultCases(SEED, SEED + 7, 2 * RUNS, ["download", "upload"])) {
    const command = c.op === "download" ? "get" : "put";
    it(`#${c.index} ${command} --resume: ${c.kind} ${c.direction} at byte ${c.at}`, { timeout: 2 * CHILD_BOUND_MS + 30_000 }, async () => {
      const name = `cli-${c.index}-${command}.bin`;
      const data = seededBytes(c.seed * 1000 + c.index, 2 * 1024 * 1024);
      const remote = `${remoteDir}/${name}`;
      const localFile = join(local, name);
      if (command === "get") await writeFile(remote, data);
      else await writeFile(localFile, data);
      const args = command === "get" ? [command, "--resume", `${s.username}@127.0.0.1:${remote}`, localFile] : [command, "--resume", localFile, `${s.username}@127.0.0.1:${remote}`];
      const proxy = await startFaultProxy({ targetPort: s.port, [c.direction]: { kind: c.kind, at: c.at, trickleMs: 100 } });
      const out = await cli(proxy.port, args).finally(() => proxy.close());
      const context = `replay: FAULT_SEED=${c.baseSeed} (${command}, ${c.kind} ${c.direction} at ${c.at})\nstdout: ${out.stdout}\nstderr: ${out.stderr}`;
      expect(out.hung, `the CLI did not exit within ${CHILD_BOUND_MS} ms\n${context}`).toBe(false);
      expect(out.stderr, context).not.toMatch(/unhandled|uncaught|\n\s+at /i);
      if (out.code !== 0) {
        const report = JSON.parse(out.stderr) as { error: { code: string; exitCode: number } };
        expect(report.error.code, context).toMatch(/^[A-Z_]+$/);
        expect(report.error.exitCode, context).toBe(out.code);
      }
      // Nothing partial under the target name; only the documented resume partial beside it.
      const target = command === "get" ? localFile : remote;
      if (existsSync(target)) expect(Buffer.from(await readFile(target)).equals(data), context).toBe(true);
      const { readdir } = await import("node:fs/promises");
      for (const f of await readdir(dirname(target))) {
        if (f.includes(basename(target)) && f !== basename(target)) expect(isAllowedTemp(f, command === "get" ? "local" : "remote"), `left ${f}\n${context}`).toBe(true);
      }
      // --resume straight to the server completes, byte-identical.
      const retry = await cli(s.port, args);
      expect(retry.code, `retry: ${retry.stderr}\n${context}`).toBe(0);
      expect(Buffer.from(await readFile(target)).equals(data), context).toBe(true);
    });
  }
});
