/**
 * Transfer progress on stderr: a bar per file in flight and a total bar (cli-progress, an
 * optional peer dependency loaded only when needed), or — when cli-progress is not installed —
 * one line rewritten in place. Only when stderr is a terminal: on a pipe or a file, and with
 * --json or --quiet, nothing at all is drawn.
 */
import { byteUnits } from "./output.js";

/** File bars drawn at most at once (the total bar counts every file). */
export const MAX_FILE_BARS = 6;

/** One file's progress. */
export interface FileProgress {
  update(transferred: number): void;
  /** The file is complete (or abandoned). */
  done(): void;
}

export interface TransferProgress {
  readonly mode: ProgressMode;
  /** A file transfer begins. */
  start(name: string, size: number): FileProgress;
  /** Corrects the totals once they are known (a total bar appears when there are several files). */
  setTotals(files: number, bytes: number): void;
  /** Ends the display (the final state stays on screen). */
  stop(): void;
}

export type ProgressMode = "bars" | "line" | "none";

/** The part of cli-progress used here. */
export interface BarsModule {
  MultiBar: new (options: Record<string, unknown>, preset?: unknown) => {
    create(total: number, start: number, payload?: Record<string, unknown>): {
      update(value: number, payload?: Record<string, unknown>): void;
      setTotal(total: number): void;
      stop(): void;
    };
    remove(bar: unknown): boolean;
    stop(): void;
  };
  Presets: { shades_classic: unknown };
}

export interface ProgressOptions {
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** False with --json, --quiet. */
  enabled: boolean;
  totalBytes: number;
  totalFiles: number;
  /** Loads cli-progress; undefined when it is not installed. Tests replace it. */
  loadBars?: () => Promise<BarsModule | undefined>;
  /** Clock, for tests. */
  now?: () => number;
}

/** `await import("cli-progress")`, or undefined when the optional package is missing. */
export async function loadCliProgress(): Promise<BarsModule | undefined> {
  try {
    const mod = (await import("cli-progress")) as unknown as BarsModule & { default?: BarsModule };
    const m = mod.default?.MultiBar ? mod.default : mod;
    return typeof m.MultiBar === "function" ? m : undefined;
  } catch {
    return undefined;
  }
}

const NONE: TransferProgress = { mode: "none", start: () => ({ update() {}, done() {} }), setTotals() {}, stop() {} };

/** The display for this run: bars, a line, or nothing (not a terminal, or disabled). */
export async function createProgress(options: ProgressOptions): Promise<TransferProgress> {
  if (!options.enabled || options.stream.isTTY !== true) return NONE;
  const bars = await (options.loadBars ?? loadCliProgress)();
  return bars ? barsProgress(bars, options) : lineProgress(options);
}

/** "name" cut or padded to `width` columns, keeping the end (the file name) visible. */
export function fitName(name: string, width: number): string {
  const chars = [...name];
  if (chars.length <= width) return name.padEnd(width);
  return `…${chars.slice(chars.length - width + 1).join("")}`;
}

function speedText(bytes: number, ms: number): string {
  return ms <= 0 ? "" : `${byteUnits((bytes * 1000) / ms)}/s`;
}

