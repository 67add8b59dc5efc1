/**
 * The client's channel and SFTP layers against scripted hostile servers: a zero window that is
 * never adjusted, data beyond our window, a READDIR answer of millions of names, NAME counts and
 * SFTP lengths that lie. Each ends in a typed error (the caller's close() ends what only waits),
 * and the socket closes.
 */
import { describe, expect, it } from "vitest";
import { ConnectionError, ProtocolError, SftpError, SshError } from "../../src/errors.js";
import { connect } from "../../src/connect.js";
import { DEFAULT_MAX_LIST_ENTRIES, SftpClient } from "../../src/sftp/client.js";
import { PacketType, StatusCode } from "../../src/sftp/constants.js";
import { encodeVersion } from "../../src/sftp/packets/init.js";
import { encodeHandle, encodeStatus } from "../../src/sftp/packets/response.js";
import { peekRequestId } from "../../src/sftp/packet.js";
import { connectSsh } from "../../src/ssh/client.js";
import { LOCAL_WINDOW } from "../../src/ssh/connection/channel.js";
import { MSG } from "../../src/ssh/messages.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import type { ScriptedChannel, ServerPeer } from "../support/fake-server.js";
import { PROMPTLY_MS, afterLogin, optionsFor, startFake, useFakeServer, within } from "./helpers.js";

useFakeServer();

type Handler = (packet: Uint8Array, ch: ScriptedChannel, peer: ServerPeer) => Promise<void>;

/** Login, a session channel granting `window`, INIT/VERSION, then `handler` for every request. */
function sftpServer(handler: Handler, window?: number) {
  return afterLogin(async (peer) => {
    const ch = await peer.acceptSession({ window });
    const init = await ch.nextSftp();
    if (init[0] !== PacketType.INIT) throw new Error("expected INIT");
    await ch.send(encodeVersion(3, []));
    for (;;) await handler(await ch.nextSftp(), ch, peer);
  });
}

/** Answers OPEN/OPENDIR with a handle and CLOSE with OK; everything else goes to `rest`. */
const withHandles = (rest: Handler): Handler => async (packet, ch, peer) => {
  const id = peekRequestId(packet)!;
  if (packet[0] === PacketType.OPEN || packet[0] === PacketType.OPENDIR) return ch.send(encodeHandle(id, { handle: Uint8Array.of(1, 2, 3, 4) }));
  if (packet[0] === PacketType.CLOSE) return ch.send(encodeStatus(id, { code: StatusCode.OK, message: "", lang: "" }));
  return rest(packet, ch, peer);
};

/** A NAME packet of `count` short entries (no attributes), framed. */
function namePacket(id: number, count: number, from: number): Uint8Array {
  const w = new SshWriter(count * 24 + 16).uint32(0).byte(PacketType.NAME).uint32(id).uint32(count);
  for (let i = 0; i < count; i++) w.string(`f${from + i}`).string("").uint32(0);
  const p = w.finish().slice();
  new DataView(p.buffer).setUint32(0, p.length - 4);
  return p;
}

/** Connects to a fake server running `script` and starts SFTP. */
async function sftpClientFor(script: ReturnType<typeof sftpServer>) {
  const server = await startFake(script);
  const ssh = await connectSsh(optionsFor(server));
  const client = await SftpClient.open(ssh);
  return { server, ssh, client, peer: await server.firstPeer() };
}

