/**
 * How one fault case (generate.ts) is run and judged: the driver in a child process on one
 * runtime (Node, Bun or Deno) through the fault proxy, then checks of what the house rules
 * promise:
 *
 * - the child exits by itself within a bound (nothing left holding its event loop open);
 * - it reports success or a typed error (SshError and subclasses), and never "Unhandled";
 * - nothing partial sits under the target name, for every operation that writes (only the
 *   documented resume partials beside it, and an atomic write's temporary file the dead
 *   connection could not remove);
 * - the same operation, retried without the fault, gives byte-identical results.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { expect } from "vitest";
import { connect } from "../../src/connect.js";
import type { SftpClient } from "../../src/sftp/client.js";
import { startFaultProxy, type Fault } from "../support/fault-proxy.js";
import type { DriverCase, DriverResult } from "./driver.js";
import { FILE_SIZE, seededBytes, type FaultCase } from "./generate.js";
import { dataDirection, runOperation } from "./operations.js";

export type Runtime = "node" | "bun" | "deno";

/** A server to run cases against: how to log in, and where its remote paths are on this host. */
export interface FaultTarget {
  port: number;
  username: string;
  password: string;
  /** Key file text for "connectKey"; undefined when this target has no key login. */
  privateKey?: string;
  fingerprints: string[];
  /** A remote directory of our own for the cases, and the same directory on this host. */
  remoteDir: string;
  hostDir: string;
  /** A local scratch directory. */
  localDir: string;
}

const KEEPALIVE_MS = 250;
const READY_TIMEOUT_MS = 4000;
/**
 * How long a child may take: connecting (bounded by the ready timeout), the operation, and a
 * stall's detection (≤ 5 keepalive intervals), with room for a loaded machine.
 */
export const CHILD_BOUND_MS = 45_000;

/** A small tree for the directory operations: relative path → content. */
function tree(seed: number): Record<string, Uint8Array> {
  return {
    "a.bin": seededBytes(seed + 1, FILE_SIZE / 3),
    "sub/b.bin": seededBytes(seed + 2, FILE_SIZE / 3),
    "sub/deeper/c.bin": seededBytes(seed + 3, FILE_SIZE / 3 + 17),
    "small.txt": seededBytes(seed + 4, 100),
  };
}

async function writeTree(dir: string, files: Record<string, Uint8Array>): Promise<void> {
  for (const [p, data] of Object.entries(files)) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), data);
  }
}

/** Every file under `dir`, as relative paths. */
async function listTree(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(relative(dir, join(e.parentPath ?? (e as { path: string }).path, e.name)));
  }
  return out.sort();
}

/** The command that runs a TypeScript file on a runtime (the devDependency binaries). */
export function runtimeCommand(runtime: Runtime, root: string): string[] {
  if (runtime === "node") return [process.execPath, "--import", "tsx"];
  // Sources import "./x.js" for x.ts (as tsc wants); Deno resolves that with sloppy imports.
  if (runtime === "deno") return [join(root, "node_modules/.bin/deno"), "run", "-A", "--unstable-sloppy-imports"];
  return [join(root, "node_modules/.bin/bun")];
}

export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  hung: boolean;
}

export function runChild(cmd: string[], args: string[], boundMs: number): Promise<ChildOutcome> {
  const t0 = Date.now();
  const child = spawn(cmd[0]!, [...cmd.slice(1), ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    child.kill("SIGKILL");
  }, boundMs);
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0, hung });
    });
  });
}

/**
 * What one case's child did, for the suite's summary: reported as soon as the child ends, and
 * completed by the checks after it (which fail the case by throwing).
 */
export interface CaseReport {
  case: FaultCase;
  /** Undefined when the child printed no result (it crashed or hung). */
  result: DriverResult | undefined;
  ms: number;
  faultFired: boolean;
  hung: boolean;
  /** Whether its stderr reports an unhandled rejection or uncaught exception. */
  unhandled: boolean;
  /** It exited with a failure code or printed no result without hanging. */
  crashed: boolean;
  /** Something partial was found under a target name. */
  partial: boolean;
  /** The retry without the fault failed, or did not give identical bytes. */
  resumeFailed: boolean;
}

/**
 * Runs one case on one runtime against one target and checks it (vitest expectations; the
 * messages carry the replay line).
 */
