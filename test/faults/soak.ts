/**
 * Soak run, outside `npm test`: transfers in a loop against the embedded server on loopback,
 * most of them cut, stalled or corrupted by the fault proxy, each followed by a clean retry
 * that must give byte-identical results. Reports operations run, faults injected, crashes
 * (unhandled rejections or untyped errors: must be 0), failed retries, and leaks: handles still
 * active (process.getActiveResourcesInfo) and RSS, compared with the start.
 *
 *   npm run soak -- --minutes 10 [--seed 1]
 *   bun test/faults/soak.ts …   deno run -A --unstable-sloppy-imports test/faults/soak.ts …
 *
 * Exits 1 when anything must-be-zero is not. This process is the host: a crash here is a crash.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { connect } from "../../src/connect.js";
import { SshError } from "../../src/errors.js";
import { createSftpServer } from "../../src/sftp/server/index.js";
import { generateEd25519Key } from "../../src/ssh/keys/private-key.js";
import { startFaultProxy } from "../support/fault-proxy.js";
import { faultCases, seededBytes } from "./generate.js";
import { runOperation, type Operation } from "./operations.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const minutes = arg("minutes", 1);
const seed = arg("seed", Date.now() % 1_000_000);
const OPS: Operation[] = ["upload", "download", "readFile", "writeFile", "readStream", "writeStream", "handle", "list"];

let unhandled = 0;
process.on("unhandledRejection", (e) => {
  unhandled++;
  console.error("UNHANDLED REJECTION:", e);
});

/** Handles by type, without the ones a quiet process always has (stdio, the soak's own timers). */
function resources(): Record<string, number> {
  const info = (process as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo?.() ?? [];
  const counts: Record<string, number> = {};
  for (const r of info) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}
const rssMiB = () => Math.round(process.memoryUsage().rss / 1048576);

const base = await mkdtemp(join(tmpdir(), "soak-"));
const root = join(base, "root");
await import("node:fs/promises").then((fs) => fs.mkdir(root));
const server = await createSftpServer({
  hostKeys: [generateEd25519Key("soak")],
  root,
  authenticate: (r) => r.method === "password" && r.username === "soak" && r.password === "soak",
});
const options = (port: number) => ({
  host: "127.0.0.1", port, username: "soak", password: "soak", sshConfig: false, agent: false,
  hostKeys: { fingerprints: server.hostKeyFingerprints, knownHostsFile: join(base, "none") },
  readyTimeoutMs: 4000, keepaliveIntervalMs: 250, rekeyAfterBytes: 1024 * 1024,
});
const proxy = await startFaultProxy({ targetPort: server.port });

const before = { resources: resources(), rss: rssMiB() };
const deadline = Date.now() + minutes * 60_000;
const stats = { operations: 0, faultsInjected: 0, typedErrors: 0, untypedErrors: 0, retryFailures: 0, maxTimeToErrorMs: 0 };
const source = seededBytes(seed, 3 * 1024 * 1024);
await writeFile(join(base, "src.bin"), source);

for (let round = 0; Date.now() < deadline; round++) {
  for (const c of faultCases(seed, seed + round, OPS.length, OPS)) {
    if (Date.now() >= deadline) break;
    const name = `r${round}-${c.index}`;
    const reading = c.op === "download" || c.op === "readFile" || c.op === "readStream" || c.op === "handle";
    if (reading) await writeFile(join(root, name), source);
    const local = reading ? join(base, `${name}.out`) : join(base, "src.bin");
    const remote = c.op === "list" ? "/" : `/${name}`;
    proxy.setFaults({ [c.direction]: { kind: c.kind, at: c.at, trickleMs: 100 } });
    const fired = proxy.faultsFired;
    const t0 = Date.now();
    stats.operations++;
    try {
      const sftp = await connect(options(proxy.port));
      try {
        await runOperation(sftp, c.op, local, remote);
      } finally {
        await sftp.close().catch(() => {});
      }
    } catch (e) {
      if (e instanceof SshError) stats.typedErrors++;
      else {
        stats.untypedErrors++;
        console.error(`untyped error (${c.op}, ${c.kind} ${c.direction} at ${c.at}):`, e);
      }
      stats.maxTimeToErrorMs = Math.max(stats.maxTimeToErrorMs, Date.now() - t0);
    }
    stats.faultsInjected += proxy.faultsFired - fired;
    // The retry, straight to the server: must complete and match.
    try {
      const sftp = await connect(options(server.port));
      try {
        await runOperation(sftp, c.op, local, remote);
      } finally {
        await sftp.close();
      }
      const got = c.op === "download" ? await readFile(local) : c.op === "list" || reading ? undefined : await readFile(join(root, name));
      if (got && !Buffer.from(got).equals(source)) throw new Error(`${c.op} retry gave different bytes`);
    } catch (e) {
      stats.retryFailures++;
      console.error(`retry failed (${c.op}, ${c.kind} ${c.direction} at ${c.at}):`, e);
    }
    await rm(join(root, name), { force: true });
    await rm(join(root, `.${name}.resume.part`), { force: true });
    if (reading) await rm(local, { force: true });
  }
  console.log(`${new Date().toISOString()} ${JSON.stringify(stats)} rss ${rssMiB()} MiB`);
}

await proxy.close();
await server.close();
await rm(base, { recursive: true, force: true });
// Give closing sockets and file handles a moment, then compare with the start.
await new Promise((r) => setTimeout(r, Number(process.env.SOAK_SETTLE_MS ?? 2000)));
const after = { resources: resources(), rss: rssMiB() };
const leaked = Object.entries(after.resources).filter(([k, n]) => n > (before.resources[k] ?? 0));
const crashes = unhandled + stats.untypedErrors;
console.log(JSON.stringify({ seed, minutes, ...stats, unhandled, crashes, leakedHandles: Object.fromEntries(leaked),
  rssStartMiB: before.rss, rssEndMiB: after.rss }, null, 2));
process.exitCode = crashes > 0 || stats.retryFailures > 0 || leaked.length > 0 ? 1 : 0;
