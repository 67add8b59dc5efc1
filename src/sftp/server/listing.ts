/**
 * What the server says about a file: ATTRS from a stat result, and the `ls -l` style longname
 * of NAME entries (draft §7 leaves its format open; OpenSSH's sftp prints it for `ls -l`).
 */
import type { FsStat } from "../../platform/server-fs.js";
import type { Attrs } from "../attrs.js";

export function attrsOf(st: FsStat): Attrs {
  return {
    size: st.size,
    uid: st.uid >>> 0,
    gid: st.gid >>> 0,
    permissions: st.mode >>> 0,
    atime: clampTime(st.atime),
    mtime: clampTime(st.mtime),
  };
}

function clampTime(t: number): number {
  return Math.min(Math.max(0, t), 0xffffffff);
}

const TYPE_CHAR: Record<number, string> = {
  0o140000: "s",
  0o120000: "l",
  0o100000: "-",
  0o060000: "b",
  0o040000: "d",
  0o020000: "c",
  0o010000: "p",
};

/** The 10-character mode string, e.g. "drwxr-xr-x". */
export function modeString(mode: number): string {
  let s = TYPE_CHAR[mode & 0o170000] ?? "?";
  const rwx = (bits: number, special: boolean, ch: string) =>
    (bits & 4 ? "r" : "-") + (bits & 2 ? "w" : "-") + (special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? "x" : "-");
  s += rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, "s");
  s += rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, "s");
  s += rwx(mode & 7, (mode & 0o1000) !== 0, "t");
  return s;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `-rw-r--r--    1 1000     1000         5 Jan  2 15:04 name`, as OpenSSH's ls_file. */
export function longname(name: string, st: FsStat, now = Date.now() / 1000): string {
  const d = new Date(st.mtime * 1000);
  const recent = Math.abs(now - st.mtime) < 182 * 24 * 3600;
  const when = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ` +
    (recent ? `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}` : ` ${d.getUTCFullYear()}`);
  return `${modeString(st.mode)} ${String(st.nlink).padStart(4)} ${String(st.uid).padEnd(8)} ${String(st.gid).padEnd(8)} ` +
    `${String(st.size).padStart(8)} ${when} ${name}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}
