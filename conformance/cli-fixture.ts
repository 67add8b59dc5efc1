/**
 * The shared setup of the CLI conformance suites (cli.test.ts, cli-pty.test.ts): one OpenSSH
 * sshd, an SFTP client for preparing files, a private HOME and local scratch directory, a
 * remote scratch directory, and the CLI run as a subprocess (tsx src/cli/main.ts, argument
 * arrays, no shell) with stdin closed.
 *
 * Each run gets HOME set to a private directory, so the user's own ~/.ssh is never read.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes as nodeRandomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { toolPath } from "../test/support/tools.js";
import { connect } from "../src/connect.js";
import type { SftpClient } from "../src/sftp/client.js";
import { baseOptions } from "./helpers.js";
import { startSshd, type SshdServer } from "./sshd.js";

export const ROOT = resolve(import.meta.dirname, "..");
export const MAIN = join(ROOT, "src/cli/main.ts");
/** `npx tsx`, resolved once: npx itself only finds the project's tsx when run inside the project, and runs happen in a scratch dir. */
export const TSX = join(ROOT, "node_modules/.bin/tsx");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
export const randomBytes = (n: number) => new Uint8Array(nodeRandomBytes(n));

export const has = (tool: string): boolean => toolPath(tool) !== undefined;

/** Quotes a word for sh (only used on fixed test paths). */
export const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** What a suite's tests use; the state is set by the fixture's beforeAll. */
export interface CliFixture {
  s: SshdServer;
  admin: SftpClient;
  /** HOME of the CLI runs. */
  home: string;
  /** Local scratch, the CLI's working directory. */
  local: string;
  /** Remote scratch, relative to the login directory. */
  base: string;
  emptyKnownHosts: string;
}

/**
 * Registers the suite's beforeAll/afterAll (call it first inside the describe block, so its
 * beforeAll runs before the suite's own) and returns the state and the helpers around it.
 */
export function cliFixture() {
  const f = {} as CliFixture;
  let s: SshdServer;
  let home: string;
  let local: string;

const env = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...extra };
  for (const k of ["PURESFTP_PASSWORD", "PURESFTP_PASSPHRASE", "SSH_AUTH_SOCK"]) if (!(k in extra)) delete e[k];
  for (const k of Object.keys(e)) if (k.startsWith("FTRACK_") && !(k in extra)) delete e[k];
  return e;
};

/** Runs the CLI with stdin closed (not a terminal). */
const cli = (args: string[], extraEnv: Record<string, string | undefined> = {}): Promise<Run> =>
  new Promise((done, fail) => {
    const child = spawn(TSX, [MAIN, ...args], { cwd: local, env: env(extraEnv), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
  });

/** Connection options: the test key, the server's known_hosts, strict checking (the default). */
const conn = (portFlag = "-p") => [portFlag, String(s.port), "-i", s.clientKeyPaths.ed25519, "-o", `UserKnownHostsFile=${s.knownHostsPath}`];
const R = (path: string) => `${s.username}@127.0.0.1:${path}`;
const json = (r: Run) => {
  expect(r.stderr, r.stderr).toBe("");
  expect(r.code, r.stderr).toBe(0);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return JSON.parse(r.stdout) as Record<string, any>;
};
const jsonError = (r: Run) => JSON.parse(r.stderr) as { error: { code: string; exitCode: number; message: string; [k: string]: unknown } };

  beforeAll(async () => {
    s = f.s = await startSshd();
    f.admin = await connect(baseOptions(s));
    home = f.home = await mkdtemp(join(tmpdir(), "cli-home-"));
    local = f.local = await mkdtemp(join(tmpdir(), "cli-local-"));
    f.emptyKnownHosts = join(local, "empty_known_hosts");
    await writeFile(f.emptyKnownHosts, "");
    f.base = `cli-${process.pid}-${Date.now()}`;
    await f.admin.mkdir(f.base);
  }, 120_000);

  afterAll(async () => {
    await f.admin?.rmdir(f.base, { recursive: true }).catch(() => {});
    await f.admin?.close();
    await f.s?.stop();
    for (const d of [f.home, f.local]) if (d) await rm(d, { recursive: true, force: true });
  });

  return { state: () => f, env, cli, conn, R, json, jsonError };
}
