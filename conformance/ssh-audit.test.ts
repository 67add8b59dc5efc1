/**
 * ssh-audit (Debian's `ssh-audit` package, 2.5.0 on bookworm) judges what we offer, in both
 * roles: our embedded server (`ssh-audit -p PORT 127.0.0.1`) and our client (`ssh-audit -c`
 * listens, reads the client's KEXINIT and hangs up; the client's failed handshake is expected).
 *
 * - Defaults: no finding that OpenSSH's own defaults do not also get, measured against a stock
 *   sshd 9.2 (and 10 where installed) and the stock `ssh` clients, audited in the same run.
 * - "hardened": no finding at all, except that ssh-audit 2.5 predates mlkem768x25519-sha256 and
 *   the strict-kex markers (CVE-2023-48795) and calls them "unknown algorithm" — as it does for
 *   OpenSSH 9.2 (strict kex, patched in by Debian) and 10 (both).
 *
 * JSON output (-j) gives the lists ssh-audit saw, checked against what we meant to offer; 2.5's
 * JSON carries no findings, so those come from its batch output (-b), one line per note.
 * Skipped with a message when ssh-audit is missing, except in CI (CI=true), where that fails.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeUnless, inCI, missingTools } from "../test/support/tools.js";
import { HARDENED_ALGORITHMS, type AlgorithmOptions, type AlgorithmPreset } from "../src/ssh/algorithms.js";
import { connectSsh } from "../src/ssh/client.js";
import { DEFAULT_CIPHERS, DEFAULT_MACS, defaultCiphers } from "../src/ssh/crypto/algorithms.js";
import { DEFAULT_KEX } from "../src/ssh/kex/methods.js";
import { generateEd25519Key, parsePrivateKey } from "../src/ssh/keys/private-key.js";
import { HOST_KEY_ALGORITHMS } from "../src/ssh/keys/public-key.js";
import { startSshServer, type SshServer } from "../src/ssh/server/server.js";
import { VECTORS } from "../test/keys/fixtures.js";
import { openssh10Available, OPENSSH10_PREFIX, sshdAvailable, startSshd, type SshdServer } from "./sshd.js";

const auditVersion = (() => {
  const r = spawnSync("ssh-audit", ["-h"], { encoding: "utf8" });
  return r.error ? undefined : (/ssh-audit v(\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? "unknown version");
})();
const describeAudit = describeUnless(missingTools("ssh-audit"), "ssh-audit conformance");
const requireAudit = () => {
  if (auditVersion === undefined) throw new Error("ssh-audit is required in CI: apt-get install ssh-audit");
};

const sshd = sshdAvailable();
const sshd10 = openssh10Available();
const haveSsh = missingTools("ssh") === undefined;
if (!sshd.ok && !inCI) console.warn(`skipping the sshd baseline of the ssh-audit comparison: ${sshd.reason}`);
if (!haveSsh && !inCI) console.warn("skipping the ssh client baseline of the ssh-audit comparison: ssh not installed");

// The markers every KEXINIT of ours ends its kex list with (RFC 8308; OpenSSH PROTOCOL §1.10).
const EXT_INFO_S = "ext-info-s";
const EXT_INFO_C = "ext-info-c";
const STRICT_KEX_S = "kex-strict-s-v00@openssh.com";
const STRICT_KEX_C = "kex-strict-c-v00@openssh.com";
/** Names ssh-audit 2.5 does not know yet; "unknown algorithm" about them is no finding. */
const NEWER_THAN_SSH_AUDIT_2_5 = ["mlkem768x25519-sha256", STRICT_KEX_S, STRICT_KEX_C];

// ---------------------------------------------------------------------------------------------
// Running ssh-audit and reading its output

type Category = "kex" | "key" | "enc" | "mac";
const CATEGORIES: readonly Category[] = ["kex", "key", "enc", "mac"];

interface Finding { category: string; algorithm: string; level: "warn" | "fail"; note: string }
interface Audit {
  /** The lists ssh-audit saw, from its JSON output. */
  offered: Record<Category, string[]>;
  /** Every [warn] and [fail] note of the batch output, and (cve) lines as fails. */
  findings: Finding[];
  /** The batch output, for failure messages. */
  text: string;
}

const show = (f: Finding) => `(${f.category}) ${f.algorithm} -- [${f.level}] ${f.note}`;

/** Findings that are not about ssh-audit 2.5 being older than the algorithm. */
const real = (findings: Finding[]) =>
  findings.filter((f) => !(f.note === "unknown algorithm" && NEWER_THAN_SSH_AUDIT_2_5.includes(f.algorithm)));

