/**
 * Web Streams over remote files. Both return synchronously and open the file on first use; the
 * read side keeps a pipeline of requests in flight and delivers bytes in order, the write side
 * applies backpressure when too many writes are outstanding and (with "w", by default) writes a
 * temporary file that close() renames over the target (atomic-write.ts).
 */
import { SshError } from "../errors.js";
import { openReplacement, type AtomicTarget } from "./atomic-write.js";
import type { SftpClient } from "./client.js";
import type { OpenMode, SftpFile } from "./file.js";
import type { PipelinedReader, PipelinedWriter } from "./pipeline.js";

export interface ReadStreamOptions {
  /** First byte to read (default 0). */
  start?: number;
  /** Last byte to read, inclusive, like node:fs (default: to end of file). */
  end?: number;
  maxInFlight?: number;
}

export interface WriteStreamOptions {
  /** node:fs style flags (default "w"). */
  flags?: OpenMode;
  /** Permissions for a created file (default: a replaced file's, else the server's default). */
  mode?: number;
  maxInFlight?: number;
  /**
   * With "w" or "w+" (a whole new content for `path`): write to a temporary name beside `path`
   * and rename it over `path` when the stream closes, like upload(); abort(), a failed write or
   * a dropped connection leaves `path` as it was (default true). false writes `path` in place.
   * The other flags change a file where it is ("a" appends, "r+" patches, "wx" must create
   * `path` itself), so they are never atomic, and `atomic: true` with them is INVALID_ARGUMENT.
   */
  atomic?: boolean;
}

export function readStream(client: SftpClient, path: string, options: ReadStreamOptions): ReadableStream<Uint8Array> {
  let file: SftpFile | undefined;
  let reader: PipelinedReader | undefined;
  const finish = async () => {
    reader?.stop();
    await file?.close();
  };
  return new ReadableStream<Uint8Array>(
    {
      async start() {
        file = await client.open(path, "r");
        const end = options.end === undefined ? undefined : options.end + 1;
        reader = file.reader({ start: options.start ?? 0, end, maxInFlight: options.maxInFlight });
      },
      async pull(controller) {
        try {
          const chunk = await reader!.next();
          if (chunk) return controller.enqueue(chunk.data);
          await finish();
          controller.close();
        } catch (e) {
          await finish().catch(() => {});
          controller.error(e);
        }
      },
      cancel: finish,
    },
    { highWaterMark: 0 },
  );
}

export function writeStream(client: SftpClient, path: string, options: WriteStreamOptions): WritableStream<Uint8Array> {
  const flags = options.flags ?? "w";
  const replaces = flags === "w" || flags === "w+";
  if (options.atomic && !replaces) {
    throw new SshError("INVALID_ARGUMENT", `a write stream with flags "${flags}" changes ${path} in place and cannot be atomic: use "w", or atomic: false`);
  }
  const atomic = replaces && (options.atomic ?? true);
  let target: AtomicTarget | undefined;
  let file: SftpFile | undefined;
  let writer: PipelinedWriter | undefined;
  let ready: Promise<void> = Promise.resolve();
  /** After a failed write, a failed close or abort(): nothing is committed, the temporary file goes. */
  const discard = async (reason: unknown) => {
    writer?.stop(reason);
    await file?.close().catch(() => {});
    await target?.discard();
  };
  const failing = <T>(p: Promise<T>) => p.catch(async (e: unknown) => {
    await discard(e);
    throw e;
  });
  return new WritableStream<Uint8Array>({
    async start() {
      if (replaces) {
        ({ target, file, ready } = await openReplacement(client, path, { atomic, mode: options.mode, flags }));
      } else {
        file = await client.open(path, flags, options.mode === undefined ? {} : { permissions: options.mode });
      }
      // Appending servers ignore the offset (O_APPEND); others need it to be the end.
      const offset = flags.startsWith("a") ? ((await failing(file.stat())).size ?? 0) : 0;
      writer = file.writer({ offset, maxInFlight: options.maxInFlight });
    },
    write: (chunk) => failing(writer!.write(chunk)),
    // Commit only once every write is acknowledged and the handle closed without error.
    close: () => failing((async () => {
      await writer!.flush();
      await file!.close();
      await ready;
      await target?.commit();
    })()),
    abort: (reason) => discard(reason),
  });
}
