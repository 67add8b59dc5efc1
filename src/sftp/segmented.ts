/**
 * Uploads and downloads of one file over several streams (segments.ts schedules them), with the
 * guarantees of the single-stream transfers in transfers.ts: the data goes to a temporary file
 * renamed over the target only when every range is done, nothing partial stays under the target
 * name, and on failure the temporary file is removed, unless `resume` keeps it for the next try.
 *
 * Each range is written in order within its stream, since some servers fragment or mishandle
 * writes far ahead of the end of file. With `resume`, the ranges done are recorded in a small file
 * beside the partial one (`<partial>.ranges`), and every recorded range is checked against the
 * source again (its last bytes, as a single-stream resume checks its tail) before it is reused.
 */
import { SftpError, SshError } from "../errors.js";
import { openLocal, removeLocal, renameLocal, statLocal, statLocalIfExists, type LocalFile } from "../platform/local-files.js";
import { bytesEqual } from "../util/bytes.js";
import type { SftpClient } from "./client.js";
import { initialStreams, sessionStreamRate } from "./auto-streams.js";
import { checkAbort, unlessAborted, unlessAbortedRelease } from "./abort.js";
import { resumePartPath, writeAtomically } from "./atomic-write.js";
import { tempSuffix } from "../util/temp-suffix.js";
import { DEFAULT_MAX_IN_FLIGHT } from "./pipeline.js";
import { MAX_CONNECTIONS } from "./lane-connections.js";
import { AUTO_MAX_STREAMS, MAX_STREAMS, closeLanes, rangeBounds, runSegments, type Lane } from "./segments.js";
import { download, localChunkSize, readLocalRange, resumeOffset, upload, WRITE_BATCH, type DownloadOptions, type StreamOptions, type UploadOptions } from "./transfers.js";

/** Under "auto", files smaller than this move over one stream: the probing would cost more than it gains. */
export const AUTO_MIN_SIZE = 16 * 1024 * 1024;
const MiB = 1024 * 1024;
/** How much of each recorded range is compared with the source before it is reused. */
const CHECK_TAIL = 64 * 1024;
/** A resume record larger than this is not ours: it is ignored (and the transfer starts over). */
const RECORD_MAX = 1024 * 1024;

/**
 * The `streams` to pass for a file of known size: one under "auto" below AUTO_MIN_SIZE, so callers
 * that already know the size (directory plans) spare the transfer its size check.
 */
export function streamsForSize(size: number, streams: number | "auto" | undefined): number | "auto" {
  const s = streams ?? "auto";
  return s === "auto" && size < AUTO_MIN_SIZE ? 1 : s;
}

/**
 * `streamsForSize`, then one for "auto" where one stream's window is ample on this session
 * (auto-streams.ts): that file takes the plain single-stream path, whose pipeline is not cut into
 * ranges, so "auto" is never slower than one stream where one stream is enough.
 */
function streamsFor(client: SftpClient, size: number, options: UploadOptions | DownloadOptions, direction: "upload" | "download"): number | "auto" {
  const s = streamsForSize(size, options.streams);
  if (s !== "auto") return s;
  return initialStreams(sessionStreamRate(client.session, direction, options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT), AUTO_MAX_STREAMS) === 1 ? 1 : s;
}

/**
 * `streams` and `connections` are whole numbers in range (or "auto"): a typo must not become one
 * stream. Files and directory trees (transfers-dir.ts) alike, before anything moves.
 */
export function checkStreamOptions(o: StreamOptions): void {
  const bad = (v: unknown, max: number) => v !== undefined && !(Number.isInteger(v) && (v as number) >= 1 && (v as number) <= max);
  if (o.streams !== "auto" && bad(o.streams, MAX_STREAMS)) throw new SshError("INVALID_ARGUMENT", `streams must be "auto" or a whole number from 1 to ${MAX_STREAMS}, not ${String(o.streams)}`);
  if (bad(o.connections, MAX_CONNECTIONS)) throw new SshError("INVALID_ARGUMENT", `connections must be a whole number from 1 to ${MAX_CONNECTIONS}, not ${String(o.connections)}`);
}

/** Range size: about 64 ranges a file, between 4 and 64 MiB, so streams finish close together. */
export function segmentSize(total: number): number {
  return Math.min(64 * MiB, Math.max(4 * MiB, Math.ceil(total / 64 / MiB) * MiB));
}

