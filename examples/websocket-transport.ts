/**
 * SSH over a WebSocket, for hosts without raw TCP (browsers, edge workers, sandboxes): the
 * standard WebSocket API turned into the `{ readable, writable }` byte stream that
 * `connect({ stream })` takes. The other end is a bridge that pipes each WebSocket to the SSH
 * server's TCP port (websocket-bridge.ts). Uses only web-platform APIs: runs as it is on Deno,
 * Bun and in browsers, and on Node 20 with the `ws` package's WebSocket (Node 22 has a global one).
 *
 *   const stream = await webSocketStream(new WebSocket("wss://bridge.example.com/ssh"));
 *   const sftp = await connect({ host: "files.example.com", username: "alice", password, stream });
 */

/** Writes wait while more than this is queued in the WebSocket (the API's only backpressure). */
const HIGH_WATER = 1024 * 1024;
// WebSocket.readyState values, spelled out: Node 20 has no global WebSocket to read them from.
const CONNECTING = 0;
const OPEN = 1;

export async function webSocketStream(
  ws: WebSocket,
): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }> {
  ws.binaryType = "arraybuffer";
  // Listeners go on before the socket opens: the SSH server speaks first. After a cancel the
  // socket may still deliver messages while it closes (Deno does): they are dropped.
  let ended = false;
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      ws.addEventListener("message", (e) => {
        if (!ended) controller.enqueue(new Uint8Array(e.data as ArrayBuffer));
      });
      ws.addEventListener("close", () => {
        if (!ended) controller.close();
        ended = true;
      });
      ws.addEventListener("error", () => {
        if (!ended) controller.error(new Error(`WebSocket ${ws.url} failed`));
        ended = true;
      });
    },
    cancel() {
      ended = true;
      ws.close();
    },
  });
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      if (ws.readyState !== OPEN) throw new Error(`WebSocket ${ws.url} is closed`);
      ws.send(chunk);
      while (ws.bufferedAmount > HIGH_WATER && ws.readyState === OPEN) await new Promise((r) => setTimeout(r, 5));
    },
    close: () => ws.close(),
    abort: () => ws.close(),
  });
  if (ws.readyState === CONNECTING) {
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error(`cannot open WebSocket ${ws.url}`)), { once: true });
    });
  }
  return { readable, writable };
}
