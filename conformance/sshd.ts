/**
 * Real-OpenSSH test harness: starts a private `sshd` on 127.0.0.1 with fresh host keys, a
 * dedicated test user and fresh client keys, so conformance tests can run our client against
 * the real thing. Needs root (only root's sshd can log in as another user).
 *
 * Every binary is run with an argument array (execFile/spawn), never through a shell.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/** The test user's login name. */
export const TEST_USER = "puresftp-test";
/** The test user's password (set on every start, so it is always this). */
export const TEST_PASSWORD = "correct horse battery staple 42";

/** One host key the server offers. */
export interface HostKeyInfo {
  /** Key type as it appears on the wire, e.g. "ssh-ed25519", "ecdsa-sha2-nistp384", "ssh-rsa". */
  type: string;
  /** Private key file; the public key is `${path}.pub`. */
  path: string;
  /** The `.pub` line without its comment: "<type> <base64>". */
  publicKeyLine: string;
  /** "SHA256:…" as printed by `ssh-keygen -lf`. */
  fingerprint: string;
}

export type ClientKeyName = "ed25519" | "rsa" | "ecdsa";

export interface SshdServer {
  host: "127.0.0.1";
  port: number;
  username: string;
  password: string;
  /** The server's private temp dir (config, keys, log); removed by stop(). */
  dir: string;
  /** sshd's process id. */
  pid: number;
  /** Unencrypted client private keys (OpenSSH format text), all in authorized_keys. */
  clientKeys: Record<ClientKeyName, string>;
  /** Paths of the same private keys (public keys at `${path}.pub`). */
  clientKeyPaths: Record<ClientKeyName, string>;
  hostKeys: HostKeyInfo[];
  /** known_hosts listing every host key as `[127.0.0.1]:PORT <type> <base64>`. */
  knownHostsPath: string;
  /** sshd's log so far (its -E file). */
  log(): Promise<string>;
  /** Stops sshd (SIGTERM, SIGKILL after 2 s), waits for it, removes dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartSshdOptions {
  /**
   * sshd_config lines. A keyword we also set replaces our line (sshd keeps the FIRST value it
   * reads, so plain appending would be ignored); for the algorithm lists a value starting with
   * "+", "-" or "^" edits our full list instead. A `Match` line and all after it go last.
   */
  extraConfig?: string[];
  /** sshd LogLevel; default VERBOSE. */
  logLevel?: string;
  /**
   * Which OpenSSH to run: "system" (default: /usr/sbin/sshd, Debian's 9.2) or "10", the
   * private OpenSSH 10 that conformance/openssh10-install.sh unpacks into OPENSSH10_PREFIX
   * (default /opt/openssh10). See openssh10Available().
   */
  openssh?: OpensshVersion;
  /**
   * `Subsystem sftp`: "internal-sftp" (default) or "sftp-server", the sftp-server binary of the
   * chosen OpenSSH (the private tree's for "10"). An extraConfig `Subsystem` line still wins.
   */
  sftp?: "internal-sftp" | "sftp-server";
  /**
   * Leave KexAlgorithms, Ciphers, MACs, HostKeyAlgorithms and PubkeyAcceptedAlgorithms out of
   * the config, so the server offers its compiled-in defaults (for "what does a stock server
   * negotiate" tests). extraConfig lines for those keywords are then written as given.
   */
  serverDefaultAlgorithms?: boolean;
}

/** "system": the distribution's sshd (9.2 on bookworm); "10": the private OpenSSH 10 tree. */
export type OpensshVersion = "system" | "10";

// ---------------------------------------------------------------------------------------------
// Availability and algorithm discovery

/** Where openssh10-install.sh unpacks OpenSSH 10 (its usr/sbin/sshd, usr/bin/ssh, ...). */
export const OPENSSH10_PREFIX = process.env.OPENSSH10_PREFIX ?? "/opt/openssh10";

/** Binaries of one OpenSSH install: sshd (absolute: it re-execs by argv[0]), ssh, sftp-server. */
interface OpensshPaths {
  sshd: string;
  ssh: string;
  sftpServer: string;
  /** Config this build needs (OpenSSH 10's split sshd binaries live in the private tree). */
  config: [string, string][];
}