describe("zero window", () => {
  it("a channel opened with window 0: SftpClient.open waits, and close() ends it with a typed error", async () => {
    const server = await startFake(afterLogin(async (peer) => {
      await peer.acceptSession({ window: 0 });
      await peer.clientGone;
    }));
    const ssh = await connectSsh(optionsFor(server));
    const opening = SftpClient.open(ssh).then(() => undefined, (e: unknown) => e as SshError);
    await new Promise((r) => setTimeout(r, 200));
    const started = performance.now();
    await ssh.close();
    const err = (await within(opening, PROMPTLY_MS, "SftpClient.open should fail"))!;
    expect(performance.now() - started).toBeLessThan(PROMPTLY_MS);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.code).toBe("CONNECTION_CLOSED");
    await within((await server.firstPeer()).clientGone, PROMPTLY_MS, "the client should close its socket");
  });

  // readyTimeoutMs bounds the SFTP start too, not only the SSH handshake.
  it("connect() with readyTimeoutMs: a zero window at SFTP start ends with TIMEOUT", async () => {
    const server = await startFake(afterLogin(async (peer) => {
      await peer.acceptSession({ window: 0 });
      await peer.clientGone;
    }));
    const err = await within(connect(optionsFor(server, { readyTimeoutMs: 300 })).then(() => undefined, (e: unknown) => e as SshError), PROMPTLY_MS, "connect should fail");
    expect(err?.code).toBe("TIMEOUT");
  });

  it("a window never adjusted after 64 KiB: writes wait, and close() fails them with CONNECTION_LOST", async () => {
    const { server, client } = await sftpClientFor(sftpServer(withHandles(async () => {}), 64 * 1024));
    const writing = client.writeFile("/big", new Uint8Array(1024 * 1024)).then(() => undefined, (e: unknown) => e as SshError);
    const stat = client.stat("/other").then(() => undefined, (e: unknown) => e as SshError);
    await new Promise((r) => setTimeout(r, 300));
    const started = performance.now();
    await client.close();
    const [w, s] = await within(Promise.all([writing, stat]), PROMPTLY_MS, "the waiting requests should fail");
    expect(performance.now() - started).toBeLessThan(PROMPTLY_MS);
    for (const e of [w, s]) {
      expect(e).toBeInstanceOf(SftpError);
      expect(e?.code).toBe("CONNECTION_LOST");
    }
    await within((await server.firstPeer()).clientGone, PROMPTLY_MS, "the client should close its socket");
  });

  it("data beyond the window we granted: WINDOW_EXCEEDED, the connection closes", async () => {
    const { ssh, client, peer } = await sftpClientFor(sftpServer(async (_packet, ch) => {
      const chunk = new Uint8Array(ch.theirMaxPacket);
      for (let sent = 0; sent <= LOCAL_WINDOW; sent += chunk.length) await ch.sendUnchecked(chunk);
    }));
    const closed = new Promise<SshError | undefined>((resolve) => ssh.onClose(resolve));
    const pending = client.stat("/x").then(() => undefined, (e: unknown) => e as SshError);
    const err = await within(closed, 5000, "the connection should fail");
    expect(err).toBeInstanceOf(SshError);
    expect(err?.code).toBe("WINDOW_EXCEEDED");
    expect((await pending)?.code).toBe("CONNECTION_LOST");
    await within(peer.clientGone, PROMPTLY_MS, "the client should close its socket");
  });
});

