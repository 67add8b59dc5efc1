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
  // One request at a time, so replies trickle in and most are still unanswered when the
  // session fails (a concurrent server answers all 16 reads in one batch).
  s = await startTestServer({ sftpLimits: { maxConcurrentRequests: 1 } });
  await writeFile(join(s.root, "f.bin"), new Uint8Array(4 * 1024 * 1024));
});
afterAll(() => s.stop());

it("a session that fails with reads in flight rejects them when awaited, none unhandled", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  try {
    const sftp = await s.connect();
    const file = await sftp.open("/f.bin", "r");
    // Small reads, so most of the 16 are still unanswered when the session fails.
    const reader = new PipelinedReader(sftp.session, file.handle, file.path, { maxInFlight: 16, chunkSize: 32 * 1024 });
    expect((await reader.next())?.offset).toBe(0); // 15 more replies queued behind it
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
