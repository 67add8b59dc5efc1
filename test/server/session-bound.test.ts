/**
 * One SFTP server session driven in process through a real Channel (its connection replaced by
 * a recorder), so the test can look between two turns of the event loop: how many requests a
 * burst starts at once (limits.maxConcurrentRequests), seen through what they charge to the
 * outgoing budget when they start.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { OpenFlags, PacketType } from "../../src/sftp/constants.js";
import { SftpFramer } from "../../src/sftp/framing.js";
import { decodeResponse, type SftpResponse } from "../../src/sftp/packet.js";
import { encodeRead } from "../../src/sftp/packets/handle.js";
import { encodeInit } from "../../src/sftp/packets/init.js";
import { encodeOpen } from "../../src/sftp/packets/path.js";
import { DEFAULT_SFTP_LIMITS } from "../../src/sftp/server/context.js";
import { Jail } from "../../src/sftp/server/jail.js";
import { SftpServerSession } from "../../src/sftp/server/session.js";
import { Channel } from "../../src/ssh/connection/channel.js";
import { MSG } from "../../src/ssh/messages.js";
import { OutgoingBudget } from "../../src/ssh/server/outgoing-budget.js";
import { AsyncQueue } from "../../src/util/async-queue.js";

let base: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "sftp-session-"));
  await writeFile(join(base, "f"), new Uint8Array(1024 * 1024).fill(5));
});
afterAll(() => rm(base, { recursive: true, force: true }));

async function session(maxConcurrentRequests: number) {
  const replies = new AsyncQueue<SftpResponse>();
  const framer = new SftpFramer();
  const channel = new Channel({
    send: (...parts) => {
      if (parts[0]![0] !== MSG.CHANNEL_DATA) return; // window adjustments
      for (const p of parts.slice(1)) for (const packet of framer.feed(p.slice())) replies.push(decodeResponse(packet));
    },
    release: () => {},
    drain: () => Promise.resolve(),
  }, 0, 0, 0x7fffffff, 1 << 20);
  const budget = new OutgoingBudget().connection();
  const jail = await Jail.create(base);
  SftpServerSession.start(channel, jail, "u", { ...DEFAULT_SFTP_LIMITS, maxConcurrentRequests }, budget);
  channel.handleData(encodeInit(3));
  expect((await replies.shift()).type).toBe(PacketType.VERSION);
  channel.handleData(encodeOpen(1, { path: "/f", pflags: OpenFlags.READ, attrs: {} }));
  const opened = await replies.shift();
  if (opened.type !== PacketType.HANDLE) throw new Error(`expected HANDLE, got ${opened.type}`);
  return { channel, budget, replies, handle: opened.handle };
}

function burst(handle: Uint8Array, n: number, length: number): Uint8Array {
  const reads = Array.from({ length: n }, (_, i) => encodeRead(100 + i, { handle, offset: i * length, length }));
  const out = new Uint8Array(reads.reduce((a, r) => a + r.length, 0));
  let at = 0;
  for (const r of reads) out.set(r, (at += r.length) - r.length);
  return out;
}

it.each([1, 4, 16])("a burst of 64 READs starts %i at once, and every one is answered", async (max) => {
  const s = await session(max);
  const before = s.budget.total;
  s.channel.handleData(burst(s.handle, 64, 1000));
  // Each started READ has charged its reply's bound: 13 bytes of header and 1000 of data.
  expect(s.budget.total - before).toBe(max * 1013);
  const ids = new Set<number>();
  for (let i = 0; i < 64; i++) {
    const r = await s.replies.shift();
    expect(r.type).toBe(PacketType.DATA);
    ids.add((r as { id: number }).id);
  }
  expect(ids.size).toBe(64);
  s.channel.finish(undefined);
});
