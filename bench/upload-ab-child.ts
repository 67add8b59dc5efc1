/**
 * One timed upload by one checkout's client, in a fresh process (run by upload-ab.ts).
 * argv[2]: JSON Job. Prints `RESULT {...}`: seconds, the process's CPU seconds over the upload
 * (all threads, and the main thread's share), and on request a sample of the channel's state
 * every millisecond (`probe`: the peer's window open or not, data queued or not), a V8 CPU
 * profile of the upload alone (`profilePath`) and an allocation-sampling heap profile beside it
 * (`heapSampling`).
 */
import * as fs from "node:fs/promises";
import { Session } from "node:inspector/promises";
import * as path from "node:path";
import { pathToFileURL } from "node:url";

interface Job {
  checkout: string;
  server: { host: string; port: number; username: string; keyText: string; knownHostsPath: string };
  cipher: string;
  local: string;
  remote: string;
  writeSize?: number;
  maxInFlight?: number;
  streams?: number;
  crypto?: "auto" | "pure" | "native";
  probe?: boolean;
  profilePath?: string;
  heapSampling?: boolean;
}

/** CPU seconds (user + system) of this process's threads: the main one, and the others by name (libuv pool, V8's GC and compiler workers). */
async function threadCpu(): Promise<Record<string, number>> {
  const out: Record<string, number> = { main: 0 };
  for (const tid of await fs.readdir("/proc/self/task")) {
    const t = await fs.readFile(`/proc/self/task/${tid}/stat`, "utf8").catch(() => "");
    if (!t) continue;
    const name = Number(tid) === process.pid ? "main" : t.slice(t.indexOf("(") + 1, t.lastIndexOf(")")).trim();
    const f = t.slice(t.lastIndexOf(")") + 2).split(" ").map(Number);
    out[name] = (out[name] ?? 0) + (f[11]! + f[12]!) / 100;
  }
  return out;
}

const job = JSON.parse(process.argv[2]!) as Job;
const { connect } = (await import(pathToFileURL(path.join(job.checkout, "src/connect.ts")).href)) as typeof import("../src/connect.js");
const c = await connect({
  host: job.server.host,
  port: job.server.port,
  username: job.server.username,
  privateKey: job.server.keyText,
  hostKeys: { policy: "strict", knownHostsFile: job.server.knownHostsPath },
  sshConfig: false,
  crypto: job.crypto ?? "auto",
  algorithms: { cipher: [job.cipher] },
});
try {
  if (job.writeSize) c.session.writeSize = job.writeSize;
  // Private fields of Channel, read only by the probe.
  const ch = c.session.channel as unknown as { remoteWindow: number; sendQueue: unknown[] };
  const samples = { zeroWindowQueued: 0, openIdle: 0, zeroWindowIdle: 0, openQueued: 0, writerBusy: 0, outboxPackets: 0 };
  // Also private: the packet writer, whose socket writes still pending (writing > 0) hold
  // sealed packets that the peer's window already counts as sent.
  const writer = (c.ssh as unknown as { transport: { writer: { writing: number; outbox: unknown[] } } }).transport.writer;
  let probing = job.probe ?? false;
  const probe = () => {
    if (!probing) return;
    const queued = ch.sendQueue.length > 0;
    if (ch.remoteWindow <= 0) queued ? samples.zeroWindowQueued++ : samples.zeroWindowIdle++;
    else queued ? samples.openQueued++ : samples.openIdle++;
    if (writer.writing > 0) samples.writerBusy++;
    samples.outboxPackets += writer.outbox.length;
    setTimeout(probe, 1);
  };
  probe();
  const inspector = job.profilePath ? new Session() : undefined;
  if (inspector) {
    inspector.connect();
    await inspector.post("Profiler.enable");
    await inspector.post("Profiler.start");
    if (job.heapSampling) {
      await inspector.post("HeapProfiler.startSampling", { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
    }
  }
  const th0 = await threadCpu();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await c.upload(job.local, job.remote, { maxInFlight: job.maxInFlight, streams: job.streams });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const th1 = await threadCpu();
  probing = false;
  if (inspector) {
    const { profile } = await inspector.post("Profiler.stop");
    await fs.writeFile(job.profilePath!, JSON.stringify(profile));
    if (job.heapSampling) {
      const { profile: heap } = await inspector.post("HeapProfiler.stopSampling");
      await fs.writeFile(job.profilePath!.replace(/\.cpuprofile$/, ".heapprofile"), JSON.stringify(heap));
    }
    inspector.disconnect();
  }
  process.stdout.write(`RESULT ${JSON.stringify({
    seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, sysSeconds: cpu.system / 1e6, writeSize: c.session.writeSize,
    byThread: Object.fromEntries(Object.keys(th1).map((k) => [k, +(th1[k]! - (th0[k] ?? 0)).toFixed(2)]).filter(([, v]) => v !== 0)),
    ...(job.probe ? { samples } : {}),
  })}\n`);
} finally {
  await c.close();
}
