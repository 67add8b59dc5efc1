/**
 * ssh2 (the devDependency, with its native crypto binding) as a bench peer, through its
 * documented API only: `new Client().connect(config)`, `client.sftp()`, and on the SFTP object
 * `fastGet` / `fastPut` (default concurrency 64 and chunkSize 32768 — nothing passed) and
 * `writeFile`. "nodelay" hands ssh2 a socket made with `setNoDelay(true)` via its `sock`
 * option; the defaults leave Nagle on, as ssh2 does.
 *
 * ssh2 ships no types and this project has no @types/ssh2, so the few calls used are typed here.
 */
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import * as fs from "node:fs/promises";
import * as net from "node:net";
import { type Around, type BenchServer, type CipherCase, type Direction, noAround, timed, warmupList, withTimeout } from "../common.js";

type Callback = (err: Error | null | undefined) => void;

interface Ssh2Sftp {
  fastGet(remote: string, local: string, opts: object, cb: Callback): void;
  fastPut(local: string, remote: string, opts: object, cb: Callback): void;
  writeFile(path: string, data: Buffer, cb: Callback): void;
  mkdir(path: string, cb: Callback): void;
  end(): void;
}

interface Ssh2Client extends EventEmitter {
  connect(config: Record<string, unknown>): this;
  sftp(cb: (err: Error | undefined, sftp: Ssh2Sftp) => void): void;
  end(): void;
  destroy(): void;
}

interface Negotiated {
  kex: string;
  serverHostKey: string;
  cs: { cipher: string; mac: string };
  sc: { cipher: string; mac: string };
}

const require = createRequire(import.meta.url);
const ssh2 = require("ssh2") as { Client: new () => Ssh2Client };

export const ssh2Version: string = (require("ssh2/package.json") as { version: string }).version;

export interface Ssh2Options {
  noDelay: boolean;
  cc?: CipherCase;
}

export interface Ssh2Session {
  client: Ssh2Client;
  sftp: Ssh2Sftp;
  negotiated: Negotiated | undefined;
  close(): void;
}

/** Connects, authenticates with the ed25519 key, verifies the host key and opens SFTP. */
export function ssh2Open(s: BenchServer, o: Ssh2Options): Promise<Ssh2Session> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let negotiated: Negotiated | undefined;
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      client.destroy();
      reject(e);
    };
    const config: Record<string, unknown> = {
      host: s.host,
      port: s.port,
      username: s.username,
      privateKey: Buffer.from(s.keyText),
      readyTimeout: 120_000,
      // Raw key blob (no hostHash): accept exactly the server's host keys.
      hostVerifier: (key: Buffer) => s.hostKeyBlobs.includes(key.toString("base64")),
    };
    if (o.cc) config.algorithms = { cipher: [o.cc.cipher], ...(o.cc.mac ? { hmac: [o.cc.mac] } : {}) };
    if (o.noDelay) {
      const sock = net.connect({ host: s.host, port: s.port });
      sock.setNoDelay(true);
      config.sock = sock;
    }
    client.on("handshake", (n: Negotiated) => (negotiated = n));
    client.on("error", (e: Error) => fail(e));
    client.on("close", () => fail(new Error("ssh2: connection closed before SFTP was ready")));
    client.on("ready", () => {
      client.sftp((err, sftp) => {
        if (err) return fail(err);
        if (settled) return;
        settled = true;
        resolve({
          client, sftp, negotiated,
          close: () => {
            try {
              sftp.end();
            } catch {
              /* already closed */
            }
            client.end();
          },
        });
      });
    });
    client.connect(config);
  });
}

export const call = (fn: (cb: Callback) => void) =>
  new Promise<void>((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));

export async function ssh2Transfer(
  s: BenchServer, noDelay: boolean, cc: CipherCase, direction: Direction,
  local: string, remote: string, timeoutMs: number,
): Promise<{ seconds: number; cpuSeconds: number; negotiated: string }> {
  const sess = await withTimeout(ssh2Open(s, { noDelay, cc }), 120_000, "ssh2 connect");
  try {
    const n = sess.negotiated;
    if (n && (n.cs.cipher !== cc.cipher || n.sc.cipher !== cc.cipher)) {
      throw new Error(`negotiated ${n.cs.cipher}/${n.sc.cipher}, wanted ${cc.cipher}`);
    }
    const negotiated = n ? `${n.sc.cipher}${cc.mac ? ` + ${n.sc.mac}` : ""}` : "?";
    const t = await withTimeout(
      timed(() => call((cb) => (direction === "download" ? sess.sftp.fastGet(remote, local, {}, cb) : sess.sftp.fastPut(local, remote, {}, cb)))),
      timeoutMs, `ssh2 ${direction}`, () => sess.client.destroy(),
    );
    return { seconds: t.seconds, cpuSeconds: t.cpuSeconds, negotiated };
  } finally {
    sess.close();
  }
}

export async function ssh2ConnectMs(s: BenchServer, noDelay: boolean): Promise<{ ms: number; negotiated: string }> {
  const t0 = performance.now();
  const sess = await withTimeout(ssh2Open(s, { noDelay }), 60_000, "ssh2 connect");
  const ms = performance.now() - t0;
  const n = sess.negotiated;
  sess.close();
  return { ms, negotiated: n ? `${n.kex}, ${n.serverHostKey}, ${n.cs.cipher}` : "?" };
}

/** Same workload as oursSmallFiles: `concurrency` writeFile calls in flight on one SFTP session. */
export async function ssh2SmallFiles(
  s: BenchServer, noDelay: boolean, files: readonly { local: string; remote: string }[], remoteDir: string,
  concurrency: number, timeoutMs: number, around: Around = noAround,
): Promise<{ seconds: number; cpuSeconds: number }> {
  const sess = await withTimeout(ssh2Open(s, { noDelay }), 60_000, "ssh2 connect");
  try {
    await call((cb) => sess.sftp.mkdir(remoteDir, cb));
    await call((cb) => sess.sftp.mkdir(`${remoteDir}.warmup`, cb));
    const upload = async (list: readonly { local: string; remote: string }[]) => {
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < list.length; i = next++) {
          const f = list[i]!;
          const data = await fs.readFile(f.local);
          await call((cb) => sess.sftp.writeFile(f.remote, data, cb));
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    };
    await upload(warmupList(files, remoteDir)); // untimed, as for ours
    const t = await around(() => withTimeout(
      timed(() => upload(files)),
      timeoutMs, "ssh2 small files", () => sess.client.destroy(),
    ));
    return { seconds: t.seconds, cpuSeconds: t.cpuSeconds };
  } finally {
    sess.close();
  }
}
