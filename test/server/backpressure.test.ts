/**
 * A hostile SFTP client that grants the server a 4 GiB channel window, floods READ requests
 * and then stops reading its socket: the server must stop producing replies once the socket
 * pushes back, instead of queueing gigabytes, and must go on serving others.
 */
import { connect as netConnect } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { resolveAlgorithms } from "../../src/ssh/algorithms.js";
import { MSG } from "../../src/ssh/messages.js";
import type { ByteChannel } from "../../src/ssh/socket/byte-channel.js";
import { socketChannel } from "../../src/ssh/socket/tcp.js";
import { Transport } from "../../src/ssh/transport/transport.js";
import { SshReader } from "../../src/ssh/wire/reader.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import { encodeInit } from "../../src/sftp/packets/init.js";
import { encodeOpen } from "../../src/sftp/packets/path.js";
import { encodeRead } from "../../src/sftp/packets/handle.js";
import { OpenFlags } from "../../src/sftp/constants.js";
import { AsyncQueue } from "../../src/util/async-queue.js";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PASSWORD, USER, startTestServer, type TestServer } from "./helpers.js";
import { passwordRequest } from "./raw-client.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await writeFile(join(t.root, "big"), new Uint8Array(8 * 1024 * 1024));
});
afterAll(() => t?.stop());

/** A socket whose reads can be stopped, so the kernel buffers fill and the server's writes block. */
async function gatedSocket(port: number): Promise<{ channel: ByteChannel; stop(): void }> {
  const socket = await new Promise<import("node:net").Socket>((resolve, reject) => {
    const s = netConnect({ host: "127.0.0.1", port }, () => resolve(s));
    s.on("error", reject);
  });
  const inner = socketChannel(socket);
  let stopped = false;
  return {
    channel: {
      read: () => (stopped ? new Promise(() => {}) : inner.read()),
      write: (d) => inner.write(d),
      close: () => inner.close(),
    },
    stop: () => {
      stopped = true;
      socket.pause();
    },
  };
}

it("stops producing replies for a client that stops reading", { timeout: 60_000 }, async () => {
  const gate = await gatedSocket(t.server.port);
  const transport = new Transport(gate.channel, { ...resolveAlgorithms(), backend: "auto", verifyHostKey: async () => {} });
  const inbox = new AsyncQueue<Uint8Array>();
  transport.onMessage = (m) => inbox.push(m.slice());
  await transport.start();
  transport.send(new SshWriter(32).byte(MSG.SERVICE_REQUEST).string("ssh-userauth").finish().slice());
  await inbox.shift();
  transport.send(passwordRequest(USER, PASSWORD));
  expect((await inbox.shift())[0]).toBe(MSG.USERAUTH_SUCCESS);
  transport.send(new SshWriter(64).byte(MSG.CHANNEL_OPEN).string("session").uint32(7).uint32(0xffffffff).uint32(256 * 1024).finish().slice());
  const conf = new SshReader(await inbox.shift(), "confirmation");
  expect(conf.byte()).toBe(MSG.CHANNEL_OPEN_CONFIRMATION);
  conf.uint32();
  const remote = conf.uint32();
  const data = (bytes: Uint8Array) => transport.send(new SshWriter(bytes.length + 16).byte(MSG.CHANNEL_DATA).uint32(remote).string(bytes).finish().slice());
  transport.send(new SshWriter(64).byte(MSG.CHANNEL_REQUEST).uint32(remote).string("subsystem").boolean(true).string("sftp").finish().slice());
  expect((await inbox.shift())[0]).toBe(MSG.CHANNEL_SUCCESS);
  data(encodeInit(3));
  await inbox.shift(); // VERSION
  data(encodeOpen(1, { path: "/big", pflags: OpenFlags.READ, attrs: {} }));
  const handleMsg = new SshReader(await inbox.shift(), "data");
  handleMsg.byte();
  handleMsg.uint32();
  const sftp = new SshReader(handleMsg.string(), "HANDLE");
  sftp.uint32();
  sftp.byte();
  sftp.uint32();
  const handle = sftp.string().slice();

  gate.stop();
  const before = process.memoryUsage().arrayBuffers;
  // 4000 reads of 255 KiB: about 1 GiB of replies if the server kept producing them.
  for (let i = 0; i < 4000; i++) data(encodeRead(100 + i, { handle, offset: (i % 32) * 255 * 1024, length: 255 * 1024 }));
  await new Promise((r) => setTimeout(r, 3000));
  const grown = process.memoryUsage().arrayBuffers - before;
  expect(grown).toBeLessThan(96 * 1024 * 1024);
  // What the server holds for this client: its connection's share (2 MiB by default) and the
  // one reply that went over it, not the gigabyte asked for.
  expect(t.server.outgoingBytes).toBeGreaterThan(0);
  expect(t.server.outgoingBytes).toBeLessThanOrEqual(2 * 1024 * 1024 + 256 * 1024);

  // Others are still served.
  const c = await t.connect();
  expect(await c.exists("/big")).toBe(true);
  await c.close();
  transport.fail(new Error("done"));
  // A client that goes away releases what was held for it.
  await expect.poll(() => t.server.outgoingBytes).toBe(0);
});

it("a healthy client's replies stop counting once its socket has taken them", async () => {
  const c = await t.connect();
  await c.readFile("/big"); // 8 MiB of replies, read as fast as they come
  await expect.poll(() => t.server.outgoingBytes).toBe(0);
  expect(t.server.connectionCount).toBe(1);
  await c.close();
});