function parseBatch(text: string): Finding[] {
  const findings: Finding[] = [];
  for (const line of text.split("\n").map((l) => l.trim())) {
    // "(kex) ecdh-sha2-nistp256 -- [fail] using weak elliptic curves", "(key) rsa-sha2-512 (3072-bit) -- [info] …"
    const m = /^\((\w+)\) (\S+)(?: \(\d+-bit\))? -- \[(warn|fail)\] (.*)$/.exec(line);
    if (m) findings.push({ category: m[1]!, algorithm: m[2]!, level: m[3] as "warn" | "fail", note: m[4]! });
    // "(cve) CVE-2018-15473 -- (CVSSv2: 5.3) enumerate usernames …" (from the banner's version)
    const cve = /^\(cve\) (\S+) -- (.*)$/.exec(line);
    if (cve) findings.push({ category: "cve", algorithm: cve[1]!, level: "fail", note: cve[2]! });
  }
  return findings;
}

function parseJson(text: string): Record<Category, string[]> {
  // Client mode may print "Warning: failed to listen on any IPv6 interfaces." first.
  const json = JSON.parse(text.slice(text.indexOf("{"))) as Record<string, unknown>;
  const names = (v: unknown) => ((v ?? []) as (string | { algorithm: string })[]).map((a) => (typeof a === "string" ? a : a.algorithm));
  return Object.fromEntries(CATEGORIES.map((c) => [c, names(json[c])])) as Record<Category, string[]>;
}

function runAudit(args: string[], whileRunning?: () => Promise<void>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("ssh-audit", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
    whileRunning?.().catch((e) => {
      child.kill("SIGKILL");
      reject(e);
    });
  });
}

/** Audits the SSH server on 127.0.0.1:port. */
async function auditServer(port: number): Promise<Audit> {
  const args = ["-n", "-p", String(port), "127.0.0.1"];
  const json = await runAudit(["-j", ...args]);
  const text = await runAudit(["-b", ...args]);
  return { offered: parseJson(json), findings: parseBatch(text), text };
}

/**
 * Audits a client: ssh-audit -c listens on `port` for one connection, and `connectOnce` must
 * connect, returning false when the port is not listening yet (it binds after starting).
 */
