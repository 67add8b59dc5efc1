/**
 * OpenSSH certificates against the real sshd: user certificates accepted through
 * TrustedUserCAKeys (the certified keys are in no authorized_keys), host certificates
 * (HostCertificate) trusted through known_hosts @cert-authority lines, and the refusals —
 * expired user certificate, host certificate with a wrong principal, expired host certificate,
 * untrusted CA. How @cert-authority patterns match a non-default port is checked against
 * OpenSSH's own ssh client with the same known_hosts files.
 *
 * One sshd serves every case: an Include'd file adds four host keys, each with its own
 * certificate, and the client picks one by restricting its host key algorithms.
 */
import { spawnSync } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AuthError, HostKeyError } from "../src/errors.js";
import { connectSsh } from "../src/ssh/client.js";
import { keygen, type GeneratedKey } from "../test/keys/helpers.js";
import { issue } from "../test/keys/cert-helpers.js";
import { startSshd, type SshdServer } from "./sshd.js";
import { baseOptions, describeSshd, run } from "./helpers.js";

const CERT_ALGS = [
  "ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
  "ecdsa-sha2-nistp521-cert-v01@openssh.com", "rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com",
].join(",");

describeSshd("OpenSSH certificates", () => {
  let s: SshdServer;
  let dir: string;
  let userCa: GeneratedKey;
  let hostCa: GeneratedKey;
  const user: Record<string, GeneratedKey> = {};
  const certs: Record<string, string> = {};

  const line = (k: GeneratedKey) => k.publicLine.trim().split(" ").slice(0, 2).join(" ");
  const knownHosts = async (name: string, text: string) => {
    const f = join(dir, name);
    await writeFile(f, text);
    return f;
  };
  const hostPattern = () => `[127.0.0.1]:${s.port}`;
  /** The harness's known_hosts plus our own host keys (the Include'd keys come first for plain algorithms). */
  let plainKh: string;
  const myHostKeys: GeneratedKey[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cert-conf-"));
    await chmod(dir, 0o755);
    userCa = keygen(dir, "user_ca", ["-t", "rsa", "-b", "2048"]);
    hostCa = keygen(dir, "host_ca", ["-t", "ed25519"]);
    // User keys and certificates, for the test user's name as principal.
    for (const [name, args] of [["ed25519", ["-t", "ed25519"]], ["rsa", ["-t", "rsa", "-b", "2048"]], ["ecdsa", ["-t", "ecdsa", "-b", "256"]],
      ["expired", ["-t", "ed25519"]], ["other", ["-t", "ed25519"]]] as const) {
      user[name] = keygen(dir, `user_${name}`, [...args]);
    }
    const principal = "puresftp-test";
    certs.ed25519 = issue(user.ed25519!.path, { ca: userCa.path, id: "user-ed25519", principals: principal, validity: "-5m:+1h" });
    certs.rsa = issue(user.rsa!.path, { ca: userCa.path, id: "user-rsa", principals: principal, validity: "-5m:+1h" });
    certs.ecdsa = issue(user.ecdsa!.path, { ca: userCa.path, id: "user-ecdsa", principals: principal, validity: "-5m:+1h" });
    certs.expired = issue(user.expired!.path, { ca: userCa.path, id: "user-expired", principals: principal, validity: "20200101:20200102" });
    certs.other = issue(user.other!.path, { ca: userCa.path, id: "user-other", principals: "someone-else", validity: "-5m:+1h" });

    // Host keys, each with a certificate by the host CA.
    const hostKeys: [string, string[], { principals: string; validity: string }][] = [
      ["ed25519", ["-t", "ed25519"], { principals: "127.0.0.1", validity: "-5m:+1h" }],
      ["rsa", ["-t", "rsa", "-b", "2048"], { principals: "localhost,127.0.0.1", validity: "-5m:+1h" }],
      ["ecdsa256", ["-t", "ecdsa", "-b", "256"], { principals: "wrong.example", validity: "-5m:+1h" }],
      ["ecdsa384", ["-t", "ecdsa", "-b", "384"], { principals: "127.0.0.1", validity: "20200101:20200102" }],
    ];
    const include: string[] = [];
    for (const [name, args, o] of hostKeys) {
      const k = keygen(dir, `hk_${name}`, args);
      myHostKeys.push(k);
      issue(k.path, { ca: hostCa.path, id: `host-${name}`, host: true, ...o });
      include.push(`HostKey ${k.path}`, `HostCertificate ${k.path}-cert.pub`);
    }
    await writeFile(join(dir, "hostcerts.conf"), include.join("\n") + "\n");
    await writeFile(join(dir, "user_ca_keys"), userCa.publicLine);
    s = await startSshd({
      // DEBUG1: sshd then logs the public key algorithm of each publickey request.
      logLevel: "DEBUG1",
      extraConfig: [
        `Include ${join(dir, "hostcerts.conf")}`,
        `TrustedUserCAKeys ${join(dir, "user_ca_keys")}`,
        `HostKeyAlgorithms +${CERT_ALGS}`,
        `PubkeyAcceptedAlgorithms +${CERT_ALGS}`,
      ],
    });
    plainKh = await knownHosts("kh_plain", (await readFile(s.knownHostsPath, "utf8")) +
      myHostKeys.map((k) => `${hostPattern()} ${line(k)}\n`).join(""));
  });
  afterAll(async () => {
    await s?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const certLogin = (name: string, extra: Parameters<typeof baseOptions>[1] = {}) =>
    connectSsh(baseOptions(s, {
      password: undefined, privateKey: user[name]!.privateText, certificate: certs[name], hostKeys: { policy: "strict", knownHostsFile: plainKh }, ...extra,
    }));

  it.each(["ed25519", "rsa", "ecdsa"])("logs in with a %s user certificate through TrustedUserCAKeys", async (name) => {
    const c = await certLogin(name);
    const r = await run(c, "id -un");
    expect(new TextDecoder().decode(r.stdout).trim()).toBe("puresftp-test");
    await c.close();
    const log = await s.log();
    expect(log).toMatch(new RegExp(`Accepted publickey for puresftp-test .*-CERT .*ID user-${name} `));
    // The plain key alone is not authorized anywhere: the certificate did it.
    const plain = await connectSsh(baseOptions(s, {
      password: undefined, privateKey: user[name]!.privateText, hostKeys: { policy: "strict", knownHostsFile: plainKh },
    })).catch((e) => e);
    expect(plain).toBeInstanceOf(AuthError);
  });

  it("an RSA user certificate signs with rsa-sha2-512-cert-v01@openssh.com", async () => {
    const c = await certLogin("rsa");
    await c.close();
    const log = await s.log();
    expect(log).toMatch(/Accepted publickey for puresftp-test .*RSA-CERT .*ID user-rsa /);
    expect(log).toMatch(/pkalg rsa-sha2-512-cert-v01@openssh\.com pkblob RSA-CERT/);
    expect(log).not.toMatch(/pkalg (ssh-rsa|rsa-sha2-256)-cert-v01@openssh\.com/);
  });

  it("refuses an expired user certificate and one for another principal (AuthError)", async () => {
    for (const name of ["expired", "other"]) {
      const err = await certLogin(name).catch((e) => e);
      expect(err, name).toBeInstanceOf(AuthError);
      expect(err.methodsTried).toContain("publickey");
    }
    const log = await s.log();
    expect(log).toMatch(/[Ee]xpired/);
  });

  it("picks up <IdentityFile>-cert.pub automatically, as ssh does", async () => {
    const config = join(dir, "ssh_config");
    await writeFile(config, [
      "Host cert-alias",
      "  HostName 127.0.0.1",
      `  Port ${s.port}`,
      `  User ${s.username}`,
      `  IdentityFile ${user.ed25519!.path}`,
      `  UserKnownHostsFile ${plainKh}`,
      "  StrictHostKeyChecking yes",
      "",
    ].join("\n"));
    const c = await connectSsh({ host: "cert-alias", sshConfig: config, readyTimeoutMs: 30_000 });
    await c.close();
  });

  it("trusts a host certificate through @cert-authority [127.0.0.1]:PORT alone, offering certificate algorithms first", async () => {
    const kh = await knownHosts("kh_ca", `@cert-authority ${hostPattern()} ${line(hostCa)}\n`);
    const c = await connectSsh(baseOptions(s, { hostKeys: { policy: "strict", knownHostsFile: kh } }));
    expect(c.algorithms.serverHostKey).toBe("ssh-ed25519-cert-v01@openssh.com");
    expect(c.hostKey.type).toBe("ssh-ed25519-cert-v01@openssh.com");
    await c.close();
    for (const alg of ["rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com"]) {
      const r = await connectSsh(baseOptions(s, { hostKeys: { policy: "strict", knownHostsFile: kh }, algorithms: { serverHostKey: [alg] } }));
      expect(r.algorithms.serverHostKey).toBe(alg);
      expect(r.hostKey.type).toBe("ssh-rsa-cert-v01@openssh.com");
      await r.close();
    }
    // Host and user certificates together.
    const both = await certLogin("ed25519", { hostKeys: { policy: "strict", knownHostsFile: kh } });
    await both.close();
  });

  it("refuses a host certificate for another principal, an expired one, and one from an untrusted CA (HostKeyError)", async () => {
    const kh = await knownHosts("kh_ca2", `@cert-authority ${hostPattern()} ${line(hostCa)}\n`);
    const attempt = (alg: string, file = kh) =>
      connectSsh(baseOptions(s, { hostKeys: { policy: "strict", knownHostsFile: file }, algorithms: { serverHostKey: [alg] } })).catch((e) => e);
    const principal = await attempt("ecdsa-sha2-nistp256-cert-v01@openssh.com");
    expect(principal).toBeInstanceOf(HostKeyError);
    expect(principal.code).toBe("HOST_CERT_PRINCIPAL");
    expect(principal.message).toContain("wrong.example");
    const expired = await attempt("ecdsa-sha2-nistp384-cert-v01@openssh.com");
    expect(expired).toBeInstanceOf(HostKeyError);
    expect(expired.code).toBe("HOST_CERT_EXPIRED");
    const wrongCa = await knownHosts("kh_wrong_ca", `@cert-authority ${hostPattern()} ${line(userCa)}\n`);
    const untrusted = await attempt("ssh-ed25519-cert-v01@openssh.com", wrongCa);
    expect(untrusted).toBeInstanceOf(HostKeyError);
    expect(untrusted.code).toBe("HOST_CERT_UNTRUSTED_CA");
    const revoked = await knownHosts("kh_revoked", `@cert-authority * ${line(hostCa)}\n@revoked * ${line(hostCa)}\n`);
    expect((await attempt("ssh-ed25519-cert-v01@openssh.com", revoked)).code).toBe("HOST_KEY_REVOKED");
  });

  it("matches @cert-authority patterns for a non-default port exactly as OpenSSH's ssh does", async () => {
    const cases: { pattern: string; alg: string }[] = [
      { pattern: hostPattern(), alg: "ssh-ed25519-cert-v01@openssh.com" },
      { pattern: "*", alg: "ssh-ed25519-cert-v01@openssh.com" },
      // ssh retries CA lines "without port identifier": a bare-name line applies off port 22 too.
      { pattern: "127.0.0.1", alg: "ssh-ed25519-cert-v01@openssh.com" },
      { pattern: `[127.0.0.1]:${s.port + 1}`, alg: "ssh-ed25519-cert-v01@openssh.com" },
      { pattern: "127.0.0.2,localhost", alg: "ssh-ed25519-cert-v01@openssh.com" },
      { pattern: `[127.0.0.1]:${s.port}`, alg: "rsa-sha2-512-cert-v01@openssh.com" },
      { pattern: hostPattern(), alg: "ecdsa-sha2-nistp256-cert-v01@openssh.com" },
      { pattern: hostPattern(), alg: "ecdsa-sha2-nistp384-cert-v01@openssh.com" },
    ];
    const accepted: boolean[] = [];
    for (const [i, c] of cases.entries()) {
      const kh = await knownHosts(`kh_cmp_${i}`, `@cert-authority ${c.pattern} ${line(hostCa)}\n`);
      const ssh = spawnSync("ssh", [
        "-F", "/dev/null", "-p", String(s.port), "-l", s.username,
        "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${kh}`,
        "-o", "GlobalKnownHostsFile=/dev/null", "-o", "CheckHostIP=no", "-o", `HostKeyAlgorithms=${c.alg}`,
        "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-i", user.ed25519!.path,
        "-o", `CertificateFile=${user.ed25519!.path}-cert.pub`, "127.0.0.1", "true",
      ], { encoding: "utf8", timeout: 30_000 });
      const opensshAccepts = ssh.status === 0;
      if (!opensshAccepts) expect(ssh.stderr).toMatch(/Host key verification failed/);
      const ours = await connectSsh(baseOptions(s, { hostKeys: { policy: "strict", knownHostsFile: kh }, algorithms: { serverHostKey: [c.alg] } }))
        .then(async (conn) => (await conn.close(), true), (e) => (expect(e).toBeInstanceOf(HostKeyError), false));
      expect({ ...c, ours }, `ssh said: ${ssh.stderr}`).toEqual({ ...c, ours: opensshAccepts });
      accepted.push(ours);
    }
    expect(accepted).toEqual([true, true, true, false, false, true, false, false]);
  });
});
