/**
 * The local side of an upload: a file's bytes in chunks, each chunk read from disk while the one
 * before it is being sent. Read one after another, a chunk's read (a round trip to the runtime's
 * file thread pool) left the channel idle whenever the server's window opened during it: with
 * sshd's 2 MiB window and 1 MiB reads that was every other window update.
 */
import type { LocalFile } from "../platform/local-files.js";

/**
 * The bytes of `src` from `start` up to `end` (default: its end) in chunks of up to `size`; a
 * chunk may be shorter than asked (a short read), and the chunks stop early when the file ends
 * first (callers that know the size check for that). A yielded chunk stays valid until the next
 * one is asked for: two buffers take turns. A read still running when the caller stops is
 * awaited before the generator ends, so the file can be closed after it.
 */
export async function* localChunks(src: LocalFile, start: number, end: number | undefined, size: number): AsyncGenerator<Uint8Array> {
  const buffers = [new Uint8Array(size), new Uint8Array(size)];
  const readInto = (b: Uint8Array, position: number): Promise<number> => {
    const length = end === undefined ? b.length : Math.min(b.length, end - position);
    return length > 0 ? src.read(b.subarray(0, length), position) : Promise.resolve(0);
  };
  let turn = 0;
  let position = start;
  let next: Promise<number> | undefined = readInto(buffers[0]!, position);
  try {
    for (;;) {
      const n = await next;
      next = undefined;
      if (n === 0) return;
      const chunk = buffers[turn]!.subarray(0, n);
      position += n;
      turn ^= 1;
      next = readInto(buffers[turn]!, position);
      // Awaited on the next turn of the loop, or in `finally` when the caller stops first.
      next.catch(() => {});
      yield chunk;
    }
  } finally {
    await next?.catch(() => 0);
  }
}
