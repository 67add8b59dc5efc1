/**
 * Writing a remote file so that its name never shows a partial copy, for upload() (one stream
 * and segmented), writeFile() and createWriteStream(): the bytes go to a hidden temporary name
 * in the target's own directory (the same file system, so the rename is atomic: rename(2), and
 * posix-rename@openssh.com where a target exists), which is renamed over the target only after
 * every write is acknowledged and the handle closed (CLOSE reports late write errors, e.g. on
 * NFS). A reader of the target sees the old file or the new one, never a mix.
 *
 * On failure the temporary file is removed; a connection that is already gone cannot remove it,
 * so `.name.<random>.part` may stay beside the target (a hidden name; the next writer picks a
 * new random one). A resumable upload keeps `.name.resume.part` on purpose, for the next try.
 */
import { SftpError } from "../errors.js";
import type { SftpClient } from "./client.js";
import type { SftpFile } from "./file.js";
import { baseName, joinPath, parentPath } from "./paths.js";
import { checkAbort, unlessAborted } from "./abort.js";

export interface AtomicOptions {
  /** Write to a temporary name and rename over the target when done (default true). */
  atomic?: boolean;
  /** Use the fixed name a later attempt can resume from, and keep it on failure. Implies atomic. */
  resume?: boolean;
}

export interface AtomicTarget {
  /** Whether `path` is a temporary name that commit() renames over the target. */
  readonly atomic: boolean;
  /** Where the bytes go: the temporary name, or the target itself when not atomic. */
  readonly path: string;
  /** After the last byte is acknowledged and the handle closed: renames over the target. */
  commit(signal?: AbortSignal): Promise<void>;
  /** After a failure: removes the temporary file (not a resumable one); never throws. */
  discard(signal?: AbortSignal): Promise<void>;
}

/** Random hex for unique temporary names. */
export function tempSuffix(): string {
  const b = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** The partial file of a resumable upload, which the next attempt looks for. */
export function resumePartPath(remotePath: string): string {
  return joinPath(parentPath(remotePath), `.${baseName(remotePath)}.resume.part`);
}

export function atomicTarget(client: SftpClient, remotePath: string, options: AtomicOptions = {}): AtomicTarget {
  const resume = options.resume ?? false;
  const atomic = resume || (options.atomic ?? true);
  if (!atomic) return { atomic, path: remotePath, commit: async () => {}, discard: async () => {} };
  const path = resume ? resumePartPath(remotePath) : joinPath(parentPath(remotePath), `.${baseName(remotePath)}.${tempSuffix()}.part`);
  return {
    atomic,
    path,
    commit: (signal) => unlessAborted(client.rename(path, remotePath, { overwrite: true }), signal),
    discard: async (signal) => {
      if (!resume) await unlessAborted(client.remove(path), signal).catch(() => {});
    },
  };
}

/**
 * Runs `write(target)` (which writes `target.path`) and commits it, or discards it when `write`
 * (or the commit) fails. `write` must close what it opens before it resolves.
 */
export async function writeAtomically<T>(
  client: SftpClient, remotePath: string, options: AtomicOptions & { signal?: AbortSignal },
  write: (target: AtomicTarget) => Promise<T>,
): Promise<T> {
  const target = atomicTarget(client, remotePath, options);
  try {
    const result = await write(target);
    checkAbort(options.signal);
    await target.commit(options.signal);
    return result;
  } catch (e) {
    await target.discard(options.signal);
    throw forTarget(e, target, remotePath);
  }
}

/**
 * A failure on the temporary file, reported for the caller's path (error.path is what the
 * caller asked to write; the message still names the temporary file it happened on).
 */
function forTarget(e: unknown, target: AtomicTarget, remotePath: string): unknown {
  if (!(e instanceof SftpError) || !target.atomic || e.path !== target.path) return e;
  return new SftpError(e.code, `${e.message} (writing ${JSON.stringify(remotePath)})`, remotePath, { cause: e });
}

/**
 * Opens `target.path` for writing from byte 0 ("w", or the flags given). Replacing a file by
 * rename would give it the server's default permissions, where writing in place keeps the old
 * file's; so unless `mode` is given, an existing target's permission bits are kept (as
 * write-file-atomic does): its STAT goes out beside the OPEN, and the FSETSTAT on the new handle
 * ahead of any WRITE (one handle's requests are handled in order, draft-02 §6.1), so neither
 * costs a round trip of its own. `ready` settles with that FSETSTAT: await it before commit().
 * Owner and group are the writer's, as with upload(); a symbolic link at the target is replaced.
 */
export async function openReplacement(
  client: SftpClient, target: AtomicTarget, remotePath: string, mode: number | undefined, flags: "w" | "w+" = "w",
): Promise<{ file: SftpFile; ready: Promise<void> }> {
  const keep = target.atomic && mode === undefined
    ? client.stat(remotePath).then((s) => (s.isFile() ? s.mode : undefined), () => undefined)
    : Promise.resolve(undefined);
  const file = await client.open(target.path, flags, mode === undefined ? {} : { permissions: mode });
  const permissions = await keep;
  const ready = permissions === undefined ? Promise.resolve() : file.setAttrs({ permissions: permissions & 0o7777 });
  // Awaited by the caller before commit; a failure seen first elsewhere must not go unhandled.
  ready.catch(() => {});
  return { file, ready };
}
