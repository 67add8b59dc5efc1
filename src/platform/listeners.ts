/**
 * Node warns ("MaxListenersExceededWarning: Possible EventTarget memory leak") once an
 * AbortSignal has more than 10 listeners, which a directory transfer's 16 files in flight, each
 * awaiting replies under the same signal, reach by design. node:events' setMaxListeners lifts the
 * limit for one signal of our own (Node, Deno and Bun all have it); a caller's signal is never
 * changed, it gets one listener (sftp/abort.ts fanOutSignal).
 */
import { setMaxListeners } from "node:events";

/** Lets `signal` (one this library created) take any number of listeners without a warning. */
export function allowManyListeners(signal: AbortSignal): void {
  try {
    setMaxListeners(0, signal);
  } catch {
    // A runtime without the limit has nothing to lift.
  }
}
