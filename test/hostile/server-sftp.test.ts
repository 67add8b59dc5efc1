/**
 * The embedded server's channel and SFTP layers against hostile clients: oversized and malformed
 * SFTP packets, a zero window that is never adjusted (the server must not buffer without bound),
 * data beyond the server's window, more handles than allowed, huge directories, and a stalled
 * session ended by idleTimeoutMs. A well-behaved client keeps being served throughout.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PacketType, StatusCode } from "../../src/sftp/constants.js";
import { encodeInit } from "../../src/sftp/packets/init.js";
import { encodeReaddir } from "../../src/sftp/packets/handle.js";
import { encodeOpendir, encodeStat } from "../../src/sftp/packets/path.js";
import { finishPacket, startPacket } from "../../src/sftp/packets/wire.js";
import { DISCONNECT_REASON, MSG } from "../../src/ssh/messages.js";
import { PASSWORD, USER, startTestServer, type TestServer } from "../server/helpers.js";
import { ScriptedClient } from "../server/raw-client.js";
import type { ScriptedChannel } from "../support/fake-server.js";
import { PROMPTLY_MS, hangsUpWithin, whileServing } from "./helpers.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ limits: { authFailureDelayMs: 20 } });
});
afterAll(() => t?.stop());

/** A scripted client logged in with an sftp channel that grants the server `window` bytes. */
async function sftpChannel(port: number, window: number): Promise<{ c: ScriptedClient; ch: ScriptedChannel }> {
  const c = await ScriptedClient.connect(port);
  await c.handshake();
  expect(await c.password(USER, PASSWORD)).toBe(MSG.USERAUTH_SUCCESS);
  return { c, ch: await c.openSftp({ window }) };
}

/** `n` bytes of back-to-back STAT requests (the last one cut short, as a stream may be). */
function statFlood(n: number): Uint8Array {
  const one = encodeStat(1, { path: "/" });
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += one.length) out.set(one.subarray(0, Math.min(one.length, n - at)), at);
  return out;
}

describe("malformed and oversized SFTP packets", () => {
  it("an oversized SFTP packet ends that session only", async () => {
    await whileServing(t, async () => {
      const c = await t.connect();
      const other = await t.connect();
      const header = new Uint8Array([0x10, 0, 0, 0, 17, 0, 0, 0, 1]); // 256 MiB claimed
      await c.session.channel.write(header);
      await c.session.channel.whenClosed;
      expect(await c.exists("/").catch((e) => e.code)).toBe("CONNECTION_LOST");
      expect(await other.exists("/")).toBe(true);
      await c.close();
      await other.close();
    });
  });

  it("unknown and malformed SFTP requests get a STATUS, and the session goes on", async () => {
    await whileServing(t, async () => {
      const c = await t.connect();
      const unknown = await c.session.request((id) => finishPacket(startPacket(99, id)));
      expect(unknown).toMatchObject({ type: 101, code: StatusCode.OP_UNSUPPORTED });
      const truncatedOpen = await c.session.request((id) => finishPacket(startPacket(3, id).uint32(1000)));
      expect(truncatedOpen).toMatchObject({ type: 101, code: StatusCode.BAD_MESSAGE });
      const badHandle = await c.session.request((id) => finishPacket(startPacket(5, id).string(new Uint8Array(300)).uint64(0n).uint32(10)));
      expect(badHandle).toMatchObject({ type: 101, code: StatusCode.FAILURE });
      await c.writeFile("/r", new Uint8Array(1024 * 1024));
      const f = await c.open("/r");
      const hugeRead = await c.session.request((id) => finishPacket(startPacket(5, id).string(f.handle).uint64(0n).uint32(0xffffffff)));
      await f.close();
      expect(hugeRead.type).toBe(103);
      expect((hugeRead as { data: Uint8Array }).data.length).toBe(255 * 1024); // capped, not 4 GiB
      expect(await c.exists("/r")).toBe(true);
      await c.close();
    });
  });
});

