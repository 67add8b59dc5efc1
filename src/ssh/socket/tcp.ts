/**
 * TCP through node:net, which Node, Deno and Bun all provide. This module and unix.ts (which
 * reuses connectSocket) are the only ones of the library that touch a runtime socket API.
 * Nagle is switched off: SSH sends many small packets whose latency matters (window adjusts,
 * SFTP requests), measured 2-3x slower with it on.
 */
import { connect as netConnect, type NetConnectOpts, type Socket } from "node:net";
import { ConnectionError } from "../../errors.js";
import type { ByteChannel } from "./byte-channel.js";

/** Stop reading from the kernel when this much is queued and unread (bounded memory). */
const HIGH_WATER = 4 * 1024 * 1024;
/** How long close() waits for the peer to read our last bytes and close its side (lingerClose). */
export const LINGER_MS = 1000;

export function connectTcp(host: string, port: number, signal?: AbortSignal): Promise<ByteChannel> {
  return connectSocket({ host, port, noDelay: true }, `${host}:${port}`, signal);
}

/**
 * Opens a node:net stream (TCP, or a Unix-domain socket when `options.path` is set) and adapts it
 * to a ByteChannel. `label` names the peer in error messages.
 */
export function connectSocket(options: NetConnectOpts, label: string, signal?: AbortSignal): Promise<ByteChannel> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const arena = new ReadArena();
    // onread (Node, Deno and Bun alike) reads into our regions instead of a fresh 64 KiB
    // Buffer per read, so consecutive reads are adjacent in memory (see ReadArena).
    let deliver: (chunk: Uint8Array) => void = () => {};
    const socket = netConnect({
      ...options,
      onread: { buffer: () => arena.region(), callback: (n: number, buf: Uint8Array) => {
        deliver(arena.filled(buf, n));
        return true; // deliver() pauses the socket itself when too much is unread
      } },
    });
    const onAbort = () => {
      socket.destroy();
      reject(abortError(signal!));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("error", (e: NodeJS.ErrnoException) => {
      signal?.removeEventListener("abort", onAbort);
      reject(new ConnectionError(e.code === "ECONNREFUSED" ? "CONNECTION_REFUSED" : "CONNECTION_FAILED",
        `cannot connect to ${label}: ${e.message}`, { cause: e }));
    });
    socket.once("connect", () => {
      signal?.removeEventListener("abort", onAbort);
      socket.removeAllListeners("error");
      socket.setNoDelay(true); // a no-op on Unix-domain sockets
      const channel = socketChannel(socket);
      deliver = channel.deliver;
      resolve({ ...channel, alignFrom: (offset) => arena.alignFrom(offset), release: (chunk) => arena.release(chunk), trim: () => arena.trim() });
    });
  });
}

function abortError(signal: AbortSignal): ConnectionError {
  return new ConnectionError("ABORTED", `connect aborted: ${signal.reason?.message ?? signal.reason ?? "aborted"}`, { cause: signal.reason });
}

/**
 * Adapts a connected node:net socket (TCP or Unix-domain) to a ByteChannel. Incoming bytes come
 * from its "data" events, or, for a socket made with `onread`, through the returned `deliver`.
 */
export function socketChannel(socket: Socket): ByteChannel & { deliver(chunk: Uint8Array): void } {
  const chunks: Uint8Array[] = [];
  let queued = 0;
  let ended = false;
  let failure: ConnectionError | undefined;
  let waiter: (() => void) | undefined;
  const wake = () => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  let closing = false;
  const deliver = (chunk: Uint8Array) => {
    if (closing) return; // read only to be thrown away (lingerClose)
    chunks.push(chunk);
    queued += chunk.length;
    if (queued > HIGH_WATER) socket.pause();
    wake();
  };
  // A Uint8Array view of the Buffer's memory: no copy, and nothing Buffer-specific escapes.
  socket.on("data", (b: Buffer) => deliver(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
  socket.on("end", () => {
    ended = true;
    wake();
  });
  socket.on("close", () => {
    ended = true;
    wake();
  });
  socket.on("error", (e) => {
    failure ??= new ConnectionError("CONNECTION_LOST", `connection lost: ${e.message}`, { cause: e });
    wake();
  });
  // cork/uncork turns the writes into one writev: one system call, no concatenation copy.
  const writev = (parts: Uint8Array[], onWritten?: () => void): Promise<void> => {
    if (failure) return Promise.reject(failure);
    if (socket.destroyed) return Promise.reject(new ConnectionError("CONNECTION_LOST", "socket is closed"));
    socket.cork();
    let room = true;
    const last = parts.length - 1;
    // The last write's callback runs once the whole corked batch has gone to the kernel; after
    // an error it never says the buffers are free.
    parts.forEach((p, i) => (room = socket.write(p, i === last && onWritten ? (err) => err || onWritten() : undefined)));
    socket.uncork();
    // write() says "no room" for any batch over the high-water mark (16 KiB), even one the
    // kernel has just taken whole; only bytes still queued in the socket are worth waiting for.
    if (room || socket.writableLength === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        socket.off("drain", done);
        socket.off("close", done);
        if (socket.destroyed && socket.writableLength > 0) reject(new ConnectionError("CONNECTION_LOST", "socket closed while writing"));
        else resolve();
      };
      socket.on("drain", done);
      socket.on("close", done);
    });
  };
  return {
    deliver,
    async read() {
      for (;;) {
        const c = chunks.shift();
        if (c) {
          queued -= c.length;
          if (queued <= HIGH_WATER && socket.isPaused()) socket.resume();
          return c;
        }
        if (failure) throw failure;
        if (ended) return null;
        await new Promise<void>((r) => (waiter = r));
      }
    },
    write: (data) => writev([data]),
    writev,
    close() {
      ended = true;
      closing = true;
      chunks.length = 0;
      lingerClose(socket);
      wake();
    },
  };
}