function opensshPaths(version: OpensshVersion): OpensshPaths | undefined {
  if (version === "system") {
    const sshd = findSshd();
    return sshd === undefined ? undefined : { sshd, ssh: "ssh", sftpServer: "/usr/lib/openssh/sftp-server", config: [] };
  }
  const lib = path.join(OPENSSH10_PREFIX, "usr/lib/openssh");
  return {
    sshd: path.join(OPENSSH10_PREFIX, "usr/sbin/sshd"),
    ssh: path.join(OPENSSH10_PREFIX, "usr/bin/ssh"),
    sftpServer: path.join(lib, "sftp-server"),
    config: [
      // sshd 10 execs these for each connection; the compiled-in /usr/lib/openssh ones are 9.2's
      // (or absent).
      ["SshdSessionPath", path.join(lib, "sshd-session")],
      ["SshdAuthPath", path.join(lib, "sshd-auth")],
      // 9.8+ penalises a source address for failed or unfinished logins by refusing its
      // connections for a while; every test connects from 127.0.0.1, and several tests fail
      // logins on purpose, so the penalties would make unrelated tests flaky.
      ["PerSourcePenalties", "no"],
    ],
  };
}

/** The sftp-server binary of an OpenSSH install (for `Subsystem sftp`). */
export function sftpServerPath(version: OpensshVersion = "system"): string {
  const p = opensshPaths(version);
  if (!p) throw new Error(`no OpenSSH ${version}`);
  return p.sftpServer;
}

let openssh10Cache: { ok: true } | { ok: false; reason: string } | undefined;

/**
 * Whether the private OpenSSH 10 can run here, and if not why. Checks root, the unpacked tree,
 * that its ssh and sshd start (shared libraries present: sshd 10 links libwrap0) and report
 * 10.x, and the `sshd` privilege-separation user.
 */
export function openssh10Available(): { ok: true } | { ok: false; reason: string } {
  return (openssh10Cache ??= (() => {
    const install = "run `bash conformance/openssh10-install.sh` as root";
    if (process.getuid?.() !== 0) {
      return { ok: false as const, reason: "not root: conformance needs root to run sshd for a test user" };
    }
    const lib = path.join(OPENSSH10_PREFIX, "usr/lib/openssh");
    const p = opensshPaths("10")!;
    for (const f of [p.sshd, p.ssh, p.sftpServer, path.join(lib, "sshd-session"), path.join(lib, "sshd-auth")]) {
      if (!existsSync(f)) return { ok: false as const, reason: `OpenSSH 10 not installed (${f} missing): ${install}` };
    }
    for (const bin of [p.ssh, p.sshd]) {
      // Both print their version on stderr (sshd -V exists since 9.x). A missing shared
      // library (sshd 10 links libwrap0) shows up here as a loader error.
      const r = spawnSync(bin, ["-V"], { encoding: "utf8" });
      const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
      if (!/OpenSSH_10\./.test(out)) {
        return { ok: false as const, reason: `${bin} -V does not report OpenSSH 10 (${out || r.error?.message}): ${install}` };
      }
    }
    if (spawnSync("getent", ["passwd", "sshd"]).status !== 0) {
      return { ok: false as const, reason: `no \`sshd\` privilege-separation user: ${install}` };
    }
    return { ok: true as const };
  })());
}

function findSshd(): string | undefined {
  const candidates = ["/usr/sbin/sshd"];
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (path.isAbsolute(dir)) candidates.push(path.join(dir, "sshd"));
  }
  // sshd re-execs itself by argv[0], so it must be started by absolute path.
  return candidates.find((p) => existsSync(p));
}

/** Whether this machine can run the harness, and if not why. */
export function sshdAvailable(): { ok: true } | { ok: false; reason: string } {
  if (findSshd() === undefined) {
    return { ok: false, reason: "sshd not found: apt-get install openssh-server" };
  }
  if (process.getuid?.() !== 0) {
    return { ok: false, reason: "not root: conformance needs root to run sshd for a test user" };
  }
  return { ok: true };
}

export interface SupportedAlgorithms {
  kex: string[];
  cipher: string[];
  mac: string[];
  /** Key types (`ssh -Q key`). */
  key: string[];
  /** Signature algorithms (`ssh -Q sig`), e.g. rsa-sha2-256, which `key` does not list. */
  sig: string[];
}

const supportedCache = new Map<OpensshVersion, SupportedAlgorithms>();

