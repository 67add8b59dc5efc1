/**
 * The OpenSSH clients against the embedded server: `sftp -b` in batch mode with strict host key
 * checking against our host key, public key auth from an authorized_keys text, every batch
 * command byte-identical on disk; `ssh … true` refused (exec is not offered); OpenSSH's own
 * rekeying; several host key and cipher choices. Binaries run with argument arrays, no shell.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, lstat, mkdir, readFile, readlink, rm, mkdtemp, writeFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeUnless, missingTools } from "../test/support/tools.js";
import { createSftpServer, type SftpServer } from "../src/sftp/server/index.js";
import { generateEd25519Key, parsePrivateKey, type PrivateKey } from "../src/ssh/keys/private-key.js";
import { publicKeyLine } from "../src/ssh/keys/public-key.js";

const describeClients = describeUnless(missingTools("/usr/bin/sftp", "/usr/bin/ssh", "/usr/bin/ssh-keygen"), "OpenSSH clients against the embedded server");

const USER = "tester";
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describeClients("OpenSSH sftp and ssh against the embedded server", () => {
  let dir: string;
  let root: string;
  let local: string;
  let keyPath: string;
  let knownHosts: string;
  let server: SftpServer;
  let ed: PrivateKey;
  let rsa: PrivateKey;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "openssh-vs-embedded-"));
    root = join(dir, "root");
    local = join(dir, "local");
    await mkdir(root);
    await mkdir(local);
    keyPath = join(dir, "id_ed25519");
    const gen = await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "tester", "-f", keyPath]);
    expect(gen.code).toBe(0);
    ed = generateEd25519Key("host");
    rsa = parsePrivateKey((await run("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-m", "PEM", "-f", join(dir, "host_rsa")]))
      .code === 0 ? await readFile(join(dir, "host_rsa"), "utf8") : "");
    server = await createSftpServer({
      hostKeys: [ed, rsa],
      root,
      authorizedKeys: `# the test user\nno-pty ${await readFile(`${keyPath}.pub`, "utf8")}`,
      limits: { authFailureDelayMs: 20 },
    });
    knownHosts = join(dir, "known_hosts");
    await writeFile(knownHosts, [ed, rsa].map((k) => `[127.0.0.1]:${server.port} ${publicKeyLine(k.publicKey)}\n`).join(""));
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  // ssh keeps the first value it reads for an option, so overrides go through these parameters.
  const common = (extra: string[] = [], hostsFile = knownHosts, identity = keyPath) => [
    "-o", `UserKnownHostsFile=${hostsFile}`, "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes",
    "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "-F", "/dev/null", "-i", identity, ...extra,
  ];

  async function batch(lines: string[], extra: string[] = []) {
    const file = join(dir, `batch-${Math.random().toString(36).slice(2)}`);
    await writeFile(file, lines.join("\n") + "\n");
    return run("sftp", ["-b", file, "-P", String(server.port), ...common(extra), `${USER}@127.0.0.1`]);
  }

  it("put, get, ls, mkdir, rename, chmod, symlink, rm, rmdir in batch mode, byte-identical", async () => {
    const data = crypto.getRandomValues(new Uint8Array(65536));
    const big = new Uint8Array(3 * 1024 * 1024 + 7);
    for (let o = 0; o < big.length; o += 65536) crypto.getRandomValues(big.subarray(o, Math.min(big.length, o + 65536)));
    await writeFile(join(local, "a.bin"), data);
    await writeFile(join(local, "big.bin"), big);
    const r = await batch([
      "mkdir d",
      `put ${join(local, "a.bin")} d/a.bin`,
      `put ${join(local, "big.bin")} d/big.bin`,
      "ls -l d",
      "rename d/a.bin d/b.bin",
      `get d/b.bin ${join(local, "b.bin")}`,
      `get d/big.bin ${join(local, "big.back")}`,
      "chmod 600 d/b.bin",
      "symlink b.bin d/link",
      "mkdir d/sub",
      "rmdir d/sub",
      "pwd",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/-rw-r--r--\s+1 .* 65536 .* a\.bin/);
    expect(r.stdout).toMatch(/Remote working directory: \//);
    expect(sha256(await readFile(join(local, "b.bin")))).toBe(sha256(data));
    expect(sha256(await readFile(join(local, "big.back")))).toBe(sha256(big));
    expect(sha256(await readFile(join(root, "d", "big.bin")))).toBe(sha256(big));
    expect((await lstat(join(root, "d", "b.bin"))).mode & 0o777).toBe(0o600);
    expect(await readlink(join(root, "d", "link"))).toBe("b.bin");
    expect((await readdir(join(root, "d"))).sort()).toEqual(["b.bin", "big.bin", "link"]);

    const cleanup = await batch(["rm d/link", "rm d/b.bin", "rm d/big.bin", "rmdir d", "ls"]);
    expect(cleanup.code).toBe(0);
    expect(await readdir(root)).toEqual([]);
  });

  for (const [what, extra] of [
    ["rsa-sha2-512 host key", ["-o", "HostKeyAlgorithms=rsa-sha2-512"]],
    ["rsa-sha2-256 host key, aes256-ctr + hmac-sha2-256-etm", ["-o", "HostKeyAlgorithms=rsa-sha2-256", "-c", "aes256-ctr", "-o", "MACs=hmac-sha2-256-etm@openssh.com"]],
    ["aes128-gcm, ecdh-sha2-nistp256", ["-c", "aes128-gcm@openssh.com", "-o", "KexAlgorithms=ecdh-sha2-nistp256"]],
    ["diffie-hellman-group-exchange-sha256", ["-o", "KexAlgorithms=diffie-hellman-group-exchange-sha256"]],
    ["OpenSSH rekeying every 256 KiB", ["-o", "RekeyLimit=256K"]],
  ] as const) {
    it(`works with ${what}`, { timeout: 60_000 }, async () => {
      const data = new Uint8Array(2 * 1024 * 1024);
      for (let o = 0; o < data.length; o += 65536) crypto.getRandomValues(data.subarray(o, o + 65536));
      const name = what.replace(/[^a-z0-9]+/gi, "_");
      await writeFile(join(local, name), data);
      const r = await batch([`put ${join(local, name)} ${name}`, `get ${name} ${join(local, name)}.back`, `rm ${name}`], [...extra]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(sha256(await readFile(join(local, `${name}.back`)))).toBe(sha256(data));
    });
  }

  it("refuses exec: `ssh … true` fails", async () => {
    const r = await run("ssh", ["-p", String(server.port), ...common(), `${USER}@127.0.0.1`, "true"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/exec request failed/);
  });

  it("refuses a shell, stdio forwarding (direct-tcpip) and remote forwarding (tcpip-forward)", async () => {
    const shell = await run("ssh", ["-p", String(server.port), "-T", ...common(), `${USER}@127.0.0.1`]);
    expect(shell.code).not.toBe(0);
    const direct = await run("ssh", ["-p", String(server.port), "-W", "127.0.0.1:9", ...common(), `${USER}@127.0.0.1`], 20_000);
    expect(direct.code).not.toBe(0);
    expect(direct.stderr).toMatch(/administratively prohibited|open failed|forwarding failed/);
    const remote = await run("ssh", ["-p", String(server.port), "-N", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:9",
      ...common(), `${USER}@127.0.0.1`], 20_000);
    expect(remote.code).not.toBe(0);
    expect(remote.stderr).toMatch(/remote port forwarding failed/i);
  });

  it("a key not in authorized_keys is refused", async () => {
    const other = join(dir, "other");
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    const r = await run("sftp", ["-b", "/dev/null", "-P", String(server.port), ...common([], knownHosts, other), `${USER}@127.0.0.1`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Permission denied/);
  });

  it("strict host key checking fails against a host key that is not ours", async () => {
    const wrong = join(dir, "wrong_known_hosts");
    await writeFile(wrong, `[127.0.0.1]:${server.port} ${publicKeyLine(generateEd25519Key().publicKey)}\n`);
    const r = await run("sftp", ["-b", "/dev/null", "-P", String(server.port), ...common(["-o", "HostKeyAlgorithms=ssh-ed25519"], wrong), `${USER}@127.0.0.1`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    await chmod(wrong, 0o600);
  });
});

describeClients("OpenSSH sftp with password and keyboard-interactive auth", () => {
  it("logs in through the authenticate callback with either method, and not with a wrong password", { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "openssh-pw-"));
    const hostKey = generateEd25519Key();
    const server = await createSftpServer({
      hostKeys: hostKey,
      root: dir,
      authMethods: ["password", "keyboard-interactive"],
      limits: { authFailureDelayMs: 20 },
      authenticate: async (r) => {
        if (r.method === "password") return r.username === USER && r.password === "s3cret";
        if (r.method !== "keyboard-interactive") return false;
        const [answer] = await r.prompt([{ prompt: "Password: ", echo: false }], { instructions: "embedded server" });
        return answer === "s3cret";
      },
    });
    try {
      const knownHosts = join(dir, "known_hosts");
      await writeFile(knownHosts, `[127.0.0.1]:${server.port} ${publicKeyLine(hostKey.publicKey)}\n`);
      // The password comes from an askpass program (a node script: no shell involved).
      const askpass = async (password: string) => {
        const file = join(dir, `askpass-${password}`);
        await writeFile(file, `#!${process.execPath}\nprocess.stdout.write(${JSON.stringify(password + "\n")});\n`);
        await chmod(file, 0o700);
        return file;
      };
      const attempt = async (method: string, password: string) => {
        const p = spawn("sftp", ["-P", String(server.port), "-F", "/dev/null", "-o", `UserKnownHostsFile=${knownHosts}`,
          "-o", "StrictHostKeyChecking=yes", "-o", `PreferredAuthentications=${method}`, "-o", "NumberOfPasswordPrompts=1",
          `${USER}@127.0.0.1`], { env: { ...process.env, SSH_ASKPASS: await askpass(password), SSH_ASKPASS_REQUIRE: "force" } });
        p.stdin.end("pwd\nbye\n");
        let out = "";
        p.stdout.on("data", (d: Buffer) => (out += d.toString()));
        p.stderr.on("data", (d: Buffer) => (out += d.toString()));
        const code = await new Promise<number | null>((resolve) => p.on("close", resolve));
        return { code, out };
      };
      for (const method of ["password", "keyboard-interactive"]) {
        const good = await attempt(method, "s3cret");
        expect(good.code).toBe(0);
        expect(good.out).toContain("Remote working directory: /");
        const bad = await attempt(method, "wrong");
        expect(bad.code).not.toBe(0);
        expect(bad.out).toMatch(/Permission denied/);
      }
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
