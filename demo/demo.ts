/**
 * `npm run demo`: the main job end to end. Starts a private OpenSSH sshd on 127.0.0.1 (the
 * conformance harness: generated host keys, a test user), connects with the host key pinned by
 * fingerprint (strict checking stays on), uploads a small image sequence and a larger file with
 * progress, lists, downloads, verifies sha256, and prints a summary. Exit 0 only if all verified.
 *
 * Until the embedded server lands, this needs root and openssh-server (apt-get install
 * openssh-server); it says so and exits 1 otherwise.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../src/connect.js";
import { sshdAvailable, startSshd } from "../conformance/sshd.js";

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

const size = (n: number) => (n >= MiB ? `${(n / MiB).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`);

function bar(label: string, done: number, total: number): void {
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : width;
  const line = `${label.padEnd(34)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${size(done)}/${size(total)}`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}`);
  else if (done === total) process.stderr.write(`${line}\n`);
}

async function main(): Promise<void> {
  const avail = sshdAvailable();
  if (!avail.ok) {
    console.error(`demo needs a local OpenSSH server until the embedded server lands: ${avail.reason}`);
    process.exit(1);
  }
  const server = await startSshd();
  const local = await mkdtemp(join(tmpdir(), "puresftp-demo-"));
  try {
    const pin = server.hostKeys.find((k) => k.type === "ssh-ed25519")!.fingerprint;
    const t0 = performance.now();
    const sftp = await connect({
      host: server.host,
      port: server.port,
      username: server.username,
      privateKey: server.clientKeys.ed25519,
      hostKeys: { policy: "strict", knownHostsFile: join(local, "known_hosts"), fingerprints: [pin] },
    });
    const ready = performance.now() - t0;
    const a = sftp.ssh.algorithms;
    console.log(`connected to ${sftp.ssh.serverVersion} in ${ready.toFixed(0)} ms`);
    console.log(`  host key ${sftp.ssh.hostKey.type} ${sftp.ssh.hostKey.fingerprint} (pinned)`);
    console.log(`  ${a.kex}, ${a.cipherClientToServer}, strict kex ${sftp.ssh.strictKex ? "on" : "off"}`);

    const files = new Map<string, Uint8Array>();
    for (let f = 1001; f <= 1010; f++) files.set(`shot010_comp_v001.${f}.exr`, crypto.getRandomValues(new Uint8Array(48 * 1024)));
    const big = new Uint8Array(32 * MiB);
    for (let o = 0; o < big.length; o += 65536) crypto.getRandomValues(big.subarray(o, o + 65536));
    files.set("plate_v003.mov", big);

    const remote = `${await sftp.homeDirectory()}/demo`;
    await sftp.rmdir(remote, { recursive: true }).catch(() => {});
    await sftp.mkdir(`${remote}/shot010`, { recursive: true });
    let t = performance.now();
    let bytes = 0;
    for (const [name, data] of files) {
      const path = join(local, name);
      await writeFile(path, data);
      await sftp.upload(path, `${remote}/shot010/${name}`, { onProgress: (p) => bar(`put ${name}`, p.transferred, p.total) });
      bytes += data.length;
    }
    const upMs = performance.now() - t;
    if (process.stderr.isTTY) process.stderr.write("\n");

    const listed = await sftp.list(`${remote}/shot010`);
    console.log(`listed ${listed.length} files in ${remote}/shot010`);

    t = performance.now();
    let verified = 0;
    for (const [name, data] of files) {
      const path = join(local, `down-${name}`);
      await sftp.download(`${remote}/shot010/${name}`, path, { onProgress: (p) => bar(`get ${name}`, p.transferred, p.total) });
      if (sha256(await readFile(path)) !== sha256(data)) throw new Error(`sha256 mismatch for ${name}`);
      verified++;
    }
    const downMs = performance.now() - t;
    if (process.stderr.isTTY) process.stderr.write("\n");
    await sftp.rmdir(remote, { recursive: true });
    await sftp.close();

    console.log(`uploaded ${files.size} files (${(bytes / MiB).toFixed(1)} MiB) at ${(bytes / MiB / (upMs / 1000)).toFixed(1)} MiB/s`);
    console.log(`downloaded and verified ${verified}/${files.size} by sha256 at ${(bytes / MiB / (downMs / 1000)).toFixed(1)} MiB/s`);
    console.log("demo OK");
  } finally {
    await server.stop();
    await rm(local, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`demo FAILED: ${e instanceof Error ? `${e.name} ${(e as { code?: string }).code ?? ""}: ${e.message}` : e}`);
  process.exit(1);
});
