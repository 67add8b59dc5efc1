/**
 * The embedded SFTP server's request handling (src/sftp/server/): a SftpServerSession on a
 * fake channel, serving a jail over a fresh temporary directory, fed a stream of framed client
 * packets cut into chunks (byte 0 seeds the cuts). Each input gets a new session, which must end
 * (EOF follows the stream) with every reply a well-formed SFTP response. Every 200 inputs the
 * root is emptied, and the directory around it is checked: anything appearing next to the root
 * means a request escaped the jail.
 *
 * The jail is real file-system code, so this target runs fewer inputs; it only ever writes
 * under its own temporary directory (which is removed at the end).
 */
import { OutgoingBudget } from "../../src/ssh/server/outgoing-budget.js";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Channel } from "../../src/ssh/connection/channel.js";
import { PacketType } from "../../src/sftp/constants.js";
import { SftpFramer } from "../../src/sftp/framing.js";
import { decodeResponse } from "../../src/sftp/packet.js";
import { encodeInit } from "../../src/sftp/packets/init.js";
import { DEFAULT_SFTP_LIMITS } from "../../src/sftp/server/context.js";
import { Jail } from "../../src/sftp/server/jail.js";
import { SftpServerSession } from "../../src/sftp/server/session.js";
import type { FuzzTarget } from "../engine.js";
import { concatBytes, sftpPackets, tokens } from "../corpus.js";
import { chunk, chunkSizes } from "../fakes.js";

const REQUEST_TYPES = new Set<number>([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 200]);
const LIMITS = { ...DEFAULT_SFTP_LIMITS, maxOpenHandles: 8, readdirBatch: 10, maxReadLength: 4096 };

/** The channel as the session uses it: replies are collected, close() ends the input. */
class FakeChannel {
  manualWindow = false;
  onData: (data: Uint8Array) => void = () => {};
  onEof: () => void = () => {};
  onClose: (err: unknown) => void = () => {};
  readonly replies = new SftpFramer(1 << 20);
  readonly decoded: unknown[] = [];
  bad: Error | undefined;
  private closedResolve!: () => void;
  readonly closed = new Promise<void>((r) => (this.closedResolve = r));

  async write(reply: Uint8Array): Promise<void> {
    try {
      for (const p of this.replies.feed(reply.slice())) {
        const r = decodeResponse(p);
        if (r.type === PacketType.VERSION) continue;
        this.decoded.push(r.type === PacketType.STATUS ? `${r.type}:${r.code}` : r.type);
      }
    } catch (e) {
      this.bad ??= new Error(`the server sent a reply it cannot decode itself: ${(e as Error).message}`, { cause: e });
    }
  }
  flushed(): Promise<void> {
    return Promise.resolve();
  }
  consumed(): void {}
  eof(): void {}
  async close(): Promise<void> {
    this.closedResolve();
    this.onClose(undefined);
  }
}

let base: string | undefined;
let jail: Jail | undefined;
let runs = 0;

async function freshJail(): Promise<Jail> {
  if (base) {
    const around = readdirSync(base).filter((n) => n !== "root");
    if (around.length > 0) throw new Error(`files appeared outside the jail root: ${around.join(", ")}`);
    rmSync(join(base, "root"), { recursive: true, force: true });
  } else {
    base = mkdtempSync(join(tmpdir(), "fuzz-sftp-server-"));
  }
  const root = join(base, "root");
  mkdirSync(join(root, "d", "sub"), { recursive: true });
  return Jail.create(root);
}

const framed = (p: Uint8Array) => concatBytes(Uint8Array.of(p.length >>> 24, (p.length >>> 16) & 255, (p.length >>> 8) & 255, p.length & 255), p);

export const sftpServer: FuzzTarget = {
  name: "sftp-server",
  iterations: 15_000,
  maxLength: 8192,
  dict: tokens("/", "..", "../..", "/d/sub", "\0", "posix-rename@openssh.com", "copy-data", "expand-path@openssh.com"),
  seeds: () => {
    const requests = sftpPackets().filter((p) => REQUEST_TYPES.has(p[0]!) && p.length < 1024);
    const init = framed(encodeInit(3).subarray(4));
    return Array.from({ length: Math.ceil(requests.length / 8) }, (_, i) =>
      concatBytes(Uint8Array.of(i * 29), init, ...requests.slice(i * 8, i * 8 + 12).map(framed)));
  },
  run: async (input) => {
    if (!jail || ++runs % 200 === 0) jail = await freshJail();
    const channel = new FakeChannel();
    SftpServerSession.start(channel as unknown as Channel, jail, "fuzz", LIMITS, new OutgoingBudget().connection());
    for (const piece of chunk(input.subarray(1), chunkSizes(input[0] ?? 0))) {
      channel.onData(piece);
      await new Promise((r) => setImmediate(r));
    }
    channel.onEof();
    await channel.closed;
    if (channel.bad) throw channel.bad;
    return channel.decoded.join(",");
  },
  close: async () => {
    if (base) {
      const around = readdirSync(base).filter((n) => n !== "root");
      rmSync(base, { recursive: true, force: true });
      base = undefined;
      jail = undefined;
      if (around.length > 0) throw new Error(`files appeared outside the jail root: ${around.join(", ")}`);
    }
  },
};

export const targets = [sftpServer];
