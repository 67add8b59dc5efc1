import { describe, expect, it } from "vitest";
import { Channel, type ChannelHost } from "../../src/ssh/connection/channel.js";
import { MSG } from "../../src/ssh/messages.js";
import { concat } from "../../src/ssh/wire/writer.js";
import { connectSsh } from "../../src/ssh/client.js";
import { afterLogin, optionsFor, startFake, useFakeServer } from "../hostile/helpers.js";

/** A host that records sent messages and runs beforeWrite calls when `flush()` is called. */
function recordingHost() {
  const sent: Uint8Array[] = [];
  const later: (() => void)[] = [];
  const host: ChannelHost = {
    send: (...parts) => void sent.push(concat(...parts)),
    release: () => {},
    beforeWrite: (f) => void later.push(f),
  };
  const flush = () => {
    for (const f of later.splice(0)) f();
  };
  return { host, sent, flush };
}

/** CHANNEL_DATA payloads of the sent messages, and the other message types in order. */
function summarize(sent: Uint8Array[]): (string | number)[] {
  return sent.map((m) => (m[0] === MSG.CHANNEL_DATA ? new TextDecoder().decode(m.subarray(9)) : m[0]!));
}

const text = (s: string) => new TextEncoder().encode(s);

describe("Channel writes", () => {
  it("sends the writes of one turn together, in one CHANNEL_DATA, just before the socket write", async () => {
    const { host, sent, flush } = recordingHost();
    const ch = new Channel(host, 0, 7, 1 << 20, 32768);
    const done = [ch.write(text("ab")), ch.write(text("cd")), ch.write(text("ef"))];
    expect(sent).toHaveLength(0);
    flush();
    expect(summarize(sent)).toEqual(["abcdef"]);
    await Promise.all(done);
  });

  it("takes a write as several parts, sent as one run of bytes, resolving once all are sent", async () => {
    const { host, sent, flush } = recordingHost();
    const ch = new Channel(host, 0, 7, 1 << 20, 5);
    let resolved = false;
    const w = ch.write(text("head"), text(""), text("body!"));
    void w.then(() => (resolved = true));
    await Promise.resolve();
    expect(resolved).toBe(false); // nothing is sent before the turn's flush
    flush();
    expect(summarize(sent)).toEqual(["headb", "ody!"]);
    await w;
  });

  it("splits at the peer's max packet and stops at its window, sending the rest on WINDOW_ADJUST", async () => {
    const { host, sent, flush } = recordingHost();
    const ch = new Channel(host, 0, 7, 10, 4);
    const first = ch.write(text("abc"));
    const second = ch.write(text("defghijk"));
    let secondDone = false;
    void second.then(() => (secondDone = true));
    flush();
    expect(summarize(sent)).toEqual(["abcd", "efgh", "ij"]);
    await first;
    await Promise.resolve();
    expect(secondDone).toBe(false);
    ch.handleWindowAdjust(100);
    expect(summarize(sent)).toEqual(["abcd", "efgh", "ij", "k"]);
    await second;
  });

  it("keeps data written before a request, EOF or close ahead of it", async () => {
    const { host, sent } = recordingHost();
    const ch = new Channel(host, 0, 7, 1 << 20, 32768);
    const w1 = ch.write(text("one"));
    void ch.request("env", false);
    const w2 = ch.write(text("two"));
    ch.eof();
    void ch.close();
    expect(summarize(sent)).toEqual(["one", MSG.CHANNEL_REQUEST, "two", MSG.CHANNEL_EOF, MSG.CHANNEL_CLOSE]);
    await Promise.all([w1, w2]);
  });

  it("fails queued writes when the channel ends before they are sent", async () => {
    const { host, flush } = recordingHost();
    const ch = new Channel(host, 0, 7, 0, 32768); // no window: nothing can be sent
    const w = ch.write(text("stuck"));
    flush();
    ch.finish(undefined);
    await expect(w).rejects.toMatchObject({ code: "CHANNEL_CLOSED" });
  });

  it("sends at once when the host has no beforeWrite", async () => {
    const sent: Uint8Array[] = [];
    const ch = new Channel({ send: (...p) => void sent.push(concat(...p)), release: () => {} }, 0, 7, 1 << 20, 32768);
    await ch.write(text("now"));
    expect(summarize(sent)).toEqual(["now"]);
  });
});

describe("Channel writes on a live connection", () => {
  useFakeServer();

  it("sends data written just before the connection is closed ahead of DISCONNECT", async () => {
    const server = await startFake(afterLogin(async (peer) => {
      await peer.acceptSession();
      await peer.peerDisconnect();
    }));
    const ssh = await connectSsh(optionsFor(server));
    const peer = await server.firstPeer();
    const channel = await ssh.openSession();
    const written = channel.write(text("last words"));
    await ssh.close();
    await written;
    await peer.peerDisconnect();
    const order = peer.received.map((p) => p[0]!).filter((t) => t === MSG.CHANNEL_DATA || t === MSG.DISCONNECT);
    expect(order).toEqual([MSG.CHANNEL_DATA, MSG.DISCONNECT]);
  });

  it("fails every write of a message the connection refused (closed under it), none left pending", async () => {
    const later: (() => void)[] = [];
    const host: ChannelHost = {
      send: () => {
        throw new Error("the connection is closed");
      },
      release: () => {},
      beforeWrite: (f) => void later.push(f),
    };
    const ch = new Channel(host, 0, 7, 1 << 20, 32768);
    // Two writes that fit one CHANNEL_DATA: both are taken off the queue before the send fails.
    const outcomes = [ch.write(text("a")), ch.write(text("b"))].map((p) => p.then(() => "sent", (e: Error) => e.message));
    for (const f of later.splice(0)) f();
    expect(await Promise.all(outcomes)).toEqual(["the connection is closed", "the connection is closed"]);
  });
});
