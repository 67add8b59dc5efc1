/**
 * Memory kept for bulk traffic goes back once a connection is quiet (src/ssh/transport/idle-trim.ts):
 * the timer logic with fake timers, the socket's read arena on its own, and a real connection to
 * the embedded server whose client encoder holds no spare packets once idle.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { IDLE_MS, IdleTrim, QUIET_BYTES } from "../../src/ssh/transport/idle-trim.js";
import { ReadArena } from "../../src/ssh/socket/tcp.js";
import { startTestServer } from "../server/helpers.js";

describe("IdleTrim", () => {
  afterEach(() => vi.useRealTimers());

  it("trims after a window with less than QUIET_BYTES, never while bulk keeps coming, and keeps no timer once idle", () => {
    vi.useFakeTimers();
    const trim = vi.fn();
    const idle = new IdleTrim(trim);
    idle.note(32 * 1024);
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(IDLE_MS / 4);
      idle.note(32 * 1024); // 128 KiB a window: bulk
    }
    expect(trim).not.toHaveBeenCalled();
    // Then only keepalives: under QUIET_BYTES a window.
    idle.note(100);
    vi.advanceTimersByTime(IDLE_MS);
    expect(trim).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(IDLE_MS); // the window after it saw nothing: trimmed again, no new timer
    expect(trim).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(10 * IDLE_MS);
    expect(trim).toHaveBeenCalledTimes(2);
    expect(vi.getTimerCount()).toBe(0);
    idle.note(QUIET_BYTES);
    vi.advanceTimersByTime(IDLE_MS);
    expect(trim).toHaveBeenCalledTimes(2); // a bulk window again: nothing given back
  });

  it("stops for good", () => {
    vi.useFakeTimers();
    const trim = vi.fn();
    const idle = new IdleTrim(trim);
    idle.note(1);
    idle.stop();
    idle.note(1);
    vi.advanceTimersByTime(3 * IDLE_MS);
    expect(trim).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("ReadArena.trim", () => {
  it("drops the full-size buffers that are free again, never the one being read into or one still referred to", () => {
    const arena = new ReadArena();
    const chunks: Uint8Array[] = [];
    // Reads that fill every region at once grow the buffer to full size, then cycle full buffers.
    for (let i = 0; i < 40; i++) {
      const r = arena.region();
      chunks.push(arena.filled(r, r.length));
    }
    expect(arena.kept).toBeGreaterThan(1);
    const held = chunks.at(-2)!; // still referred to: its buffer stays tracked
    for (const c of chunks) if (c !== held) arena.release(c);
    arena.trim();
    const left = arena.kept;
    expect(left).toBeGreaterThanOrEqual(1);
    expect(left).toBeLessThanOrEqual(2); // the current buffer, and the held one's if it differs
    arena.release(held);
    arena.trim();
    expect(arena.kept).toBe(1);
    // Reading goes on as before.
    const r = arena.region();
    expect(arena.filled(r, 10)).toHaveLength(10);
  });
});

it("a client connection idle after an upload keeps no spare packet buffers", { timeout: 30_000 }, async () => {
  const t = await startTestServer();
  const c = await t.connect();
  const src = join(t.base, "idle-up.bin");
  try {
    await writeFile(src, new Uint8Array(8 * 1024 * 1024).fill(7));
    await c.upload(src, "/idle.bin");
    const encoder = (c.ssh as unknown as { transport: { writer: { encoder: { spareBytes: number } } } }).transport.writer.encoder;
    expect(encoder.spareBytes).toBeGreaterThan(0); // the upload's packets, kept for the next ones
    // The window the upload ended in had bulk; the next one is quiet: at most two windows.
    await new Promise((r) => setTimeout(r, 2 * IDLE_MS + 1000));
    expect(encoder.spareBytes).toBe(0);
    expect((await c.stat("/idle.bin")).size).toBe(8 * 1024 * 1024); // and the connection works on
  } finally {
    await c.close();
    await t.stop();
    await rm(src, { force: true });
  }
});