/**
 * What an OpenSSH supports, from its own `ssh -Q …` (cached): the system's by default, the
 * private OpenSSH 10 client for "10" (same build as its sshd, so the same algorithm tables).
 */
export function supportedAlgorithms(openssh: OpensshVersion = "system"): SupportedAlgorithms {
  let sup = supportedCache.get(openssh);
  if (!sup) {
    const ssh = opensshPaths(openssh)?.ssh ?? "ssh";
    const q = (what: string): string[] =>
      execFileSync(ssh, ["-Q", what], { encoding: "utf8" }).split("\n").filter(Boolean);
    sup = { kex: q("kex"), cipher: q("cipher"), mac: q("mac"), key: q("key"), sig: q("sig") };
    supportedCache.set(openssh, sup);
  }
  return sup;
}

// Everything our client may test is enabled on the server, so a test picks an algorithm by
// restricting the client side. Filtered to what this OpenSSH knows, else `sshd -t` rejects it.
const WANTED_KEX = [
  "curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384",
  "ecdh-sha2-nistp521", "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
  "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1",
  "diffie-hellman-group1-sha1", "sntrup761x25519-sha512@openssh.com", "mlkem768x25519-sha256",
];
const WANTED_CIPHERS = [
  "chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
  "aes128-ctr", "aes192-ctr", "aes256-ctr",
];
const WANTED_MACS = [
  "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1", "hmac-sha2-256-etm@openssh.com",
  "hmac-sha2-512-etm@openssh.com", "hmac-sha1-etm@openssh.com",
];
const WANTED_SIGS = [
  "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
  "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa",
];

// ---------------------------------------------------------------------------------------------
// Small process helpers

interface RunResult { code: number | null; stdout: string; stderr: string }

/** Runs a binary (no shell), optionally feeding stdin; never rejects on a non-zero exit. */
function run(cmd: string, args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    // A child that exits without reading stdin must not crash us with EPIPE.
    child.stdin?.on("error", () => {});
    child.stdin?.end(input);
  });
}