function barsProgress(cp: BarsModule, options: ProgressOptions): TransferProgress {
  const now = options.now ?? Date.now;
  const cols = options.stream.columns || 80;
  const barsize = cols >= 110 ? 30 : cols >= 90 ? 20 : 12;
  // name + " |bar| " + "100% " + "123.4 MiB/123.4 MiB" + " 123.4 MiB/s"
  const nameWidth = Math.max(8, Math.min(30, cols - barsize - 42));
  const multi = new cp.MultiBar(
    {
      stream: options.stream,
      format: "{name} |{bar}| {percentage}% {done}/{size} {speed}",
      barsize,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      emptyOnZero: false,
      autopadding: true,
      fps: 10,
    },
    cp.Presets.shades_classic,
  );
  const started = now();
  let sent = 0;
  let totalFiles = options.totalFiles;
  let totalBytes = options.totalBytes;
  let filesDone = 0;
  /** File bars on screen now. */
  let shown = 0;
  const totalPayload = () => ({
    name: fitName(`total (${filesDone}/${totalFiles} files)`, nameWidth),
    done: byteUnits(sent),
    size: byteUnits(totalBytes),
    speed: speedText(sent, now() - started),
  });
  let total: ReturnType<typeof multi.create> | undefined;
  const many = () => totalFiles > 1;
  // The total bar comes first, above the file bars; created at once when the count is known.
  if (many()) total = multi.create(Math.max(totalBytes, 1), 0, totalPayload());
  const refreshTotal = () => total?.update(totalBytes === 0 ? 1 : Math.min(sent, totalBytes), totalPayload());
  return {
    mode: "bars",
    setTotals(files, bytes) {
      totalFiles = files;
      totalBytes = bytes;
      if (!total && many()) total = multi.create(Math.max(totalBytes, 1), 0, totalPayload());
      total?.setTotal(Math.max(totalBytes, 1));
      refreshTotal();
    },
    start(name, size) {
      const t0 = now();
      let last = 0;
      const payload = (n: number) => ({ name: fitName(name, nameWidth), done: byteUnits(n), size: byteUnits(size), speed: speedText(n, now() - t0) });
      // A directory moves dozens of files at once: beyond MAX_FILE_BARS they count in the total only.
      const bar = shown < MAX_FILE_BARS ? multi.create(Math.max(size, 1), 0, payload(0)) : undefined;
      if (bar) shown++;
      let finished = false;
      return {
        update(n) {
          sent += n - last;
          last = n;
          bar?.update(size === 0 ? 0 : Math.min(n, size), payload(n));
          refreshTotal();
        },
        done() {
          if (finished) return;
          finished = true;
          filesDone++;
          if (bar) {
            bar.update(Math.max(size, 1), payload(Math.max(last, size)));
            if (many()) multi.remove(bar);
            shown--;
          }
          refreshTotal();
        },
      };
    },
    stop() {
      refreshTotal();
      multi.stop();
    },
  };
}

function lineProgress(options: ProgressOptions): TransferProgress {
  const now = options.now ?? Date.now;
  const out = options.stream;
  const started = now();
  let totalFiles = options.totalFiles;
  let totalBytes = options.totalBytes;
  let sent = 0;
  let filesDone = 0;
  let lastDraw = 0;
  let current = "";
  let currentDone = 0;
  let currentSize = 0;
  const pct = (a: number, b: number) => `${b === 0 ? 100 : Math.floor((Math.min(a, b) * 100) / b)}%`;
  const draw = (force: boolean) => {
    const t = now();
    if (!force && t - lastDraw < 100) return;
    lastDraw = t;
    const cols = (out.columns || 80) - 1;
    let line = `${current} ${pct(currentDone, currentSize)} ${byteUnits(currentDone)}/${byteUnits(currentSize)}`;
    if (totalFiles > 1) line += ` | total ${pct(sent, totalBytes)} (${filesDone}/${totalFiles} files)`;
    line += ` ${speedText(sent, t - started)}`;
    if ([...line].length > cols) line = fitName(line, cols);
    out.write(`\r\x1b[K${line}`);
  };
  return {
    mode: "line",
    setTotals(files, bytes) {
      totalFiles = files;
      totalBytes = bytes;
    },
    start(name, size) {
      let last = 0;
      current = name;
      currentDone = 0;
      currentSize = size;
      draw(true);
      return {
        update(n) {
          sent += n - last;
          last = n;
          current = name;
          currentDone = n;
          currentSize = size;
          draw(false);
        },
        done() {
          filesDone++;
          draw(true);
        },
      };
    },
    stop() {
      if (lastDraw !== 0) {
        draw(true);
        out.write("\n");
      }
    },
  };
}