/**
 * Where the ranges done so far are recorded: `<partial>.ranges`, on the side the partial is. It
 * is written before the first byte of a segmented transfer, so a partial file with holes never
 * lacks it. `read` is undefined only when there is no record (an oversized one reads as empty,
 * which no decoder accepts); any other failure is thrown, never taken for "no record".
 */
interface RecordStore {
  read(): Promise<Uint8Array | undefined>;
  write(data: Uint8Array): Promise<void>;
  remove(): Promise<void>;
}

/** The record's ranges, if it is well formed and for a source of this size; else undefined. */
export function decodeRecord(bytes: Uint8Array | undefined, total: number): { segment: number; done: number[] } | undefined {
  if (!bytes || bytes.length > RECORD_MAX) return undefined;
  let r: unknown;
  try {
    r = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  const { size, segment, done } = (r ?? {}) as { size?: unknown; segment?: unknown; done?: unknown };
  if (size !== total || !Number.isSafeInteger(segment) || (segment as number) < 1 || !Array.isArray(done)) return undefined;
  const count = Math.ceil(total / (segment as number));
  if (!done.every((i) => Number.isSafeInteger(i) && i >= 0 && i < count)) return undefined;
  return { segment: segment as number, done: [...new Set(done as number[])] };
}

export function encodeRecord(total: number, segment: number, done: Iterable<number>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ size: total, segment, done: [...done].sort((a, b) => a - b) }));
}

/**
 * The ranges still to move, given a partial copy: those the record lists whose tails match the
 * source are done. Without a record the partial is a single-stream one, written front to back,
 * and the ranges inside its verified prefix are done. A record that cannot be read as ours means
 * the partial may have holes anywhere: nothing is done.
 */
async function pendingRanges(
  total: number,
  partialSize: number | undefined,
  record: RecordStore | undefined,
  readPartial: (offset: number, length: number) => Promise<Uint8Array>,
  readSource: (offset: number, length: number) => Promise<Uint8Array>,
): Promise<{ segment: number; pending: number[]; done: Set<number> }> {
  let segment = segmentSize(total);
  const done = new Set<number>();
  const bytes = partialSize !== undefined && record ? await record.read() : undefined;
  if (partialSize !== undefined && bytes !== undefined) {
    const rec = decodeRecord(bytes, total);
    if (rec) {
      segment = rec.segment;
      for (const i of rec.done) {
        const [start, end] = rangeBounds(i, segment, total);
        const length = Math.min(CHECK_TAIL, end - start);
        if (end > partialSize) continue;
        const [a, b] = await Promise.all([readPartial(end - length, length), readSource(end - length, length)]);
        if (a.length === length && bytesEqual(a, b)) done.add(i);
      }
    }
  } else if (partialSize !== undefined) {
    const prefix = await resumeOffset(partialSize, total, readPartial, readSource);
    for (let i = 0; (i + 1) * segment <= prefix; i++) done.add(i);
  }
  const count = Math.ceil(total / segment);
  const pending = Array.from({ length: count }, (_, i) => i).filter((i) => !done.has(i));
  return { segment, pending, done };
}

/** Records each finished range, one write at a time, when the transfer is resumable. */
function recorder(store: RecordStore | undefined, total: number, segment: number, done: Set<number>): ((i: number) => Promise<void>) | undefined {
  if (!store) return undefined;
  let chain = Promise.resolve();
  return (i) => {
    done.add(i);
    const data = encodeRecord(total, segment, done);
    chain = chain.then(() => store.write(data));
    return chain;
  };
}

function bytesIn(segment: number, total: number, done: Set<number>): number {
  let n = 0;
  for (const i of done) {
    const [start, end] = rangeBounds(i, segment, total);
    n += end - start;
  }
  return n;
}

/** `upload()` with `streams`: one stream for small files under "auto", else segmented. */
export async function uploadFile(client: SftpClient, localPath: string, remotePath: string, options: UploadOptions = {}): Promise<void> {
  checkAbort(options.signal);
  checkStreamOptions(options);
  const info = await statLocal(localPath);
  const streams = streamsFor(client, info.size, options, "upload");
  // A segmented partial may have holes: only its ranges record can resume it, whatever `streams`.
  const segmentedPartial = async () => options.resume === true && (await client.exists(`${resumePartPath(remotePath)}.ranges`));
  if (streams === 1 && !(await segmentedPartial())) return upload(client, localPath, remotePath, options);
  const src = await openLocal(localPath, "r");
  try {
    await segmentedUpload(client, src, info, remotePath, streams, options);
  } finally {
    await src.close();
  }
}

