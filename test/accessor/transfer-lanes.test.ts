import { describe, expect, it } from "vitest";
import { TransferLanes } from "../../src/accessor/transfer-lanes.js";
import type { SftpClient } from "../../src/sftp/client.js";
import type { PooledSession, SessionSource } from "../../src/sftp/session-source.js";

/** Stand-ins: the pool only reads `session.closed` of a client. */
const client = (name: string) => ({ name, session: { closed: false } }) as unknown as SftpClient & { name: string; session: { closed: boolean } };

function source(refuseAfter = Infinity) {
  const opened: PooledSession[] = [];
  let closed = 0;
  const src: SessionSource = {
    async open() {
      if (opened.length >= refuseAfter) throw new Error("administratively prohibited (MaxSessions)");
      const s = { client: client(`extra${opened.length + 1}`), close: async () => void closed++ };
      opened.push(s);
      return s;
    },
  };
  return { src, opened, closed: () => closed };
}

/** A copy that runs until the test lets it end, recording which session it ran on. */
function copies() {
  const on: string[] = [];
  const ends: (() => void)[] = [];
  const copy = (c: SftpClient) => new Promise<void>((resolve) => {
    on.push((c as unknown as { name: string }).name);
    ends.push(resolve);
  });
  return { copy, on, endAll: () => ends.splice(0).forEach((f) => f()) };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe("TransferLanes", () => {
  it("runs one copy on the connection's session, and opens one more per overlapping copy up to the limit", async () => {
    const s = source();
    const lanes = new TransferLanes(client("main"), s.src, 3);
    const c = copies();
    const running = [1, 2, 3, 4, 5].map(() => lanes.run(c.copy));
    await settle();
    expect(lanes.size).toBe(3);
    // Two sessions were opening for the second and third copies: the rest shared the busy one.
    expect([...c.on].sort()).toEqual(["extra1", "extra2", "main", "main", "main"]);
    c.endAll();
    await Promise.all(running);
    // Idle sessions are reused, not reopened.
    c.on.length = 0;
    const again = [1, 2, 3].map(() => lanes.run(c.copy));
    await settle();
    expect(s.opened).toHaveLength(2);
    expect([...c.on].sort()).toEqual(["extra1", "extra2", "main"]);
    c.endAll();
    await Promise.all(again);
    await lanes.close();
    expect(s.closed()).toBe(2);
  });

  it("carries on with the sessions there are when the server refuses one, and asks no more", async () => {
    const s = source(1);
    const lanes = new TransferLanes(client("main"), s.src, 4);
    const c = copies();
    const running = [1, 2, 3, 4].map(() => lanes.run(c.copy));
    await settle();
    expect(lanes.size).toBe(2);
    expect(c.on).toHaveLength(4);
    c.endAll();
    await Promise.all(running);
  });

  it("keeps a session that opened while another was refused", async () => {
    let opens = 0;
    const src: SessionSource = {
      async open() {
        if (++opens === 1) {
          await new Promise((r) => setTimeout(r, 20)); // arrives after the refusal below
          return { client: client("extra1"), close: async () => {} };
        }
        throw new Error("administratively prohibited (MaxSessions)");
      },
    };
    const lanes = new TransferLanes(client("main"), src, 4);
    const c = copies();
    const running = [1, 2, 3].map(() => lanes.run(c.copy));
    await new Promise((r) => setTimeout(r, 50));
    expect(lanes.size).toBe(2);
    expect([...c.on].sort()).toEqual(["extra1", "main", "main"]);
    c.endAll();
    await Promise.all(running);
  });

  it("drops an extra session that ended, and a copy's failure is its caller's", async () => {
    const s = source();
    const lanes = new TransferLanes(client("main"), s.src, 2);
    const c = copies();
    const first = lanes.run(c.copy);
    const second = lanes.run(c.copy);
    await settle();
    expect(lanes.size).toBe(2);
    (s.opened[0]!.client as unknown as { session: { closed: boolean } }).session.closed = true;
    c.endAll();
    await Promise.all([first, second]);
    await expect(lanes.run(async () => { throw new Error("NO_SUCH_FILE"); })).rejects.toThrow("NO_SUCH_FILE");
    expect(lanes.size).toBe(1);
  });
});
