/**
 * writeFile sends WRITE and CLOSE together after OPEN (one round trip, not two) and still
 * reports a failed write, against a scripted server that checks the order of what it receives.
 * In place (atomic: false) here: an atomic writeFile sends the same WRITE + CLOSE to its
 * temporary file, then a rename (test/sftp/atomic-write-contract.ts, against real servers).
 */
import { describe, expect, it } from "vitest";
import { SftpError } from "../../src/errors.js";
import { SftpClient } from "../../src/sftp/client.js";
import { PacketType, StatusCode } from "../../src/sftp/constants.js";
import { encodeVersion } from "../../src/sftp/packets/init.js";
import { encodeHandle, encodeStatus } from "../../src/sftp/packets/response.js";
import { peekRequestId } from "../../src/sftp/packet.js";
import { connectSsh } from "../../src/ssh/client.js";
import { MSG } from "../../src/ssh/messages.js";
import { PROMPTLY_MS, afterLogin, optionsFor, startFake, useFakeServer, within } from "../hostile/helpers.js";

useFakeServer();

/**
 * An SFTP server that answers OPEN with a handle, holds back its answer to each WRITE until
 * the CLOSE for that handle has arrived (a client that waits for the WRITE before closing never
 * gets it), then answers the WRITE with `writeStatus` and CLOSE with `closeStatus`.
 */
function pipelinedCloseServer(writeStatus: StatusCode, closeStatus: StatusCode, seen: number[], messages: { channelData: number } = { channelData: 0 }) {
  return afterLogin(async (peer) => {
    const ch = await peer.acceptSession();
    await ch.nextSftp(); // INIT
    await ch.send(encodeVersion(3, []));
    const heldWrites: number[] = [];
    for (;;) {
      const packet = await ch.nextSftp();
      const id = peekRequestId(packet)!;
      seen.push(packet[0]!);
      messages.channelData = peer.received.filter((m) => m[0] === MSG.CHANNEL_DATA).length;
      const status = (code: StatusCode, message = "") => encodeStatus(id, { code, message, lang: "" });
      if (packet[0] === PacketType.OPEN) await ch.send(encodeHandle(id, { handle: Uint8Array.of(9, 9) }));
      else if (packet[0] === PacketType.WRITE) heldWrites.push(id);
      else if (packet[0] === PacketType.CLOSE) {
        for (const w of heldWrites.splice(0)) {
          await ch.send(encodeStatus(w, { code: writeStatus, message: writeStatus === StatusCode.OK ? "" : "No space left on device", lang: "" }));
        }
        await ch.send(status(closeStatus, closeStatus === StatusCode.OK ? "" : "close failed"));
      } else await ch.send(status(StatusCode.OP_UNSUPPORTED));
    }
  });
}

async function clientFor(script: ReturnType<typeof pipelinedCloseServer>) {
  const server = await startFake(script);
  const ssh = await connectSsh(optionsFor(server));
  return { ssh, client: await SftpClient.open(ssh) };
}

describe("writeFile", () => {
  it("sends CLOSE without waiting for the WRITE's status, in order after it and in the same message", async () => {
    const seen: number[] = [];
    const messages = { channelData: 0 };
    const { client } = await clientFor(pipelinedCloseServer(StatusCode.OK, StatusCode.OK, seen, messages));
    await within(client.writeFile("/f", new Uint8Array(5000).fill(1), { atomic: false }), PROMPTLY_MS, "writeFile");
    expect(seen).toEqual([PacketType.OPEN, PacketType.WRITE, PacketType.CLOSE]);
    expect(messages.channelData).toBe(3); // INIT, OPEN, WRITE + CLOSE
    await client.close();
  });

  it("splits data larger than one write and still closes after the last piece", async () => {
    const seen: number[] = [];
    const { client } = await clientFor(pipelinedCloseServer(StatusCode.OK, StatusCode.OK, seen));
    await within(client.writeFile("/f", new Uint8Array(100_000), { atomic: false }), PROMPTLY_MS, "writeFile"); // 32 KiB writes: no limits@openssh.com
    expect(seen).toEqual([PacketType.OPEN, PacketType.WRITE, PacketType.WRITE, PacketType.WRITE, PacketType.WRITE, PacketType.CLOSE]);
    await client.close();
  });

  it("reports a failed write (not the close), with the handle closed all the same", async () => {
    const seen: number[] = [];
    const { client } = await clientFor(pipelinedCloseServer(StatusCode.FAILURE, StatusCode.OK, seen));
    const err = await within(client.writeFile("/full/f", new Uint8Array(10), { atomic: false }).catch((e) => e), PROMPTLY_MS, "writeFile");
    expect(err).toBeInstanceOf(SftpError);
    expect(err.message).toContain("No space left on device");
    expect(err.path).toBe("/full/f");
    expect(seen.at(-1)).toBe(PacketType.CLOSE);
    await client.close();
  });

  it("reports a failed close when every write succeeded; atomic, it then removes the temporary file and renames nothing", async () => {
    const seen: number[] = [];
    const { client } = await clientFor(pipelinedCloseServer(StatusCode.OK, StatusCode.FAILURE, seen));
    const err = await within(client.writeFile("/f", new Uint8Array(10)).catch((e) => e), PROMPTLY_MS, "writeFile");
    expect(err).toBeInstanceOf(SftpError);
    expect(err.message).toContain("close failed");
    expect(err.path).toBe("/f");
    // LSTAT of the target (a link? its permissions), OPEN of the temporary file, WRITE + CLOSE, REMOVE.
    expect(seen).toEqual([PacketType.LSTAT, PacketType.OPEN, PacketType.WRITE, PacketType.CLOSE, PacketType.REMOVE]);
    await client.close();
  });
});
