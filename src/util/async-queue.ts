/**
 * A FIFO whose consumer awaits items. Used where a producer (the packet read loop) hands
 * messages to a sequential consumer (a key exchange, the authentication dialogue).
 */
export class AsyncQueue<T> {
  private items: T[] = [];
  private waiters: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  private error: unknown;
  private failed = false;

  push(item: T): void {
    if (this.failed) return;
    const w = this.waiters.shift();
    if (w) w.resolve(item);
    else this.items.push(item);
  }

  shift(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    if (this.failed) return Promise.reject(this.error);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Rejects every current and future `shift` with `error`. */
  fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.error = error;
    this.items = [];
    for (const w of this.waiters.splice(0)) w.reject(error);
  }
}

/** A promise with its resolve/reject exposed (Promise.withResolvers needs Node 22). */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
