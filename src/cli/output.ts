/**
 * What commands print. Each command returns a result with a JSON value (printed as one line on
 * stdout with --json) and a human text (printed otherwise). The formatters here are pure so the
 * tests can pin them: permissions strings, sizes, `ls -l` lines, `stat`, `df`.
 */
import type { Stats } from "../sftp/attrs.js";
import type { StatvfsReply } from "../sftp/extensions/statvfs.js";

/** What a command produced: printed as `json` with --json, else as `text` (nothing when empty). */
export interface CommandResult {
  json: unknown;
  text: string;
}

/** Serialises a result for --json: bigints as numbers (strings when beyond 2^53). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v));
}

/** Writes a result to stdout (nothing for a JSON value of undefined: the command streamed its output). */
export function printResult(result: CommandResult, json: boolean, stdout: NodeJS.WritableStream): void {
  if (json) {
    if (result.json !== undefined) stdout.write(`${toJson(result.json)}\n`);
  } else if (result.text !== "") stdout.write(result.text.endsWith("\n") ? result.text : `${result.text}\n`);
}

// --- file types and modes ------------------------------------------------------------------

export type FileType = "file" | "directory" | "symlink" | "fifo" | "socket" | "char-device" | "block-device" | "unknown";

const S_IFMT = 0o170000;
const TYPES: [number, FileType, string][] = [
  [0o100000, "file", "-"],
  [0o040000, "directory", "d"],
  [0o120000, "symlink", "l"],
  [0o010000, "fifo", "p"],
  [0o140000, "socket", "s"],
  [0o020000, "char-device", "c"],
  [0o060000, "block-device", "b"],
];

export function fileType(mode: number | undefined): FileType {
  if (mode === undefined) return "unknown";
  return TYPES.find(([bits]) => (mode & S_IFMT) === bits)?.[1] ?? "unknown";
}

/** `drwxr-xr-x` from a mode, with setuid/setgid/sticky as ls shows them. */
export function permissionString(mode: number | undefined): string {
  if (mode === undefined) return "?---------";
  const t = TYPES.find(([bits]) => (mode & S_IFMT) === bits)?.[2] ?? "?";
  const rwx = (shift: number, special: number, ch: string) => {
    const r = mode & (4 << shift) ? "r" : "-";
    const w = mode & (2 << shift) ? "w" : "-";
    const x = (mode & (1 << shift)) !== 0;
    const s = (mode & special) !== 0;
    return r + w + (s ? (x ? ch : ch.toUpperCase()) : x ? "x" : "-");
  };
  return t + rwx(6, 0o4000, "s") + rwx(3, 0o2000, "s") + rwx(0, 0o1000, "t");
}

/** The permission bits as octal text (`0644`). */
export function octalMode(mode: number | undefined): string | undefined {
  return mode === undefined ? undefined : (mode & 0o7777).toString(8).padStart(4, "0");
}

// --- sizes and times -----------------------------------------------------------------------

