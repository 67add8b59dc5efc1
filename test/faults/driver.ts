/**
 * One fault case in a process of its own: connects (through the fault proxy the test started),
 * runs one operation, prints one `RESULT {json}` line and then simply returns. Nothing here
 * calls process.exit, and no rejection handler is installed: an unhandled rejection kills the
 * process (Node, Deno and Bun all do by default), and a socket, timer or handle left open
 * keeps it alive past the test's bound. Both are what the fault suite looks for.
 *
 *   node --import tsx test/faults/driver.ts '<DriverCase as JSON>'
 *   bun test/faults/driver.ts '…'      deno run -A --unstable-sloppy-imports test/faults/driver.ts '…'
 */
import process from "node:process";
import { connect } from "../../src/connect.js";
import { SshError } from "../../src/errors.js";
import type { SftpClient } from "../../src/sftp/client.js";
import { runOperation, type Operation } from "./operations.js";

export interface DriverCase {
  port: number;
  username: string;
  /** Password login, else `privateKey` (key file text). */
  password?: string;
  privateKey?: string;
  /** Pinned host key fingerprints; `knownHostsFile` (absent) keeps ~/.ssh out of it. */
  fingerprints: string[];
  knownHostsFile: string;
  op: Operation;
  local: string;
  remote: string;
  /** Short keepalives and ready timeout, so stalls end quickly in tests. */
  keepaliveIntervalMs: number;
  readyTimeoutMs: number;
}

export interface DriverResult {
  ok: boolean;
  /** The error's class name, whether it is one of ours (SshError), its code and its cause's. */
  error?: { name: string; typed: boolean; code?: string; message: string; causeCode?: string };
  ms: number;
}

function describeError(e: unknown): DriverResult["error"] {
  const err = e as Error & { code?: string; cause?: { code?: string } };
  return {
    name: err?.name ?? typeof e,
    typed: e instanceof SshError,
    code: err?.code,
    message: String(err?.message ?? e),
    causeCode: err?.cause?.code,
  };
}

const c = JSON.parse(process.argv[2]!) as DriverCase;
const t0 = Date.now();
let result: DriverResult;
let sftp: SftpClient | undefined;
try {
  sftp = await connect({
    host: "127.0.0.1",
    port: c.port,
    username: c.username,
    password: c.password,
    privateKey: c.privateKey,
    hostKeys: { fingerprints: c.fingerprints, knownHostsFile: c.knownHostsFile },
    sshConfig: false,
    agent: false,
    readyTimeoutMs: c.readyTimeoutMs,
    keepaliveIntervalMs: c.keepaliveIntervalMs,
    // A key re-exchange every MiB, so faults land in re-exchanges too (RFC 4253 §9).
    rekeyAfterBytes: 1024 * 1024,
  });
  await runOperation(sftp, c.op, c.local, c.remote);
  result = { ok: true, ms: Date.now() - t0 };
} catch (e) {
  result = { ok: false, error: describeError(e), ms: Date.now() - t0 };
} finally {
  await sftp?.close().catch(() => {});
}
console.log(`RESULT ${JSON.stringify(result)}`);
