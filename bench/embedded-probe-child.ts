/**
 * The embedded server of one checkout in a process of its own, for embedded-probe.ts.
 * argv[2]: JSON { checkout, root, authorizedKeys, sftpLimits? }. Prints `READY {port, hostKeyLine}`;
 * then each stdin line `start` resets the counters and `stop` prints `STATS {...}`: CPU seconds
 * of the main thread and of the other threads (libuv's pool: file reads) since `start`, and, every
 * millisecond, the state of each SFTP session's channel: the client's window open or not, data
 * queued or not and, when the window is open and nothing is queued, why the server has nothing
 * to send (requests running, i.e. file reads not back yet; none running and the outgoing budget
 * over, waiting for the socket; or no request held at all: the client asked for nothing). With
 * `profileDir`, each download also leaves a V8 CPU profile and an allocation-sampling heap
 * profile there (run-N.cpuprofile, run-N.heapprofile). Private fields are read only here, for
 * diagnosis. Note that a V8 CPU profile counts wall time: on a loaded machine a native call that
 * wakes a thread-pool thread (FileHandle.read) can show hundreds of ms where perf sees a few.
 */
import * as fs from "node:fs/promises";
import { Session } from "node:inspector/promises";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

const job = JSON.parse(process.argv[2]!) as { checkout: string; root: string; authorizedKeys: string; sftpLimits?: Record<string, number>; profileDir?: string };
const imp = (p: string) => import(pathToFileURL(path.join(job.checkout, p)).href);
const { createSftpServer } = (await imp("src/sftp/server/index.ts")) as typeof import("../src/sftp/server/index.js");
const { SftpServerSession } = (await imp("src/sftp/server/session.ts")) as typeof import("../src/sftp/server/session.js");
const { generateEd25519Key } = (await imp("src/ssh/keys/private-key.ts")) as typeof import("../src/ssh/keys/private-key.js");
const { publicKeyLine } = (await imp("src/ssh/keys/public-key.ts")) as typeof import("../src/ssh/keys/public-key.js");

interface Probed {
  ended: boolean;
  held: number;
  unflushed: number;
  channel: { remoteWindow: number; sendQueue: unknown[] };
  scheduler: { running: number; size: number };
  outgoing: { over: boolean };
}
const sessions = new Set<Probed>();
const start = SftpServerSession.start.bind(SftpServerSession);
(SftpServerSession as unknown as { start: (...a: unknown[]) => unknown }).start = (...a: unknown[]) => {
  const s = (start as (...x: unknown[]) => unknown)(...a) as Probed;
  sessions.add(s);
  return s;
};

const zero = () => ({ zeroWindow: 0, openQueued: 0, idleRunning: 0, idleOverBudget: 0, idleWaiting: 0, idleNothing: 0 });
let samples = zero();
const probe = () => {
  for (const s of sessions) {
    if (s.ended) {
      sessions.delete(s);
      continue;
    }
    const ch = s.channel;
    if (ch.remoteWindow <= 0) samples.zeroWindow++;
    else if (ch.sendQueue.length > 0) samples.openQueued++;
    else if (s.scheduler.running > 0) samples.idleRunning++;
    else if (s.held > 0 && s.outgoing.over) samples.idleOverBudget++;
    else if (s.held > 0) samples.idleWaiting++;
    else samples.idleNothing++;
  }
  setTimeout(probe, 1);
};
probe();

/** CPU seconds of the main thread, of the other threads together, and per thread name. */
async function threadCpu(): Promise<{ main: number; other: number; byName: Record<string, number> }> {
  const out = { main: 0, other: 0, byName: {} as Record<string, number> };
  for (const tid of await fs.readdir("/proc/self/task")) {
    const t = await fs.readFile(`/proc/self/task/${tid}/stat`, "utf8").catch(() => "");
    if (!t) continue;
    const name = t.slice(t.indexOf("(") + 1, t.lastIndexOf(")")).replace(/[0-9]+$/, "");
    const f = t.slice(t.lastIndexOf(")") + 2).split(" ").map(Number);
    const cpu = (f[11]! + f[12]!) / 100;
    out[Number(tid) === process.pid ? "main" : "other"] += cpu;
    out.byName[name] = (out.byName[name] ?? 0) + cpu;
  }
  return out;
}

const hostKey = generateEd25519Key("probe");
const server = await createSftpServer({
  hostKeys: [hostKey], root: job.root, authorizedKeys: job.authorizedKeys, authMethods: ["publickey"], crypto: "auto",
  sftpLimits: job.sftpLimits,
});
process.stdout.write(`READY ${JSON.stringify({ port: server.port, hostKeyLine: publicKeyLine(hostKey.publicKey) })}\n`);
let t0 = await threadCpu();
const inspector = job.profileDir ? new Session() : undefined;
inspector?.connect();
await inspector?.post("Profiler.enable");
let runs = 0;
for await (const line of createInterface({ input: process.stdin })) {
  if (line === "start") {
    await inspector?.post("Profiler.start");
    // Allocation sampling beside the CPU profile, counting what the GC has collected too.
    await inspector?.post("HeapProfiler.startSampling", { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
    t0 = await threadCpu();
    samples = zero();
  } else if (line === "stop") {
    const t1 = await threadCpu();
    const byName = Object.fromEntries(Object.entries(t1.byName).map(([k, v]) => [k, +(v - (t0.byName[k] ?? 0)).toFixed(2)]));
    if (inspector) {
      const { profile } = await inspector.post("Profiler.stop");
      await fs.writeFile(path.join(job.profileDir!, `run-${++runs}.cpuprofile`), JSON.stringify(profile));
      const { profile: heap } = await inspector.post("HeapProfiler.stopSampling");
      await fs.writeFile(path.join(job.profileDir!, `run-${runs}.heapprofile`), JSON.stringify(heap));
    }
    process.stdout.write(`STATS ${JSON.stringify({ main: t1.main - t0.main, other: t1.other - t0.other, byName, samples })}\n`);
  }
}
await server.close();
process.exit(0);