async function segmentedUpload(client: SftpClient, src: LocalFile, info: { size: number; mode: number }, remotePath: string, streams: number | "auto", options: UploadOptions): Promise<void> {
  const resume = options.resume ?? false;
  // A resumable upload keeps its partial file and record for the next attempt.
  const atomic = { atomic: options.atomic, resume, signal: options.signal };
  const store = await writeAtomically(client, remotePath, atomic, async ({ path: target }) => {
    const store = resume ? recordStore(client, `${target}.ranges`) : undefined;
    const partial = resume ? await client.stat(target).catch(() => undefined) : undefined;
    const existing = partial?.isFile() ? await client.open(target, "r") : undefined;
    let plan;
    try {
      plan = await pendingRanges(info.size, existing ? partial?.size ?? 0 : undefined, store, (o, l) => existing!.read(o, l), (o, l) => readLocalRange(src, o, l));
    } finally {
      await existing?.close();
    }
    // The record first, then (starting over) a fresh, truncated file: a partial with holes is
    // never without the record that says which ranges it holds.
    await store?.write(encodeRecord(info.size, plan.segment, plan.done));
    if (plan.done.size === 0) await (await client.open(target, "w", { permissions: options.mode ?? info.mode & 0o7777 })).close();
    const lanes = await runSegments(client, {
      total: info.size,
      segment: plan.segment,
      pending: plan.pending,
      already: bytesIn(plan.segment, info.size, plan.done),
      streams,
      connections: options.connections,
      direction: "upload",
      maxInFlight: options.maxInFlight,
      signal: options.signal,
      onProgress: options.onProgress,
      rangeDone: recorder(store, info.size, plan.segment, plan.done),
      move: async (lane, start, end, moved, drained, signal) => {
        lane.file ??= await unlessAbortedRelease(lane.client.open(target, "r+"), signal, (f) => f.close());
        const writer = lane.file.writer({ offset: start, maxInFlight: options.maxInFlight });
        const buf = new Uint8Array(Math.min(localChunkSize(writer.requestSize), end - start));
        try {
          for (let position = start; position < end; ) {
            checkAbort(signal);
            const n = await src.read(buf.subarray(0, Math.min(buf.length, end - position)), position);
            if (n === 0) throw new SshError("LOCAL_CHANGED", `the local file shrank during the upload (expected ${info.size} bytes)`);
            // write() resolves once `buf` is encoded, so the buffer is reusable after it.
            await unlessAborted(writer.write(buf.subarray(0, n)), signal);
            position += n;
            moved(n);
          }
          // Every WRITE is sent: the lane's next range may start while these are acknowledged.
          drained();
          await unlessAborted(writer.flush(), signal);
        } catch (e) {
          writer.stop(e);
          throw e;
        }
      },
    });
    await closeLanes(lanes, options.signal);
    return store;
  });
  await store?.remove().catch(() => {});
}

/** The remote ranges record of a resumable segmented upload, at `recordPath`. */
function recordStore(client: SftpClient, recordPath: string): RecordStore {
  return {
    read: async () => {
      const st = await client.stat(recordPath).catch((e: unknown) => {
        if ((e as SftpError).code === "NO_SUCH_FILE") return undefined;
        throw e;
      });
      if (!st) return undefined;
      return (st.size ?? 0) <= RECORD_MAX ? client.readFile(recordPath) : new Uint8Array(0);
    },
    // In place, not atomic: it is rewritten after every range, and a record cut short is not
    // JSON, which reads as "nothing done" (the transfer starts over; never a wrong range).
    write: (data) => client.writeFile(recordPath, data, { atomic: false }),
    remove: () => client.remove(recordPath).catch((e: unknown) => {
      if ((e as SftpError).code !== "NO_SUCH_FILE") throw e;
    }),
  };
}

