/**
 * The local machine as the library sees it: files, the home directory and environment
 * variables. node:fs/os/process work on Node, Deno and Bun; this is the only module besides the
 * TCP adapter that imports from node:, so another host only needs to replace these functions.
 */
import { readdirSync, readFileSync } from "node:fs";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { homedir, userInfo } from "node:os";
import { dirname } from "node:path";
import { SshError } from "../errors.js";

/** Reads a UTF-8 text file; undefined when it does not exist. */
export async function readTextFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(expandHome(path), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/** Appends text to a file, creating it (and its directory, mode 700) when missing. */
export async function appendTextFile(path: string, text: string): Promise<void> {
  const p = expandHome(path);
  await mkdir(dirname(p), { recursive: true, mode: 0o700 });
  await appendFile(p, text, { mode: 0o600 });
}

/** Synchronous readTextFile, for ssh_config and its Includes; undefined when it does not exist. */
export function readTextFileSync(path: string): string | undefined {
  try {
    return readFileSync(expandHome(path), "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return undefined;
    throw e;
  }
}

/** The names in a directory (unsorted, without . and ..); undefined when it cannot be listed. */
export function listDirectorySync(path: string): string[] | undefined {
  try {
    return readdirSync(expandHome(path));
  } catch {
    return undefined;
  }
}

export function homeDirectory(): string {
  return homedir();
}

export function expandHome(path: string): string {
  return path === "~" ? homedir() : path.startsWith("~/") ? homedir() + path.slice(1) : path;
}

export function env(name: string): string | undefined {
  return globalThis.process?.env?.[name];
}

/**
 * The local user name, as ssh(1) uses it for the default login name. Bun's userInfo() answers
 * "unknown" where it cannot look the user up, so the password database and the usual environment
 * variables are asked too.
 */
export function localUsername(): string {
  let info: { username: string; uid: number } | undefined;
  try {
    info = userInfo();
  } catch {
    info = undefined;
  }
  if (info && info.username && info.username !== "unknown") return info.username;
  if (info && info.uid >= 0) {
    const line = (readTextFileSync("/etc/passwd") ?? "").split("\n").find((l) => l.split(":")[2] === String(info!.uid));
    const name = line?.split(":")[0];
    if (name) return name;
  }
  const fromEnv = env("USER") || env("LOGNAME") || env("USERNAME");
  if (fromEnv) return fromEnv;
  throw new SshError("NO_USERNAME", "cannot determine the local user name: pass `username` explicitly");
}