describe("zero window", () => {
  it("a client that grants window 0 and floods requests: the server stops at its own window", { timeout: 30_000 }, async () => {
    const { received, disconnect, granted } = await whileServing(t, async () => {
      const { c, ch } = await sftpChannel(t.server.port, 0);
      const granted = ch.theirWindow;
      const flood = statFlood(32 * 1024);
      await ch.send(encodeInit(3));
      // Everything the server's window allows (its replies are all stuck behind our zero window).
      while (ch.theirWindow > 0) await ch.send(flood.subarray(0, Math.min(flood.length, ch.theirWindow)));
      await new Promise((r) => setTimeout(r, 300));
      // One byte more than the server allowed ends the connection.
      await ch.sendUnchecked(Uint8Array.of(0));
      await hangsUpWithin(c, PROMPTLY_MS);
      const disconnect = await c.peerDisconnect();
      return { received: c.received.map((p) => p[0]), disconnect, granted };
    });
    expect(granted).toBe(4 * 1024 * 1024);
    // The server sent no SFTP reply (no window for it) and never credited more window: at most
    // `granted` bytes of requests were ever buffered for this channel.
    expect(received).not.toContain(MSG.CHANNEL_DATA);
    expect(received).not.toContain(MSG.CHANNEL_WINDOW_ADJUST);
    // WINDOW_EXCEEDED is a ConnectionError today, so no DISCONNECT is sent (see the report);
    // a PROTOCOL_ERROR DISCONNECT would be better and is accepted here too.
    expect([undefined, DISCONNECT_REASON.PROTOCOL_ERROR]).toContain(disconnect?.reason);
  });

  it("a client that grants window 0 and then waits: the session is stuck but bounded, and close ends it", async () => {
    await whileServing(t, async () => {
      const { c, ch } = await sftpChannel(t.server.port, 0);
      await ch.send(encodeInit(3));
      await ch.send(statFlood(64 * 1024));
      await new Promise((r) => setTimeout(r, 200));
      // Our window opens: every reply that was held comes through, in order.
      await ch.adjust(1024 * 1024);
      const version = await ch.nextSftp();
      expect(version[0]).toBe(PacketType.VERSION);
      expect((await ch.nextSftp())[0]).toBe(PacketType.ATTRS);
      c.end();
      await hangsUpWithin(c, PROMPTLY_MS);
    });
  });

  describe("with idleTimeoutMs", () => {
    let slow: TestServer;
    beforeAll(async () => {
      slow = await startTestServer({ limits: { idleTimeoutMs: 1000, authFailureDelayMs: 20 } });
    });
    afterAll(() => slow?.stop());

    it("a zero-window session that stops sending is closed after idleTimeoutMs", async () => {
      const { elapsed, disconnect } = await whileServing(slow, async () => {
        const { c, ch } = await sftpChannel(slow.server.port, 0);
        await ch.send(encodeInit(3));
        // From before the last request leaves: the server's idle clock starts no earlier than
        // it reads it, so `elapsed` cannot come out short on a loaded machine.
        const started = performance.now();
        await ch.send(statFlood(16 * 1024));
        const elapsed = await hangsUpWithin(c, 1000 + PROMPTLY_MS, started);
        return { elapsed, disconnect: await c.peerDisconnect() };
      });
      expect(elapsed).toBeGreaterThanOrEqual(990);
      expect(disconnect).toMatchObject({ reason: DISCONNECT_REASON.BY_APPLICATION });
      expect(disconnect?.description).toMatch(/idle for 1000 ms/);
    });
  });
});

describe("handles and huge directories", () => {
  it("more directory handles than allowed: FAILURE, and the session goes on", async () => {
    await whileServing(t, async () => {
      const c = await t.connect();
      const handles: Uint8Array[] = [];
      for (let i = 0; i < 64; i++) {
        const r = await c.session.request((id) => encodeOpendir(id, { path: "/" }));
        expect(r.type).toBe(PacketType.HANDLE);
        handles.push((r as { handle: Uint8Array }).handle);
      }
      const refused = await c.session.request((id) => encodeOpendir(id, { path: "/" }));
      expect(refused).toMatchObject({ type: PacketType.STATUS, code: StatusCode.FAILURE });
      expect((refused as { message: string }).message).toMatch(/too many open handles/);
      await c.closeHandle(handles.pop()!, "/");
      expect((await c.session.request((id) => encodeOpendir(id, { path: "/" }))).type).toBe(PacketType.HANDLE);
      await c.close(); // the server closes the 64 descriptors with the session
    });
  });

  it("a directory of 3000 entries is served 100 names per READDIR, and list() gets them all", { timeout: 30_000 }, async () => {
    const dir = join(t.root, "many");
    await mkdir(dir);
    await Promise.all(Array.from({ length: 3000 }, (_, i) => writeFile(join(dir, `file-${i}`), "")));
    await whileServing(t, async () => {
      const c = await t.connect();
      const opened = await c.session.request((id) => encodeOpendir(id, { path: "/many" }));
      const handle = (opened as { handle: Uint8Array }).handle;
      const batch = await c.session.request((id) => encodeReaddir(id, { handle }));
      expect(batch.type).toBe(PacketType.NAME);
      expect((batch as { entries: unknown[] }).entries.length).toBeLessThanOrEqual(100);
      await c.closeHandle(handle, "/many");
      expect((await c.list("/many")).length).toBe(3000);
      await c.close();
    });
  });
});
