/**
 * AccessorData for ftrack.server. Reading streams `GET {server}/component/get?id=…` (following
 * the redirect a self-hosted server may answer with) chunk by chunk; when the connection drops
 * mid-file it asks again with `Range: bytes=<received>-` and carries on (from the start, skipping
 * what it has, when the storage ignores the range), and a body shorter than its Content-Length
 * counts as such a drop. Writing hands the bytes to a ComponentUpload; close() completes it.
 */
import { AccessorError } from "./accessor.js";
import { ReadData, WriteData } from "./data.js";
import {
  abortedError, backoffDelay, drain, isAbortError, isTransient, serverError, sleep, statusIsTransient, TransientError, withRetries, type RequestPolicy,
} from "./server-http.js";
import type { ComponentUpload } from "./server-upload.js";

export class ServerReadData extends ReadData {
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private connection: AbortController | undefined;
  private received = 0;
  /** The size announced by the first full answer (Content-Length), when there was one. */
  private total: number | undefined;
  private drops = 0;
  private readonly stop = new AbortController();
  /** close() or the caller's signal. */
  private readonly stopped: AbortSignal;

  constructor(
    id: string,
    private readonly url: string,
    private readonly secrets: string[],
    private readonly policy: RequestPolicy,
  ) {
    super(id);
    this.stopped = policy.signal ? AbortSignal.any([this.stop.signal, policy.signal]) : this.stop.signal;
  }

  /** Opens the first connection, so a missing component fails open() rather than read(). */
  async start(): Promise<void> {
    await this.connect();
  }

  protected async nextChunk(): Promise<Uint8Array | undefined> {
    const attempts = Math.max(1, this.policy.attempts ?? 5);
    for (;;) {
      if (!this.reader) {
        // connect() has retried already: its failure is final.
        try {
          await this.connect();
        } catch (e) {
          throw this.wrap(e);
        }
      }
      try {
        const { done, value } = await this.readWithTimeout();
        if (done) {
          this.closeConnection();
          if (this.total !== undefined && this.received < this.total) throw new TransientError(`the body ended after ${this.received} of ${this.total} bytes`);
          return undefined;
        }
        this.received += value.length;
        this.drops = 0;
        return value;
      } catch (e) {
        this.closeConnection();
        if (this.stopped.aborted) throw abortedError("read", this.resourceIdentifier);
        if (!isTransient(e) || ++this.drops >= attempts) throw this.wrap(e);
        try {
          await sleep(backoffDelay(this.policy, this.drops), this.stopped);
        } catch {
          throw abortedError("read", this.resourceIdentifier);
        }
      }
    }
  }

  protected async release(): Promise<void> {
    this.stop.abort();
    this.closeConnection();
  }

  private wrap(e: unknown) {
    if (isAbortError(e)) return abortedError("read", this.resourceIdentifier);
    if (e instanceof AccessorError) return e;
    return serverError("ACCESSOR_CONNECTION_FAILED", `reading component ${this.resourceIdentifier} from ftrack.server failed after ${this.received} bytes: ${(e as Error)?.message ?? e}`, this.secrets, {
      resourceIdentifier: this.resourceIdentifier, operation: "read", cause: e,
    });
  }

  private closeConnection(): void {
    this.connection?.abort();
    this.connection = undefined;
    const reader = this.reader;
    this.reader = undefined;
    // Cancelling an aborted body rejects; nothing is waiting for it.
    void reader?.cancel().catch(() => {});
  }

  /** One read, bounded by the per-request timeout (the limit is between chunks). */
  private async readWithTimeout(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const reader = this.reader!;
    const ms = this.policy.timeoutMs ?? 120_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TransientError(`no data for ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([reader.read(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async connect(): Promise<void> {
    const outer = this.stopped;
    await withRetries({ ...this.policy, signal: outer }, async (signal) => {
      // Stopped by the attempt's timeout while the answer is awaited, and by close() or the
      // caller's signal for as long as the body is read (the attempt's signal ends with it).
      const connection = new AbortController();
      const stopConnection = () => connection.abort();
      signal.addEventListener("abort", stopConnection, { once: true });
      outer.addEventListener("abort", stopConnection, { once: true });
      const headers: Record<string, string> = this.received > 0 ? { Range: `bytes=${this.received}-` } : {};
      const response = await fetch(this.url, { headers, redirect: "follow", signal: connection.signal });
      if (!response.ok || !response.body) {
        const body = await drain(response);
        const message = `reading component ${this.resourceIdentifier} from ftrack.server answered HTTP ${response.status}${body ? `: ${body}` : ""}`;
        if (statusIsTransient(response.status)) throw new TransientError(message, response.status);
        const code = response.status === 404 ? "ACCESSOR_RESOURCE_NOT_FOUND" : response.status === 401 || response.status === 403 ? "ACCESSOR_PERMISSION_DENIED" : "ACCESSOR_OPERATION_FAILED";
        throw serverError(code, message, this.secrets, { resourceIdentifier: this.resourceIdentifier, operation: "read" });
      }
      const reader = response.body.getReader();
      let skip = 0;
      if (this.received === 0 || response.status === 200) {
        // A full answer: its length is the file's, and what we already have is skipped.
        const length = Number(response.headers.get("content-length"));
        if (Number.isSafeInteger(length) && response.headers.get("content-encoding") === null) this.total = length;
        skip = this.received;
      } else {
        const start = Number(/^bytes (\d+)-/.exec(response.headers.get("content-range") ?? "")?.[1]);
        if (start !== this.received) {
          void reader.cancel().catch(() => {});
          throw new TransientError(`the storage resumed at byte ${start}, not ${this.received}`);
        }
      }
      this.connection = connection;
      this.reader = reader;
      if (skip > 0) await this.skip(skip);
    });
  }

  /** Discards `n` bytes of a restarted full answer. */
  private async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      const { done, value } = await this.readWithTimeout();
      if (done) throw new TransientError(`the body ended before byte ${n}`);
      if (value.length > left) {
        // Put the rest back by wrapping the reader: simplest is a one-chunk prefix stream.
        const rest = value.subarray(left);
        const inner = this.reader!;
        this.reader = prefixed(rest, inner);
        return;
      }
      left -= value.length;
    }
  }
}

/** A reader that yields `first`, then continues with `inner`. */
function prefixed(first: Uint8Array, inner: ReadableStreamDefaultReader<Uint8Array>): ReadableStreamDefaultReader<Uint8Array> {
  let given = false;
  return new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      if (!given) {
        given = true;
        return controller.enqueue(first);
      }
      const { done, value } = await inner.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => inner.cancel(reason),
  }, { highWaterMark: 0 }).getReader();
}

export class ServerWriteData extends WriteData {
  /** The upload behind the handle (its part count, peak memory). */
  constructor(id: string, readonly upload: ComponentUpload) {
    super(id);
  }

  protected put(data: Uint8Array): Promise<void> {
    return this.upload.write(data);
  }

  protected commit(): Promise<void> {
    return this.upload.finish();
  }

  protected discard(): Promise<void> {
    return this.upload.abort();
  }
}
