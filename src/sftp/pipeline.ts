/**
 * Pipelined reads and writes on an open handle: up to `maxInFlight` requests outstanding, so
 * throughput is not capped at one request per round trip (measured 2.4x slower with 50 ms
 * latency at 1 in flight vs 64). Reads come back in file order whatever order the server
 * answers in; short reads are re-requested; writes may complete in any order.
 */
import { SftpError } from "../errors.js";
import type { SftpResponse } from "./packet.js";
import { encodeRead, encodeWriteHeader } from "./packets/handle.js";
import { expectData, expectOk, type SftpSession } from "./session.js";
import { DEFAULT_MAX_IN_FLIGHT, type InFlightLimit } from "./in-flight.js";

export { DEFAULT_MAX_IN_FLIGHT };

interface PendingRead {
  offset: number;
  length: number;
  reply: Promise<SftpResponse>;
  /** The reply has arrived (or failed): `next` would not wait for it. */
  settled: boolean;
}

export class PipelinedReader {
  private readonly queue: PendingRead[] = [];
  private nextOffset: number;
  private done = false;

  /** Reads [start, end) — or to end of file when `end` is undefined. */
  constructor(
    private readonly session: SftpSession,
    private readonly handle: Uint8Array,
    private readonly path: string,
    private readonly options: { start?: number; end?: number; maxInFlight?: number; chunkSize?: number } = {},
  ) {
    this.nextOffset = options.start ?? 0;
  }

  /** The next chunk in file order, or undefined at end of file (or of the range). */
  async next(): Promise<{ offset: number; data: Uint8Array } | undefined> {
    this.fill();
    const head = this.queue.shift();
    if (!head) return undefined;
    let data: Uint8Array | undefined;
    try {
      data = expectData(await head.reply, this.path);
    } catch (e) {
      this.stop();
      throw e;
    }
    // EOF (or an empty DATA, which would otherwise loop forever) ends the stream here: every
    // byte before head.offset has been delivered, since replies are consumed in offset order.
    if (data === undefined || data.length === 0) {
      this.stop();
      return undefined;
    }
    if (data.length > head.length) {
      this.stop();
      throw new SftpError("BAD_MESSAGE", `the server returned ${data.length} bytes for a ${head.length}-byte read`, this.path);
    }
    if (data.length < head.length) {
      // A short read is not EOF (draft §6.4): ask for the rest, ahead of everything else.
      this.queue.unshift(this.issue(head.offset + data.length, head.length - data.length));
    }
    return { offset: head.offset, data };
  }

  /**
   * The next chunk as `next` returns it, followed by those right after it whose replies have
   * already arrived, up to about `maxBytes` in all: consecutive bytes of the file from `offset`,
   * for one local write (writev) instead of one for each reply. Undefined at the end, as `next`.
   */
  async nextBatch(maxBytes: number): Promise<{ offset: number; parts: Uint8Array[]; length: number } | undefined> {
    const first = await this.next();
    if (!first) return undefined;
    const parts = [first.data];
    let length = first.data.length;
    while (length < maxBytes && this.queue[0]?.settled) {
      const c = await this.next();
      if (!c) break;
      parts.push(c.data);
      length += c.data.length;
    }
    return { offset: first.offset, parts, length };
  }

  /**
   * Optional: the caller is done with a chunk returned by `next` (written out, nothing keeps a
   * view of it), so its memory can take a later reply.
   */
  recycle(chunk: { data: Uint8Array }): void {
    this.session.recycle(chunk.data, this.wanted);
  }

  /** `recycle` for every part of a batch from `nextBatch`, once it is written out. */
  recycleBatch(batch: { parts: Uint8Array[] }): void {
    for (const data of batch.parts) this.session.recycle(data, this.wanted);
  }

