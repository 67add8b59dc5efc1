/** The resume record of segmented transfers (the transfers themselves run in the client contracts). */
import { describe, expect, it } from "vitest";
import { decodeRecord, encodeRecord, segmentSize } from "../../src/sftp/segmented.js";

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
