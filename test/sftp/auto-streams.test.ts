import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CONNECTION_RATE, initialStreams, streamInFlight, streamRate, treeSessionRate, windowBound } from "../../src/sftp/auto-streams.js";
import { DIR_AUTO_SESSIONS, PER_SESSION } from "../../src/sftp/transfers-dir.js";
import { AUTO_MAX_STREAMS } from "../../src/sftp/segments.js";

const KiB = 1024;
const MiB = 1024 * KiB;
/** sshd's session channel window (CHAN_SES_WINDOW_DEFAULT) and ours, with OpenSSH's 255 KiB I/O size. */
const SSHD_WINDOW = 2 * MiB;
const OUR_WINDOW = 16 * MiB;
const IO = 255 * KiB;

describe('"auto" streams: one stream\'s window against a connection\'s rate', () => {
  it("one stream where its window is ample: no added delay, or a download under our 16 MiB window at 100 ms", () => {
    expect(initialStreams(streamRate(streamInFlight(SSHD_WINDOW, 64, IO), 0.3), AUTO_MAX_STREAMS)).toBe(1);
    expect(initialStreams(streamRate(streamInFlight(OUR_WINDOW, 64, IO), 0.3), AUTO_MAX_STREAMS)).toBe(1);
    expect(initialStreams(streamRate(streamInFlight(OUR_WINDOW, 64, IO), 100), AUTO_MAX_STREAMS)).toBe(1);
  });

  it("enough streams at once where sshd's 2 MiB window holds one stream back", () => {
    // 2 MiB per 100 ms is 20 MiB/s: seven of them reach 128 MiB/s.
    expect(initialStreams(streamRate(streamInFlight(SSHD_WINDOW, 64, IO), 100), AUTO_MAX_STREAMS)).toBe(7);
    // 2 MiB per 20 ms is 100 MiB/s: two.
    expect(initialStreams(streamRate(streamInFlight(SSHD_WINDOW, 64, IO), 20), AUTO_MAX_STREAMS)).toBe(2);
    // Far away: the cap (sshd's MaxSessions leaves room for 8 beside the caller's own session).
    expect(initialStreams(streamRate(streamInFlight(SSHD_WINDOW, 64, IO), 300), AUTO_MAX_STREAMS)).toBe(AUTO_MAX_STREAMS);
    expect(initialStreams(streamRate(streamInFlight(SSHD_WINDOW, 64, IO), 300), 3)).toBe(3);
  });

  it("a short pipeline bounds a stream like a small window", () => {
    expect(streamInFlight(OUR_WINDOW, 4, 32 * KiB)).toBe(128 * KiB);
    expect(initialStreams(streamRate(streamInFlight(OUR_WINDOW, 4, 32 * KiB), 100), AUTO_MAX_STREAMS)).toBe(AUTO_MAX_STREAMS);
  });

  it("an unknown rate takes one stream", () => {
    expect(initialStreams(streamRate(SSHD_WINDOW, Infinity), AUTO_MAX_STREAMS)).toBe(1);
    expect(initialStreams(Number.NaN, AUTO_MAX_STREAMS)).toBe(1);
    expect(streamRate(SSHD_WINDOW, 0)).toBeGreaterThan(CONNECTION_RATE);
  });

  it("within [1, cap], fewer for a faster stream, and enough to reach the connection's rate unless capped", () => {
    fc.assert(fc.property(fc.double({ min: 1, max: 1e10, noNaN: true }), fc.double({ min: 1, max: 1e10, noNaN: true }), fc.integer({ min: 1, max: 16 }), (a, b, cap) => {
      const [slow, fast] = a <= b ? [a, b] : [b, a];
      const n = initialStreams(slow, cap);
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(cap);
      expect(initialStreams(fast, cap)).toBeLessThanOrEqual(n);
      if (n < cap && n > 1) expect(n * slow).toBeGreaterThanOrEqual(CONNECTION_RATE);
      if (n > 1) expect((n - 1) * slow).toBeLessThan(CONNECTION_RATE);
    }));
  });

  it("streams are window-bound when they moved close to all their windows allow", () => {
    const rate = streamRate(SSHD_WINDOW, 100);
    expect(windowBound(7 * rate * 0.9, 7, rate)).toBe(true);
    expect(windowBound(7 * rate * 0.5, 7, rate)).toBe(false);
    expect(windowBound(1e12, 1, Number.NaN)).toBe(false);
  });
});

describe('"auto" sessions for a tree of small files: round trips and one window', () => {
  const sessions = (window: number, fileSize: number, rttMs: number) =>
    initialStreams(treeSessionRate(window, PER_SESSION, fileSize, rttMs), DIR_AUTO_SESSIONS);

  it("one session on loopback or a LAN, whatever the file size", () => {
    for (const size of [0, 4 * KiB, 64 * KiB, MiB, 8 * MiB]) {
      expect(sessions(SSHD_WINDOW, size, 0.2), `${size}`).toBe(1);
      expect(sessions(OUR_WINDOW, size, 0.2), `${size}`).toBe(1);
    }
    // 1 MiB files over a 1 ms LAN: 8 in flight cost 4 ms of round trips and 4 ms of window.
    expect(sessions(SSHD_WINDOW, MiB, 1)).toBe(1);
  });

  it("spread over a long link: the round trips of small files, or sshd's window for larger ones", () => {
    // 200 x 1 MiB at 100 ms, the bench's tree: 8 MiB a batch takes 0.4 s of round trips + 0.4 s of window.
    expect(sessions(SSHD_WINDOW, MiB, 100)).toBe(DIR_AUTO_SESSIONS);
    expect(sessions(OUR_WINDOW, MiB, 100)).toBe(DIR_AUTO_SESSIONS);
    // Tiny files at 5 ms: 32 KiB a batch per 20 ms of round trips.
    expect(sessions(SSHD_WINDOW, 4 * KiB, 5)).toBe(DIR_AUTO_SESSIONS);
  });

  it("never fewer sessions for a longer round trip, and always within [1, cap]", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 64 * MiB }), fc.double({ min: 0, max: 1000, noNaN: true }), fc.double({ min: 0, max: 1000, noNaN: true }), (size, a, b) => {
      const [short, long] = a <= b ? [a, b] : [b, a];
      const n = sessions(SSHD_WINDOW, size, short);
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(DIR_AUTO_SESSIONS);
      expect(sessions(SSHD_WINDOW, size, long)).toBeGreaterThanOrEqual(n);
    }));
  });
});

