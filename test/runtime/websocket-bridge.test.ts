/**
 * The README's WebSocket transport, as written in examples/: our client reaches the embedded
 * server through a WebSocket and the `ws` bridge, with the standard WebSocket API on Deno and Bun
 * (their globals) and `ws`'s implementation of it on Node 20, which has no global one.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startWebSocketBridge } from "../../examples/websocket-bridge.js";
import { webSocketStream } from "../../examples/websocket-transport.js";
import { connect } from "../../src/connect.js";
import { ConnectionError } from "../../src/errors.js";
import { randomBytes, startTestServer, type TestServer } from "../server/helpers.js";

type Bridge = Awaited<ReturnType<typeof startWebSocketBridge>>;

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const WebSocketClass: typeof WebSocket = globalThis.WebSocket ?? ((await import("ws")).WebSocket as unknown as typeof WebSocket);

let t: TestServer;
let bridge: Bridge;
const bridgeUrl = (b: Bridge) => `ws://127.0.0.1:${b.address().port}`;

beforeAll(async () => {
  t = await startTestServer();
  bridge = await startWebSocketBridge({ port: 0, host: "127.0.0.1", sshHost: "127.0.0.1", sshPort: t.server.port });
});
afterAll(async () => {
  await new Promise((r) => bridge?.close(r));
  await t?.stop();
});

it(`connects through a WebSocket bridge (${"Deno" in globalThis ? "Deno" : "Bun" in globalThis ? "Bun" : "Node, ws"} client)`, { timeout: 60_000 }, async () => {
  const stream = await webSocketStream(new WebSocketClass(bridgeUrl(bridge)));
  const sftp = await connect({ ...t.options(), stream });
  expect(sftp.ssh.hostKey.fingerprint).toBe(t.hostKey.publicKey.fingerprint);
  const data = randomBytes(8 * 1024 * 1024);
  await sftp.writeFile("/through-ws.bin", data);
  expect((await sftp.list("/")).map((e) => [e.name, e.attrs.size])).toEqual([["through-ws.bin", data.length]]);
  expect(sha256(await sftp.readFile("/through-ws.bin"))).toBe(sha256(data));
  await sftp.close();
  // Closing the client closes the WebSocket, and the bridge lets go of it.
  await expect.poll(() => bridge.clients.size).toBe(0);
});

it("fails with a ConnectionError when the bridge cannot reach the server", async () => {
  const nowhere = await startWebSocketBridge({ port: 0, host: "127.0.0.1", sshHost: "127.0.0.1", sshPort: 1 });
  try {
    const stream = await webSocketStream(new WebSocketClass(bridgeUrl(nowhere)));
    const err = await connect({ ...t.options(), stream }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
  } finally {
    await new Promise((r) => nowhere.close(r));
  }
});

it("refuses to open when nothing listens", async () => {
  const closed = await startWebSocketBridge({ port: 0, host: "127.0.0.1", sshHost: "127.0.0.1", sshPort: t.server.port });
  const url = bridgeUrl(closed);
  await new Promise((r) => closed.close(r));
  await expect(webSocketStream(new WebSocketClass(url))).rejects.toThrow(/cannot open WebSocket/);
});

it("is what README.md quotes", () => {
  const root = join(import.meta.dirname, "..", "..");
  const readme = readFileSync(join(root, "README.md"), "utf8");
  for (const file of ["websocket-transport.ts", "websocket-bridge.ts"]) {
    // The file without its opening doc comment.
    const code = readFileSync(join(root, "examples", file), "utf8").replace(/^\/\*\*[\s\S]*?\*\/\n+/, "").trimEnd();
    expect(readme.includes(code), `README.md quotes examples/${file} as it is`).toBe(true);
  }
});
