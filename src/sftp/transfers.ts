/**
 * Whole-file transfers between the local disk and the server, pipelined, with progress and
 * cancellation. Neither side ever shows a half-written file under its final name: uploads go to
 * a temporary name beside the target and are renamed over it (posix-rename when the server has
 * it), downloads go to a local temporary file renamed when complete. On failure or abort the
 * temporary file is removed.
 */
import { openLocal, removeLocal, renameLocal, statLocal, statLocalIfExists, type LocalFile } from "../platform/local-files.js";
import { bytesEqual } from "../util/bytes.js";
import type { SftpClient } from "./client.js";
import { checkAbort, unlessAborted } from "./abort.js";
import { writeAtomically } from "./atomic-write.js";
import { tempSuffix } from "../util/temp-suffix.js";
import type { SftpFile } from "./file.js";
import type { PipelinedWriter } from "./pipeline.js";

export interface Progress {
  transferred: number;
  total: number;
}

/** How many SFTP sessions carry one file (segmented.ts). */
export interface StreamOptions {
  /**
   * SFTP sessions carrying the file at once, each on its own channel with its own window
   * (segmented.ts), 1-16. "auto" (the default): one for files under 16 MiB, and one wherever one
   * stream's window covers the link (window / round trip above what a connection moves anyway:
   * short links, and downloads, whose 16 MiB window is ours); else as many as the window falls
   * short by, opened at once, up to 8, more while they keep paying, fewer when the server
   * refuses a session (auto-streams.ts).
   */
  streams?: number | "auto";
  /**
   * SSH connections the streams are spread over, 1-8 (default 1). Extra ones are opened with
   * this client's options (host key checked and authenticated the same way), each its own TCP
   * flow and server process, and closed when the transfer ends; one that fails to connect is
   * done without. They serve only files that take more than one stream, and not a client made
   * over a socket or stream the caller passed.
   */
  connections?: number;
}

export interface UploadOptions extends StreamOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** Write to a temporary name and rename over the target when done (default true). */
  atomic?: boolean;
  /** Permissions of the new file (default: the local file's). */
  mode?: number;
  /**
   * WRITE requests in flight, fixed. By default the session's own limit, 2 to 64, follows the
   * round trips: as many as the path carries without a queue building at the server (in-flight.ts).
   */
  maxInFlight?: number;
  /**
   * Continue an earlier interrupted upload of the same file: its partial copy (a fixed temporary
   * name beside the target, kept when a resumable upload fails) is reused after its last bytes
   * are checked against the local file. Implies atomic.
   */
  resume?: boolean;
}

export interface DownloadOptions extends StreamOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** READ requests in flight (default 64). */
  maxInFlight?: number;
  /** Continue an earlier interrupted download from its kept local partial file (checked first). */
  resume?: boolean;
}

/** Local reads are about this large; the pipeline splits them into SFTP-sized writes. */
const LOCAL_CHUNK = 1024 * 1024;

/**
 * The size of an upload's local reads for WRITE requests of `requestSize` bytes: a whole number
 * of requests, about LOCAL_CHUNK. A 1 MiB read sent as 255 KiB WRITEs (sftp-server's
 * limits@openssh.com) left a 4 KiB WRITE after every fourth: a fifth of the requests, each a
 * file write, a STATUS reply and its round through sshd, for 0.4% of the bytes.
 */
function localChunkSize(requestSize: number): number {
  return Math.max(1, Math.floor(LOCAL_CHUNK / requestSize)) * requestSize;
}

/**
 * A download writes the replies that have arrived together, up to this many bytes, in one
 * writev: a 256 MiB file in fewer local writes than its 1,024 READ replies.
 */
export const WRITE_BATCH = 1024 * 1024;

/**
 * Where a resumed transfer can continue: the partial copy's size, if its last bytes (up to
 * RESUME_OVERLAP) equal the source's at the same offsets; otherwise 0 (start again). A partial
 * copy longer than the source is never trusted.
 */