/** `download()` with `streams`: one stream for small files under "auto", else segmented. */
export async function downloadFile(client: SftpClient, remotePath: string, localPath: string, options: DownloadOptions = {}): Promise<void> {
  checkAbort(options.signal);
  checkStreamOptions(options);
  const resume = options.resume ?? false;
  const temp = `${localPath}.${resume ? "resume" : tempSuffix()}.part`;
  // A segmented partial may have holes: only its ranges record can resume it, whatever `streams`.
  const segmentedPartial = resume && (await statLocalIfExists(`${temp}.ranges`)) !== undefined;
  if (options.streams === 1 && !segmentedPartial) return download(client, remotePath, localPath, options);
  // The handle's size decides the streams; the handle then serves either path (no extra STAT).
  const first = await unlessAbortedRelease(client.open(remotePath, "r"), options.signal, (f) => f.close());
  let total: number;
  try {
    total = (await unlessAborted(first.stat(), options.signal)).size ?? 0;
  } catch (e) {
    await first.close().catch(() => {});
    throw e;
  }
  const streams = streamsFor(client, total, options, "download");
  if (streams === 1 && !segmentedPartial) return download(client, remotePath, localPath, options, { file: first, size: total });
  const recordPath = `${temp}.ranges`;
  const store: RecordStore | undefined = resume
    ? {
        read: async () => {
          const s = await statLocalIfExists(recordPath);
          if (!s) return undefined;
          if (s.size > RECORD_MAX) return new Uint8Array(0);
          const f = await openLocal(recordPath, "r");
          try {
            return await readLocalRange(f, 0, s.size);
          } finally {
            await f.close();
          }
        },
        write: async (data) => {
          const f = await openLocal(recordPath, "w");
          try {
            await f.write(data, 0);
          } finally {
            await f.close();
          }
        },
        remove: () => removeLocal(recordPath),
      }
    : undefined;
  let dst: LocalFile | undefined;
  let lanes: Lane[] = [];
  try {
    const partial = resume ? await statLocalIfExists(temp) : undefined;
    if (partial?.isFile) dst = await openLocal(temp, "r+");
    const plan = await pendingRanges(total, dst ? partial!.size : undefined, store, (o, l) => readLocalRange(dst!, o, l), (o, l) => first.read(o, l));
    await store?.write(encodeRecord(total, plan.segment, plan.done));
    if (plan.done.size === 0) {
      await dst?.close();
      dst = await openLocal(temp, "w");
    }
    const out = dst!;
    lanes = await runSegments(client, {
      total,
      segment: plan.segment,
      pending: plan.pending,
      already: bytesIn(plan.segment, total, plan.done),
      streams,
      connections: options.connections,
      direction: "download",
      maxInFlight: options.maxInFlight,
      signal: options.signal,
      onProgress: options.onProgress,
      rangeDone: recorder(store, total, plan.segment, plan.done),
      move: async (lane, start, end, moved, drained, signal) => {
        if (lane.client === client && !lane.file) lane.file = first;
        lane.file ??= await unlessAbortedRelease(lane.client.open(remotePath, "r"), signal, (f) => f.close());
        const reader = lane.file.reader({ start, end, maxInFlight: options.maxInFlight });
        let position = start;
        try {
          const next = () => unlessAborted(reader.nextBatch(WRITE_BATCH), signal);
          for (let c = await next(); c; c = await next()) {
            await out.writev(c.parts, c.offset);
            position = c.offset + c.length;
            moved(c.length);
            reader.recycleBatch(c);
            if (reader.allIssued) drained();
          }
        } finally {
          reader.stop();
        }
        if (position < end) throw new SftpError("FAILURE", `the file shrank during the download (ended at ${position} of ${total} bytes)`, remotePath);
      },
    });
    // Every range may have been resumed, leaving the first handle unused by any lane.
    if (!lanes.some((l) => l.file === first)) await unlessAborted(first.close(), options.signal);
    await closeLanes(lanes, options.signal);
    await out.truncate(total);
    await out.close();
    dst = undefined;
    checkAbort(options.signal);
    await renameLocal(temp, localPath);
    await store?.remove().catch(() => {});
  } catch (e) {
    // The first handle may never have been given to a lane (closing twice is a no-op).
    await unlessAborted(first.close(), options.signal).catch(() => {});
    await closeLanes(lanes, options.signal).catch(() => {});
    await dst?.close().catch(() => {});
    if (!resume) await removeLocal(temp).catch(() => {});
    throw e;
  }
}
