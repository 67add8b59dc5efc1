/**
 * A/B of writeFile's per-file cost between two checkouts, in one process against one sshd:
 * each checkout's src/connect.ts is imported (two module graphs side by side), and rounds run
 * A, B, A, B … so a noisy spell on this shared machine hits both alike. Per run: files/s, files
 * per client CPU-second (process.cpuUsage over the timed window) and sshd's CPU over the same
 * window (treeCpu snapshots); medians at the end. Mode "ssh2" runs ssh2's sftp.writeFile once a
 * round, for scale. `--profile=I` then CPU-profiles one more run of checkout I per mode
 * (node:inspector, 50 µs sampling; ssh2 too when it is a mode) and prints its top self times.
 *
 *   npx tsx bench/small-files-ab.ts --a=/tmp/old-checkout --b=. [--rounds=8] [--files=1000]
 *       [--modes=atomic,plain,ssh2] [--profile=1] [--profile-rounds=5]
 *
 * The old checkout needs node_modules (a symlink to this one's will do). Speed is never asserted;
 * this prints numbers for a person to compare, as bench.ts does.
 */
import { randomFillSync } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs/promises";
import { Session } from "node:inspector/promises";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { TEST_USER, startSshd } from "../conformance/sshd.js";
import type { ConnectOptions } from "../src/connect.js";
import type { SftpClient } from "../src/sftp/client.js";
import { type BenchServer, median, treeCpu, treeCpuSince } from "./common.js";
import { call, ssh2Open } from "./peers/ssh2.js";
import { summariseProfile } from "./profile.js";

type Mode = "atomic" | "plain" | "ssh2";
const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const checkouts = [path.resolve(arg("a", ".")), path.resolve(arg("b", "."))];
const rounds = Number(arg("rounds", "8"));
const n = Number(arg("files", "1000"));
const modes = arg("modes", "atomic,plain").split(",") as Mode[];
const profileIndex = arg("profile", "");
const concurrency = 16;

const connects = await Promise.all(checkouts.map(async (dir) =>
  (await import(pathToFileURL(path.join(dir, "src/connect.ts")).href) as { connect: (o: ConnectOptions) => Promise<SftpClient> }).connect));
const sshd = await startSshd({ logLevel: "INFO" });
const home = execFileSync("getent", ["passwd", TEST_USER], { encoding: "utf8" }).trim().split(":")[5]!;
const owner = await fs.stat(home);
const root = path.join(home, `small-files-ab-${process.pid}`);
await fs.mkdir(root);
await fs.chown(root, owner.uid, owner.gid);
const data = Array.from({ length: n }, () => randomFillSync(new Uint8Array(4096)));
const options: ConnectOptions = {
  host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.clientKeys.ed25519,
  hostKeys: { policy: "strict", knownHostsFile: sshd.knownHostsPath }, sshConfig: false,
};

const server: BenchServer = {
  host: sshd.host, port: sshd.port, username: sshd.username, keyPath: sshd.clientKeyPaths.ed25519, keyText: sshd.clientKeys.ed25519,
  knownHostsPath: sshd.knownHostsPath, hostKeyBlobs: sshd.hostKeys.map((k) => k.publicKeyLine.split(" ")[1]!),
};

interface Run { seconds: number; cpuSeconds: number; serverCpuSeconds: number }
interface Uploader { mkdir(dir: string): Promise<void>; writeFile(path: string, data: Uint8Array): Promise<void>; close(): Promise<void> }

async function uploader(index: number, mode: Mode): Promise<Uploader> {
  if (mode === "ssh2") {
    const s = await ssh2Open(server, { noDelay: false });
    return {
      mkdir: (dir) => call((cb) => s.sftp.mkdir(dir, cb)),
      writeFile: (file, bytes) => call((cb) => s.sftp.writeFile(file, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), cb)),
      close: async () => s.close(),
    };
  }
  const c = await connects[index]!(options);
  return {
    mkdir: (dir) => c.mkdir(dir),
    writeFile: (file, bytes) => c.writeFile(file, bytes, { atomic: mode === "atomic" }),
    close: () => c.close(),
  };
}

