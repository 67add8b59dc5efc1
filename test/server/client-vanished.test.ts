/**
 * A client that vanishes without a FIN or RST (a cable, a NAT entry, a suspended laptop: here a
 * proxy that stops forwarding and closes nothing) is dropped by the server's keepalives, and
 * the server goes on serving others.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { SshError } from "../../src/errors.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { startTestServer, type TestServer } from "./helpers.js";

let t: TestServer;
let proxy: FaultProxy;
beforeAll(async () => {
  // Keepalives every 300 ms: the server drops the silent client about a second after the stall,
  // so the check that it was still connected when the stall began has that long to run (at
  // 100 ms, 400 ms of a loaded machine between the stall and the check would fail it).
  t = await startTestServer({ limits: { authFailureDelayMs: 20, keepaliveIntervalMs: 300 } });
  // Everything after the first 64 KiB from the client is swallowed, both ways.
  proxy = await startFaultProxy({ targetPort: t.server.port, up: { kind: "stall", at: 64 * 1024 } });
});
afterAll(async () => {
  await proxy.close();
  await t.stop();
});

it("drops a client that went silent, and serves the next one", async () => {
  // The client's own keepalive is off: only the server's notices.
  const gone = await t.connect({ port: proxy.port, keepaliveIntervalMs: 0 });
  const stuck = gone.writeFile("/big.bin", new Uint8Array(1024 * 1024)).catch((e: unknown) => e);
  await expect.poll(() => proxy.faultsFired).toBe(1);
  expect(t.server.connectionCount).toBe(1);
  // 3 unanswered keepalives after the last packet: about 1.5 s at 300 ms.
  await expect.poll(() => t.server.connectionCount).toBe(0);

  const other = await t.connect();
  await other.writeFile("/other.txt", "still serving");
  expect(new TextDecoder().decode(await other.readFile("/other.txt"))).toBe("still serving");
  await other.close();
  // The stranded client's own call ends once it gives up (here: closes).
  await gone.close().catch(() => {});
  expect(await stuck).toBeInstanceOf(SshError);
});
