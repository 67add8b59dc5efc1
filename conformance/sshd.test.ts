/**
 * Checks the harness itself with the real OpenSSH client: if these fail, every other
 * conformance failure is suspect. Skipped where sshd can't run, except in CI, which must.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeUnless } from "../test/support/tools.js";
import { processAlive, sshdAvailable, startSshd, supportedAlgorithms, type SshdServer } from "./sshd.js";

const avail = sshdAvailable();

/** Runs a binary with an argument array (no shell); resolves with its exit code and output. */
function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}) {
  return new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const stdin = opts.input === undefined ? "ignore" : "pipe";
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: [stdin, "pipe", "pipe"] });
    let out = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
    child.stdin?.on("error", () => {}); // exited without reading: not our failure
    child.stdin?.end(opts.input);
  });
}

/** Options that make `ssh` depend on nothing but the server under test. */
function sshOpts(s: SshdServer, extra: string[] = []): string[] {
  return [
    "-F", "/dev/null", // no user/system ssh_config
    "-o", `UserKnownHostsFile=${s.knownHostsPath}`,
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "StrictHostKeyChecking=yes", // so a wrong known_hosts fails the test
    "-o", "IdentityAgent=none",
    "-o", "IdentitiesOnly=yes",
    "-o", "ConnectTimeout=10",
    ...extra,
  ];
}

const sshWithKey = (s: SshdServer, key: string, extra: string[] = []) =>
  run("ssh", [...sshOpts(s, ["-o", "BatchMode=yes", "-i", key, ...extra]), "-p", String(s.port), `${s.username}@${s.host}`, "true"]);

describeUnless(avail.ok ? undefined : avail.reason, "the sshd harness self-test")("sshd harness (real OpenSSH)", () => {
  let server: SshdServer;

  beforeAll(async () => {
    // In CI an unavailable sshd is a failure, not a skip.
    if (!avail.ok) throw new Error(avail.reason);
    server = await startSshd();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("accepts every client key with the host key in known_hosts", async () => {
    for (const key of Object.values(server.clientKeyPaths)) {
      const r = await sshWithKey(server, key);
      expect(r.out).toBe("");
      expect(r.code).toBe(0);
    }
    expect(await server.log()).toMatch(/Accepted publickey for puresftp-test/);
  });

  it("offers every host key, each listed in known_hosts", async () => {
    expect(server.hostKeys.map((k) => k.type).sort()).toEqual(
      ["ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-ed25519", "ssh-rsa"],
    );
    for (const k of server.hostKeys) {
      expect(k.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      const alg = k.type === "ssh-rsa" ? "rsa-sha2-512" : k.type;
      const r = await sshWithKey(server, server.clientKeyPaths.ed25519, ["-o", `HostKeyAlgorithms=${alg}`]);
      expect(r.code, r.out).toBe(0);
    }
  });

  it("accepts the password without sshpass (SSH_ASKPASS, UsePAM no)", async () => {
    // ssh reads passwords from a tty or, with SSH_ASKPASS_REQUIRE=force, from this program.
    const askpass = path.join(server.dir, "askpass.sh");
    await fs.writeFile(askpass, '#!/bin/sh\nprintf "%s\\n" "$PURESFTP_TEST_PASSWORD"\n', { mode: 0o700 });
    const env = { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force", PURESFTP_TEST_PASSWORD: server.password };
    const args = sshOpts(server, ["-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1"]);
    const ok = await run("ssh", [...args, "-p", String(server.port), `${server.username}@${server.host}`, "true"], { env });
    expect(ok.code, ok.out).toBe(0);
    const bad = await run("ssh", [...args, "-p", String(server.port), `${server.username}@${server.host}`, "true"], {
      env: { ...env, PURESFTP_TEST_PASSWORD: "wrong" },
    });
    expect(bad.code).not.toBe(0);
  });

  it("serves the sftp subsystem", async () => {
    const r = await run("sftp", [...sshOpts(server, ["-i", server.clientKeyPaths.ed25519]), "-b", "-", "-P", String(server.port), `${server.username}@${server.host}`], {
      input: "pwd\n",
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/Remote working directory: \/home\/puresftp-test/);
  });

  it("reports what this OpenSSH supports", () => {
    const sup = supportedAlgorithms();
    expect(sup.kex).toContain("curve25519-sha256");
    expect(sup.cipher).toContain("chacha20-poly1305@openssh.com");
    expect(sup.mac).toContain("hmac-sha2-256-etm@openssh.com");
    expect(sup.key).toContain("ssh-ed25519");
    expect(sup.sig).toContain("rsa-sha2-512");
  });

  it("applies extraConfig over the defaults, and stop() leaves nothing behind", async () => {
    const restricted = await startSshd({
      extraConfig: ["Ciphers aes128-ctr", "KexAlgorithms -curve25519*,sntrup761*"],
      logLevel: "DEBUG1",
    });
    try {
      const key = restricted.clientKeyPaths.ed25519;
      expect((await sshWithKey(restricted, key, ["-c", "aes128-ctr"])).code).toBe(0);
      expect((await sshWithKey(restricted, key, ["-c", "aes256-ctr"])).code).not.toBe(0);
      expect((await sshWithKey(restricted, key, ["-o", "KexAlgorithms=curve25519-sha256"])).code).not.toBe(0);
      expect((await sshWithKey(restricted, key, ["-o", "KexAlgorithms=ecdh-sha2-nistp256"])).code).toBe(0);
      expect(await restricted.log()).toMatch(/debug1:/);
    } finally {
      await restricted.stop();
    }
    expect(processAlive(restricted.pid)).toBe(false);
    expect(existsSync(restricted.dir)).toBe(false);
    // The first server still works: stopping one server removed only its own keys.
    expect((await sshWithKey(server, server.clientKeyPaths.rsa)).code).toBe(0);
  });
});
