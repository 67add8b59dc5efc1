import { describe, expect, it } from "vitest";
import type { ByteChannel } from "../../src/ssh/socket/byte-channel.js";
import { PacketDecoder } from "../../src/ssh/transport/framing.js";
import { PacketWriter } from "../../src/ssh/transport/packet-writer.js";

/** A socket that records each writev (a copy of its bytes) and finishes it when the test says. */
function recordingSocket() {
  const writes: Uint8Array[][] = [];
  const finish: (() => void)[] = [];
  const socket: ByteChannel = {
    read: () => new Promise(() => {}),
    write: (data) => socket.writev!([data]),
    writev(chunks, onWritten) {
      writes.push(chunks.map((c) => c.slice()));
      return new Promise<void>((resolve) => finish.push(() => (onWritten?.(), resolve())));
    },
    close() {},
  };
  const finishAll = () => {
    for (const f of finish.splice(0)) f();
  };
  return { socket, writes, finishAll };
}

const turn = () => new Promise((r) => setImmediate(r));

/** Payloads back from everything written, in order (no cipher: the initial state). */
async function payloads(writes: Uint8Array[][]): Promise<number[]> {
  const d = new PacketDecoder();
  for (const w of writes) for (const c of w) d.push(c);
  const out: number[] = [];
  for (let p = d.next(); p !== undefined; p = d.next()) out.push((await p)[0]!);
  return out;
}

describe("PacketWriter", () => {
  it("writes a turn's small packets together, once the turn is over", async () => {
    const s = recordingSocket();
    const w = new PacketWriter(s.socket, (e) => { throw e; });
    for (let i = 0; i < 5; i++) w.write(Uint8Array.of(i, 1, 2, 3));
    expect(s.writes).toHaveLength(0);
    await turn();
    expect(s.writes).toHaveLength(1);
    s.finishAll();
    expect(await payloads(s.writes)).toEqual([0, 1, 2, 3, 4]);
  });

  it("hands a large turn's packets to the socket while still sealing, in order, one write pending at a time", async () => {
    const s = recordingSocket();
    const w = new PacketWriter(s.socket, (e) => { throw e; });
    const big = (i: number) => new Uint8Array(32 * 1024).fill(i);
    for (let i = 0; i < 7; i++) w.write(big(i));
    expect(s.writes).toHaveLength(0); // under 256 KiB
    w.write(big(7));
    expect(s.writes).toHaveLength(1); // at once, mid-turn: the peer can start on these
    expect(s.writes[0]).toHaveLength(8);
    // The first write is still pending: later packets wait for it rather than overtake it.
    for (let i = 8; i < 20; i++) w.write(big(i));
    expect(s.writes).toHaveLength(1);
    await turn();
    expect(s.writes).toHaveLength(1);
    s.finishAll();
    await turn();
    expect(s.writes).toHaveLength(2);
    s.finishAll();
    await w.drain();
    expect(await payloads(s.writes)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
