/**
 * Listening for TCP connections through node:net (Node, Deno and Bun all provide it), for the
 * embedded server. Each accepted socket is handed on as a ByteChannel, with Nagle off as for
 * client sockets (tcp.ts).
 */
import { createServer, type Socket } from "node:net";
import { ConnectionError } from "../../errors.js";
import type { ByteChannel } from "./byte-channel.js";
import { socketChannel } from "./tcp.js";

export interface AcceptedConnection {
  channel: ByteChannel;
  remoteAddress: string;
  remotePort: number;
}

export interface TcpListener {
  readonly host: string;
  readonly port: number;
  /** Stops accepting, then destroys the sockets still open. */
  close(): Promise<void>;
}

/** Listens on host:port (port 0 picks a free one) and calls `onConnection` for each client. */
export function listenTcp(host: string, port: number, onConnection: (c: AcceptedConnection) => void): Promise<TcpListener> {
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => {}); // reported through the ByteChannel
    socket.setNoDelay(true);
    onConnection({ channel: socketChannel(socket), remoteAddress: socket.remoteAddress ?? "", remotePort: socket.remotePort ?? 0 });
  });
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(new ConnectionError("LISTEN_FAILED", `cannot listen on ${host}:${port}: ${e.message}`, { cause: e })));
    server.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : port;
      server.removeAllListeners("error");
      server.on("error", () => {});
      resolve({
        host,
        port: bound,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const s of sockets) s.destroy();
          }),
      });
    });
  });
}
