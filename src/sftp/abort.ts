/**
 * Cancellation for transfers: an AbortSignal ends a transfer with SshError ABORTED, even one
 * stalled on the peer.
 */
import { SshError } from "../errors.js";
import { allowManyListeners } from "../platform/listeners.js";

export function abortError(signal: AbortSignal): SshError {
  const reason = signal.reason;
  return new SshError("ABORTED", `transfer aborted: ${reason?.message ?? reason ?? "aborted"}`, { cause: reason });
}

export function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/**
 * `p`, or ABORTED as soon as `signal` fires: a transfer stalled on the peer (a window that never
 * opens, replies that never come) still ends when its caller gives up. The request behind `p`
 * stays sent; its outcome is ignored.
 */
export function unlessAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      p.catch(() => {});
      reject(abortError(signal));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * `unlessAborted` for what must be given back: a handle or session that `p` yields after the
 * abort is passed to `release`, not leaked (an SFTP server keeps a handle until its CLOSE,
 * draft-ietf-secsh-filexfer-02 §6.3; a session until its channel closes).
 */
export async function unlessAbortedRelease<T>(p: Promise<T>, signal: AbortSignal | undefined, release: (value: T) => Promise<unknown>): Promise<T> {
  try {
    return await unlessAborted(p, signal);
  } catch (e) {
    if (signal?.aborted) p.then(release, () => {}).catch(() => {});
    throw e;
  }
}

/**
 * Aborts `inner` with `outer`'s reason when `outer` aborts (at once if it already has), through
 * one listener on `outer`. Returns what removes that listener once the work is over.
 */
export function follow(outer: AbortSignal | undefined, inner: AbortController): () => void {
  if (!outer) return () => {};
  const forward = () => inner.abort(outer.reason);
  if (outer.aborted) forward();
  else outer.addEventListener("abort", forward, { once: true });
  return () => outer.removeEventListener("abort", forward);
}

/**
 * A signal of our own that follows `outer`, for work that fans out into many operations each
 * listening for the abort: the caller's signal then carries one listener however many files are
 * in flight, and ours may carry any number (platform/listeners.ts). `dispose` removes the
 * listener from `outer` once the work is over.
 */
export function fanOutSignal(outer: AbortSignal | undefined): { signal: AbortSignal | undefined; dispose(): void } {
  if (!outer) return { signal: undefined, dispose: () => {} };
  const inner = new AbortController();
  allowManyListeners(inner.signal);
  return { signal: inner.signal, dispose: follow(outer, inner) };
}