/**
 * Closes without losing what was just written, typically a DISCONNECT (RFC 4253 §11.1). A socket
 * destroyed while inbound bytes sit unread in the kernel is reset (RST, not FIN: RFC 2525 §2.17),
 * and a peer that receives the RST drops what it had not read yet, our last message included;
 * a peer trickling bytes at us (the case the hostile tests make) always has some in flight. So
 * the socket half-closes (FIN after what is queued), keeps reading and discarding until the peer
 * closes its side, and is destroyed after LINGER_MS at the latest (a peer that never reads or
 * never closes gets the reset then). Unref'd meanwhile: it never keeps a process alive.
 */
function lingerClose(socket: Socket): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  (timer as { unref?: () => void }).unref?.();
  socket.once("close", () => clearTimeout(timer));
  socket.once("end", () => socket.destroy());
  socket.unref();
  socket.end();
  socket.resume();
}

/**
 * Where a client socket's reads land: consecutive regions of one buffer, so a packet split
 * between two reads is still contiguous and the packet layer takes it as a view (ByteQueue
 * joins adjacent chunks) instead of copying it out, which 64 KiB reads of 32-64 KiB packets
 * otherwise did for most of them. A region is never reused: what was read stays valid as long
 * as anything refers to it. The buffer grows while data streams in (a new one every few
 * milliseconds) and starts small again after a quiet second, so an idle connection holds
 * MIN_ARENA, not MAX_ARENA.
 *
 * A full-size buffer is read into again once every byte read into it has been released
 * (ByteChannel.release: the packet layer is done with them, their plaintext being elsewhere), so
 * a bulk download cycles through a few buffers instead of allocating 2 MiB every few
 * milliseconds. Those allocations are outside V8's heap and each one counts towards the external
 * memory that makes V8 collect garbage: about half of a download's allocation, with each
 * packet's decrypted copy the other half. Only the bytes a read filled are ever handed out, so
 * an old packet's bytes in a reused buffer are never seen.
 */
const MIN_READ = 64 * 1024;
const MIN_ARENA = 128 * 1024;
const MAX_ARENA = 2 * 1024 * 1024;
const QUIET_MS = 1000;
/** Full-size buffers tracked for reuse (the oldest beyond this is left to the GC). */
const KEPT = 4;

interface Usage {
  buffer: Uint8Array;
  /** Bytes read into the buffer since it was (re)started, and how many of them were released. */
  read: number;
  released: number;
}

export class ReadArena {
  private buffer: Uint8Array = new Uint8Array(MIN_ARENA);
  private used = 0;
  private since = performance.now();
  /** Bytes read so far, and the stream offset to keep 8-byte aligned in memory (alignFrom). */
  private received = 0;
  private alignedAt = 0;
  /** The full-size buffers, oldest first (Map order), keyed by their memory. */
  private readonly full = new Map<ArrayBufferLike, Usage>();

  /** Room for the next read: the unused rest of the buffer, or a new buffer. */
  region(): Uint8Array {
    const skip = (this.received - this.alignedAt - this.used) & 7; // to put `received` in line
    if (this.buffer.length - this.used - skip < MIN_READ) {
      const now = performance.now();
      const size = now - this.since < QUIET_MS ? Math.min(MAX_ARENA, this.buffer.length * 2) : MIN_ARENA;
      this.buffer = size === MAX_ARENA ? this.fullBuffer() : new Uint8Array(size);
      this.used = (this.received - this.alignedAt) & 7;
      this.since = now;
    } else {
      this.used += skip;
    }
    return this.buffer.subarray(this.used);
  }

  /** A full-size buffer that is free again (every byte read into it released), else a new one. */
  private fullBuffer(): Uint8Array {
    for (const [key, u] of this.full) {
      if (u.buffer !== this.buffer && u.released === u.read) {
        this.full.delete(key); // to the end: the most recently started
        this.full.set(key, { buffer: u.buffer, read: 0, released: 0 });
        return u.buffer;
      }
    }
    const buffer = new Uint8Array(MAX_ARENA);
    if (this.full.size >= KEPT) this.full.delete(this.full.keys().next().value!);
    this.full.set(buffer.buffer, { buffer, read: 0, released: 0 });
    return buffer;
  }

  /** See ByteChannel.trim: the full-size buffers that are free again, but the one read into now, go to the GC. */
  trim(): void {
    for (const [key, u] of this.full) if (u.buffer !== this.buffer && u.released === u.read) this.full.delete(key);
  }

  /** Full-size buffers kept (the one read into now included). */
  get kept(): number {
    return this.full.size;
  }

  /** See ByteChannel.release. Bytes of other memory (a buffer no longer tracked) are ignored. */
  release(chunk: Uint8Array): void {
    const u = this.full.get(chunk.buffer);
    if (u) u.released += chunk.length;
  }

  /** The `n` bytes just read into `buf` (a region handed out before), marked used. */
  filled(buf: Uint8Array, n: number): Uint8Array {
    const u = this.full.get(buf.buffer);
    if (u) u.read += n;
    if (buf.buffer === this.buffer.buffer) this.used = buf.byteOffset + n;
    this.received += n;
    return new Uint8Array(buf.buffer, buf.byteOffset, n);
  }

  /** See ByteChannel.alignFrom; takes effect from the next read. */
  alignFrom(streamOffset: number): void {
    this.alignedAt = streamOffset;
  }
}
