/**
 * SFTPAccessor.putFile, 8 files of 6 MiB, 4 at a time as a Location copies a sequence's members,
 * over a 100 ms round trip (bench/delay-proxy.ts) to a private sshd: checkouts interleaved.
 *   npx tsx bench/accessor-rtt-ab.ts /tmp/base .      (each checkout needs node_modules)
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as os from "node:os";
import { pathToFileURL } from "node:url";
import { startSshd } from "../conformance/sshd.js";
const checkouts = process.argv.slice(2);
const s = await startSshd();
const proxy = spawn(process.execPath, ["--import", "tsx", "bench/delay-proxy.ts", String(s.port), "50"], { stdio: ["pipe", "pipe", "inherit"] });
const port = await new Promise<number>((res) => { let out = ""; proxy.stdout!.on("data", (d) => { out += d; const m = /PORT (\d+)/.exec(out); if (m) res(Number(m[1])); }); });
const dir = await fs.mkdtemp(path.join(os.tmpdir(), "lanes-"));
const kh = path.join(dir, "known_hosts");
await fs.writeFile(kh, (await fs.readFile(s.knownHostsPath, "utf8")).replaceAll(`]:${s.port} `, `]:${port} `));
const files: string[] = [];
for (let i = 0; i < 8; i++) { const f = path.join(dir, `f${i}.bin`); await fs.writeFile(f, new Uint8Array(6 * 1024 * 1024).fill(i)); files.push(f); }
const home = (await fs.readFile("/etc/passwd", "utf8")).split("\n").find((l) => l.startsWith(`${s.username}:`))!.split(":")[5]!;
for (let round = 0; round < 3; round++) {
  for (const co of checkouts) {
    const { SFTPAccessor } = await import(pathToFileURL(path.resolve(co, "src/accessor/sftp-accessor.ts")).href);
    const folder = `lanes-${round}-${path.basename(co)}-${Date.now()}`;
    await fs.mkdir(path.join(home, folder), { recursive: true });
    await fs.chown?.(path.join(home, folder), (await fs.stat(home)).uid, (await fs.stat(home)).gid);
    const a = new SFTPAccessor({ host: "127.0.0.1", port, username: s.username, password: s.password, folder, hostKeys: { policy: "strict", knownHostsFile: kh }, connectOptions: { readyTimeoutMs: 30000 } });
    await a.exists("x");
    const t0 = performance.now();
    // 4 at a time, as a Location does
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => { while (next < files.length) { const i = next++; await a.putFile(files[i]!, `f${i}.bin`); } }));
    const sec = (performance.now() - t0) / 1000;
    console.log(`round ${round + 1} ${co.padEnd(20)} ${(files.length * 6 * 1.048576 / sec).toFixed(1)} MB/s (${sec.toFixed(1)} s)`);
    await a.close();
  }
}
proxy.stdin!.end();
await s.stop();
await fs.rm(dir, { recursive: true, force: true });