export async function resumeOffset(
  partialSize: number,
  sourceSize: number,
  readPartial: (offset: number, length: number) => Promise<Uint8Array>,
  readSource: (offset: number, length: number) => Promise<Uint8Array>,
): Promise<number> {
  if (partialSize === 0 || partialSize > sourceSize) return 0;
  const length = Math.min(partialSize, RESUME_OVERLAP);
  const offset = partialSize - length;
  const [a, b] = await Promise.all([readPartial(offset, length), readSource(offset, length)]);
  return a.length === length && bytesEqual(a, b) ? partialSize : 0;
}

const RESUME_OVERLAP = 64 * 1024;

export async function readLocalRange(file: LocalFile, offset: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = await file.read(buf.subarray(got), offset + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/**
 * Local chunks read and queued ahead of the one being sent. With one buffer, the next read
 * began only once the last chunk was in packets, so a WINDOW_ADJUST (RFC 4254 §5.2) often found
 * the channel's queue empty: a 1 ms probe of a 256 MiB upload to sshd (2 MiB window) saw the
 * window open with nothing queued in 28% of samples; 7% with two buffers, 5% with four. Three
 * keep about a window's worth queued behind the chunk being sent, for 3 MiB per stream.
 */
export const READ_AHEAD = 3;

/** The smallest read buffer: what a file that grew after its size was taken is read in at least. */
const MIN_LOCAL_READ = 64 * 1024;

/**
 * Sends the local file from `start` to `end` (or to its end) through `writer`, reading ahead
 * (READ_AHEAD buffers of localChunkSize, none larger than what is left of `size`, the file's
 * size when opened, so a small file takes small buffers). `sent(n)` is called, in file order,
 * as each chunk of `n` bytes is in packets; `eof(position)` when the file ends before `end` (it
 * may throw). The caller flushes the writer, and stops it if this throws.
 */
export async function sendLocal(
  src: LocalFile, writer: PipelinedWriter, range: { start: number; end?: number; size: number },
  signal: AbortSignal | undefined, sent: (n: number) => void, eof?: (position: number) => void,
): Promise<void> {
  const chunk = localChunkSize(writer.requestSize);
  const expectedEnd = range.end ?? range.size;
  const free: Uint8Array[] = [];
  // Writes not yet known to be in packets, oldest first; each frees its buffer when it is.
  const sending: { write: Promise<void>; buf: Uint8Array; n: number }[] = [];
  const oldestSent = async () => {
    const s = sending.shift()!;
    await unlessAborted(s.write, signal);
    sent(s.n);
    free.push(s.buf);
  };
  for (let position = range.start; ; ) {
    checkAbort(signal);
    const want = range.end === undefined ? chunk : Math.min(chunk, range.end - position);
    if (want <= 0) break;
    if (sending.length >= READ_AHEAD) await oldestSent();
    // A file that grew since it was opened is still read to its end, in smaller reads.
    const buf = free.pop() ?? new Uint8Array(Math.min(want, Math.max(MIN_LOCAL_READ, expectedEnd - position)));
    const n = await src.read(buf.subarray(0, Math.min(want, buf.length)), position);
    if (n === 0) {
      eof?.(position);
      break;
    }
    const write = writer.write(buf.subarray(0, n));
    write.catch(() => {}); // awaited in order by oldestSent; this keeps a failure handled until then
    sending.push({ write, buf, n });
    position += n;
  }
  while (sending.length > 0) await oldestSent();
}

export async function upload(client: SftpClient, localPath: string, remotePath: string, options: UploadOptions = {}): Promise<void> {
  checkAbort(options.signal);
  const info = await statLocal(localPath);
  const src = await openLocal(localPath, "r");
  const resume = options.resume ?? false;
  try {
    // A resumable upload writes to a name the next attempt can find (and keeps it on failure).
    const atomic = { atomic: options.atomic, resume, signal: options.signal };
    await writeAtomically(client, remotePath, atomic, (target) => uploadTo(client, src, info, target.path, options));
  } finally {
    await src.close();
  }
}

/** Writes the local file to `target` (closed before it returns), continuing a resumable partial there. */
async function uploadTo(client: SftpClient, src: LocalFile, info: { size: number; mode: number }, target: string, options: UploadOptions): Promise<void> {
  let start = 0;
  if (options.resume) {
    const partial = await client.stat(target).catch(() => undefined);
    if (partial?.isFile()) {
      const existing = await client.open(target, "r");
      try {
        start = await resumeOffset(partial.size ?? 0, info.size, (o, l) => existing.read(o, l), (o, l) => readLocalRange(src, o, l));
      } finally {
        await existing.close();
      }
    }
  }
  const file = start > 0 ? await client.open(target, "r+") : await client.open(target, "w", { permissions: options.mode ?? info.mode & 0o7777 });
  try {
    const writer = file.writer({ offset: start, maxInFlight: options.maxInFlight });
    try {
      let transferred = start;
      await sendLocal(src, writer, { start, size: info.size }, options.signal, (n) => {
        transferred += n;
        options.onProgress?.({ transferred, total: info.size });
      });
      await unlessAborted(writer.flush(), options.signal);
    } catch (e) {
      writer.stop(e);
      throw e;
    }
  } finally {
    await unlessAborted(file.close(), options.signal);
  }
}

/**
 * Downloads over one stream. `opened`: the file already open, with its size (segmented.ts opens
 * it to decide how many streams to use); the download then owns and closes it.
 */
export async function download(
  client: SftpClient, remotePath: string, localPath: string, options: DownloadOptions = {}, opened?: { file: SftpFile; size: number },
): Promise<void> {
  checkAbort(options.signal);
  const file = opened?.file ?? (await client.open(remotePath, "r"));
  const resume = options.resume ?? false;
  const temp = `${localPath}.${resume ? "resume" : tempSuffix()}.part`;
  try {
    // The FSTAT goes out with the first READs instead of a round trip before them: only progress
    // and a resume check need the size (the reads run to end of file, draft §6.4).
    const sized = opened ? Promise.resolve(opened.size) : file.stat().then((st) => st.size ?? 0);
    sized.catch(() => {});
    const size = () => unlessAborted(sized, options.signal);
    let start = 0;
    const partial = resume ? await statLocalIfExists(temp) : undefined;
    let dst: LocalFile;
    if (partial?.isFile) {
      dst = await openLocal(temp, "r+");
      // Checking the partial copy reads the remote file: a connection lost here must not leave
      // the local descriptor open.
      start = await size().then((total) => resumeOffset(partial.size, total, (o, l) => readLocalRange(dst, o, l), (o, l) => file.read(o, l)))
        .catch(async (e: unknown) => {
          await dst.close();
          throw e;
        });
    } else {
      dst = await openLocal(temp, "w");
    }
    try {
      const reader = file.reader({ start, maxInFlight: options.maxInFlight });
      let transferred = start;
      let total: number | undefined;
      try {
        const next = () => unlessAborted(reader.nextBatch(WRITE_BATCH), options.signal);
        for (let c = await next(); c; c = await next()) {
          checkAbort(options.signal);
          await dst.writev(c.parts, c.offset);
          transferred += c.length;
          reader.recycleBatch(c);
          total ??= await size();
          options.onProgress?.({ transferred, total: Math.max(total, transferred) });
        }
        // A failed FSTAT fails the download even when no data came.
        total ??= await size();
      } finally {
        reader.stop();
      }
      // A restarted resume may have left a longer stale tail; the file ends where the data does.
      if (partial && transferred < partial.size) await dst.truncate(transferred);
    } finally {
      await dst.close();
    }
    await renameLocal(temp, localPath);
  } catch (e) {
    if (!resume) await removeLocal(temp).catch(() => {});
    throw e;
  } finally {
    await unlessAborted(file.close(), options.signal).catch(() => {});
  }
}
