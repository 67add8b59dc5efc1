/**
 * `npm run demo`: the main job end to end on a fresh machine with nothing else installed.
 * Starts the embedded SFTP server on 127.0.0.1 with a fresh host key, connects with the client
 * pinned to that key's fingerprint (strict host-key checking stays on), uploads a small image
 * sequence and a larger file with progress bars, lists, downloads and verifies sha256, runs the
 * ftrack accessor calls, and prints a summary. Exit 0 only if everything verified.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../src/connect.js";
import { SFTPAccessor } from "../src/accessor/index.js";
import { createSftpServer } from "../src/sftp/server/index.js";
import { generateEd25519Key } from "../src/ssh/keys/private-key.js";

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const size = (n: number) => (n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`);

/** One progress line, redrawn in place on a terminal and printed once at the end elsewhere. */
function bar(label: string, done: number, total: number): void {
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : width;
  const line = `${label.padEnd(34)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${size(done)}/${size(total)}`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}${done === total ? "\n" : ""}`);
  else if (done === total) process.stderr.write(`${line}\n`);
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "puresftp-demo-"));
  const root = join(work, "server-root");
  const local = join(work, "local");
  await mkdir(root);
  await mkdir(local);
  const password = Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString("base64url");
  const server = await createSftpServer({
    hostKeys: [generateEd25519Key("demo host key")],
    root,
    authenticate: (r) => r.method === "password" && r.username === "demo" && r.password === password,
  });
  const checks: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`check failed: ${what}`);
    checks.push(what);
  };
  try {
    const pin = server.hostKeyFingerprints[0]!;
    const options = {
      host: server.host,
      port: server.port,
      username: "demo",
      password,
      sshConfig: false,
      // Strict: the key must match the pin; no known_hosts file is consulted or written.
      hostKeys: { policy: "strict" as const, fingerprints: [pin], knownHostsFile: join(work, "known_hosts") },
    };
    console.log(`embedded SFTP server on ${server.host}:${server.port}, host key ${pin}`);
    const t0 = performance.now();
    const sftp = await connect(options);
    const a = sftp.ssh.algorithms;
    console.log(`connected in ${(performance.now() - t0).toFixed(0)} ms: ${a.kex}, ${a.serverHostKey}, ${a.cipherClientToServer}, strict kex ${sftp.ssh.strictKex ? "on" : "off"}`);

    const files = new Map<string, Uint8Array>();
    for (let f = 1001; f <= 1012; f++) files.set(`shot010_comp_v001.${f}.exr`, crypto.getRandomValues(new Uint8Array(48 * 1024)));
    const big = new Uint8Array(48 * MiB);
    for (let o = 0; o < big.length; o += 65536) crypto.getRandomValues(big.subarray(o, o + 65536));
    files.set("plate_v003.mov", big);
    const bytes = [...files.values()].reduce((n, d) => n + d.length, 0);

    await sftp.mkdir("/projects/demo/shot010", { recursive: true });
    let t = performance.now();
    for (const [name, data] of files) {
      await writeFile(join(local, name), data);
      await sftp.upload(join(local, name), `/projects/demo/shot010/${name}`, { onProgress: (p) => bar(`put ${name}`, p.transferred, p.total) });
    }
    const upMs = performance.now() - t;

    const listed = await sftp.list("/projects/demo/shot010");
    check(listed.length === files.size, `listed ${listed.length} files`);
    check(listed.every((e) => e.attrs.size === files.get(e.name)?.length), "listed sizes match");

    t = performance.now();
    for (const [name, data] of files) {
      const path = join(local, `down-${name}`);
      await sftp.download(`/projects/demo/shot010/${name}`, path, { onProgress: (p) => bar(`get ${name}`, p.transferred, p.total) });
      check(sha256(await readFile(path)) === sha256(data), `sha256 of ${name}`);
    }
    const downMs = performance.now() - t;
    await sftp.close();

    // The ftrack accessor over the same server (what a studio.sftp Location uses).
    const accessor = new SFTPAccessor({ ...options, folder: "/projects" });
    check(await accessor.exists("demo/shot010/plate_v003.mov"), "accessor.exists");
    check(await accessor.isSequence("demo/shot010/shot010_comp_v001.%04d.exr"), "accessor.isSequence");
    check((await accessor.list("demo/shot010")).length === files.size, "accessor.list");
    await accessor.makeContainer("demo/shot020/comp", { recursive: true });
    const w = await accessor.open("demo/shot020/comp/notes.txt", "wb");
    await w.write("approved\n");
    await w.close();
    const r = await accessor.open("demo/shot020/comp/notes.txt", "rb");
    check(new TextDecoder().decode(await r.read()) === "approved\n", "accessor write/read round trip");
    await r.close();
    await accessor.remove("demo/shot020/comp/notes.txt");
    await accessor.remove("demo/shot020/comp");
    check(!(await accessor.exists("demo/shot020/comp")), "accessor.remove of a file and an empty container");
    await accessor.close();

    const rate = (ms: number) => `${(bytes / MiB / (ms / 1000)).toFixed(1)} MiB/s`;
    console.log(`uploaded ${files.size} files (${size(bytes)}) at ${rate(upMs)}, downloaded at ${rate(downMs)}`);
    console.log(`${checks.length} checks passed, including sha256 of every file: demo OK`);
  } finally {
    await server.close();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`demo FAILED: ${e instanceof Error ? `${e.name} ${(e as { code?: string }).code ?? ""}: ${e.message}` : e}`);
  process.exit(1);
});