async function auditClient(connectOnce: (port: number) => Promise<boolean>): Promise<Audit> {
  const once = async (mode: string): Promise<string> => {
    const port = await freePort();
    return runAudit(["-c", "-t", "30", "-n", mode, "-p", String(port)], async () => {
      const deadline = Date.now() + 20_000;
      while (!(await connectOnce(port))) {
        if (Date.now() > deadline) throw new Error(`ssh-audit -c never listened on port ${port}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    });
  };
  const json = await once("-j");
  const text = await once("-b");
  return { offered: parseJson(json), findings: parseBatch(text), text };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "0.0.0.0", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Our client, once, against ssh-audit -c (the handshake fails when ssh-audit hangs up). */
const ourClient = (algorithms: AlgorithmOptions | AlgorithmPreset | undefined, dir: string) => async (port: number): Promise<boolean> => {
  try {
    const c = await connectSsh({
      host: "127.0.0.1", port, username: "audit", sshConfig: false, algorithms, readyTimeoutMs: 20_000,
      hostKeys: { fingerprints: ["SHA256:never-matches"], knownHostsFile: join(dir, "no-known-hosts") },
    });
    await c.close();
  } catch (e) {
    if ((e as { code?: string }).code === "CONNECTION_REFUSED") return false;
  }
  return true;
};

/** An OpenSSH `ssh` with its compiled-in defaults (no ssh_config), once, against ssh-audit -c. */
const opensshClient = (ssh: string) => async (port: number): Promise<boolean> => {
  const r = spawnSync(ssh, [
    "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
    "-o", "ConnectTimeout=20", "-p", String(port), "127.0.0.1", "true",
  ], { encoding: "utf8", timeout: 30_000 });
  return !/Connection refused/.test(r.stderr ?? "");
};

/** Our findings that none of the baselines has. */
function beyond(ours: Finding[], baselines: Finding[][]): string[] {
  const known = new Set(baselines.flat().map(show));
  return real(ours).map(show).filter((f) => !known.has(f));
}

type Side = { extInfo: string; strictKex: string; ciphers: () => Promise<readonly string[]> };
const SERVER: Side = { extInfo: EXT_INFO_S, strictKex: STRICT_KEX_S, ciphers: async () => DEFAULT_CIPHERS };
// The client's default order depends on the crypto backend (AES-GCM first on fast native AES).
const CLIENT: Side = { extInfo: EXT_INFO_C, strictKex: STRICT_KEX_C, ciphers: () => defaultCiphers("auto") };

/** Our defaults are offered, with no finding beyond the stock OpenSSH runs' (which have some). */
async function expectDefaultsNoWorseThanStock(audit: Audit, baselines: Finding[][], side: Side): Promise<void> {
  expect(audit.offered).toEqual({
    kex: [...DEFAULT_KEX, side.extInfo, side.strictKex],
    key: HOST_KEY_ALGORITHMS,
    enc: await side.ciphers(),
    mac: DEFAULT_MACS,
  });
  expect(beyond(audit.findings, baselines), audit.text).toEqual([]);
  // The baseline is not empty: the comparison means something.
  expect(baselines[0]!.some((f) => f.algorithm === "ecdh-sha2-nistp256" && f.level === "fail")).toBe(true);
}

/** The hardened preset is offered, with no finding but ssh-audit 2.5's "unknown algorithm". */
function expectHardenedClean(audit: Audit, side: Side): void {
  expect(audit.offered).toEqual({
    kex: [...HARDENED_ALGORITHMS.kex, side.extInfo, side.strictKex],
    key: HARDENED_ALGORITHMS.serverHostKey, // a server's ECDSA key is not offered
    enc: HARDENED_ALGORITHMS.cipher,
    mac: HARDENED_ALGORITHMS.mac,
  });
  expect(real(audit.findings).map(show), audit.text).toEqual([]);
  // The batch output was read: ssh-audit's remark about the strict-kex marker is there.
  expect(audit.findings.map(show)).toContain(`(kex) ${side.strictKex} -- [warn] unknown algorithm`);
}

// ---------------------------------------------------------------------------------------------

describeAudit(`ssh-audit ${auditVersion ?? "(missing)"} against our embedded server`, () => {
  const servers: SshServer[] = [];
  const sshds: SshdServer[] = [];
  beforeAll(requireAudit);
  afterAll(async () => {
    await Promise.all([...servers.map((s) => s.close()), ...sshds.map((s) => s.stop())]);
  });

  it.skipIf(!sshd.ok && !inCI)("defaults: no finding beyond those of OpenSSH sshd's defaults", async () => {
    if (!sshd.ok) throw new Error(`sshd is required in CI: ${sshd.reason}`);
    // Stock sshds with Debian's host key set plus the other ECDSA sizes; ours with the same keys.
    const stock = await startSshd({ serverDefaultAlgorithms: true });
    sshds.push(stock);
    const baselines = [(await auditServer(stock.port)).findings];
    if (sshd10.ok) {
      const stock10 = await startSshd({ serverDefaultAlgorithms: true, openssh: "10" });
      sshds.push(stock10);
      baselines.push((await auditServer(stock10.port)).findings);
    }
    const keys = await Promise.all(stock.hostKeys.map((k) => readFile(k.path, "utf8")));
    const ours = await startSshServer({ hostKeys: keys, subsystems: {} });
    servers.push(ours);
    await expectDefaultsNoWorseThanStock(await auditServer(ours.port), baselines, SERVER);
  });

  it('"hardened": no finding (only "unknown algorithm" for names newer than ssh-audit 2.5)', async () => {
    const ecdsa = readFileSync(join(VECTORS, "base", "ecdsa256"), "utf8");
    const rsa = parsePrivateKey(readFileSync(join(VECTORS, "base", "rsa2048"), "utf8"));
    const ours = await startSshServer({ hostKeys: [generateEd25519Key("audit"), ecdsa, rsa], subsystems: {}, algorithms: "hardened" });
    servers.push(ours);
    expectHardenedClean(await auditServer(ours.port), SERVER);
  });
});

describeAudit(`ssh-audit ${auditVersion ?? "(missing)"} -c against our client`, () => {
  let dir: string;
  beforeAll(async () => {
    requireAudit();
    dir = await mkdtemp(join(tmpdir(), "ssh-audit-"));
  });
  afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

  it.skipIf(!haveSsh && !inCI)("defaults: no finding beyond those of OpenSSH ssh's defaults", async () => {
    if (!haveSsh) throw new Error("ssh (openssh-client) is required in CI");
    const baselines = [(await auditClient(opensshClient("ssh"))).findings];
    if (sshd10.ok) baselines.push((await auditClient(opensshClient(join(OPENSSH10_PREFIX, "usr/bin/ssh")))).findings);
    await expectDefaultsNoWorseThanStock(await auditClient(ourClient(undefined, dir)), baselines, CLIENT);
  });

  it('"hardened": no finding (only "unknown algorithm" for names newer than ssh-audit 2.5)', async () => {
    expectHardenedClean(await auditClient(ourClient("hardened", dir)), CLIENT);
  });
});
