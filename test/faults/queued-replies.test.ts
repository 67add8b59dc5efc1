/**
 * The deterministic form of the download crash: replies queued in a read pipeline, nobody
 * awaiting them (the consumer busy writing to disk), when the session fails. They must reject
 * for whoever awaits them later, and never as unhandled rejections (which kill the process).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ConnectionError, SftpError } from "../../src/errors.js";
import { PipelinedReader } from "../../src/sftp/pipeline.js";
import { startTestServer, type TestServer } from "../server/helpers.js";

let s: TestServer;
beforeAll(async () => {
  // One request at a time, so replies come in request order and the first reply's bytes are
  // the first READ's (a concurrent server may answer a later READ first).
  s = await startTestServer({ sftpLimits: { maxConcurrentRequests: 1 } });
  await writeFile(join(s.root, "f.bin"), new Uint8Array(4 * 1024 * 1024));
});

const CHUNK = 32 * 1024;
/** One DATA reply for a CHUNK-byte read: length, type, id, data length, data (draft-02 §7). */
const DATA_REPLY_BYTES = 4 + 1 + 4 + 4 + CHUNK;
afterAll(() => s.stop());

it("a session that fails with reads in flight rejects them when awaited, none unhandled", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  try {
    const sftp = await s.connect();
    const file = await sftp.open("/f.bin", "r");
    // From here on only the first reply reaches the session; the other 15 stay "on the wire"
    // whatever the server's speed, so they are still pending when the session fails.
    const channel = sftp.session.channel;
    const deliver = channel.onData;
    let allowed = DATA_REPLY_BYTES;
    channel.onData = (d) => {
      const n = Math.min(allowed, d.length);
      allowed -= n;
      if (n > 0) deliver(d.subarray(0, n));
    };
    const reader = new PipelinedReader(sftp.session, file.handle, file.path, { maxInFlight: 16, chunkSize: CHUNK });
    expect((await reader.next())?.offset).toBe(0); // 15 more requests pending behind it
    expect(sftp.session.inFlight).toBe(15);
    // The connection drops (as the transport does when the socket dies): every reply not yet
    // in rejects at once, in this turn.
    sftp.session.channel.finish(new ConnectionError("CONNECTION_LOST", "connection lost: read ECONNRESET"));
    // The consumer is elsewhere (a local write) for a few turns of the event loop.
    await new Promise((r) => setTimeout(r, 50));
    const err = await reader.next().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SftpError);
    expect((err as SftpError).code).toBe("CONNECTION_LOST");
    expect(unhandled).toEqual([]);
    await sftp.ssh.close();
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});
