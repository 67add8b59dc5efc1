/**
 * The two halves of AccessorData shared by every accessor: a reader that turns a source of
 * chunks into `read(size?)` and a Web ReadableStream, and a writer with the commit/discard life
 * cycle (temporary file renamed on close, removed on abort or failure). Calls on one handle
 * are serialised, so overlapping `read()`s or `write()`s cannot interleave bytes.
 */
import { concat } from "../ssh/wire/writer.js";
import { AccessorError, type AccessorData } from "./accessor.js";

/** Bytes per `read()` of a ReadableStream and per chunk Location copies: 1 MiB. */
export const CHUNK_SIZE = 1024 * 1024;

const EMPTY = new Uint8Array(0);

function wrongMode(mode: "rb" | "wb", what: string, id: string): AccessorError {
  return new AccessorError("ACCESSOR_UNSUPPORTED", `${what} is not possible on a handle opened "${mode}" (${JSON.stringify(id)})`, {
    resourceIdentifier: id,
    operation: what,
  });
}

function closedError(id: string, what: string): AccessorError {
  return new AccessorError("ACCESSOR_OPERATION_FAILED", `${what} on a closed handle for ${JSON.stringify(id)}`, {
    resourceIdentifier: id,
    operation: what,
  });
}

/** A serial queue: each call runs after the previous one settles. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => {});
    return next;
  }
}

/** A "rb" handle over `nextChunk()` (undefined at end of file) and `release()`. */
export abstract class ReadData implements AccessorData {
  readonly mode = "rb" as const;
  private buffered: Uint8Array = EMPTY;
  private eof = false;
  private closed = false;
  private readonly serial = new Serial();

  constructor(readonly resourceIdentifier: string) {}

  /** The next chunk from the storage; undefined at end of file. Errors are AccessorErrors. */
  protected abstract nextChunk(): Promise<Uint8Array | undefined>;
  /** Frees the handle. */
  protected abstract release(): Promise<void>;

  read(size?: number): Promise<Uint8Array> {
    return this.serial.run(async () => {
      if (this.closed) throw closedError(this.resourceIdentifier, "read");
      if (size !== undefined && (!Number.isInteger(size) || size < 0)) {
        throw new AccessorError("ACCESSOR_OPERATION_FAILED", `read size must be a non-negative integer, got ${size}`, {
          resourceIdentifier: this.resourceIdentifier,
          operation: "read",
        });
      }
      const want = size ?? Infinity;
      const parts: Uint8Array[] = [];
      let have = 0;
      while (have < want) {
        if (this.buffered.length === 0) {
          if (this.eof) break;
          const chunk = await this.nextChunk();
          if (chunk === undefined) {
            this.eof = true;
            break;
          }
          this.buffered = chunk;
          continue;
        }
        const take = Math.min(this.buffered.length, want - have);
        parts.push(this.buffered.subarray(0, take));
        this.buffered = this.buffered.subarray(take);
        have += take;
      }
      return concat(...parts);
    });
  }

  write(): Promise<void> {
    return Promise.reject(wrongMode("rb", "write", this.resourceIdentifier));
  }

  close(): Promise<void> {
    return this.serial.run(async () => {
      if (this.closed) return;
      this.closed = true;
      this.buffered = EMPTY;
      await this.release();
    });
  }

  abort(): Promise<void> {
    return this.close();
  }

  get readable(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          try {
            const chunk = await this.read(CHUNK_SIZE);
            if (chunk.length > 0) return controller.enqueue(chunk);
            await this.close();
            controller.close();
          } catch (e) {
            await this.close().catch(() => {});
            controller.error(e);
          }
        },
        cancel: () => this.close(),
      },
      { highWaterMark: 0 },
    );
  }

  get writable(): WritableStream<Uint8Array> {
    throw wrongMode("rb", "writable", this.resourceIdentifier);
  }
}

/**
 * A "wb" handle: `put()` appends, `commit()` makes the data visible under its final name,
 * `discard()` removes every trace. A failed write discards at once; close() then rethrows it.
 */
export abstract class WriteData implements AccessorData {
  readonly mode = "wb" as const;
  private state: "open" | "closed" | "failed" = "open";
  private failure: unknown;
  private readonly serial = new Serial();

  constructor(readonly resourceIdentifier: string) {}

  protected abstract put(data: Uint8Array): Promise<void>;
  protected abstract commit(): Promise<void>;
  protected abstract discard(): Promise<void>;

  read(): Promise<Uint8Array> {
    return Promise.reject(wrongMode("wb", "read", this.resourceIdentifier));
  }

  write(data: Uint8Array | string): Promise<void> {
    return this.serial.run(async () => {
      if (this.state === "failed") throw this.failure;
      if (this.state === "closed") throw closedError(this.resourceIdentifier, "write");
      const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
      if (bytes.length === 0) return;
      try {
        await this.put(bytes);
      } catch (e) {
        await this.fail(e);
        throw e;
      }
    });
  }

  close(): Promise<void> {
    return this.serial.run(async () => {
      if (this.state === "failed") throw this.failure;
      if (this.state === "closed") return;
      try {
        await this.commit();
        this.state = "closed";
      } catch (e) {
        await this.fail(e);
        throw e;
      }
    });
  }

  abort(): Promise<void> {
    return this.serial.run(async () => {
      if (this.state !== "open") return;
      this.state = "closed";
      await this.discard();
    });
  }

  get readable(): ReadableStream<Uint8Array> {
    throw wrongMode("wb", "readable", this.resourceIdentifier);
  }

  get writable(): WritableStream<Uint8Array> {
    return new WritableStream<Uint8Array>({
      write: (chunk) => this.write(chunk),
      close: () => this.close(),
      abort: () => this.abort(),
    });
  }

  private async fail(e: unknown): Promise<void> {
    if (this.state !== "open") return;
    this.state = "failed";
    this.failure = e;
    await this.discard().catch(() => {});
  }
}
