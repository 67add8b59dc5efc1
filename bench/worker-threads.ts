/**
 * `npx tsx bench/worker-threads.ts [MiB] [rounds]`: would extra connections go faster in worker
 * threads (issue #19, item 3)? One file moved as two halves over two SSH connections, either both
 * in this thread ("1-thread") or one connection in each of two worker threads ("2-workers"), so
 * each thread does one connection's crypto and framing. Up and down, no added delay (where the
 * CPU, not a window, is the limit), rounds interleaved A/B/A…, medians printed as markdown.
 * Needs root, like the bench (it starts a private sshd).
 */
import { execFileSync } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { startSshd, TEST_USER } from "../conformance/sshd.js";
import { connect, type ConnectOptions } from "../src/connect.js";
import { openLocal } from "../src/platform/local-files.js";

interface Half {
  options: ConnectOptions;
  direction: "up" | "down";
  local: string;
  remote: string;
  start: number;
  end: number;
}

/**
 * Moves bytes [start, end) of the file over one new connection. Once connected it awaits `go`
 * (every half starts together, so connecting and starting a worker are not timed).
 */
async function moveHalf(h: Half, go: () => Promise<void>): Promise<void> {
  const sftp = await connect(h.options);
  try {
    const local = await openLocal(h.local, h.direction === "up" ? "r" : "r+");
    const remote = await sftp.open(h.remote, h.direction === "up" ? "r+" : "r");
    await go();
    try {
      if (h.direction === "up") {
        const w = remote.writer({ offset: h.start });
        const buf = new Uint8Array(1024 * 1024);
        for (let p = h.start; p < h.end; ) {
          const n = await local.read(buf.subarray(0, Math.min(buf.length, h.end - p)), p);
          await w.write(buf.subarray(0, n));
          p += n;
        }
        await w.flush();
      } else {
        const r = remote.reader({ start: h.start, end: h.end });
        for (let c = await r.next(); c; c = await r.next()) {
          await local.write(c.data, c.offset);
          r.recycle(c);
        }
      }
    } finally {
      await remote.close();
      await local.close();
    }
  } finally {
    await sftp.close();
  }
}

/** moveHalf in a worker thread: `ready` once it is connected, and it starts when `go` resolves. */
function inWorker(h: Half, ready: () => void, go: Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    // A worker does not inherit tsx's loader: it registers it, then loads this file.
    const boot = `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const w = new Worker(boot, { eval: true, workerData: h });
    w.on("message", (m: { ready?: boolean; done?: boolean; error?: string }) => {
      if (m.ready) {
        ready();
        void go.then(() => w.postMessage("go"));
      } else if (m.error) reject(new Error(m.error));
      else resolve();
    });
    w.once("error", reject);
  });
}

if (!isMainThread) {
  const go = () => new Promise<void>((resolve) => {
    parentPort!.once("message", () => resolve());
    parentPort!.postMessage({ ready: true });
  });
  moveHalf(workerData as Half, go).then(
    () => parentPort!.postMessage({ done: true }),
    (e: unknown) => parentPort!.postMessage({ error: String(e) }),
  );
} else {
  const mib = Number(process.argv[2] ?? 256);
  const rounds = Number(process.argv[3] ?? 3);
  const bytes = mib * 1024 * 1024;
  const sshd = await startSshd({ logLevel: "ERROR" });
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "bench-workers-"));
  const home = execFileSync("getent", ["passwd", TEST_USER], { encoding: "utf8" }).trim().split(":")[5]!;
  const { uid, gid } = await fs.stat(home);
  const local = path.join(work, "src.bin");
  const remote = path.join(home, `bench-workers-${process.pid}.bin`);
  try {
    const buf = Buffer.allocUnsafe(bytes);
    randomFillSync(buf);
    await fs.writeFile(local, buf);
    const digest = createHash("sha256").update(buf).digest("hex");
    const options: ConnectOptions = { host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.clientKeys.ed25519, hostKeys: { policy: "strict", knownHostsFile: sshd.knownHostsPath }, sshConfig: false, algorithms: { cipher: ["aes128-gcm@openssh.com"] } };
    const rows: { mode: string; direction: string; mbps: number }[] = [];
    const load = os.loadavg();
    for (let round = 0; round < rounds; round++) {
      for (const mode of round % 2 === 0 ? ["1-thread", "2-workers"] : ["2-workers", "1-thread"]) {
        for (const direction of ["up", "down"] as const) {
          // The target exists at full size, so each half writes into place.
          if (direction === "up") {
            await fs.writeFile(remote, "");
            await fs.truncate(remote, bytes);
            await fs.chown(remote, uid, gid);
          } else {
            await fs.copyFile(local, remote);
            await fs.chown(remote, uid, gid);
            await fs.writeFile(`${local}.down`, "");
            await fs.truncate(`${local}.down`, bytes);
          }
          const halves: Half[] = [0, 1].map((i) => ({ options, direction, local: direction === "up" ? local : `${local}.down`, remote, start: (i * bytes) / 2, end: ((i + 1) * bytes) / 2 }));
          // Both halves connect, then start together; only the transfer is timed.
          let t0 = 0;
          let count = 0;
          let start = () => {};
          const go = new Promise<void>((resolve) => (start = resolve));
          const ready = () => {
            if (++count === 2) {
              t0 = performance.now();
              start();
            }
          };
          await Promise.all(halves.map((h) => (mode === "1-thread" ? moveHalf(h, () => (ready(), go)) : inWorker(h, ready, go))));
          const seconds = (performance.now() - t0) / 1000;
          const got = createHash("sha256").update(await fs.readFile(direction === "up" ? remote : `${local}.down`)).digest("hex");
          if (got !== digest) throw new Error(`${mode} ${direction}: the bytes that arrived differ`);
          rows.push({ mode, direction, mbps: bytes / 1e6 / seconds });
          process.stderr.write(`round ${round + 1} ${mode} ${direction}: ${(bytes / 1e6 / seconds).toFixed(1)} MB/s\n`);
        }
      }
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const cell = (mode: string, d: string) => median(rows.filter((r) => r.mode === mode && r.direction === d).map((r) => r.mbps));
    const all = (mode: string, d: string) => rows.filter((r) => r.mode === mode && r.direction === d).map((r) => r.mbps.toFixed(1)).join(", ");
    console.log(`${mib} MiB as two halves over two connections, aes128-gcm, no added delay, ${os.cpus().length} cores, load at start ${load.map((x) => x.toFixed(1)).join(" ")}, at end ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}; ${rounds} rounds interleaved; transfer only (connecting and starting workers not timed); median (all runs)\n`);
    console.log("| direction | 1-thread | 2-workers | workers / thread |\n|---|---|---|---|");
    for (const d of ["up", "down"]) console.log(`| ${d} | ${cell("1-thread", d).toFixed(1)} MB/s (${all("1-thread", d)}) | ${cell("2-workers", d).toFixed(1)} MB/s (${all("2-workers", d)}) | ${(cell("2-workers", d) / cell("1-thread", d)).toFixed(2)}× |`);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
    await fs.rm(remote, { force: true });
    await sshd.stop();
  }
}