export async function runFaultCase(target: FaultTarget, c: FaultCase, runtime: Runtime, root: string, report: (r: CaseReport) => void): Promise<void> {
  const name = `${runtime}-${c.seed}-${c.index}-${c.op}`;
  const replay = `replay: FAULT_SEED=${c.baseSeed} FAULT_ONLY=${c.index} (${c.op}, ${c.kind} ${c.direction} at ${c.at}, ${runtime})`;
  const local = join(target.localDir, name);
  const remote = `${target.remoteDir}/${name}`;
  const host = join(target.hostDir, name);
  const files = tree(c.seed * 1000 + c.index);
  const single = files["a.bin"]!;
  // Sources and, for reads, the remote files (written straight into the server's directory).
  let driverLocal = local;
  const driverRemote = remote;
  switch (dataDirection(c.op) === "up" ? "up" : c.op === "list" || c.op === "downloadDir" ? "tree" : "down") {
    case "up":
      if (c.op === "uploadDir") await writeTree(local, files);
      else await writeFile(local, single);
      break;
    case "tree":
      await writeTree(host, files);
      if (c.op === "downloadDir") driverLocal = join(target.localDir, `${name}-out`);
      break;
    case "down":
      await writeFile(host, single);
      break;
  }

  const fault: Fault = { kind: c.kind, at: c.at, trickleMs: 100 };
  const proxy = await startFaultProxy({ targetPort: target.port, [c.direction]: fault });
  const dc: DriverCase = {
    port: proxy.port,
    username: target.username,
    password: c.op === "connectKey" ? undefined : target.password,
    privateKey: c.op === "connectKey" ? target.privateKey : undefined,
    fingerprints: target.fingerprints,
    knownHostsFile: join(target.localDir, "no-known-hosts"),
    op: c.op,
    local: driverLocal,
    remote: driverRemote,
    keepaliveIntervalMs: KEEPALIVE_MS,
    readyTimeoutMs: READY_TIMEOUT_MS,
  };
  let out: ChildOutcome;
  try {
    out = await runChild(runtimeCommand(runtime, root), [join(root, "test/faults/driver.ts"), JSON.stringify(dc)], CHILD_BOUND_MS);
  } finally {
    await proxy.close();
  }
  const line = out.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  const result = line === undefined ? undefined : (JSON.parse(line.slice(7)) as DriverResult);
  const unhandled = /unhandled|uncaught/i.test(out.stderr);
  const r: CaseReport = {
    case: c, result, ms: out.ms, faultFired: proxy.faultsFired > 0, hung: out.hung, unhandled,
    crashed: !out.hung && (out.code !== 0 || result === undefined), partial: false, resumeFailed: false,
  };
  report(r);
  const context = `${replay}\nstdout: ${out.stdout.slice(-2000)}\nstderr: ${out.stderr.slice(-4000)}`;

  // Ends on its own, cleanly, never with an unhandled rejection or exception.
  expect(out.hung, `the child did not exit within ${CHILD_BOUND_MS} ms\n${context}`).toBe(false);
  expect(unhandled, context).toBe(false);
  expect(out.code, context).toBe(0);
  expect(result, context).toBeDefined();
  if (!result!.ok) {
    expect(result!.error!.typed, `not a typed error: ${JSON.stringify(result!.error)}\n${context}`).toBe(true);
    expect(result!.error!.code, context).toMatch(/^[A-Z_]+$/);
  }
  // (Success is possible even when the fault fired: after the last byte the operation needed,
  // say in the closing DISCONNECT; the checks below hold either way.)

  // Nothing partial under a target name.
  await checkNoPartial(c, host, driverLocal, files, single, result!.ok, context).catch((e: unknown) => {
    r.partial = true;
    throw e;
  });

  // The retry, without the fault, on a fresh connection, completes with identical bytes.
  await (async () => {
    const sftp = await connectDirect(target);
    try {
      await runOperation(sftp, c.op, driverLocal, driverRemote);
    } finally {
      await sftp.close();
    }
    await checkComplete(c, host, driverLocal, files, single, context);
  })().catch((e: unknown) => {
    r.resumeFailed = true;
    throw e;
  });
  await rm(local, { recursive: true, force: true });
  await rm(driverLocal, { recursive: true, force: true });
  await rm(host, { recursive: true, force: true });
}