  /**
   * Replies this reader still expects or holds unconsumed, each needing a buffer: the whole
   * pipeline while it is refilled (between refills, which come in batches, the queue is shorter
   * than what the next refill asks for), then what is left once every read is issued.
   */
  private get wanted(): number {
    if (this.done) return 0;
    return this.allIssued ? this.queue.length : Math.max(this.queue.length, this.options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
  }

  /** Every read of a bounded range has been requested (a short read may still ask for its rest). */
  get allIssued(): boolean {
    return this.options.end !== undefined && this.nextOffset >= this.options.end;
  }

  /** Stops issuing reads; replies still in flight are ignored. */
  stop(): void {
    if (!this.done) this.session.trimReplyBuffers(this.queue.length);
    this.done = true;
    for (const r of this.queue.splice(0)) r.reply.catch(() => {});
  }

  private fill(): void {
    const max = this.options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    // Refill in batches of an eighth of the pipeline: the requests of a batch share one socket
    // write (and one CHANNEL_DATA) instead of costing one each as every reply is consumed.
    if (this.queue.length > 0 && this.queue.length > max - Math.max(1, max >> 3)) return;
    const chunk = this.options.chunkSize ?? this.session.readSize;
    const end = this.options.end;
    while (!this.done && this.queue.length < max && (end === undefined || this.nextOffset < end)) {
      const length = end === undefined ? chunk : Math.min(chunk, end - this.nextOffset);
      this.queue.push(this.issue(this.nextOffset, length));
      this.nextOffset += length;
    }
  }

  private issue(offset: number, length: number): PendingRead {
    const reply = this.session.request((id) => encodeRead(id, { handle: this.handle, offset, length }));
    const read: PendingRead = { offset, length, reply, settled: false };
    const settle = () => void (read.settled = true);
    reply.then(settle, settle);
    return read;
  }
}

export class PipelinedWriter {
  private readonly inFlight: Promise<void>[] = [];
  private failure: unknown;
  /** The last `issue` call's turn: the next one starts after it. */
  private turns: Promise<unknown> = Promise.resolve();
  /** The file offset of the next byte written. */
  offset: number;
  /** Without a `maxInFlight` of the caller's: the session's limit that follows the round trips (in-flight.ts). */
  private readonly control: InFlightLimit | undefined;

  constructor(
    private readonly session: SftpSession,
    private readonly handle: Uint8Array,
    private readonly path: string,
    private readonly options: { offset?: number; maxInFlight?: number; chunkSize?: number } = {},
  ) {
    this.offset = options.offset ?? 0;
    if (options.maxInFlight === undefined) this.control = session.writeLimit;
  }

  /** Requests that may be outstanding now. */
  get maxInFlight(): number {
    return this.control?.limit ?? this.options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  }

  /** Bytes per WRITE request: `data` given to `write` is sent in pieces of this size. */
  get requestSize(): number {
    return this.options.chunkSize ?? this.session.writeSize;
  }

  /**
   * Queues `data` and resolves once it has been copied into packets (the caller may then reuse
   * its buffer) and the number of outstanding requests is under the limit again. The data goes
   * into the SSH packets directly, without an SFTP packet copied together first. Calls may
   * overlap (each is issued after the one before), so a caller can keep data queued.
   */
  async write(data: Uint8Array): Promise<void> {
    await (await this.issue(data)).sent;
    if (this.failure) throw this.failure;
  }

  /**
   * Issues the WRITE requests for `data`, waiting only for room in the pipeline; `sent` settles
   * once all of `data` is in packets (failures go to `failure`). A caller can send more requests
   * behind these (CLOSE, say) in the same turn, before they leave. (`sent` is wrapped: a promise
   * returned from an async function would be waited for.)
   */
  issue(data: Uint8Array): Promise<{ sent: Promise<void> }> {
    // Calls take turns, so a caller may issue the next data before the last is sent (an
    // upload reading ahead) and offsets still follow the order of the calls.
    const turn = this.turns.then(() => this.issueNow(data));
    this.turns = turn.catch(() => {});
    return turn;
  }

  private async issueNow(data: Uint8Array): Promise<{ sent: Promise<void> }> {
    const chunk = this.requestSize;
    const control = this.control;
    let sent: Promise<void> = Promise.resolve();
    for (let o = 0; o < data.length; o += chunk) {
      while (this.inFlight.length >= this.maxInFlight) await this.inFlight.shift();
      if (this.failure) break;
      const piece = data.subarray(o, Math.min(o + chunk, data.length));
      const offset = this.offset;
      this.offset += piece.length;
      const request = this.session.send((id) => [encodeWriteHeader(id, { handle: this.handle, offset, length: piece.length }), piece]);
      sent = request.sent;
      // Only full-size requests time the path (in-flight.ts).
      const timed = control && piece.length === chunk ? control : undefined;
      const issued = timed ? performance.now() : 0;
      const done = request.reply
        .then((r) => {
          timed?.answered(performance.now() - issued);
          expectOk(r, this.path, "write");
        })
        .catch((e) => void (this.failure ??= e));
      this.inFlight.push(done);
    }
    // Parts are sent in order: once the last is in packets, all of `data` is.
    return { sent: sent.catch((e) => void (this.failure ??= e)) };
  }

  /**
   * Issues no further writes (a `write` still running stops before its next request) and makes
   * `write`/`flush` throw `reason`: after an abort, nothing more may go to a handle that is
   * being closed and whose number the server may hand out again.
   */
  stop(reason: unknown): void {
    this.failure ??= reason;
  }

  /** Waits for every outstanding write; throws the first failure. */
  async flush(): Promise<void> {
    await Promise.all(this.inFlight.splice(0));
    if (this.failure) throw this.failure;
  }
}
