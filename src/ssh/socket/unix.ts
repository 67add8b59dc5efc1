/**
 * Unix-domain stream sockets through node:net (ssh-agent's $SSH_AUTH_SOCK, local proxies). The
 * adapter is tcp.ts's: same ByteChannel, backpressure and error mapping.
 */
import type { ByteChannel } from "./byte-channel.js";
import { connectSocket } from "./tcp.js";

/**
 * Connects to the Unix-domain socket at `path`. Rejects with ConnectionError: CONNECTION_REFUSED
 * when nothing listens there, CONNECTION_FAILED otherwise (missing file, permissions), ABORTED.
 */
export function connectUnix(path: string, signal?: AbortSignal): Promise<ByteChannel> {
  return connectSocket({ path }, path, signal);
}