export function connectDirect(target: FaultTarget): Promise<SftpClient> {
  return connect({
    host: "127.0.0.1",
    port: target.port,
    username: target.username,
    password: target.password,
    hostKeys: { fingerprints: target.fingerprints, knownHostsFile: join(target.localDir, "no-known-hosts") },
    sshConfig: false,
    agent: false,
    readyTimeoutMs: 20_000,
  });
}

/** Temporary names the transfers may leave: resume partials (and their ranges records), and upload temp files. */
export function isAllowedTemp(name: string, side: "local" | "remote"): boolean {
  if (side === "local") return /\.resume\.part(\.ranges)?$/.test(name);
  // A resumable upload keeps `.name.resume.part`; an atomic write (uploadDir, writeFile,
  // createWriteStream) goes to `.name.<random>.part` and removes it on failure, which a dead
  // connection cannot do.
  return /^\..+\.(resume\.part(\.ranges)?|[0-9a-f]{12}\.part)$/.test(basename(name));
}

async function checkNoPartial(
  c: FaultCase, host: string, driverLocal: string,
  files: Record<string, Uint8Array>, single: Uint8Array, ok: boolean, context: string,
): Promise<void> {
  const same = async (path: string, want: Uint8Array) => Buffer.from(await readFile(path)).equals(want);
  switch (c.op) {
    case "upload":
    case "uploadStreams":
    case "writeFile":
    case "writeStream":
    case "download":
    case "downloadStreams": {
      const up = dataDirection(c.op) === "up";
      const target = up ? host : driverLocal;
      if (existsSync(target)) expect(await same(target, single), `partial file at ${target}\n${context}`).toBe(true);
      else expect(ok, `succeeded but ${target} is missing\n${context}`).toBe(false);
      const dir = dirname(target);
      for (const f of await readdir(dir)) {
        if (f.includes(basename(target)) && f !== basename(target)) {
          expect(isAllowedTemp(f, up ? "remote" : "local"), `left ${f}\n${context}`).toBe(true);
        }
      }
      return;
    }
    case "uploadDir":
    case "downloadDir": {
      const dir = c.op === "uploadDir" ? host : driverLocal;
      for (const f of await listTree(dir)) {
        if (files[f]) expect(await same(join(dir, f), files[f]!), `partial file ${f}\n${context}`).toBe(true);
        else expect(isAllowedTemp(f, c.op === "uploadDir" ? "remote" : "local") && c.op === "uploadDir", `left ${f}\n${context}`).toBe(true);
      }
      if (ok) expect(await listTree(dir).then((l) => l.filter((f) => files[f]))).toEqual(Object.keys(files).sort());
      return;
    }
    default:
      // The reads and path operations write nothing.
  }
}

async function checkComplete(
  c: FaultCase, host: string, driverLocal: string, files: Record<string, Uint8Array>, single: Uint8Array, context: string,
): Promise<void> {
  const same = async (path: string, want: Uint8Array) => Buffer.from(await readFile(path)).equals(want);
  switch (c.op) {
    case "upload":
    case "uploadStreams":
    case "writeFile":
    case "writeStream": {
      expect(await same(host, single), `retry did not give identical content\n${context}`).toBe(true);
      const partial = join(dirname(host), `.${basename(host)}.resume.part`);
      for (const p of [partial, `${partial}.ranges`]) expect(existsSync(p), `${p} left after the retry\n${context}`).toBe(false);
      return;
    }
    case "download":
    case "downloadStreams":
      expect(await same(driverLocal, single), `retry did not give identical content\n${context}`).toBe(true);
      for (const p of [`${driverLocal}.resume.part`, `${driverLocal}.resume.part.ranges`]) expect(existsSync(p), `${p} left after the retry\n${context}`).toBe(false);
      return;
    case "uploadDir":
    case "downloadDir": {
      const dir = c.op === "uploadDir" ? host : driverLocal;
      for (const [f, data] of Object.entries(files)) expect(await same(join(dir, f), data), `${f} differs after retry\n${context}`).toBe(true);
      return;
    }
    default:
      // The source is untouched by a read.
      if (existsSync(host) && (await stat(host)).isFile()) expect(await same(host, single), context).toBe(true);
  }
}
