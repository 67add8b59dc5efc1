/**
 * The scheduler behind segmented transfers: byte ranges of one file handed to several SFTP
 * sessions ("streams") on the same SSH connection. Each SFTP session runs on its own channel, and
 * each channel has its own flow-control window (RFC 4254 §5.2): sshd gives a session channel
 * 2 MiB (CHAN_SES_WINDOW_DEFAULT), so one channel carries at most 2 MiB per round trip whatever
 * the link could take. N streams carry N windows.
 *
 * Direction-neutral: the caller says how one range moves over one stream (segmented.ts). Here:
 * which stream takes which range, retrying a failed stream's range on another, opening streams
 * (all at once: a fixed count, or as many as "auto" finds one stream's window falls short by,
 * auto-streams.ts; then one by one only while they stay window-bound), progress, abort.
 */
import type { SftpError } from "../errors.js";
import { initialStreams, sessionStreamRate, windowBound } from "./auto-streams.js";
import type { SshConnection } from "../ssh/client.js";
import type { SftpClient } from "./client.js";
import { LaneConnections } from "./lane-connections.js";
import type { SftpFile } from "./file.js";
import { DEFAULT_MAX_IN_FLIGHT } from "./pipeline.js";
import { abortError, follow, unlessAborted } from "./abort.js";
import type { Progress } from "./transfers.js";

/** One stream: an SFTP session and the handle it holds on the file being moved. */
export interface Lane {
  client: SftpClient;
  /** Opened by the first range this lane moves; closed when the transfer ends. */
  file?: SftpFile;
  /** Sessions the transfer opened itself (closed at its end), not the caller's. */
  own: boolean;
  /** The extra connection it runs on (`connections` > 1), closed with it when the transfer ends. */
  ssh?: SshConnection;
  /** Set after a range failed on it: it takes no more ranges. */
  failed?: boolean;
  /** Set when "auto" found it did not raise throughput: it finishes its range and takes no more. */
  retired?: boolean;
  /** Ranges moving on it now: one, or two while the newer starts behind the older's last requests. */
  moving?: number;
  /** Its newest range has sent all its requests: the next range may start behind them. */
  drained?: boolean;
}

export interface SegmentPlan {
  total: number;
  /** Bytes per range (the last one may be shorter). */
  segment: number;
  /** Indexes of the ranges still to move, in file order. */
  pending: number[];
  /** Bytes already in place (resumed ranges), counted in progress. */
  already: number;
  streams: number | "auto";
  /** SSH connections to spread the streams over (lane-connections.ts); default 1. */
  connections?: number;
  /** Which way the bytes go: it says whose window bounds a stream ("auto", auto-streams.ts). */
  direction: "upload" | "download";
  /** Requests in flight per stream (the pipeline's default when undefined). */
  maxInFlight?: number;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /**
   * Moves [start, end) over `lane`, calling `moved` as bytes land and `drained` once every
   * request of the range has been sent (the lane's next range then starts right behind them, so a
   * range boundary costs no round trip); stops when `signal` fires.
   */
  move(lane: Lane, start: number, end: number, moved: (n: number) => void, drained: () => void, signal: AbortSignal): Promise<void>;
  /** Range `i` is complete (for the resume record). */
  rangeDone?(i: number): Promise<void>;
}

/** Range `i`'s bytes, [start, end): `segment` each, the last one cut at `total`. */
export function rangeBounds(i: number, segment: number, total: number): readonly [number, number] {
  return [i * segment, Math.min(total, (i + 1) * segment)];
}

/** "auto" opens at most this many streams: sshd allows 10 sessions a connection (MaxSessions). */
export const AUTO_MAX_STREAMS = 8;
/** An explicit count is capped here too: every stream holds a channel and a handle on the server. */
export const MAX_STREAMS = 16;
/** How often "auto" measures throughput to decide on one more stream (at least; longer links measure longer). */
const PROBE_MS = 500;
/** Once past the window-bound check, "auto" keeps adding streams while each raises throughput by at least this factor. */
const GAIN = 1.15;
/** A range that failed on this many streams fails the transfer. */
const MAX_RANGE_ATTEMPTS = 3;

type Event =
  | { kind: "range"; lane: Lane; i: number; moved: number; error?: unknown }
  | { kind: "lane"; lane?: Lane; error?: unknown }
  | { kind: "tick" }
  | { kind: "drained" };

/**
 * Moves every pending range, `main` first and more streams as the plan allows. Resolves with the
 * lanes used (the caller closes their files before finishing); rejects with the error that ended
 * the transfer, after every range in flight has stopped and the streams it opened are closed.
 */
