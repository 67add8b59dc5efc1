/** The fault proxy does to the bytes what each fault kind says, at the offset it is given. */
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultProxy, type Fault } from "./fault-proxy.js";

/** A target that echoes what it gets; records how each connection ended. */
let echo: net.Server;
let echoPort: number;
const serverSaw: { bytes: number; ended: "end" | "error" | "open" }[] = [];

beforeAll(async () => {
  echo = net.createServer((s) => {
    const rec = { bytes: 0, ended: "open" as "end" | "error" | "open" };
    serverSaw.push(rec);
    s.on("data", (d) => {
      rec.bytes += d.length;
      s.write(d);
    });
    s.on("end", () => {
      rec.ended = "end";
      s.end();
    });
    s.on("error", () => (rec.ended = "error"));
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  echoPort = (echo.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => echo.close(() => r())));

const payload = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7) & 0xff));

/**
 * Sends `payload` through a proxy with the given faults and reads the echo until the client
 * socket ends, or until `quietMs` have passed after `expected` bytes came back (all of them by
 * default), or 10 s at most; returns what came back and how the client socket ended. It waits
 * for the bytes, not a fixed time for them: on two loaded CI cores 4000 echoed bytes took longer
 * than a fixed 500 ms allows.
 */
async function roundTrip(
  faults: { up?: Fault; down?: Fault; delayMs?: { up?: number; down?: number } },
  { expected = payload.length, quietMs = 0 }: { expected?: number; quietMs?: number } = {},
) {
  const proxy = await startFaultProxy({ targetPort: echoPort, ...faults });
  const sock = net.connect(proxy.port, "127.0.0.1");
  const got: Buffer[] = [];
  let length = 0;
  let ended: "end" | "reset" | "timeout" | undefined;
  const t0 = Date.now();
  let firstByteMs = -1;
  await new Promise<void>((resolve) => {
    // The first outcome counts: destroying the socket afterwards may emit "end" too (Bun does).
    const timers: ReturnType<typeof setTimeout>[] = [];
    const settle = (how: "end" | "reset" | "timeout") => {
      ended ??= how;
      timers.forEach(clearTimeout);
      resolve();
    };
    timers.push(setTimeout(() => settle("timeout"), 10_000));
    sock.on("data", (d) => {
      if (firstByteMs < 0) firstByteMs = Date.now() - t0;
      got.push(d);
      const before = length;
      length += d.length;
      if (before < expected && length >= expected) timers.push(setTimeout(() => settle("timeout"), quietMs));
    });
    sock.on("end", () => settle("end"));
    sock.on("error", (e: NodeJS.ErrnoException) => settle(e.code === "ECONNRESET" ? "reset" : "end"));
    sock.on("connect", () => {
      // In pieces, so offsets fall inside chunks as well as on their edges.
      for (let o = 0; o < payload.length; o += 1000) sock.write(payload.subarray(o, o + 1000));
    });
  });
  sock.destroy();
  const fired = proxy.faultsFired;
  await proxy.close();
  return { data: Buffer.concat(got), ended, fired, firstByteMs };
}

describe("fault proxy", () => {
  it("forwards everything unchanged without a fault", async () => {
    const r = await roundTrip({}, { quietMs: 100 });
    expect(r.data.equals(payload)).toBe(true);
    expect(r.fired).toBe(0);
  });

  it("resets at an offset: the client sees ECONNRESET, and never a byte past the offset", async () => {
    const r = await roundTrip({ down: { kind: "reset", at: 1500 } });
    expect(r.ended).toBe("reset");
    // A reset may discard what the receiver had not read yet, so only a prefix is certain.
    expect(r.data.length).toBeLessThanOrEqual(1500);
    expect(r.data.equals(payload.subarray(0, r.data.length))).toBe(true);
    expect(r.fired).toBe(1);
  });

  it("ends cleanly (FIN) at an offset", async () => {
    const r = await roundTrip({ down: { kind: "fin", at: 2500 } });
    expect(r.ended).toBe("end");
    expect(r.data.equals(payload.subarray(0, 2500))).toBe(true);
  });

  it("truncates the upward stream: the server sees the bytes before the offset, then its stream end", async () => {
    const before = serverSaw.length;
    const r = await roundTrip({ up: { kind: "truncate", at: 1234 } });
    expect(r.ended).not.toBe("timeout");
    await expect.poll(() => serverSaw[before]?.ended).toBe("end");
    expect(serverSaw[before]!.bytes).toBe(1234);
  });

  it("stalls: the bytes before the offset arrive, nothing after, and nothing closes", async () => {
    const r = await roundTrip({ down: { kind: "stall", at: 3000 } }, { expected: 3000, quietMs: 400 });
    expect(r.ended).toBe("timeout");
    expect(r.data.equals(payload.subarray(0, 3000))).toBe(true);
  });

  it("trickles: in order, fewer bytes than the whole after the offset within the wait", async () => {
    const r = await roundTrip({ down: { kind: "trickle", at: 3990, trickleMs: 20 } }, { expected: 3991 });
    expect(r.data.length).toBeGreaterThan(3990);
    expect(r.data.equals(payload.subarray(0, r.data.length))).toBe(true);
    const all = await roundTrip({ down: { kind: "trickle", at: 3995, trickleMs: 5 } });
    expect(all.data.equals(payload)).toBe(true);
  });

  it("corrupts exactly one byte, by one bit, at the offset", async () => {
    const r = await roundTrip({ up: { kind: "corrupt", at: 1999 } }, { quietMs: 100 });
    expect(r.data.length).toBe(payload.length);
    const diffs = [...r.data.keys()].filter((i) => r.data[i] !== payload[i]);
    expect(diffs).toEqual([1999]);
    expect(r.data[1999]! ^ payload[1999]!).toBe(1);
  });

  it("mutes one direction of the open connections from now on: the other still flows, nothing closes", async () => {
    const proxy = await startFaultProxy({ targetPort: echoPort });
    const before = serverSaw.length;
    const sock = net.connect(proxy.port, "127.0.0.1");
    let got = 0;
    sock.on("data", (d) => (got += d.length));
    await new Promise<void>((r) => sock.on("connect", r));
    sock.write(payload.subarray(0, 1000));
    await expect.poll(() => got).toBe(1000);
    proxy.mute("down");
    sock.write(payload.subarray(1000));
    // The server gets (and echoes) all of it; none of the echo after the mute comes back.
    await expect.poll(() => serverSaw[before]?.bytes).toBe(payload.length);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toBe(1000);
    expect(sock.destroyed).toBe(false);
    sock.destroy();
    await proxy.close();
  });

  it("delays a direction: nothing comes back before the configured delay", async () => {
    const r = await roundTrip({ delayMs: { down: 150 } });
    expect(r.data.equals(payload)).toBe(true);
    expect(r.firstByteMs).toBeGreaterThanOrEqual(140);
  });
});