describe("a server whose connection is alive but whose SFTP side never answers", () => {
  /** Login, SFTP started, then IGNORE every 50 ms (the transport is alive) and no SFTP reply ever. */
  const deaf = sftpServer(async (_packet, _ch, peer) => {
    while (!peer.gone) {
      await peer.sendIgnore(new Uint8Array(8)).catch(() => {});
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it("requestTimeoutMs fails every pending request with SftpError TIMEOUT, and the session stays failed", async () => {
    const server = await startFake(deaf);
    const client = await connect({ ...optionsFor(server, { keepaliveIntervalMs: 100 }), requestTimeoutMs: 400 });
    const peer = await server.firstPeer();
    const pending = [client.stat("/a"), client.readFile("/b"), client.list("/c")];
    const errors = await within(Promise.all(pending.map((p) => p.then(() => undefined, (e: unknown) => e as SftpError))), 5000, "the requests should time out");
    for (const e of errors) {
      expect(e).toBeInstanceOf(SftpError);
      expect(e!.code).toBe("TIMEOUT");
      expect(e!.message).toMatch(/answered no SFTP request for \d+ ms \(requestTimeoutMs 400\)/);
    }
    // The keepalives were answered by the IGNOREs: the SSH connection itself is fine.
    expect(client.ssh.closed).toBe(false);
    expect(((await client.stat("/later").catch((e: unknown) => e)) as SftpError).code).toBe("TIMEOUT");
    await client.close();
    await within(peer.clientGone, PROMPTLY_MS, "the client should close its socket");
  });

  it("any reply is progress: a slow server answering one request every 100 ms never trips a 1 s timeout", async () => {
    const server = await startFake(sftpServer(async (packet, ch) => {
      await new Promise((r) => setTimeout(r, 100));
      await ch.send(encodeStatus(peekRequestId(packet)!, { code: StatusCode.NO_SUCH_FILE, message: "", lang: "" }));
    }));
    const client = await connect({ ...optionsFor(server), requestTimeoutMs: 1000 });
    // 20 at once, answered one by one: the last after about 2 s, twice the timeout.
    const codes = await Promise.all(Array.from({ length: 20 }, (_, i) => client.stat(`/f${i}`).then(() => "OK", (e: SftpError) => e.code)));
    expect(codes).toEqual(Array(20).fill("NO_SUCH_FILE"));
    await client.close();
  });

  it("part of a reply is progress: one reply trickled over twice the timeout never trips it", async () => {
    const server = await startFake(sftpServer(async (packet, ch) => {
      // One reply, 10 pieces 200 ms apart: whole only after about 2 s, under a 1 s timeout.
      const reply = encodeStatus(peekRequestId(packet)!, { code: StatusCode.NO_SUCH_FILE, message: "x".repeat(50), lang: "" });
      const step = Math.ceil(reply.length / 10);
      for (let i = 0; i < reply.length; i += step) {
        await new Promise((r) => setTimeout(r, 200));
        await ch.send(reply.subarray(i, i + step));
      }
    }));
    const client = await connect({ ...optionsFor(server), requestTimeoutMs: 1000 });
    expect(((await client.stat("/slow").catch((e: unknown) => e)) as SftpError).code).toBe("NO_SUCH_FILE");
    await client.close();
  });
});

describe("a server that never answers our CHANNEL_CLOSE", () => {
  const neverAnswersClose = afterLogin(async (peer) => {
    const ch = await peer.acceptSession();
    ch.answerClose = false;
    await ch.nextSftp();
    await ch.send(encodeVersion(3, []));
    await peer.clientGone;
  });

  // close() disconnects without waiting for the server's CHANNEL_CLOSE.
  it("SftpClient.close() still ends, and the socket closes", async () => {
    const server = await startFake(neverAnswersClose);
    const client = await SftpClient.open(await connectSsh(optionsFor(server)));
    await within(client.close(), PROMPTLY_MS, "close() should end");
    await within((await server.firstPeer()).clientGone, PROMPTLY_MS, "the client should close its socket");
  });

  it("closing the SSH connection instead ends it", async () => {
    const server = await startFake(neverAnswersClose);
    const client = await SftpClient.open(await connectSsh(optionsFor(server)));
    const closing = client.close();
    await new Promise((r) => setTimeout(r, 100));
    await within(client.ssh.close(), PROMPTLY_MS, "ssh.close() should end");
    await within(closing, PROMPTLY_MS, "the pending close() should end with it");
    await within((await server.firstPeer()).clientGone, PROMPTLY_MS, "the client should close its socket");
  });
});

describe("a READDIR answer of millions of names", () => {
  /** Answers every READDIR with another `batch` names: the listing never ends. */
  const endless = (batch: number, served: { names: number }) => sftpServer(withHandles(async (packet, ch) => {
    const id = peekRequestId(packet)!;
    if (packet[0] !== PacketType.READDIR) return ch.send(encodeStatus(id, { code: StatusCode.NO_SUCH_FILE, message: "", lang: "" }));
    await ch.send(namePacket(id, batch, served.names));
    served.names += batch;
  }));

  it("list() stops at maxEntries with SftpError FAILURE, closes the handle, and the session goes on", async () => {
    const served = { names: 0 };
    const { client, peer } = await sftpClientFor(endless(5000, served));
    const started = performance.now();
    const err = (await client.list("/huge", { maxEntries: 50_000 }).catch((e: unknown) => e)) as SftpError;
    // Unbounded, the listing would never end; 50,000 names take about a second on a loaded machine.
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(err).toBeInstanceOf(SftpError);
    expect(err.code).toBe("FAILURE");
    expect(err.path).toBe("/huge");
    expect(err.message).toContain("exceeds 50000 entries");
    expect(served.names).toBeLessThanOrEqual(55_000);
    expect(await client.exists("/after")).toBe(false); // the session still answers
    await client.close();
    await within(peer.clientGone, PROMPTLY_MS, "the client should close its socket");
  });

  it(`by default, list() stops after ${DEFAULT_MAX_LIST_ENTRIES} names`, { timeout: 60_000 }, async () => {
    const served = { names: 0 };
    const { client, peer } = await sftpClientFor(endless(10_000, served));
    const before = process.memoryUsage().heapUsed;
    const err = (await client.list("/millions").catch((e: unknown) => e)) as SftpError;
    expect(err).toBeInstanceOf(SftpError);
    expect(err.code).toBe("FAILURE");
    expect(err.message).toContain(`exceeds ${DEFAULT_MAX_LIST_ENTRIES} entries`);
    expect(served.names).toBeLessThanOrEqual(DEFAULT_MAX_LIST_ENTRIES + 20_000);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(512 * 1024 * 1024); // about 180 MiB measured
    await client.close();
    await within(peer.clientGone, PROMPTLY_MS, "the client should close its socket");
  });

  it("endless empty NAME replies end too", async () => {
    const served = { names: 0 };
    const { client } = await sftpClientFor(endless(0, served));
    const err = (await client.list("/empty", { maxEntries: 200 }).catch((e: unknown) => e)) as SftpError;
    expect(err.code).toBe("FAILURE");
    await client.close();
  });
});

describe("SFTP lengths and counts that lie", () => {
  const fatal: [string, (id: number) => Uint8Array, RegExp, string][] = [
    ["a NAME claiming 2^31 entries in 20 bytes", (id) => {
      const p = new SshWriter(32).uint32(0).byte(PacketType.NAME).uint32(id).uint32(2 ** 31).raw(new Uint8Array(8)).finish().slice();
      new DataView(p.buffer).setUint32(0, p.length - 4);
      return p;
    }, /NAME claims 2147483648 entries/, "PROTOCOL_ERROR"],
    ["an SFTP packet length of 2^31", () => Uint8Array.of(0x80, 0, 0, 0, PacketType.NAME), /SFTP packet length 2147483648 exceeds/, "SFTP_PACKET_TOO_LARGE"],
    ["an SFTP packet length of 0", () => Uint8Array.of(0, 0, 0, 0), /length 0/, "SFTP_BAD_PACKET"],
    ["a reply to a request that was never sent", (id) => encodeStatus(id + 1000, { code: StatusCode.OK, message: "", lang: "" }), /not pending/, "BAD_MESSAGE"],
  ];
  for (const [what, reply, message, causeCode] of fatal) {
    it(`${what}: the session fails with CONNECTION_LOST (cause ${causeCode}), pending requests too`, async () => {
      const { ssh, client, peer } = await sftpClientFor(sftpServer(withHandles(async (packet, ch) => {
        await ch.send(reply(peekRequestId(packet)!));
      })));
      const started = performance.now();
      const err = (await client.list("/d").catch((e: unknown) => e)) as SftpError;
      expect(performance.now() - started).toBeLessThan(PROMPTLY_MS);
      expect(err).toBeInstanceOf(SftpError);
      expect(err.code).toBe("CONNECTION_LOST");
      expect(err.message).toMatch(message);
      expect((err.cause as SshError).code).toBe(causeCode);
      await expect(client.stat("/")).rejects.toMatchObject({ code: "CONNECTION_LOST" });
      // The session's channel is closed; the SSH connection stays until the caller closes it.
      expect(ssh.closed).toBe(false);
      await client.close();
      await within(peer.clientGone, PROMPTLY_MS, "the client should close its socket");
    });
  }

  it("CHANNEL_DATA for a channel that does not exist: UNKNOWN_CHANNEL, the connection closes", async () => {
    const { ssh, client, peer } = await sftpClientFor(sftpServer(async (_packet, _ch, p) => {
      await p.sendPacket(new SshWriter(32).byte(MSG.CHANNEL_DATA).uint32(77).string("boo").finish().slice());
    }));
    const closed = new Promise<SshError | undefined>((resolve) => ssh.onClose(resolve));
    await client.stat("/").catch(() => {});
    const err = await within(closed, PROMPTLY_MS, "the connection should fail");
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err?.code).toBe("UNKNOWN_CHANNEL");
    await within(peer.clientGone, PROMPTLY_MS, "the client should close its socket");
  });
});
