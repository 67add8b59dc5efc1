/**
 * Whole-file transfers between the local disk and the server, pipelined, with progress and
 * cancellation. Neither side ever shows a half-written file under its final name: uploads go to
 * a temporary name beside the target and are renamed over it (posix-rename when the server has
 * it), downloads go to a local temporary file renamed when complete. On failure or abort the
 * temporary file is removed.
 */
import { SshError } from "../errors.js";
import { openLocal, removeLocal, renameLocal, statLocal } from "../platform/local-files.js";
import type { SftpClient } from "./client.js";
import { baseName, joinPath, parentPath } from "./paths.js";

export interface Progress {
  transferred: number;
  total: number;
}

export interface UploadOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** Write to a temporary name and rename over the target when done (default true). */
  atomic?: boolean;
  /** Permissions of the new file (default: the local file's). */
  mode?: number;
  /** Requests in flight (default 64). */
  maxInFlight?: number;
}

export interface DownloadOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  maxInFlight?: number;
}

/** Local reads are this large; the pipeline splits them into SFTP-sized writes. */
const LOCAL_CHUNK = 1024 * 1024;

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const reason = signal.reason;
    throw new SshError("ABORTED", `transfer aborted: ${reason?.message ?? reason ?? "aborted"}`, { cause: reason });
  }
}

function tempSuffix(): string {
  const b = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export async function upload(client: SftpClient, localPath: string, remotePath: string, options: UploadOptions = {}): Promise<void> {
  checkAbort(options.signal);
  const info = await statLocal(localPath);
  const src = await openLocal(localPath, "r");
  const atomic = options.atomic ?? true;
  const target = atomic ? joinPath(parentPath(remotePath), `.${baseName(remotePath)}.${tempSuffix()}.part`) : remotePath;
  try {
    const file = await client.open(target, "w", { permissions: options.mode ?? info.mode & 0o7777 });
    try {
      const writer = file.writer({ maxInFlight: options.maxInFlight });
      const buf = new Uint8Array(LOCAL_CHUNK);
      for (let position = 0; ; ) {
        checkAbort(options.signal);
        const n = await src.read(buf, position);
        if (n === 0) break;
        // write() resolves only after every piece of `buf` has been encoded, so buf is reusable.
        await writer.write(buf.subarray(0, n));
        position += n;
        options.onProgress?.({ transferred: position, total: info.size });
      }
      await writer.flush();
    } finally {
      await file.close();
    }
    checkAbort(options.signal);
    if (atomic) await client.rename(target, remotePath, { overwrite: true });
  } catch (e) {
    if (atomic) await client.remove(target).catch(() => {});
    throw e;
  } finally {
    await src.close();
  }
}

export async function download(client: SftpClient, remotePath: string, localPath: string, options: DownloadOptions = {}): Promise<void> {
  checkAbort(options.signal);
  const file = await client.open(remotePath, "r");
  const temp = `${localPath}.${tempSuffix()}.part`;
  try {
    const total = (await file.stat()).size ?? 0;
    const dst = await openLocal(temp, "w");
    try {
      const reader = file.reader({ maxInFlight: options.maxInFlight });
      let transferred = 0;
      try {
        for (let c = await reader.next(); c; c = await reader.next()) {
          checkAbort(options.signal);
          await dst.write(c.data, c.offset);
          transferred += c.data.length;
          options.onProgress?.({ transferred, total: Math.max(total, transferred) });
        }
      } finally {
        reader.stop();
      }
    } finally {
      await dst.close();
    }
    await renameLocal(temp, localPath);
  } catch (e) {
    await removeLocal(temp).catch(() => {});
    throw e;
  } finally {
    await file.close().catch(() => {});
  }
}