export async function runSegments(main: SftpClient, plan: SegmentPlan): Promise<Lane[]> {
  const stop = new AbortController();
  // At once if the caller's signal fired during the awaits before this call.
  const unfollow = follow(plan.signal, stop);
  const lanes: Lane[] = [{ client: main, own: false }];
  const conns = new LaneConnections(main.ssh, plan.connections ?? 1, main.sessionOptions);
  // Each range's own signal, all ended by `stop` through one listener (not one per request).
  const rangeStops = new Set<AbortController>();
  const stopRanges = () => rangeStops.forEach((c) => c.abort(stop.signal.reason));
  stop.signal.addEventListener("abort", stopRanges, { once: true });
  let succeeded = false;
  const running = new Map<number, Promise<Event>>();
  const attempts = new Map<number, number>();
  /** Ranges moving, over all lanes. */
  let moving = 0;
  // A range's `drained` call wakes the loop so its lane can take the next range.
  let wake: () => void = () => {};
  let woken = new Promise<Event>((resolve) => (wake = () => resolve({ kind: "drained" })));
  const active = () => lanes.filter((l) => !l.failed && !l.retired).length;
  const free = (l: Lane) => !l.failed && !l.retired && ((l.moving ?? 0) === 0 || (l.moving === 1 && l.drained === true));
  let nextTask = 0;
  /** The range each lane took last: only its `drained` lets the lane take another. */
  const newest = new Map<Lane, number>();
  let moved = plan.already;
  let failure: unknown;
  let lastError: unknown;
  let opening = 0;
  const task = (p: Promise<Event>) => running.set(nextTask++, p);

  // How many streams to have: fixed, or for "auto" as many as one stream's window falls short
  // of a connection's rate by (auto-streams.ts), opened at once.
  const auto = plan.streams === "auto";
  const rate1 = sessionStreamRate(main.session, plan.direction, plan.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
  let want = auto ? initialStreams(rate1, AUTO_MAX_STREAMS) : Math.max(1, Math.min(MAX_STREAMS, Math.floor(plan.streams as number)));
  let cap = auto ? AUTO_MAX_STREAMS : want;
  // Then "auto" measures over PROBE_MS windows that start once the streams are all running: the
  // first window only warms up (handles opening, pipelines filling); the second says whether the
  // streams are window-bound (more may pay) or not (stop here), and after each stream added a
  // window must beat the last by GAIN or that stream retires. One stream by the rule means its
  // window is ample (segmented.ts then rarely comes here at all): nothing to probe.
  let probe = { at: Date.now(), bytes: moved, rate: -1, warm: false };
  let probing = auto && want > 1;
  let probeMs = PROBE_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let tick: Promise<Event> | undefined;

  const startRange = (lane: Lane, i: number) => {
    lane.moving = (lane.moving ?? 0) + 1;
    lane.drained = false;
    moving++;
    let got = 0;
    let drained = false;
    const [start, end] = rangeBounds(i, plan.segment, plan.total);
    const rangeStop = new AbortController();
    rangeStops.add(rangeStop);
    task(
      plan
        .move(lane, start, end, (n) => {
          got += n;
          moved += n;
          plan.onProgress?.({ transferred: moved, total: plan.total });
        }, () => {
          // Only the lane's newest range may let the next one in (at most two at a time).
          if (drained) return;
          drained = true;
          if (lane.moving === 1 || i === newest.get(lane)) {
            lane.drained = true;
            wake();
          }
        }, rangeStop.signal)
        .finally(() => rangeStops.delete(rangeStop))
        .then(() => plan.rangeDone?.(i))
        .then(
          (): Event => ({ kind: "range", lane, i, moved: got }),
          (error: unknown): Event => ({ kind: "range", lane, i, moved: got, error }),
        ),
    );
  };
  const openLane = () => {
    opening++;
    task(conns.openStream().then(({ client, ssh, asked }): Event => {
      // Opening a session takes three round trips (RFC 4254 §5.1 open, §6.5 subsystem, SFTP
      // INIT/VERSION): a window shorter than a few of those would judge a stream still starting.
      probeMs = Math.max(probeMs, 3 * (Date.now() - asked));
      return { kind: "lane", lane: { client, own: true, ssh } };
    }, (error: unknown): Event => ({ kind: "lane", error })));
  };

  try {
    for (;;) {
      if (failure === undefined && stop.signal.aborted) failure = abortError(stop.signal);
      if (failure === undefined) {
        // Streams to open (a failed one is not replaced: the total never passes the cap), then
        // ranges to idle streams.
        const idle = lanes.filter((l) => (l.moving ?? 0) === 0).length;
        while (lanes.length + opening < Math.min(want, cap) && plan.pending.length > idle + opening) openLane();
        for (const lane of lanes) {
          if (plan.pending.length === 0) break;
          if (free(lane)) {
            const i = plan.pending.shift()!;
            newest.set(lane, i);
            startRange(lane, i);
          }
        }
        if (plan.pending.length === 0) conns.stopConnecting();
        if (moving === 0 && opening === 0 && plan.pending.length > 0) failure = lastError ?? new Error("no stream left to carry the transfer");
      }
      if (failure !== undefined) stop.abort(failure);
      if (running.size === 0) break;
      // "auto": measure every probeMs while more streams may still pay.
      if (probing && failure === undefined && opening === 0 && plan.pending.length > 0 && !tick) {
        tick = new Promise<Event>((resolve) => (timer = setTimeout(() => resolve({ kind: "tick" }), probeMs)));
      }
      const [id, event] = await Promise.race([...running].map(([k, p]) => p.then((e) => [k, e] as const)).concat(
        tick ? [tick.then((e) => [-1, e] as const)] : [],
        [woken.then((e) => [-2, e] as const)],
      ));
      if (id >= 0) running.delete(id);
      if (event.kind === "drained") {
        woken = new Promise<Event>((resolve) => (wake = () => resolve({ kind: "drained" })));
      } else if (event.kind === "tick") {
        tick = undefined;
        const now = Date.now();
        const rate = (moved - probe.bytes) / Math.max(1, now - probe.at);
        if (!probe.warm) {
          probe = { at: now, bytes: moved, rate: -1, warm: true };
        } else if (probe.rate < 0 && !windowBound(rate * 1000, active(), rate1)) {
          // Limited by the link or the CPU, not the windows: more streams would not pay.
          probing = false;
        } else if (probe.rate < 0 || rate >= probe.rate * GAIN) {
          // The rate to beat, or a stream that paid: try one more.
          probe = { at: now, bytes: moved, rate, warm: true };
          if (lanes.length < cap) want++;
          else probing = false;
        } else {
          // The last stream added did not pay: it finishes its range and takes no more.
          const last = lanes.at(-1)!;
          if (last.own) last.retired = true;
          probing = false;
        }
      } else if (event.kind === "lane") {
        opening--;
        if (event.lane) {
          if (failure === undefined) {
            lanes.push(event.lane);
            // Measure the new stream from when it runs, not from when it was asked for.
            probe = { ...probe, at: Date.now(), bytes: moved };
          } else {
            void event.lane.client.session.close().catch(() => {});
            if (event.lane.ssh) void event.lane.ssh.close().catch(() => {});
          }
        } else {
          // The server refused another session (MaxSessions, a channel limit): carry on with
          // the streams there are.
          cap = lanes.length + opening;
          probing = false;
        }
      } else {
        event.lane.moving! -= 1;
        moving--;
        if (event.lane.moving === 0) event.lane.drained = false;
        if (event.error === undefined) continue;
        moved -= event.moved;
        if (failure !== undefined || stop.signal.aborted) continue;
        const tries = (attempts.get(event.i) ?? 0) + 1;
        attempts.set(event.i, tries);
        lastError = event.error;
        if (tries >= MAX_RANGE_ATTEMPTS) failure = event.error;
        // The range goes back to the front, for another stream; this one is done.
        plan.pending.unshift(event.i);
        event.lane.failed = true;
      }
    }
    if (failure !== undefined) throw failure;
    succeeded = true;
    return lanes;
  } catch (e) {
    await closeLanes(lanes, plan.signal).catch(() => {});
    throw e;
  } finally {
    clearTimeout(timer);
    unfollow();
    stop.signal.removeEventListener("abort", stopRanges);
    // Extra connections that carry no returned lane (refused sessions, connects cut short).
    await conns.release(new Set(succeeded ? lanes.map((l) => l.ssh) : []));
  }
}

/**
 * Closes each lane's handle and the sessions the transfer opened; the first error is thrown. An
 * abort ends the wait for a server that does not answer the CLOSE.
 */
export async function closeLanes(lanes: Lane[], signal?: AbortSignal): Promise<void> {
  const results = await Promise.allSettled(lanes.map(async (l) => {
    try {
      // A handle whose session has ended went with it: its ranges were redone elsewhere (a
      // failed lane), or were complete, every write acknowledged, before the session ended. A
      // CLOSE the server refuses is still an error (it may report a deferred write failure).
      if (l.file) await unlessAborted(l.file.close(), signal).catch((e: unknown) => {
        if (!l.failed && (e as SftpError).code !== "CONNECTION_LOST") throw e;
      });
    } finally {
      l.file = undefined;
      if (l.own) await l.client.session.close().catch(() => {});
    }
  }));
  // Then the extra connections, once nothing runs on them.
  await Promise.all([...new Set(lanes.map((l) => l.ssh))].map((ssh) => ssh?.close().catch(() => {})));
  const bad = results.find((r) => r.status === "rejected");
  if (bad) throw (bad as PromiseRejectedResult).reason;
}
