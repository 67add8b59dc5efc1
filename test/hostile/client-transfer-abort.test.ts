/**
 * upload() and download() stalled by the server (a window that never opens again, READs that
 * are never answered) end with ABORTED as soon as their signal fires, instead of waiting on
 * the peer; after the abort no further WRITE goes to the handle being closed.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshError } from "../../src/errors.js";
import { SftpClient } from "../../src/sftp/client.js";
import { PacketType, StatusCode } from "../../src/sftp/constants.js";
import { encodeVersion } from "../../src/sftp/packets/init.js";
import { encodeAttrsReply, encodeHandle, encodeStatus } from "../../src/sftp/packets/response.js";
import { peekRequestId } from "../../src/sftp/packet.js";
import { connectSsh } from "../../src/ssh/client.js";
import { afterLogin, optionsFor, startFake, useFakeServer, within } from "./helpers.js";

useFakeServer();

let local: string;
beforeAll(async () => {
  local = await mkdtemp(join(tmpdir(), "pure-sftp-abort-"));
  await writeFile(join(local, "big.bin"), new Uint8Array(4 * 1024 * 1024).fill(7));
});
afterAll(() => rm(local, { recursive: true, force: true }));

/**
 * "At once": the stalled transfers would never end by themselves, so any bound tells an abort
 * that works from one that waits on the peer; 3 s leaves room for two loaded CI cores (a 500 ms
 * bound on a few milliseconds' work was tight there).
 */
const ABORT_BUDGET_MS = 3000;

/**
 * Answers OPEN with a handle, FSTAT with a 4 MiB size and CLOSE/REMOVE with OK; never answers
 * WRITE or READ. Records the request types in `seen`. `window` is what the client may send.
 */
function stallingServer(seen: number[], window: number, answerWritesOnClose = false) {
  return afterLogin(async (peer) => {
    const ch = await peer.acceptSession({ window });
    await ch.nextSftp(); // INIT
    await ch.send(encodeVersion(3, []));
    const heldWrites: number[] = [];
    const ok = (id: number) => encodeStatus(id, { code: StatusCode.OK, message: "", lang: "" });
    for (;;) {
      const packet = await ch.nextSftp();
      const id = peekRequestId(packet)!;
      seen.push(packet[0]!);
      if (packet[0] === PacketType.WRITE) heldWrites.push(id);
      // Late answers: a writer still running after the abort would now send more WRITEs.
      if (packet[0] === PacketType.CLOSE && answerWritesOnClose) for (const w of heldWrites.splice(0)) await ch.send(ok(w));
      if (packet[0] === PacketType.OPEN) await ch.send(encodeHandle(id, { handle: Uint8Array.of(0, 0, 0, 1) }));
      else if (packet[0] === PacketType.FSTAT) await ch.send(encodeAttrsReply(id, { attrs: { size: 4 * 1024 * 1024 } }));
      else if (packet[0] === PacketType.CLOSE || packet[0] === PacketType.REMOVE) await ch.send(ok(id));
    }
  });
}

async function clientFor(script: ReturnType<typeof stallingServer>) {
  const server = await startFake(script);
  const ssh = await connectSsh(optionsFor(server));
  return { client: await SftpClient.open(ssh) };
}

describe("aborting a stalled transfer", () => {
  it("upload: the window never reopens; abort ends it at once", async () => {
    const seen: number[] = [];
    // Room for the handshake and about 1 MiB of writes, then the window stays shut.
    const { client } = await clientFor(stallingServer(seen, 1024 * 1024 + 4096));
    const ac = new AbortController();
    const uploading = client.upload(join(local, "big.bin"), "/big.bin", { signal: ac.signal }).then(() => undefined, (e: unknown) => e as SshError);
    // Under way (waited for, not assumed after a fixed time), then time to use up the window.
    await expect.poll(() => seen.filter((t) => t === PacketType.WRITE).length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    const started = performance.now();
    ac.abort(new Error("user gave up"));
    const err = await within(uploading, ABORT_BUDGET_MS, "the aborted upload should end");
    expect(performance.now() - started).toBeLessThan(ABORT_BUDGET_MS);
    expect(err).toBeInstanceOf(SshError);
    expect(err!.code).toBe("ABORTED");
    expect(err!.message).toContain("user gave up");
    await client.close();
  });

  it("upload: WRITEs answered only after the abort's CLOSE: no WRITE follows the CLOSE", async () => {
    const seen: number[] = [];
    const { client } = await clientFor(stallingServer(seen, 1 << 24, true));
    const ac = new AbortController();
    const uploading = client.upload(join(local, "big.bin"), "/big.bin", { signal: ac.signal, maxInFlight: 2 }).then(() => undefined, (e: unknown) => e as SshError);
    // Both WRITEs in flight (a fixed 300 ms for them can run out on two loaded cores), and no third.
    await expect.poll(() => seen.filter((t) => t === PacketType.WRITE).length).toBe(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.filter((t) => t === PacketType.WRITE)).toHaveLength(2);
    ac.abort(new Error("user gave up"));
    expect((await within(uploading, ABORT_BUDGET_MS, "the aborted upload should end"))?.code).toBe("ABORTED");
    await new Promise((r) => setTimeout(r, 200)); // time for late writes, if any were coming
    await client.close();
    const close = seen.indexOf(PacketType.CLOSE);
    expect(close).toBeGreaterThan(0);
    expect(seen.slice(close)).not.toContain(PacketType.WRITE);
  });

  it("download: READs are never answered; abort ends it at once and removes the local temp file", async () => {
    const seen: number[] = [];
    const { client } = await clientFor(stallingServer(seen, 1 << 24));
    const ac = new AbortController();
    const target = join(local, "down.bin");
    const downloading = client.download("/big.bin", target, { signal: ac.signal }).then(() => undefined, (e: unknown) => e as SshError);
    await expect.poll(() => seen).toContain(PacketType.READ);
    const started = performance.now();
    ac.abort(new Error("user gave up"));
    const err = await within(downloading, ABORT_BUDGET_MS, "the aborted download should end");
    expect(performance.now() - started).toBeLessThan(ABORT_BUDGET_MS);
    expect(err?.code).toBe("ABORTED");
    const { readdir } = await import("node:fs/promises");
    expect((await readdir(local)).filter((n) => n.startsWith("down.bin"))).toEqual([]);
    await client.close();
  });
});