async function runOk(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await run(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The shared test user. Several vitest workers may start servers at once, and useradd,
// chpasswd and our authorized_keys rewrite must not interleave: a cross-process lock
// (mkdir is atomic) serialises them.

const LOCK_DIR = path.join(os.tmpdir(), "puresftp-sshd-user.lock");

async function withUserLock<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await fs.mkdir(LOCK_DIR);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      // A holder that died leaves the lock behind; nothing holds it for 30 s legitimately.
      const age = Date.now() - (await fs.stat(LOCK_DIR).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 30_000) await fs.rm(LOCK_DIR, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${LOCK_DIR}`);
      await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(LOCK_DIR, { recursive: true, force: true });
  }
}

interface TestUser { uid: number; gid: number; home: string }

async function ensureTestUser(): Promise<TestUser> {
  if ((await run("id", ["-u", TEST_USER])).code !== 0) {
    const r = await run("useradd", ["-m", "-s", "/bin/sh", TEST_USER]);
    // Exit 9 = already exists (e.g. made by a process outside our lock).
    if (r.code !== 0 && r.code !== 9) throw new Error(`useradd failed: ${r.stderr.trim()}`);
  }
  // useradd leaves the password locked ("!"), and with UsePAM no sshd refuses locked accounts
  // for every method, pubkey included; setting it each time also pins it to TEST_PASSWORD.
  await runOk("chpasswd", [], `${TEST_USER}:${TEST_PASSWORD}\n`);
  const uid = Number((await runOk("id", ["-u", TEST_USER])).trim());
  const gid = Number((await runOk("id", ["-g", TEST_USER])).trim());
  const home = (await runOk("getent", ["passwd", TEST_USER])).trim().split(":")[5];
  if (!home) throw new Error(`no home directory for ${TEST_USER}`);
  return { uid, gid, home };
}

// Each server's client keys carry the comment `${KEY_TAG}<its dir>`, so any server can drop
// the lines of servers whose dir is gone (stopped, or crashed without cleaning up).
const KEY_TAG = "puresftp-sshd:";

/** Rewrites ~/.ssh/authorized_keys: adds `add`, drops tagged lines of vanished servers. */
async function updateAuthorizedKeys(user: TestUser, add: string[]): Promise<void> {
  const sshDir = path.join(user.home, ".ssh");
  const file = path.join(sshDir, "authorized_keys");
  await fs.mkdir(sshDir, { recursive: true, mode: 0o700 });
  await fs.chmod(sshDir, 0o700);
  await fs.chown(sshDir, user.uid, user.gid);
  const old = await fs.readFile(file, "utf8").catch(() => "");
  const keep = old.split("\n").filter((line) => {
    const tag = line.split(" ").find((w) => w.startsWith(KEY_TAG));
    return line.trim() !== "" && (tag === undefined || existsSync(tag.slice(KEY_TAG.length)));
  });
  // Write then rename: another worker's sshd may be reading the file right now.
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, [...keep, ...add.map((l) => l.trim())].join("\n") + "\n", { mode: 0o600 });
  await fs.chown(tmp, user.uid, user.gid);
  await fs.rename(tmp, file);
}

// ---------------------------------------------------------------------------------------------
// Keys

const HOST_KEY_SPECS: { name: string; args: string[] }[] = [
  { name: "ed25519", args: ["-t", "ed25519"] },
  { name: "ecdsa256", args: ["-t", "ecdsa", "-b", "256"] },
  { name: "ecdsa384", args: ["-t", "ecdsa", "-b", "384"] },
  { name: "ecdsa521", args: ["-t", "ecdsa", "-b", "521"] },
  { name: "rsa", args: ["-t", "rsa", "-b", "3072"] },
];
const CLIENT_KEY_SPECS: { name: ClientKeyName; args: string[] }[] = [
  { name: "ed25519", args: ["-t", "ed25519"] },
  { name: "rsa", args: ["-t", "rsa", "-b", "3072"] },
  { name: "ecdsa", args: ["-t", "ecdsa", "-b", "256"] },
];

async function keygen(file: string, typeArgs: string[], comment: string): Promise<void> {
  await runOk("ssh-keygen", ["-q", "-N", "", ...typeArgs, "-C", comment, "-f", file]);
}

async function describeHostKey(file: string): Promise<HostKeyInfo> {
  const [type, b64] = (await fs.readFile(`${file}.pub`, "utf8")).trim().split(/\s+/);
  const fingerprint = (await runOk("ssh-keygen", ["-lf", `${file}.pub`])).split(/\s+/)[1];
  if (!type || !b64 || !fingerprint?.startsWith("SHA256:")) throw new Error(`bad host key ${file}`);
  return { type, path: file, publicKeyLine: `${type} ${b64}`, fingerprint };
}

// ---------------------------------------------------------------------------------------------
// Config

const LIST_KEYWORDS = new Set(["kexalgorithms", "ciphers", "macs", "hostkeyalgorithms", "pubkeyacceptedalgorithms"]);

/** Applies sshd's "+a,b" / "-a*,b" / "^a,b" list edits to `base`. */
function editList(base: string, edit: string): string {
  const items = edit.slice(1).split(",");
  const list = base.split(",");
  if (edit.startsWith("+")) return [...list, ...items.filter((i) => !list.includes(i))].join(",");
  if (edit.startsWith("^")) return [...items, ...list.filter((i) => !items.includes(i))].join(",");
  const patterns = items.map((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`));
  return list.filter((i) => !patterns.some((re) => re.test(i))).join(",");
}

