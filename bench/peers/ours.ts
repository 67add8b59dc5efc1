/** This project's client as a bench peer: through the public `connect()` only. */
import * as fs from "node:fs/promises";
import { connect, type ConnectOptions } from "../../src/connect.js";
import type { SftpClient } from "../../src/sftp/client.js";
import { type Around, type BenchServer, type CipherCase, type Direction, noAround, timed, warmupList, withTimeout } from "../common.js";

export type Backend = "auto" | "native" | "pure";

export function oursOptions(s: BenchServer, extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return {
    host: s.host,
    port: s.port,
    username: s.username,
    privateKey: s.keyText,
    hostKeys: { policy: "strict", knownHostsFile: s.knownHostsPath },
    // The bench must not depend on the machine's ~/.ssh/config.
    sshConfig: false,
    readyTimeoutMs: 120_000,
    ...extra,
  };
}

export function cipherOptions(cc: CipherCase, backend: Backend): Partial<ConnectOptions> {
  return { crypto: backend, algorithms: { cipher: [cc.cipher], ...(cc.mac ? { mac: [cc.mac] } : {}) } };
}

/** Closes without letting a hung close stall the run. */
export async function closeQuietly(c: SftpClient | undefined): Promise<void> {
  if (!c) return;
  await withTimeout(c.close(), 10_000, "close").catch(() => {});
}

export interface TransferTiming {
  seconds: number;
  cpuSeconds: number;
  negotiated: string;
  /** Who computed the crypto (SshConnection.cryptoInfo), e.g. "auto: aes-gcm: node:crypto". */
  backend: string;
}

/** cryptoInfo as one label; both directions named when they differ. */
export function backendLabel(c: SftpClient): string {
  const i = c.ssh.cryptoInfo;
  const both = i.clientToServer === i.serverToClient ? i.clientToServer : `up ${i.clientToServer}; down ${i.serverToClient}`;
  return `${i.backend}: ${both}`;
}

/** One timed transfer on a fresh connection (connect and close are not timed). */
export async function oursTransfer(
  s: BenchServer, backend: Backend, cc: CipherCase, direction: Direction,
  local: string, remote: string, timeoutMs: number,
): Promise<TransferTiming> {
  const c = await withTimeout(connect(oursOptions(s, cipherOptions(cc, backend))), 120_000, "connect");
  try {
    const a = c.ssh.algorithms;
    const negotiated = `${a.cipherServerToClient}${cc.mac ? ` + ${a.macServerToClient}` : ""}`;
    if (a.cipherServerToClient !== cc.cipher || a.cipherClientToServer !== cc.cipher) {
      throw new Error(`negotiated ${a.cipherClientToServer}/${a.cipherServerToClient}, wanted ${cc.cipher}`);
    }
    const abort = new AbortController();
    const t = await withTimeout(
      timed(() => (direction === "download" ? c.download(remote, local, { signal: abort.signal }) : c.upload(local, remote, { signal: abort.signal }))),
      timeoutMs, `ours ${backend} ${direction}`, () => abort.abort(new Error("bench timeout")),
    );
    return { seconds: t.seconds, cpuSeconds: t.cpuSeconds, negotiated, backend: backendLabel(c) };
  } finally {
    await closeQuietly(c);
  }
}

/** Milliseconds from calling connect() to a ready SftpClient (closed afterwards, untimed). */
export async function oursConnectMs(s: BenchServer): Promise<{ ms: number; negotiated: string }> {
  const t0 = performance.now();
  const c = await withTimeout(connect(oursOptions(s)), 60_000, "connect");
  const ms = performance.now() - t0;
  const a = c.ssh.algorithms;
  await closeQuietly(c);
  return { ms, negotiated: `${a.kex}, ${a.serverHostKey}, ${a.cipherClientToServer}` };
}

/**
 * Uploads every local file to its remote path with `concurrency` writeFile calls in flight,
 * each reading its local file first (as a real uploader would). Timed from the first read to
 * the last close; the connection and the mkdir are not. `atomic` is writeFile's option (its
 * default, true, writes a temporary name and renames it; false is the OPEN/WRITE/CLOSE that ssh2
 * does); `around` wraps the timed window.
 */
export async function oursSmallFiles(
  s: BenchServer, files: readonly { local: string; remote: string }[], remoteDir: string, concurrency: number, timeoutMs: number,
  options: { atomic?: boolean; around?: Around } = {},
): Promise<{ seconds: number; cpuSeconds: number }> {
  const writeOptions = options.atomic === undefined ? {} : { atomic: options.atomic };
  const c = await withTimeout(connect(oursOptions(s)), 60_000, "connect");
  try {
    await c.mkdir(remoteDir, { recursive: true });
    await c.mkdir(`${remoteDir}.warmup`, { recursive: true });
    const upload = async (list: readonly { local: string; remote: string }[]) => {
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < list.length; i = next++) {
          const f = list[i]!;
          await c.writeFile(f.remote, await fs.readFile(f.local), writeOptions);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    };
    // Untimed warm-up (as for ssh2): the first calls of every code path run before the JIT has
    // compiled them, which would otherwise dominate a short run.
    await upload(warmupList(files, remoteDir));
    const t = await (options.around ?? noAround)(() => withTimeout(
      timed(() => upload(files)),
      timeoutMs, "ours small files", () => void c.close().catch(() => {}),
    ));
    return { seconds: t.seconds, cpuSeconds: t.cpuSeconds };
  } finally {
    await closeQuietly(c);
  }
}
