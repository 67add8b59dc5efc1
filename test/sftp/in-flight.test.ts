/** The WRITE in-flight limit (src/sftp/in-flight.ts) against modelled paths, and how PipelinedWriter feeds it. */
import { describe, expect, it } from "vitest";
import { InFlightLimit } from "../../src/sftp/in-flight.js";
import { PipelinedWriter } from "../../src/sftp/pipeline.js";
import { PacketType, StatusCode } from "../../src/sftp/constants.js";
import type { SftpResponse } from "../../src/sftp/packet.js";
import type { SftpSession } from "../../src/sftp/session.js";

/**
 * Feeds `rounds` windows of answers whose round trip `rtt(limit, i)` gives, a window taking its
 * mean round trip on a clock that starts at `clock.now`; the limits seen after each.
 */
function run(c: InFlightLimit, rounds: number, rtt: (limit: number, i: number) => number, clock = { now: 0 }): number[] {
  const seen: number[] = [];
  let i = 0;
  for (let r = 0; r < rounds; r++) {
    const limit = c.limit;
    for (let k = 0; k < limit; k++) {
      const ms = rtt(limit, i++);
      clock.now += ms / limit;
      c.answered(ms, clock.now);
    }
    seen.push(c.limit);
  }
  return seen;
}

describe("InFlightLimit", () => {
  it("starts at sshd's window and doubles while nothing queues, up to its ceiling", () => {
    const c = new InFlightLimit(64);
    expect(c.limit).toBe(8);
    expect(run(c, 4, () => 50)).toEqual([16, 32, 64, 64]);
  });

  it("comes down to a few requests when each one more only waits in a queue (sshd and sftp-server on loopback)", () => {
    // One request served per millisecond, 0.5 ms there and back: everything past one request
    // queues. The session's first request found the path empty.
    const c = new InFlightLimit(64);
    const seen = run(c, 60, (limit, i) => (i === 0 ? 1.5 : 0.5 + limit));
    expect(Math.max(...seen.slice(-40))).toBeLessThanOrEqual(4);
    expect(Math.min(...seen.slice(-40))).toBeGreaterThanOrEqual(2);
  });

  it("keeps a long link's window full despite jitter (50 ms ± 10%, a window of 8 requests a round trip)", () => {
    const c = new InFlightLimit(64);
    let x = 1;
    const jitter = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 10;
    // Past 8 requests, the rest wait for the window: a round trip per 8.
    const seen = run(c, 80, (limit) => 50 * Math.max(1, limit / 8) + jitter());
    expect(Math.min(...seen.slice(-60))).toBeGreaterThanOrEqual(8);
    expect(Math.max(...seen.slice(-60))).toBeLessThanOrEqual(12);
  });

  it("forgets a shortest round trip after 10 s: a route that got longer does not keep the limit at 2", () => {
    const c = new InFlightLimit(64);
    const clock = { now: 0 };
    run(c, 3, () => 1, clock); // a 1 ms path, nothing queued
    // Now 20 ms with nothing queued: against the 1 ms base every window looks queued.
    const before = run(c, 5, () => 20, clock);
    expect(before.at(-1)).toBe(2);
    clock.now += 10_000;
    const after = run(c, 20, () => 20, clock);
    expect(after.at(-1)).toBeGreaterThanOrEqual(16);
  });

  it("never goes under 2 or over its ceiling", () => {
    const c = new InFlightLimit(6);
    expect(c.limit).toBe(6);
    const seen = run(c, 30, (limit, i) => (i === 0 ? 1 : 1 + 100 * limit));
    expect(Math.min(...seen)).toBe(2);
    expect(Math.max(...run(new InFlightLimit(6), 10, () => 1))).toBe(6);
  });
});

describe("PipelinedWriter and the session's limit", () => {
  it("times only full-size WRITEs, and a caller's maxInFlight leaves the limit alone", async () => {
    const times: number[] = [];
    const writeLimit = { limit: 64, answered: (ms: number) => void times.push(ms) };
    const ok = { type: PacketType.STATUS, id: 0, code: StatusCode.OK, message: "", lang: "" } as SftpResponse;
    const session = { writeSize: 4, writeLimit, send: () => ({ reply: Promise.resolve(ok), sent: Promise.resolve() }) } as unknown as SftpSession;
    const w = new PipelinedWriter(session, Uint8Array.of(1), "/f");
    await w.write(new Uint8Array(10)); // 4 + 4 + a 2-byte tail
    await w.flush();
    expect(times).toHaveLength(2);
    const fixed = new PipelinedWriter(session, Uint8Array.of(1), "/f", { maxInFlight: 3 });
    expect(fixed.maxInFlight).toBe(3);
    await fixed.write(new Uint8Array(8));
    await fixed.flush();
    expect(times).toHaveLength(2);
  });
});
