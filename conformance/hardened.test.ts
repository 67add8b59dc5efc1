/**
 * The "hardened" algorithm preset against real OpenSSH, both ways: our hardened client logs in
 * to stock sshds (9.2 has no ML-KEM, so they meet on curve25519-sha256; 10 picks
 * mlkem768x25519-sha256), and stock `ssh` clients log in to our hardened embedded server.
 * Skipped with a message where OpenSSH can't run, except in CI.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeUnless, inCI, missingTools } from "../test/support/tools.js";
import { generateEd25519Key } from "../src/ssh/keys/private-key.js";
import { publicKeyLine } from "../src/ssh/keys/public-key.js";
import { startSshServer, type SshServer } from "../src/ssh/server/server.js";
import { connectTo, describeSshd, run } from "./helpers.js";
import { openssh10Available, OPENSSH10_PREFIX, startSshd, type OpensshVersion, type SshdServer } from "./sshd.js";

const sshd10 = openssh10Available();
const describeClients = describeUnless(missingTools("/usr/bin/ssh", "/usr/bin/ssh-keygen"), "OpenSSH ssh against the hardened server");

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describeSshd("a hardened client against stock OpenSSH sshd", () => {
  const servers: SshdServer[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.stop())));

  const cases: [OpensshVersion, string][] = [["system", "curve25519-sha256"], ["10", "mlkem768x25519-sha256"]];
  for (const [openssh, kex] of cases) {
    it.skipIf(openssh === "10" && !sshd10.ok && !inCI)(`logs in to sshd ${openssh === "10" ? "10" : "9.2"} with ${kex}`, async () => {
      const s = await startSshd({ serverDefaultAlgorithms: true, openssh });
      servers.push(s);
      const conn = await connectTo(s, { algorithms: "hardened" });
      try {
        expect(conn.algorithms).toMatchObject({
          kex,
          serverHostKey: "ssh-ed25519",
          cipherClientToServer: "chacha20-poly1305@openssh.com",
          cipherServerToClient: "chacha20-poly1305@openssh.com",
        });
        const r = await run(conn, "echo hardened");
        expect(text(r.stdout).trim()).toBe("hardened");
      } finally {
        await conn.close();
      }
    });
  }
});

describeClients("stock OpenSSH ssh against a hardened embedded server", () => {
  let dir: string;
  let server: SshServer;
  let keyPath: string;
  let knownHosts: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hardened-openssh-"));
    keyPath = join(dir, "id_ed25519");
    expect((await runTool("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "tester", "-f", keyPath])).code).toBe(0);
    const hostKey = generateEd25519Key("hardened-host");
    server = await startSshServer({
      hostKeys: [hostKey],
      subsystems: {},
      authorizedKeys: await readFile(`${keyPath}.pub`, "utf8"),
      algorithms: "hardened",
    });
    knownHosts = join(dir, "known_hosts");
    await writeFile(knownHosts, `[127.0.0.1]:${server.port} ${publicKeyLine(hostKey.publicKey)}\n`);
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const clients: [string, string, string][] = [
    ["9.2", "ssh", "curve25519-sha256"],
    ["10", join(OPENSSH10_PREFIX, "usr/bin/ssh"), "mlkem768x25519-sha256"],
  ];
  for (const [version, bin, kex] of clients) {
    it.skipIf(version === "10" && !sshd10.ok && !inCI)(`ssh ${version} (its defaults) authenticates with ${kex}`, async () => {
      if (version === "10" && !sshd10.ok) throw new Error(`OpenSSH 10 is required in CI: ${sshd10.reason}`);
      // The server offers no exec, so `true` is refused after login; the log shows the rest.
      const r = await runTool(bin, [
        "-v", "-F", "/dev/null", "-i", keyPath, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
        "-o", `UserKnownHostsFile=${knownHosts}`, "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes",
        "-p", String(server.port), "tester@127.0.0.1", "true",
      ]);
      expect(r.stderr).toContain(`kex: algorithm: ${kex}`);
      expect(r.stderr).toContain("kex: host key algorithm: ssh-ed25519");
      expect(r.stderr).toMatch(/kex: server->client cipher: chacha20-poly1305@openssh\.com/);
      expect(r.stderr).toContain("Authenticated to 127.0.0.1");
    });
  }
});

function runTool(cmd: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), 30_000);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}
