/**
 * Web Streams over remote files. Both return synchronously and open the file on first use; the
 * read side keeps a pipeline of requests in flight and delivers bytes in order, the write side
 * applies backpressure when too many writes are outstanding.
 */
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
  /** Permissions for a created file. */
  mode?: number;
  maxInFlight?: number;
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
  let file: SftpFile | undefined;
  let writer: PipelinedWriter | undefined;
  return new WritableStream<Uint8Array>({
    async start() {
      const flags = options.flags ?? "w";
      file = await client.open(path, flags, options.mode === undefined ? {} : { permissions: options.mode });
      // Appending servers ignore the offset (O_APPEND); others need it to be the end.
      const offset = flags.startsWith("a") ? ((await file.stat()).size ?? 0) : 0;
      writer = file.writer({ offset, maxInFlight: options.maxInFlight });
    },
    async write(chunk) {
      await writer!.write(chunk);
    },
    async close() {
      try {
        await writer!.flush();
      } finally {
        await file!.close();
      }
    },
    async abort() {
      await file?.close().catch(() => {});
    },
  });
}
