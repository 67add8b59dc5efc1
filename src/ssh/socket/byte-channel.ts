/**
 * The one thing the transport needs from the outside world: an ordered, reliable byte stream.
 * TCP (tcp.ts) and any Web Streams pair (this file) are adapted to it, so the transport runs
 * unchanged over a WebSocket bridge, an in-memory pipe or a test harness.
 */
import { ConnectionError } from "../../errors.js";

export interface ByteChannel {
  /** The next chunk of bytes, or null at end of stream. Rejects with ConnectionError. */
  read(): Promise<Uint8Array | null>;
  /** Queues bytes; resolves when the channel can take more (backpressure). */
  write(data: Uint8Array): Promise<void>;
  /**
   * Optional: queues several buffers as one write (one writev system call on TCP), so a batch
   * of packets goes out together without first being copied into one buffer. `onWritten`, if
   * given, is called once the system has taken the bytes: the buffers may then be reused.
   */
  writev?(chunks: Uint8Array[], onWritten?: () => void): Promise<void>;
  /**
   * Optional: place later reads so that the byte at `streamOffset` (counted from the first byte
   * read) and every 8th after it land on 8-byte boundaries in memory. A hint for speed only.
   */
  alignFrom?(streamOffset: number): void;
  /**
   * Optional: `chunk` (bytes returned by `read`, or several consecutive ones joined) is no
   * longer referred to by anything; its memory may take later reads. Each byte is released at
   * most once. A hint for speed only: saves allocating (and collecting) read buffers.
   */
  release?(chunk: Uint8Array): void;
  /**
   * Optional: the connection has gone quiet; memory kept for later reads (buffers every byte of
   * which was released) may go. A hint only.
   */
  trim?(): void;
  /** Closes both directions; pending reads resolve null. Idempotent. */
  close(): void;
}

/** Adapts a caller-supplied `{ readable, writable }` Web Streams pair. */
export function fromWebStreams(stream: {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}): ByteChannel {
  const reader = stream.readable.getReader();
  const writer = stream.writable.getWriter();
  let closed = false;
  return {
    async read() {
      if (closed) return null;
      try {
        const { done, value } = await reader.read();
        return done ? null : value;
      } catch (e) {
        if (closed) return null;
        throw new ConnectionError("CONNECTION_LOST", `stream read failed: ${(e as Error)?.message ?? e}`, { cause: e });
      }
    },
    async write(data) {
      if (closed) throw new ConnectionError("CONNECTION_CLOSED", "write after close");
      try {
        await writer.ready;
        void writer.write(data).catch(() => {});
      } catch (e) {
        throw new ConnectionError("CONNECTION_LOST", `stream write failed: ${(e as Error)?.message ?? e}`, { cause: e });
      }
    },
    close() {
      if (closed) return;
      closed = true;
      reader.cancel().catch(() => {});
      writer.close().catch(() => {});
    },
  };
}
