/**
 * Runs one SFTP session's requests concurrently while keeping the order of their effects, as
 * draft-ietf-secsh-filexfer-02 §6.1 requires: requests "relating to the same file" must give
 * the results they would give one at a time, though "the server may process non-overlapping
 * read/write requests to the same file in parallel"; replies may go out in any order, but "no
 * request will be indefinitely delayed".
 *
 * Each request declares what it touches (an Access). A request starts once no earlier request
 * that is still pending (waiting or running) conflicts with it, so requests start in arrival
 * order among those that conflict (no starvation: only earlier requests can hold one back), and
 * everything else overlaps: reads of one file, writes to different ranges, different files.
 */

/**
 * What a request touches. A barrier (every path operation, and anything the scheduler cannot
 * place) waits for every earlier request and holds back every later one: path operations may
 * open, create, rename or remove any file, so one at a time is the only safe order for them.
 * `end` may be Infinity (the whole file: CLOSE, FSTAT, FSETSTAT, READDIR, appending writes).
 */
export type Access =
  | { kind: "barrier" }
  | { kind: "file"; key: string; start: number; end: number; write: boolean };

export const BARRIER: Access = { kind: "barrier" };

/** True when `later` must wait for `earlier` to finish. */
export function conflicts(earlier: Access, later: Access): boolean {
  if (earlier.kind === "barrier" || later.kind === "barrier") return true;
  if (earlier.key !== later.key) return false;
  if (!earlier.write && !later.write) return false; // reads commute
  if (earlier.write && later.write) return earlier.start < later.end && later.start < earlier.end;
  // A read and a write. The write also moves end-of-file up to its end, which turns EOF into
  // zeros for a read anywhere below that end, so the read conflicts unless it starts at or
  // beyond the write's end (bytes there and the file's size as seen from there are unchanged).
  const [read, write] = earlier.write ? [later, earlier] : [earlier, later];
  return read.start < (write as { end: number }).end;
}

interface Task {
  readonly access: Access;
  readonly run: () => Promise<void>;
  running: boolean;
}

export class RequestScheduler {
  /** Requests not finished, in arrival order (a few dozen at most: the session bounds it). */
  private readonly pending: Task[] = [];
  private active = 0;
  private stopped = false;
  private idle: (() => void) | undefined;

  /**
   * `mayStart` is asked before each start (the session's memory budget); `onFinish` runs after
   * each request finishes, once the requests it held back have been started.
   */
  constructor(
    private readonly mayStart: () => boolean,
    private readonly onFinish: () => void,
  ) {}

  /** Requests waiting or running. */
  get size(): number {
    return this.pending.length;
  }

  /** Requests running. */
  get running(): number {
    return this.active;
  }

  /**
   * Queues a request; it starts as soon as nothing earlier conflicts: now, or with `now` false
   * at the next startReady (the caller may still extend what it touches until then).
   */
  submit(access: Access, run: () => Promise<void>, now = true): void {
    if (this.stopped) return;
    this.pending.push({ access, run, running: false });
    if (now) this.startReady();
  }

  /** Starts every waiting request that nothing earlier holds back, in arrival order. */
  startReady(): void {
    const p = this.pending;
    for (let i = 0; i < p.length && !this.stopped; i++) {
      const t = p[i]!;
      if (t.running || this.blocked(i)) {
        if (t.access.kind === "barrier") return; // it holds back everything after it
        continue;
      }
      if (!this.mayStart()) return;
      this.start(t);
    }
  }

  /** Drops the requests not started; resolves once the running ones have finished. */
  stop(): Promise<void> {
    this.stopped = true;
    for (let i = this.pending.length - 1; i >= 0; i--) if (!this.pending[i]!.running) this.pending.splice(i, 1);
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }

  private blocked(i: number): boolean {
    const a = this.pending[i]!.access;
    for (let j = 0; j < i; j++) if (conflicts(this.pending[j]!.access, a)) return true;
    return false;
  }

  private start(t: Task): void {
    t.running = true;
    this.active++;
    const finish = () => {
      this.active--;
      this.pending.splice(this.pending.indexOf(t), 1);
      if (this.stopped) {
        if (this.active === 0) this.idle?.();
        return;
      }
      this.startReady();
      this.onFinish();
    };
    // `run` handles its own failures; the second handler only keeps a bug from going unhandled.
    t.run().then(finish, finish);
  }
}
