/**
 * Many files over several SFTP sessions at once. Over a long link a directory of small files is
 * held by round trips, not bytes: each file costs an OPEN, its data, a CLOSE and (uploads) a
 * rename, each a round trip (draft-ietf-secsh-filexfer-02 §6.3, §6.4), and every file on one
 * session shares that session's channel window (RFC 4254 §5.2; sshd gives 2 MiB). So files move
 * `perSession` at a time on each session, and while files wait more sessions are opened (all at
 * once, each taking files as soon as it is ready) up to `maxSessions`. A session the server
 * refuses (MaxSessions) ends the adding; the sessions there are carry the rest.
 *
 * A file that failed because its session ended is moved again on another session (at most
 * MAX_FILE_ATTEMPTS times in all), and that session takes no more; any other failure, or an
 * abort, stops new files and is thrown once the files in flight have ended. Sessions opened
 * here are closed before this returns or throws.
 */
import type { SftpClient } from "./client.js";
import { openUnlessAborted, type PooledSession, type SessionSource } from "./session-source.js";
import { abortError } from "./abort.js";

/** A file whose session ended is tried on this many sessions before the transfer fails. */
const MAX_FILE_ATTEMPTS = 3;
/** How long a session may take to answer what was sent before it is closed (see below). */
const DRAIN_MS = 1000;

/**
 * Waits (at most `ms`) until `client`'s session has no request unanswered. A transfer stopped by
 * an abort leaves requests sent, among them a failed upload's REMOVE of its temporary file:
 * closing the channel first would drop them and leave that file behind.
 */
async function drained(client: SftpClient, ms: number): Promise<void> {
  for (const end = Date.now() + ms; client.session.inFlight > 0 && !client.session.closed && Date.now() < end; ) {
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface SpreadPlan<F> {
  files: readonly F[];
  /** Files moving at once on each session. */
  perSession: number;
  /** Sessions in all, the caller's included. */
  maxSessions: number;
  /** Where more sessions come from. */
  source: SessionSource;
  signal?: AbortSignal;
  /** Moves one file over `client`'s session. */
  move(client: SftpClient, file: F): Promise<void>;
}

interface Lane {
  client: SftpClient;
  /** Its session ended: it takes no more files. */
  retired: boolean;
}

/** Moves every file of the plan over `main` and the sessions `source` adds. */
export async function spreadFiles<F>(main: SftpClient, plan: SpreadPlan<F>): Promise<void> {
  const queue = plan.files.map((_, i) => i);
  const attempts = new Map<number, number>();
  const lanes: Lane[] = [{ client: main, retired: false }];
  const opened: PooledSession[] = [];
  // At least one mover a session, whatever the caller passed: with none, files would wait forever.
  const perSession = Number.isFinite(plan.perSession) ? Math.max(1, Math.floor(plan.perSession)) : 1;
  let failure: unknown;
  let lastError: unknown;

  const worker = async (lane: Lane) => {
    while (failure === undefined && !lane.retired && queue.length > 0) {
      if (plan.signal?.aborted) {
        failure = abortError(plan.signal);
        break;
      }
      const i = queue.shift()!;
      try {
        await plan.move(lane.client, plan.files[i]!);
      } catch (e) {
        if (failure !== undefined) continue;
        const tries = (attempts.get(i) ?? 0) + 1;
        attempts.set(i, tries);
        // The session, not the file, failed: another session may still move it.
        if (lane.client.session.closed && !plan.signal?.aborted && tries < MAX_FILE_ATTEMPTS) {
          lane.retired = true;
          lastError = e;
          queue.unshift(i);
        } else {
          failure = e;
        }
      }
    }
  };
  const workers = (lane: Lane) => Array.from({ length: perSession }, () => worker(lane));
  const opener = async () => {
    let s: PooledSession;
    try {
      s = await openUnlessAborted(plan.source, plan.signal);
    } catch {
      // Refused or aborted: the sessions there are carry on (an abort is seen by the workers).
      return;
    }
    opened.push(s);
    if (failure !== undefined || queue.length === 0) return;
    const lane = { client: s.client, retired: false };
    lanes.push(lane);
    await Promise.all(workers(lane));
  };

  try {
    const extra = Math.min(plan.maxSessions, Math.ceil(queue.length / perSession)) - 1;
    // The first round: the caller's session, and the others as they open.
    let round = [...workers(lanes[0]!), ...Array.from({ length: Math.max(0, extra) }, opener)];
    for (;;) {
      await Promise.all(round);
      if (failure !== undefined || queue.length === 0) break;
      // A file put back by a session that ended after the others had run out of work.
      const live = lanes.filter((l) => !l.retired);
      if (live.length === 0) {
        failure = lastError;
        break;
      }
      round = live.flatMap(workers);
    }
    if (failure !== undefined) throw failure;
  } finally {
    await Promise.all(opened.map(async (s) => {
      await drained(s.client, DRAIN_MS);
      await s.close();
    }));
  }
}
