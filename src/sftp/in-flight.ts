/**
 * How many WRITE requests an upload keeps outstanding, following their round-trip times the way
 * TCP Vegas follows a connection's (Brakmo and Peterson, 1995): requests beyond what the path
 * needs only wait in queues, and a queue shows as round trips longer than the shortest seen.
 *
 * Why: OpenSSH's sshd buffers what its channel window lets in for sftp-server, which takes it
 * 16 KiB per read. With 64 × 255 KiB outstanding, sshd held 1.8 MiB for it, spent twice the CPU
 * per byte, and a loopback upload ran at 0.75-0.89× OpenSSH's `sftp`; with 2-4 outstanding it ran
 * at 1.16-1.47× (bench/results/2026-12-06-upload-in-flight.md). A fixed small number would cap a
 * long link instead (at most limit × request size per round trip), so the limit moves:
 *
 * - Once a window of requests has been answered (about one round trip), the window's mean round
 *   trip against the shortest of all says how many requests sat in queues:
 *   limit × (1 − base / mean).
 * - Fewer than ALPHA queued: one more request (doubling while it has never been over BETA, as
 *   TCP's slow start does, so a long link fills in a few round trips). More than BETA: down to
 *   what the path carried without a queue, plus ALPHA. In between: unchanged.
 * - ALPHA and BETA are 1 and 2 requests, not Vegas's 2 and 4 packets: a request is up to 255 KiB,
 *   and with 2 and 4 the same loopback runs gave 1.13× instead of 1.40×.
 * - One limit per session, not per upload: a file or a range of a large file starts where the
 *   last one left off, and the round trips of every upload on the session count.
 * - Only full-size requests count (the writer's): a file's short last WRITE crosses a slow link
 *   sooner, and as the base it would make every full one look queued.
 * - The base is the shortest round trip of the last BASE_MS (as BBR keeps its min_rtt): a route
 *   that got longer, or a session idle for hours, does not keep the limit at 2 for good.
 */

/** Requests in flight at most, per read pipeline or upload (and the writes' limit's ceiling). */
export const DEFAULT_MAX_IN_FLIGHT = 64;

/** Requests' worth queued below which the limit grows. */
const ALPHA = 1;
/** Requests' worth queued above which the limit shrinks. */
const BETA = 2;
/** How long the shortest round trip stands as the base before a newer one replaces it (ms). */
const BASE_MS = 10_000;
/** Never fewer: one request in flight would wait a round trip between every two. */
const MIN_LIMIT = 2;
/**
 * Where a session starts: sshd's whole window (8 × 255 KiB), so a 1 MiB file leaves in one round
 * trip and a long link starts at its window; on a short link the first window's queue brings it down.
 */
const START_LIMIT = 8;

/** One per SFTP session: every upload on it feeds its round trips in and follows its limit. */
export class InFlightLimit {
  private current: number;
  /** Shortest round trip seen (ms), and when. */
  private base = Infinity;
  private baseAt = 0;
  /** Shortest round trip of the current window (ms): the base once the base has expired. */
  private windowBest = Infinity;
  private sum = 0;
  private samples = 0;
  /** Still doubling: no window has yet been over BETA. */
  private starting = true;

  constructor(private readonly max: number) {
    this.current = Math.min(max, START_LIMIT);
  }

  /** Requests that may be outstanding now. */
  get limit(): number {
    return this.current;
  }

  /** A full-size request was answered `rttMs` after it was issued, at `now` (ms). */
  answered(rttMs: number, now = performance.now()): void {
    if (rttMs < this.base) {
      this.base = rttMs;
      this.baseAt = now;
    }
    if (rttMs < this.windowBest) this.windowBest = rttMs;
    this.sum += rttMs;
    if (++this.samples < this.current) return;
    const mean = this.sum / this.samples;
    if (now - this.baseAt > BASE_MS) {
      this.base = this.windowBest;
      this.baseAt = now;
    }
    this.windowBest = Infinity;
    this.sum = 0;
    this.samples = 0;
    const queued = mean > 0 ? this.current * (1 - this.base / mean) : 0;
    if (queued > BETA) {
      // Straight down to what the path carried without a queue, plus ALPHA (Linux's Vegas leaves
      // slow start the same way): one request a window would take tens of round trips to drain
      // what slow start overshot.
      this.starting = false;
      this.current = Math.max(MIN_LIMIT, Math.min(this.current - 1, Math.ceil(this.current - queued) + ALPHA));
    } else if (queued < ALPHA) {
      this.current = Math.min(this.max, this.starting ? this.current * 2 : this.current + 1);
    }
  }
}
