/** Connection-layer behaviour that a real OpenSSH does not let us provoke: keepalive timeouts. */
import { afterEach, describe, expect, it } from "vitest";
import { connectSsh } from "../src/ssh/client.js";
import { generateEd25519Key } from "../src/ssh/keys/private-key.js";
import { MSG } from "../src/ssh/messages.js";
import { SshReader } from "../src/ssh/wire/reader.js";
import { FakeSshServer } from "./support/fake-server.js";

const PASSWORD = "pw";
const serverKey = generateEd25519Key("keepalive-test-server");
let server: FakeSshServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Our client, keepalive checks every 50 ms. */
function connectWithKeepalive(port: number) {
  return connectSsh({
    host: "127.0.0.1",
    port,
    username: "alice",
    password: PASSWORD,
    hostKeys: { fingerprints: [serverKey.publicKey.fingerprint], knownHostsFile: "/nonexistent" },
    keepaliveIntervalMs: 50,
  });
}

describe("client keepalives", () => {
  it("sends keepalive@openssh.com, and fails the connection after 3 unanswered", async () => {
    const requests: string[] = [];
    server = await FakeSshServer.start(async (peer) => {
      void peer.sendBanner();
      await peer.readClientVersion();
      await peer.doKex({ strict: true });
      await peer.authAcceptPassword(PASSWORD);
      // Answer the first keepalive (as OpenSSH does, with REQUEST_FAILURE), then go silent.
      for (let i = 0; ; i++) {
        const msg = await peer.readPacket();
        if (msg[0] !== MSG.GLOBAL_REQUEST) continue;
        const r = new SshReader(msg);
        r.byte();
        requests.push(r.ascii());
        if (i === 0) await peer.sendPacket(new Uint8Array([MSG.REQUEST_FAILURE]));
      }
    }, { hostKey: serverKey });
    const conn = await connectWithKeepalive(server.port);
    const closed = new Promise<unknown>((resolve) => conn.onClose(resolve));
    const err = (await closed) as { code?: string };
    expect(err.code).toBe("KEEPALIVE_TIMEOUT");
    expect(requests.length).toBeGreaterThanOrEqual(4);
    expect(new Set(requests)).toEqual(new Set(["keepalive@openssh.com"]));
    expect(conn.closed).toBe(true);
  });

  it("counts any packet as life: a server that sends data but never answers keepalives stays connected", async () => {
    let keepalives = 0;
    let stop = false;
    server = await FakeSshServer.start(async (peer) => {
      void peer.sendBanner();
      await peer.readClientVersion();
      await peer.doKex({ strict: true });
      await peer.authAcceptPassword(PASSWORD);
      // Busy sending (as a server streaming a download is), deaf to global requests.
      void (async () => {
        while (!stop) {
          await peer.sendIgnore(new Uint8Array(8)).catch(() => (stop = true));
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      for (;;) if ((await peer.readPacket())[0] === MSG.GLOBAL_REQUEST) keepalives++;
    }, { hostKey: serverKey });
    const conn = await connectWithKeepalive(server.port);
    // Ten intervals: without the packets counting, 3 missed keepalives would have failed it.
    await new Promise((r) => setTimeout(r, 500));
    expect(conn.closed).toBe(false);
    expect(keepalives).toBeLessThan(3);
    stop = true;
    await conn.close();
  });
});
