/**
 * Authentication against OpenSSH: every key file format × key type (encrypted ones included),
 * keyboard-interactive through PAM, ssh-agent, and ssh_config resolution.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AuthError, SshError } from "../src/errors.js";
import { connectSsh } from "../src/ssh/client.js";
import { FIXTURES, VECTORS } from "../test/keys/fixtures.js";
import { startSshd, type SshdServer } from "./sshd.js";
import { baseOptions, describeSshd, run } from "./helpers.js";

describeSshd("authentication against OpenSSH", () => {
  let s: SshdServer;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "auth-conf-"));
    await chmod(dir, 0o755);
    // Every fixture's public key, in a second authorized_keys the test user can read.
    const bases = [...new Set(FIXTURES.map((f) => f.base))];
    const lines = await Promise.all(bases.map((b) => readFile(join(VECTORS, "base", `${b}.pub`), "utf8")));
    await writeFile(join(dir, "authorized_keys"), lines.join(""), { mode: 0o644 });
    s = await startSshd({ extraConfig: ["UsePAM yes", `AuthorizedKeysFile .ssh/authorized_keys ${dir}/authorized_keys`] });
  });
  afterAll(async () => {
    await s?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const keyFixtures = FIXTURES.filter((f) => !f.error && ["openssh", "pem", "pkcs8", "ppk"].includes(f.format));

  it(`logs in with each of ${keyFixtures.length} key files (every format, encrypted or not)`, { timeout: 300_000 }, async () => {
    const failures: string[] = [];
    for (const f of keyFixtures) {
      try {
        const text = await readFile(join(VECTORS, f.file));
        const c = await connectSsh(baseOptions(s, { password: undefined, privateKey: text, passphrase: f.passphrase ?? undefined }));
        await c.close();
      } catch (e) {
        failures.push(`${f.file}: ${(e as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it("a wrong passphrase is a typed error before anything is sent", async () => {
    const enc = keyFixtures.find((f) => f.passphrase && f.format === "openssh")!;
    const err = await connectSsh(baseOptions(s, { privateKey: await readFile(join(VECTORS, enc.file)), passphrase: "nope" })).catch((e) => e);
    expect(err).toBeInstanceOf(SshError);
    expect(err.code).toBe("BAD_PASSPHRASE");
  });

  it("keyboard-interactive answers PAM's prompts through the callback", async () => {
    const seen: string[] = [];
    const c = await connectSsh(baseOptions(s, {
      password: undefined,
      keyboardInteractive: (prompts) => {
        seen.push(...prompts.map((p) => p.prompt));
        return prompts.map(() => s.password);
      },
    }));
    expect(seen.some((p) => /password/i.test(p))).toBe(true);
    await c.close();
  });

  it("a wrong password names the methods tried and allowed", async () => {
    const err = await connectSsh(baseOptions(s, { password: "wrong" })).catch((e) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect(err.methodsTried).toEqual(expect.arrayContaining(["keyboard-interactive", "password"]));
    expect(err.message).toMatch(/tried .*password/);
  });

  it("uses keys from a real ssh-agent", { timeout: 60_000 }, async () => {
    const sock = join(dir, "agent.sock");
    const agent: ChildProcess = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
    try {
      for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
      execFileSync("ssh-add", [s.clientKeyPaths.rsa], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: "ignore" });
      const c = await connectSsh(baseOptions(s, { password: undefined, agent: sock }));
      const r = await run(c, "echo agent");
      expect(new TextDecoder().decode(r.stdout)).toBe("agent\n");
      await c.close();
    } finally {
      agent.kill();
    }
  });

  it("resolves a Host alias through ssh_config (HostName, Port, User, IdentityFile, UserKnownHostsFile)", async () => {
    const config = join(dir, "config");
    await writeFile(config, [
      "Host studio-files",
      "  HostName 127.0.0.1",
      `  Port ${s.port}`,
      `  User ${s.username}`,
      `  IdentityFile ${s.clientKeyPaths.ed25519}`,
      `  UserKnownHostsFile ${s.knownHostsPath}`,
      "  StrictHostKeyChecking yes",
      "",
    ].join("\n"));
    const c = await connectSsh({ host: "studio-files", sshConfig: config });
    expect(c.username).toBe(s.username);
    await c.close();
  });
});