/** One connection: an untimed warm-up round, then `timedRounds` timed ones (n files each). */
async function run(index: number, mode: Mode, tag: string, timedRounds = 1, profileTo?: string): Promise<Run> {
  const c = await uploader(index, mode);
  const upload = async (dir: string) => {
    await c.mkdir(dir);
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) await c.writeFile(`${dir}/f${i}`, data[i]!);
    }));
  };
  try {
    await upload(`${root}/${tag}-warmup`);
    const profiler = profileTo ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post("Profiler.enable");
      await profiler.post("Profiler.setSamplingInterval", { interval: 50 });
      await profiler.post("Profiler.start");
    }
    const server = await treeCpu(sshd.pid);
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    for (let r = 0; r < timedRounds; r++) await upload(`${root}/${tag}-${r}`);
    const seconds = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(cpu);
    const serverCpuSeconds = (await treeCpuSince(sshd.pid, server)).total;
    if (profiler && profileTo) {
      const { profile } = await profiler.post("Profiler.stop");
      await fs.writeFile(profileTo, JSON.stringify(profile));
      profiler.disconnect();
    }
    return { seconds, cpuSeconds: (used.user + used.system) / 1e6, serverCpuSeconds };
  } finally {
    await c.close();
    for (const e of await fs.readdir(root)) if (e.startsWith(`${tag}-`)) await fs.rm(path.join(root, e), { recursive: true, force: true });
  }
}

const label = (i: number, mode: Mode) => (mode === "ssh2" ? "ssh2" : `${"AB"[i]} ${mode}`);
const runs = new Map<string, Run[]>();
try {
  for (let round = 0; round < rounds; round++) {
    for (const mode of modes) {
      for (let i = 0; i < (mode === "ssh2" ? 1 : checkouts.length); i++) {
        const r = await run(i, mode, `r${round}-${i}-${mode}`);
        runs.set(label(i, mode), [...(runs.get(label(i, mode)) ?? []), r]);
        console.log(`round ${round + 1} ${label(i, mode).padEnd(9)} ${(n / r.seconds).toFixed(0)} files/s, ${(n / r.cpuSeconds).toFixed(0)} files per client CPU-s, ` +
          `client ${((100 * r.cpuSeconds) / r.seconds).toFixed(0)}%, sshd ${((100 * r.serverCpuSeconds) / r.seconds).toFixed(0)}%`);
      }
    }
  }
  console.log(`\nA = ${checkouts[0]}\nB = ${checkouts[1]}\nmedians of ${rounds} rounds, ${n} × 4 KiB, ${concurrency} in flight:`);
  for (const [name, rs] of runs) {
    console.log(`${name.padEnd(9)} ${median(rs.map((r) => n / r.seconds)).toFixed(0)} files/s, ${median(rs.map((r) => n / r.cpuSeconds)).toFixed(0)} files per client CPU-s ` +
      `(each: ${rs.map((r) => (n / r.cpuSeconds).toFixed(0)).join(", ")}), sshd ${median(rs.map((r) => (100 * r.serverCpuSeconds) / r.seconds)).toFixed(0)}%`);
  }
  if (profileIndex !== "") {
    for (const mode of modes) {
      const file = path.join(await fs.mkdtemp(path.join((await import("node:os")).tmpdir(), "small-files-ab-")), `${mode}.cpuprofile`);
      const r = await run(Number(profileIndex), mode, `profile-${mode}`, Number(arg("profile-rounds", "5")), file);
      const s = await summariseProfile(file, 25);
      console.log(`\nprofile of ${label(Number(profileIndex), mode)} (${file}), ${((100 * r.cpuSeconds) / r.seconds).toFixed(0)}% client CPU:`);
      for (const f of s.functions) console.log(`${f.percent.toFixed(1).padStart(5)}% ${f.name}`);
    }
  }
} finally {
  await fs.rm(root, { recursive: true, force: true });
  await sshd.stop();
}
