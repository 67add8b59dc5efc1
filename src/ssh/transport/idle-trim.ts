/**
 * Gives back memory kept for bulk traffic once a connection has been quiet for IDLE_MS: the
 * socket's spare read buffers and the packet encoder's spare packets. A connection kept open
 * after a large transfer (an accessor's, or a client of the embedded server) otherwise holds
 * up to 6 MiB of read buffers and 4 MiB of packets that it may never use again. "Quiet" is
 * fewer than QUIET_BYTES either way in the window: keepalives (every 5 s by default) and small
 * requests do not count as bulk. Traffic only adds to a counter; one unref'd timer runs while
 * there is traffic, none once a window passes without any, so it never keeps a process alive.
 */
export const IDLE_MS = 5000;
export const QUIET_BYTES = 64 * 1024;

export class IdleTrim {
  private traffic = 0;
  private seen = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly trim: () => void,
    private readonly ms = IDLE_MS,
  ) {}

  /** A packet of `bytes` went one way or the other. */
  note(bytes: number): void {
    if (this.timer === undefined && !this.stopped) this.arm();
    this.traffic += bytes;
  }

  /** No more checks (the connection ended). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.seen = this.traffic;
    this.timer = setTimeout(() => this.check(), this.ms);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private check(): void {
    this.timer = undefined;
    const moved = this.traffic - this.seen;
    if (moved < QUIET_BYTES) this.trim();
    // Armed again only by traffic after this: an idle connection has no timer.
    if (moved > 0) this.arm();
  }
}
