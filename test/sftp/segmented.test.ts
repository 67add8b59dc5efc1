/** The resume record of segmented transfers, and runSegments before its first range (the transfers themselves run in the client contracts). */
import { describe, expect, it } from "vitest";
import { decodeRecord, encodeRecord, segmentSize } from "../../src/sftp/segmented.js";
import { runSegments } from "../../src/sftp/segments.js";
import type { SftpClient } from "../../src/sftp/client.js";

const MiB = 1024 * 1024;

/** The decoder is bounded and strict: anything not exactly ours is ignored. */
describe("segmented transfer resume record", () => {
  it("decodes only well-formed records for the same size", () => {
    const total = 100 * MiB;
    const seg = segmentSize(total);
    const good = encodeRecord(total, seg, [3, 1, 1]);
    expect(decodeRecord(good, total)).toEqual({ segment: seg, done: [1, 3] });
    expect(decodeRecord(good, total + 1)).toBeUndefined();
    const bad = (o: unknown) => decodeRecord(new TextEncoder().encode(JSON.stringify(o)), total);
    expect(bad({ size: total, segment: seg, done: [999] })).toBeUndefined();
    expect(bad({ size: total, segment: 0, done: [] })).toBeUndefined();
    expect(bad({ size: total, segment: seg, done: [1.5] })).toBeUndefined();
    expect(bad({ size: total, segment: seg, done: "1" })).toBeUndefined();
    expect(bad(null)).toBeUndefined();
    expect(decodeRecord(new Uint8Array([0xff, 0xfe]), total)).toBeUndefined();
    expect(decodeRecord(new Uint8Array(2 * MiB).fill(0x20), total)).toBeUndefined();
  });
});

/**
 * A caller's signal that fired during the awaits before runSegments (opening the files) ends the
 * transfer before any range moves: a listener added after the event would never hear of it.
 */
describe("runSegments and an already aborted signal", () => {
  it("moves nothing and rejects with ABORTED", async () => {
    const abort = new AbortController();
    abort.abort(new Error("user gave up"));
    let moves = 0;
    // Only what runSegments touches before its first range: one stream, the caller's session.
    const session = { channel: { peerWindow: 2 * MiB, receiveWindow: 2 * MiB }, writeSize: 255 * 1024, readSize: 255 * 1024, roundTripMs: 1 };
    const main = { ssh: { canConnectAgain: false }, session, sessionOptions: {} } as unknown as SftpClient;
    const run = runSegments(main, {
      total: 4 * MiB, segment: MiB, pending: [0, 1, 2, 3], already: 0, streams: 1, direction: "upload", signal: abort.signal,
      move: () => {
        moves++;
        return new Promise<void>(() => {});
      },
    });
    await expect(run).rejects.toMatchObject({ code: "ABORTED", message: expect.stringContaining("user gave up") });
    expect(moves).toBe(0);
  });
});
