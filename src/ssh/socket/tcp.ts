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
    const socket = netConnect(options);
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
      resolve(socketChannel(socket));
    });
  });
}

function abortError(signal: AbortSignal): ConnectionError {
  return new ConnectionError("ABORTED", `connect aborted: ${signal.reason?.message ?? signal.reason ?? "aborted"}`, { cause: signal.reason });
}

/** Adapts a connected node:net socket (TCP or Unix-domain) to a ByteChannel. */
export function socketChannel(socket: Socket): ByteChannel {
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
  socket.on("data", (b: Buffer) => {
    // A Uint8Array view of the Buffer's memory: no copy, and nothing Buffer-specific escapes.
    chunks.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    queued += b.byteLength;
    if (queued > HIGH_WATER) socket.pause();
    wake();
  });
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
  const writev = (parts: Uint8Array[]): Promise<void> => {
    if (failure) return Promise.reject(failure);
    if (socket.destroyed) return Promise.reject(new ConnectionError("CONNECTION_LOST", "socket is closed"));
    socket.cork();
    let room = true;
    for (const p of parts) room = socket.write(p);
    socket.uncork();
    if (room) return Promise.resolve();
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
      socket.destroy();
      wake();
    },
  };
}
