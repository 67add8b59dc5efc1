/**
 * The server end of SSH over WebSockets (Node, with the `ws` package): each WebSocket is piped
 * both ways, with backpressure, to a new TCP connection to the SSH server. Binary messages carry
 * the raw SSH byte stream; SSH's own encryption and host-key check protect it end to end, so the
 * bridge sees only ciphertext (serve it over wss:// all the same, and in front of an
 * authenticating proxy if the SSH port should not be open to the world).
 *
 *   await startWebSocketBridge({ port: 8022, sshHost: "127.0.0.1", sshPort: 22 });
 */
import { connect } from "node:net";
import { WebSocketServer, createWebSocketStream } from "ws";

export async function startWebSocketBridge(options: { port: number; host?: string; sshHost: string; sshPort?: number }): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ port: options.port, host: options.host });
  wss.on("connection", (ws) => {
    const tcp = connect(options.sshPort ?? 22, options.sshHost);
    const duplex = createWebSocketStream(ws);
    duplex.pipe(tcp).pipe(duplex);
    tcp.on("error", () => duplex.destroy());
    duplex.on("error", () => tcp.destroy());
  });
  await new Promise((resolve, reject) => wss.once("listening", resolve).once("error", reject));
  return wss;
}