function buildConfig(dir: string, port: number, hostKeys: string[], options: StartSshdOptions, paths: OpensshPaths): string {
  const sup = supportedAlgorithms(options.openssh);
  const only = (wanted: string[], have: string[]) => wanted.filter((a) => have.includes(a)).join(",");
  const sigs = only(WANTED_SIGS, sup.sig);
  let ours: [string, string][] = [
    ["Port", String(port)],
    ["ListenAddress", "127.0.0.1"],
    ...hostKeys.map((k): [string, string] => ["HostKey", k]),
    ["PidFile", path.join(dir, "sshd.pid")],
    ["AuthorizedKeysFile", ".ssh/authorized_keys"],
    ["PasswordAuthentication", "yes"],
    // Without PAM, Linux sshd has no keyboard-interactive device: the method is offered but
    // always fails. Tests of keyboard-interactive need extraConfig ["UsePAM yes"].
    ["KbdInteractiveAuthentication", "yes"],
    ["PubkeyAuthentication", "yes"],
    // UsePAM no: password auth reads /etc/shadow directly, and the session skips PAM modules
    // (pam_loginuid etc.) that can fail in containers.
    ["UsePAM", "no"],
    ["PermitRootLogin", "no"],
    // The temp dir and test home need not pass sshd's ownership checks.
    ["StrictModes", "no"],
    ["Subsystem", `sftp ${options.sftp === "sftp-server" ? paths.sftpServer : "internal-sftp"}`],
    ["LogLevel", options.logLevel ?? "VERBOSE"],
    // Tests open many connections and sessions at once; defaults (10:30:100, 10) drop some.
    ["MaxStartups", "100:30:200"],
    ["MaxSessions", "100"],
    ["AllowUsers", TEST_USER],
    ["KexAlgorithms", only(WANTED_KEX, sup.kex)],
    ["Ciphers", only(WANTED_CIPHERS, sup.cipher)],
    ["MACs", only(WANTED_MACS, sup.mac)],
    ["HostKeyAlgorithms", sigs],
    ["PubkeyAcceptedAlgorithms", sigs],
    ...paths.config.map(([k, v]): [string, string] => [k, v]),
  ];
  ours = ours.filter(([k]) => !(options.serverDefaultAlgorithms && LIST_KEYWORDS.has(k.toLowerCase())));
  const extra = options.extraConfig ?? [];
  const matchAt = extra.findIndex((l) => /^\s*match\s/i.test(l));
  const head = matchAt < 0 ? extra : extra.slice(0, matchAt);
  const tail = matchAt < 0 ? [] : extra.slice(matchAt);
  const others: string[] = [];
  for (const line of head) {
    const m = /^\s*(\S+)\s+(.*?)\s*$/.exec(line);
    const key = m?.[1]?.toLowerCase();
    const hits = ours.filter(([k]) => k.toLowerCase() === key);
    if (!m || hits.length === 0) { others.push(line); continue; }
    const value = m[2] ?? "";
    for (const hit of hits) {
      hit[1] = LIST_KEYWORDS.has(key!) && /^[+\-^]/.test(value) ? editList(hit[1], value) : value;
    }
  }
  // Remove duplicates a replaced multi-valued keyword (HostKey) would leave behind.
  const seen = new Set<string>();
  const lines = ours
    .map(([k, v]) => `${k} ${v}`)
    .filter((l) => (seen.has(l) ? false : (seen.add(l), true)));
  return [...others, ...lines, ...tail].join("\n") + "\n";
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    sock.once("connect", () => { sock.destroy(); resolve(true); });
    sock.once("error", () => resolve(false));
  });
}

// ---------------------------------------------------------------------------------------------
// Process lifetime: whatever happens to the test, no sshd outlives this process.

const live = new Map<number, { child: ChildProcess; dir: string }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const [pid, { dir }] of live) {
      try { process.kill(pid, "SIGKILL"); } catch { /* already gone */ }
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once("exit", () => { clearTimeout(t); resolve(true); });
  });
}

async function readLogs(dir: string): Promise<string> {
  const read = (f: string) => fs.readFile(path.join(dir, f), "utf8").catch(() => "");
  return (await read("sshd.log")) + (await read("sshd.stderr"));
}

