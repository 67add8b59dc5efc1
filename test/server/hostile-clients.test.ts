/**
 * Hostile clients against the embedded server: garbage, oversized SSH and SFTP packets, unknown
 * and malformed SFTP requests, 200 half-open connections, password brute force. Each ends with
 * the server still serving a well-behaved client.
 */
import { connect as netConnect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StatusCode } from "../../src/sftp/constants.js";
import { startPacket, finishPacket } from "../../src/sftp/packets/wire.js";
import { MSG } from "../../src/ssh/messages.js";
import { PacketEncoder } from "../../src/ssh/transport/framing.js";
import { STRICT_KEX_C, encodeKexInit } from "../../src/ssh/transport/kexinit.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import { PASSWORD, startTestServer, type TestServer } from "./helpers.js";
import { passwordRequest, rawSession } from "./raw-client.js";

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: "127.0.0.1", port }, () => resolve(s));
    s.on("error", reject);
  });
}

function closedWithin(s: Socket, ms: number): Promise<boolean> {
  if (s.destroyed || s.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    s.once("close", done);
    s.once("end", done);
    s.resume();
  });
}

describe("hostile clients", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ limits: { authFailureDelayMs: 50, maxAuthAttempts: 3, maxUnauthenticated: 16, authTimeoutMs: 10_000 } });
  });
  afterAll(() => t?.stop());

  async function stillServes(): Promise<void> {
    const c = await t.connect();
    await c.writeFile("/alive", "yes");
    expect(new TextDecoder().decode(await c.readFile("/alive"))).toBe("yes");
    await c.close();
  }

  it("garbage instead of a version line", async () => {
    const s = await rawSocket(t.server.port);
    s.write(crypto.getRandomValues(new Uint8Array(4096)));
    expect(await closedWithin(s, 2000)).toBe(true);
    await stillServes();
  });

  it("an SSH packet length of 2 GiB", async () => {
    const s = await rawSocket(t.server.port);
    s.write("SSH-2.0-hostile\r\n");
    s.write(Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0));
    expect(await closedWithin(s, 2000)).toBe(true);
    await stillServes();
  });

  it("strict kex: a packet before the client's KEXINIT ends the connection (Terrapin)", async () => {
    const s = await rawSocket(t.server.port);
    const received: Buffer[] = [];
    s.on("data", (d: Buffer) => received.push(d));
    const enc = new PacketEncoder();
    const kexinit = encodeKexInit({
      cookie: new Uint8Array(16), kex: ["curve25519-sha256", STRICT_KEX_C], serverHostKey: ["ssh-ed25519"],
      cipherC2S: ["aes128-ctr"], cipherS2C: ["aes128-ctr"], macC2S: ["hmac-sha2-256"], macS2C: ["hmac-sha2-256"],
      compressionC2S: ["none"], compressionS2C: ["none"], languagesC2S: [], languagesS2C: [], firstKexPacketFollows: false,
    });
    s.write("SSH-2.0-terrapin\r\n");
    s.write(enc.encode(new SshWriter(8).byte(MSG.IGNORE).string("").finish().slice()) as Uint8Array);
    s.write(enc.encode(kexinit) as Uint8Array);
    expect(await closedWithin(s, 2000)).toBe(true);
    expect(Buffer.concat(received).toString("latin1")).toContain("strict kex");
    await stillServes();
  });

  it("an oversized SFTP packet ends that session only", async () => {
    const c = await t.connect();
    const other = await t.connect();
    const header = new Uint8Array([0x10, 0, 0, 0, 17, 0, 0, 0, 1]); // 256 MiB claimed
    await c.session.channel.write(header);
    await c.session.channel.whenClosed;
    expect(await c.exists("/").catch((e) => e.code)).toBe("CONNECTION_LOST");
    expect(await other.exists("/")).toBe(true);
    await c.close();
    await other.close();
    await stillServes();
  });

  it("unknown and malformed SFTP requests get a STATUS, and the session goes on", async () => {
    const c = await t.connect();
    const unknown = await c.session.request((id) => finishPacket(startPacket(99, id)));
    expect(unknown).toMatchObject({ type: 101, code: StatusCode.OP_UNSUPPORTED });
    const truncatedOpen = await c.session.request((id) => finishPacket(startPacket(3, id).uint32(1000)));
    expect(truncatedOpen).toMatchObject({ type: 101, code: StatusCode.BAD_MESSAGE });
    const badHandle = await c.session.request((id) => finishPacket(startPacket(5, id).string(new Uint8Array(300)).uint64(0n).uint32(10)));
    expect(badHandle).toMatchObject({ type: 101, code: StatusCode.FAILURE });
    const hugeRead = await (async () => {
      await c.writeFile("/r", new Uint8Array(1024 * 1024));
      const f = await c.open("/r");
      const reply = await c.session.request((id) => finishPacket(startPacket(5, id).string(f.handle).uint64(0n).uint32(0xffffffff)));
      await f.close();
      return reply;
    })();
    expect(hugeRead.type).toBe(103);
    expect((hugeRead as { data: Uint8Array }).data.length).toBe(255 * 1024); // capped, not 4 GiB
    expect(await c.exists("/r")).toBe(true);
    await c.close();
  });

  it("200 half-open connections do not lock a well-behaved client out", { timeout: 60_000 }, async () => {
    const sockets = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      const s = await rawSocket(t.server.port);
      s.on("error", () => {});
      if (i % 2 === 0) s.write("SSH-2.0-half"); // a version line that never ends
      return s;
    }));
    await stillServes();
    // Everything beyond the unauthenticated limit was dropped by the server.
    const closed = (await Promise.all(sockets.map((s) => closedWithin(s, 3000)))).filter(Boolean).length;
    expect(closed).toBeGreaterThanOrEqual(200 - 16);
    for (const s of sockets) s.destroy();
    await stillServes();
  });

  it("password brute force on many connections", { timeout: 60_000 }, async () => {
    const attackers = await Promise.all(Array.from({ length: 10 }, () => rawSession(t.server.port)));
    for (const a of attackers) for (let i = 0; i < 20; i++) a.send(passwordRequest("alice", `guess${i}`));
    await stillServes();
    const ends = await Promise.all(attackers.map((a) => a.closed));
    expect(ends.every((e) => e?.code === "DISCONNECTED")).toBe(true);
    await stillServes();
    const c = await t.connect({ password: PASSWORD });
    await c.close();
  });
});
