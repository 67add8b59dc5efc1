import { describe, expect, it } from "vitest";
import { createProgress, fitName, loadCliProgress, MAX_FILE_BARS, type BarsModule } from "../../src/cli/progress.js";

function stream(isTTY: boolean, columns = 100) {
  const chunks: string[] = [];
  return {
    isTTY,
    columns,
    chunks,
    write(s: string) {
      chunks.push(String(s));
      return true;
    },
    get text() {
      return chunks.join("");
    },
  } as unknown as NodeJS.WritableStream & { isTTY: boolean; columns: number; chunks: string[]; text: string };
}

/** A stand-in for cli-progress that records what is drawn. */
function fakeBars() {
  const log: string[] = [];
  const mod: BarsModule = {
    Presets: { shades_classic: {} },
    MultiBar: class {
      create(total: number, start: number, payload?: Record<string, unknown>) {
        const name = String(payload?.name ?? "").trim();
        log.push(`create ${name} ${total} ${start}`);
        return {
          update: (v: number, p?: Record<string, unknown>) => log.push(`update ${String(p?.name ?? name).trim()} ${v}`),
          setTotal: (t: number) => log.push(`total ${name} ${t}`),
          stop: () => log.push(`stop ${name}`),
        };
      }
      remove() {
        log.push("remove");
        return true;
      }
      stop() {
        log.push("stop");
      }
    },
  };
  return { mod, log };
}

describe("createProgress", () => {
  it("draws nothing when stderr is not a terminal, or when disabled", async () => {
    for (const [tty, enabled] of [[false, true], [true, false]] as const) {
      const s = stream(tty);
      let loaded = false;
      const p = await createProgress({ stream: s, enabled, totalBytes: 10, totalFiles: 1, loadBars: async () => ((loaded = true), fakeBars().mod) });
      expect(p.mode).toBe("none");
      const f = p.start("a", 10);
      f.update(5);
      f.done();
      p.stop();
      expect(s.text).toBe("");
      expect(loaded).toBe(false); // cli-progress is not even imported
    }
  });

  it("draws at most MAX_FILE_BARS file bars at once; the others count in the total", async () => {
    const { mod, log } = fakeBars();
    const n = MAX_FILE_BARS + 3;
    const p = await createProgress({ stream: stream(true), enabled: true, totalBytes: 10 * (n + 1), totalFiles: n + 1, loadBars: async () => mod });
    const files = Array.from({ length: n }, (_, i) => p.start(`f${i}`, 10));
    expect(log.filter((l) => /^create f\d+ /.test(l))).toHaveLength(MAX_FILE_BARS);
    for (const f of files) f.update(10);
    for (const f of files) f.done();
    // A file started once a bar is free gets one.
    const late = p.start("late", 10);
    late.update(10);
    late.done();
    p.stop();
    expect(log).toContain("create late 10 0");
    expect(log.filter((l) => l.startsWith("update total")).at(-1)).toMatch(new RegExp(`^update total \\(${n + 1}/${n + 1} files\\) ${10 * (n + 1)}$`));
  });

  it("uses cli-progress on a terminal: a bar per file and a total bar for several files", async () => {
    const { mod, log } = fakeBars();
    const p = await createProgress({ stream: stream(true), enabled: true, totalBytes: 30, totalFiles: 2, loadBars: async () => mod });
    expect(p.mode).toBe("bars");
    const a = p.start("a.bin", 10);
    a.update(10);
    a.done();
    const b = p.start("b.bin", 20);
    b.update(5);
    b.done();
    p.stop();
    expect(log[0]).toMatch(/^create total \(0\/2 files\) 30 0$/);
    expect(log).toContain("create a.bin 10 0");
    expect(log).toContain("update a.bin 10");
    expect(log).toContain("create b.bin 20 0");
    expect(log.filter((l) => l === "remove")).toHaveLength(2); // finished file bars leave, the total stays
    expect(log.at(-2)).toMatch(/^update total \(2\/2 files\) 15$/);
    expect(log.at(-1)).toBe("stop");
  });

  it("adds the total bar when the file count is learnt later", async () => {
    const { mod, log } = fakeBars();
    const p = await createProgress({ stream: stream(true), enabled: true, totalBytes: 0, totalFiles: 1, loadBars: async () => mod });
    p.setTotals(3, 300);
    const f = p.start("frame.0001.exr", 100);
    f.update(100);
    f.done();
    p.stop();
    expect(log[0]).toBe("create total (0/3 files) 300 0");
    expect(log).toContain("remove");
    expect(log.at(-2)).toBe("update total (1/3 files) 100");
  });

  it("shows a single file without a total bar", async () => {
    const { mod, log } = fakeBars();
    const p = await createProgress({ stream: stream(true), enabled: true, totalBytes: 0, totalFiles: 1, loadBars: async () => mod });
    const f = p.start("empty", 0);
    f.done();
    p.stop();
    expect(log.some((l) => l.startsWith("create total"))).toBe(false);
    expect(log).toContain("create empty 1 0");
  });

  it("falls back to one line rewritten in place when cli-progress is missing", async () => {
    const s = stream(true, 120);
    let t = 0;
    const p = await createProgress({ stream: s, enabled: true, totalBytes: 2048, totalFiles: 2, loadBars: async () => undefined, now: () => t });
    expect(p.mode).toBe("line");
    const a = p.start("a.bin", 1024);
    t = 1000;
    a.update(512);
    a.update(1024); // within 100 ms of the last draw: skipped
    a.done();
    p.stop();
    const lines = s.text.split("\r\x1b[K").filter(Boolean);
    expect(lines[0]).toContain("a.bin 0% 0 B/1.0 KiB");
    expect(lines).toContain("a.bin 50% 512 B/1.0 KiB | total 25% (0/2 files) 512 B/s");
    expect(s.text.endsWith("\n")).toBe(true);
    expect(s.text).toContain("(1/2 files)");
  });

  it("renders real cli-progress bars to a terminal stream", async () => {
    const mod = await loadCliProgress();
    expect(mod).toBeDefined(); // installed as a dev dependency
    const s = stream(true, 100);
    const p = await createProgress({ stream: s, enabled: true, totalBytes: 100, totalFiles: 1 });
    expect(p.mode).toBe("bars");
    const f = p.start("movie.mov", 100);
    f.update(50);
    f.update(100);
    f.done();
    p.stop();
    expect(s.text).toContain("movie.mov");
    expect(s.text).toMatch(/100%/);
  });
});

describe("fitName", () => {
  it("pads short names and keeps the end of long ones", () => {
    expect(fitName("a", 3)).toBe("a  ");
    expect(fitName("/very/long/path/file.exr", 10)).toBe("…/file.exr");
    expect([...fitName("ünïcødé-ñame", 5)]).toHaveLength(5);
  });
});
