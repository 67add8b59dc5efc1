/**
 * Downloads whose DATA replies arrive cut into CHANNEL_DATA pieces of odd sizes (a byte, a few,
 * most of a channel packet), so each reply reaches the file as many parts (SftpFramer.nextParts)
 * and never as one joined buffer: the file must come out whole and in order, through short
 * reads and EOF; a connection dropped in the middle of a reply must end the download with a
 * typed error and leave nothing at the target.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshError } from "../../src/errors.js";
import { SftpClient } from "../../src/sftp/client.js";
import { PacketType, StatusCode } from "../../src/sftp/constants.js";
import { peekRequestId } from "../../src/sftp/packet.js";
import { decodeRead } from "../../src/sftp/packets/handle.js";
import { encodeVersion } from "../../src/sftp/packets/init.js";
import { encodeAttrsReply, encodeData, encodeHandle, encodeStatus } from "../../src/sftp/packets/response.js";
import { connectSsh } from "../../src/ssh/client.js";
import type { ServerPeer } from "../support/fake-server.js";
import { PROMPTLY_MS, afterLogin, optionsFor, startFake, useFakeServer, within } from "./helpers.js";

useFakeServer();

let local: string;
beforeAll(async () => {
  local = await mkdtemp(join(tmpdir(), "pure-sftp-parts-"));
});
afterAll(() => rm(local, { recursive: true, force: true }));

const FILE = new Uint8Array(300_000).map((_, i) => (i * 7919 + (i >> 8)) & 255);
/** CHANNEL_DATA sizes the replies are cut into, in turn. */
const PIECES = [1, 3, 4093, 13, 32_768, 2, 9, 20_000, 5];

interface Serving {
  /** Answer every `shortEvery`th READ with at most 1000 bytes (a short read, draft §6.4). */
  shortEvery?: number;
  /** Drop the connection halfway through the reply to this READ (counting from 1). */
  dropAtRead?: number;
}

function server(opts: Serving) {
  return afterLogin(async (peer: ServerPeer) => {
    const ch = await peer.acceptSession();
    await ch.nextSftp(); // INIT
    await ch.send(encodeVersion(3, []));
    let reads = 0;
    let piece = 0;
    /** Sends `packet` as CHANNEL_DATA pieces of the PIECES sizes, up to `upTo` bytes. */
    const sendCut = async (packet: Uint8Array, upTo = packet.length) => {
      for (let at = 0; at < upTo;) {
        const n = Math.min(PIECES[piece++ % PIECES.length]!, upTo - at);
        await ch.send(packet.subarray(at, at + n));
        at += n;
      }
    };
    for (;;) {
      const packet = await ch.nextSftp();
      const id = peekRequestId(packet)!;
      if (packet[0] === PacketType.OPEN) await ch.send(encodeHandle(id, { handle: Uint8Array.of(0, 0, 0, 1) }));
      else if (packet[0] === PacketType.FSTAT) await ch.send(encodeAttrsReply(id, { attrs: { size: FILE.length } }));
      else if (packet[0] === PacketType.CLOSE) await ch.send(encodeStatus(id, { code: StatusCode.OK, message: "", lang: "" }));
      else if (packet[0] === PacketType.READ) {
        reads++;
        const read = decodeRead(packet.subarray(1));
        const offset = Number(read.offset);
        if (offset >= FILE.length) {
          await sendCut(encodeStatus(id, { code: StatusCode.EOF, message: "", lang: "" }));
          continue;
        }
        const cap = opts.shortEvery && reads % opts.shortEvery === 0 ? 1000 : read.length;
        const reply = encodeData(id, { data: FILE.subarray(offset, Math.min(FILE.length, offset + Math.min(read.length, cap))) });
        if (reads === opts.dropAtRead) {
          await sendCut(reply, reply.length >> 1);
          peer.socket.destroy();
          return;
        }
        await sendCut(reply);
      }
    }
  });
}

async function clientFor(opts: Serving) {
  const fake = await startFake(server(opts));
  const ssh = await connectSsh(optionsFor(fake));
  return SftpClient.open(ssh);
}

describe("download with DATA replies cut into many channel messages", () => {
  it("writes the whole file in order, through short reads and EOF", async () => {
    const client = await clientFor({ shortEvery: 3 });
    const target = join(local, "whole.bin");
    await client.download("/f.bin", target, { maxInFlight: 4 });
    expect(new Uint8Array(await readFile(target))).toEqual(FILE);
    expect((await readdir(local)).filter((n) => n.startsWith("whole.bin."))).toEqual([]);
    // The same replies through the API that returns one buffer per read.
    expect(await client.readFile("/f.bin")).toEqual(FILE);
    await client.close();
  });

  it("a connection dropped halfway through a reply: a typed error, nothing at the target", async () => {
    const client = await clientFor({ dropAtRead: 3 });
    const target = join(local, "dropped.bin");
    const err = await within(client.download("/f.bin", target).then(() => undefined, (e: unknown) => e), PROMPTLY_MS, "the download should fail");
    expect(err).toBeInstanceOf(SshError);
    expect((err as SshError).code).toBe("CONNECTION_LOST");
    expect((await readdir(local)).filter((n) => n.startsWith("dropped.bin"))).toEqual([]);
    await client.close();
  });
});