/** 1536 → "1.5K", like `ls -h` / `df -h` (powers of 1024). */
export function humanSize(bytes: number): string {
  const units = ["", "K", "M", "G", "T", "P", "E"];
  let n = bytes;
  let u = 0;
  while (Math.abs(n) >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  if (u === 0) return String(n);
  return `${n < 10 ? (Math.ceil(n * 10) / 10).toFixed(1) : Math.ceil(n).toFixed(0)}${units[u]}`;
}

/** Bytes with a binary unit: "12.3 MiB". */
export function byteUnits(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(n)} B` : `${n.toFixed(1)} ${units[u]}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** ls's date column: "Mar  4 12:34" within six months of `now`, else "Mar  4  2023" (UTC). */
export function lsTime(seconds: number | undefined, nowMs = Date.now()): string {
  if (seconds === undefined) return "            ";
  const d = new Date(seconds * 1000);
  const day = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")}`;
  const recent = Math.abs(nowMs - seconds * 1000) < 182.5 * 86400 * 1000;
  return recent ? `${day} ${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}` : `${day}  ${d.getUTCFullYear()}`;
}

/** ISO-8601 (UTC) of a seconds timestamp. */
export function isoTime(seconds: number | undefined): string | undefined {
  return seconds === undefined ? undefined : new Date(seconds * 1000).toISOString();
}

// --- entries -------------------------------------------------------------------------------

/** One file as --json reports it. */
export interface EntryJson {
  name: string;
  type: FileType;
  size?: number;
  mode?: number;
  permissions?: string;
  uid?: number;
  gid?: number;
  owner?: string;
  group?: string;
  atime?: number;
  mtime?: number;
  /** Symlinks: what the link points at. */
  target?: string;
}

/** Owner and group names from an OpenSSH longname ("-rw-r--r--  1 alice staff 12 …"), when present. */
export function namesFromLongname(longname: string | undefined): { owner?: string; group?: string } {
  const f = longname?.trim().split(/\s+/) ?? [];
  if (f.length < 9 || !/^[-dlpscb?][-rwxsStT]{9}/.test(f[0]!)) return {};
  return { owner: f[2]!, group: f[3]! };
}

export function entryJson(name: string, st: Stats, extra: { longname?: string; target?: string } = {}): EntryJson {
  const e: EntryJson = { name, type: fileType(st.mode) };
  if (st.size !== undefined) e.size = st.size;
  if (st.mode !== undefined) {
    e.mode = st.mode;
    e.permissions = permissionString(st.mode);
  }
  if (st.uid !== undefined) e.uid = st.uid;
  if (st.gid !== undefined) e.gid = st.gid;
  const names = namesFromLongname(extra.longname);
  if (names.owner !== undefined) e.owner = names.owner;
  if (names.group !== undefined) e.group = names.group;
  if (st.atime !== undefined) e.atime = st.atime;
  if (st.mtime !== undefined) e.mtime = st.mtime;
  if (extra.target !== undefined) e.target = extra.target;
  return e;
}

/** `ls -l` lines, columns aligned. */
export function formatLong(entries: readonly EntryJson[], options: { human?: boolean; nowMs?: number } = {}): string {
  const rows = entries.map((e) => ({
    perms: e.permissions ?? "?---------",
    owner: e.owner ?? (e.uid !== undefined ? String(e.uid) : "?"),
    group: e.group ?? (e.gid !== undefined ? String(e.gid) : "?"),
    size: e.size === undefined ? "?" : options.human ? humanSize(e.size) : String(e.size),
    time: lsTime(e.mtime, options.nowMs),
    name: e.target !== undefined ? `${e.name} -> ${e.target}` : e.name,
  }));
  const w = (k: "owner" | "group" | "size") => Math.max(0, ...rows.map((r) => r[k].length));
  const [wo, wg, ws] = [w("owner"), w("group"), w("size")];
  return rows.map((r) => `${r.perms} ${r.owner.padEnd(wo)} ${r.group.padEnd(wg)} ${r.size.padStart(ws)} ${r.time} ${r.name}`).join("\n");
}

const TYPE_WORDS: Record<FileType, string> = {
  file: "regular file",
  directory: "directory",
  symlink: "symbolic link",
  fifo: "fifo",
  socket: "socket",
  "char-device": "character special file",
  "block-device": "block special file",
  unknown: "unknown",
};

/** `stat` output, in coreutils' layout. */
export function formatStat(path: string, e: EntryJson): string {
  const lines = [
    `  File: ${path}${e.target !== undefined ? ` -> ${e.target}` : ""}`,
    `  Size: ${String(e.size ?? "?").padEnd(15)} Type: ${TYPE_WORDS[e.type]}`,
    `Access: (${octalMode(e.mode) ?? "?"}/${e.permissions ?? "?"})  Uid: ${e.owner ? `${e.uid ?? "?"}/${e.owner}` : e.uid ?? "?"}  Gid: ${e.group ? `${e.gid ?? "?"}/${e.group}` : e.gid ?? "?"}`,
    `Access: ${isoTime(e.atime) ?? "?"}`,
    `Modify: ${isoTime(e.mtime) ?? "?"}`,
  ];
  return lines.join("\n");
}

// --- df --------------------------------------------------------------------------------------

export interface DfJson {
  path: string;
  blockSize: number;
  fragmentSize: number;
  blocks: number;
  blocksFree: number;
  blocksAvailable: number;
  files: number;
  filesFree: number;
  filesAvailable: number;
  readOnly: boolean;
  nameMax: number;
  /** Bytes: total, used, available to unprivileged users. */
  size: number;
  used: number;
  available: number;
}

const ST_RDONLY = 1n;

export function dfJson(path: string, v: StatvfsReply): DfJson {
  const n = (b: bigint) => Number(b);
  const unit = v.frsize > 0n ? v.frsize : v.bsize;
  return {
    path,
    blockSize: n(v.bsize),
    fragmentSize: n(v.frsize),
    blocks: n(v.blocks),
    blocksFree: n(v.bfree),
    blocksAvailable: n(v.bavail),
    files: n(v.files),
    filesFree: n(v.ffree),
    filesAvailable: n(v.favail),
    readOnly: (v.flag & ST_RDONLY) !== 0n,
    nameMax: n(v.namemax),
    size: n(v.blocks * unit),
    used: n((v.blocks - v.bfree) * unit),
    available: n(v.bavail * unit),
  };
}

/** `df` output: sizes in 1K blocks (or human with -h), or inodes with -i. */
export function formatDf(d: DfJson, options: { human?: boolean; inodes?: boolean } = {}): string {
  const pct = (used: number, avail: number) => (used + avail === 0 ? "-" : `${Math.ceil((used * 100) / (used + avail))}%`);
  let cols: string[][];
  if (options.inodes) {
    const used = d.files - d.filesFree;
    cols = [["Inodes", "IUsed", "IFree", "IUse%", "Path"], [String(d.files), String(used), String(d.filesAvailable), pct(used, d.filesAvailable), d.path]];
  } else {
    const f = (b: number) => (options.human ? humanSize(b) : String(Math.ceil(b / 1024)));
    cols = [[options.human ? "Size" : "1K-blocks", "Used", "Avail", "Use%", "Path"], [f(d.size), f(d.used), f(d.available), pct(d.used, d.available), d.path]];
  }
  const widths = cols[0]!.map((_, i) => Math.max(...cols.map((r) => r[i]!.length)));
  return cols.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padStart(widths[i]!))).join("  ")).join("\n");
}
