/**
 * How many streams `streams: "auto"` gives one large file, decided before the first byte from
 * what limits one stream, instead of found by adding streams one at a time.
 *
 * One SFTP stream is one channel, and a channel may have at most its window in flight (RFC 4254
 * §5.2): the receiver's window, i.e. the server's for an upload (sshd: 2 MiB) and ours for a
 * download (16 MiB). The request pipeline bounds it too (maxInFlight requests of one read or write
 * size each). So one stream carries at most
 *
 *     rate₁ = min(window, maxInFlight × ioSize) / RTT
 *
 * and N streams N × rate₁. Above CONNECTION_RATE one connection is bound by its own cipher and
 * event loop, not by windows, and more streams only add channels, handles and out-of-order disk
 * writes (the cost that made 0 ms downloads slower than one stream). Hence:
 *
 * - rate₁ ≥ CONNECTION_RATE (a short link, or a download under our 16 MiB window): one stream;
 * - else ⌈CONNECTION_RATE / rate₁⌉ streams, opened at once, at most the cap (sshd's MaxSessions);
 * - once they run, more pay only if the link took all they could send (measured rate close to
 *   N × rate₁): only then does "auto" keep probing, one stream per window while each pays.
 *
 * RTT is the session's start-up round trip (SftpSession.roundTripMs), taken before bulk data can
 * queue ahead of it. Everything here is a pure function of its inputs, so it is tested as such.
 */
import type { SftpSession } from "./session.js";

/**
 * About what one connection moves when windows do not limit it: its crypto and event loop on one
 * core (bench: 130–250 MB/s on this project's 2-core bench machine at 0 ms). Too high costs idle
 * channels; too low is corrected by probing, which goes on while the streams stay window-bound.
 */
export const CONNECTION_RATE = 128 * 1024 * 1024;
/** A measured rate at least this share of N × rate₁ means the N streams are window-bound. */
const WINDOW_BOUND = 0.75;
/** A round trip is never taken as shorter than this (timer resolution, a loopback server). */
const MIN_RTT_MS = 0.05;

/** Bytes one stream may have in flight: its channel window, or less if the pipeline holds less. */
export function streamInFlight(window: number, maxInFlight: number, ioSize: number): number {
  return Math.min(window, maxInFlight * ioSize);
}

/** Bytes per second one stream can carry at most: what it has in flight, once per round trip. */
export function streamRate(inFlight: number, rttMs: number): number {
  return inFlight / (Math.max(rttMs, MIN_RTT_MS) / 1000);
}

/**
 * Streams to open at once, from one stream's most (`rate`, bytes/s, see streamRate) and the cap.
 * An unknown rate (no round trip measured) takes one stream.
 */
export function initialStreams(rate: number, cap: number): number {
  if (!Number.isFinite(rate) || rate <= 0 || rate >= CONNECTION_RATE) return 1;
  return Math.max(1, Math.min(cap, Math.ceil(CONNECTION_RATE / rate)));
}

/**
 * True when `streams` streams of at most `rate` bytes/s each moved `measured` bytes/s close to all
 * they could: the windows, not the link or the CPU, are the limit, so another stream may pay.
 */
export function windowBound(measured: number, streams: number, rate: number): boolean {
  return Number.isFinite(rate) && rate > 0 && measured >= WINDOW_BOUND * streams * rate;
}

/** One stream's most, in bytes/s, on `session` (see above): the server's window up, ours down. */
export function sessionStreamRate(session: SftpSession, direction: "upload" | "download", maxInFlight: number): number {
  const inFlight = direction === "upload"
    ? streamInFlight(session.channel.peerWindow, maxInFlight, session.writeSize)
    : streamInFlight(session.channel.receiveWindow, maxInFlight, session.readSize);
  return streamRate(inFlight, session.roundTripMs);
}

/**
 * Round trips a small file costs its session besides its data: OPEN, CLOSE, and for an upload
 * the attributes and the rename into place (draft-ietf-secsh-filexfer-02 §6.3-6.5).
 */
export const FILE_ROUND_TRIPS = 4;
/**
 * What handling one file costs both ends in CPU, as bytes of transfer that take as long (the
 * requests, replies, file system calls): about half a millisecond at CONNECTION_RATE, an
 * estimate from the 0 ms small-file rows of the bench. It keeps a short link's tree of tiny files
 * on one session, where the CPU, not the round trips, is the limit.
 */
export const FILE_COST_BYTES = 64 * 1024;

/**
 * Bytes/s (counting FILE_COST_BYTES a file) one session moves of a tree of small files averaging
 * `fileSize` bytes, `perSession` at a time: each such batch costs FILE_ROUND_TRIPS round trips,
 * plus its bytes at the window's rate. The same test as one large file's: at or above
 * CONNECTION_RATE one session is enough (a short link: more would only add server processes
 * competing for the CPU); below it the tree is spread (initialStreams) over what the link needs.
 */
export function treeSessionRate(window: number, perSession: number, fileSize: number, rttMs: number): number {
  const rtt = Math.max(rttMs, MIN_RTT_MS) / 1000;
  const bytes = perSession * Math.max(0, fileSize);
  return (bytes + perSession * FILE_COST_BYTES) / (FILE_ROUND_TRIPS * rtt + (bytes * rtt) / Math.max(1, window));
}