/** Starts sshd and waits until it is ready; returns its pid, or throws with its logs. */
async function launch(sshd: string, dir: string, config: string, port: number): Promise<ChildProcess> {
  const stderr = await fs.open(path.join(dir, "sshd.stderr"), "w");
  const child = spawn(sshd, ["-D", "-e", "-f", config, "-E", path.join(dir, "sshd.log")], {
    stdio: ["ignore", "ignore", stderr.fd],
  });
  await stderr.close();
  // Don't let a forgotten stop() keep the test worker alive; the exit hook still kills it.
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn ${sshd}`);
  live.set(pid, { child, dir });
  child.once("exit", () => live.delete(pid));
  // Ready = OUR pid file written (sshd writes it after binding; another sshd may hold the
  // port if two workers drew the same one) and the port accepts connections.
  const pidFile = path.join(dir, "sshd.pid");
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !exited(child)) {
    const written = (await fs.readFile(pidFile, "utf8").catch(() => "")).trim();
    if (written === String(pid) && (await canConnect(port))) return child;
    await sleep(50);
  }
  const why = exited(child) ? `exited (${child.exitCode ?? child.signalCode})` : "not ready after 10 s";
  try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
  await waitExit(child, 2000);
  throw new Error(`sshd ${why} on port ${port}:\n${await readLogs(dir)}`);
}

// ---------------------------------------------------------------------------------------------

/** Starts a private sshd for tests. Call stop() when done (afterAll). */
export async function startSshd(options: StartSshdOptions = {}): Promise<SshdServer> {
  const openssh = options.openssh ?? "system";
  const avail = openssh === "10" ? openssh10Available() : sshdAvailable();
  if (!avail.ok) throw new Error(avail.reason);
  const paths = opensshPaths(openssh)!;
  const sshd = paths.sshd;
  installExitHook();

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "puresftp-sshd-"));
  try {
    // sshd refuses to start without its privilege-separation dir; the package makes it at
    // boot through systemd, which containers don't run.
    await fs.mkdir("/run/sshd", { recursive: true, mode: 0o755 });

    const hostKeyPaths = HOST_KEY_SPECS.map((s) => path.join(dir, `ssh_host_${s.name}_key`));
    const clientKeyPaths = Object.fromEntries(
      CLIENT_KEY_SPECS.map((s) => [s.name, path.join(dir, `client_${s.name}_key`)]),
    ) as Record<ClientKeyName, string>;
    const [, user] = await Promise.all([
      Promise.all([
        ...HOST_KEY_SPECS.map((s, i) => keygen(hostKeyPaths[i]!, s.args, `host@${dir}`)),
        ...CLIENT_KEY_SPECS.map((s) => keygen(clientKeyPaths[s.name], s.args, `${KEY_TAG}${dir}`)),
      ]),
      withUserLock(ensureTestUser),
    ]);
    const hostKeys = await Promise.all(hostKeyPaths.map(describeHostKey));
    const pubs = await Promise.all(CLIENT_KEY_SPECS.map((s) => fs.readFile(`${clientKeyPaths[s.name]}.pub`, "utf8")));
    await withUserLock(() => updateAuthorizedKeys(user, pubs));
    const clientKeys = Object.fromEntries(
      await Promise.all(CLIENT_KEY_SPECS.map(async (s) => [s.name, await fs.readFile(clientKeyPaths[s.name], "utf8")])),
    ) as Record<ClientKeyName, string>;

    // A port drawn from the kernel can still be taken before sshd binds it: retry on that.
    const configPath = path.join(dir, "sshd_config");
    let child: ChildProcess | undefined;
    let port = 0;
    for (let attempt = 1; !child; attempt++) {
      port = await freePort();
      await fs.writeFile(configPath, buildConfig(dir, port, hostKeyPaths, options, paths));
      const check = await run(sshd, ["-t", "-f", configPath]);
      if (check.code !== 0) {
        throw new Error(`sshd -t rejected the config:\n${check.stderr}\n--- ${configPath}:\n${await fs.readFile(configPath, "utf8")}`);
      }
      try {
        child = await launch(sshd, dir, configPath, port);
      } catch (e) {
        if (attempt >= 3 || !/Address already in use|Cannot bind/i.test(String(e))) throw e;
        await fs.rm(path.join(dir, "sshd.log"), { force: true });
      }
    }

    const knownHostsPath = path.join(dir, "known_hosts");
    await fs.writeFile(knownHostsPath, hostKeys.map((k) => `[127.0.0.1]:${port} ${k.publicKeyLine}\n`).join(""));

    const running = child;
    let stopping: Promise<void> | undefined;
    return {
      host: "127.0.0.1",
      port,
      username: TEST_USER,
      password: TEST_PASSWORD,
      dir,
      pid: running.pid!,
      clientKeys,
      clientKeyPaths,
      hostKeys,
      knownHostsPath,
      log: () => readLogs(dir),
      stop: () =>
        (stopping ??= (async () => {
          if (!exited(running)) {
            running.kill("SIGTERM");
            if (!(await waitExit(running, 2000))) {
              running.kill("SIGKILL");
              await waitExit(running, 5000);
            }
          }
          await fs.rm(dir, { recursive: true, force: true });
          // Our dir is gone, so this drops our keys from authorized_keys.
          await withUserLock(() => updateAuthorizedKeys(user, []));
        })()),
    };
  } catch (e) {
    await fs.rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** For tests: is a process with this pid still running? */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

