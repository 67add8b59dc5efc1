/**
 * An open remote file (SSH_FXP_OPEN handle, draft §6.3), like a FileHandle of node:fs: reads and
 * writes at offsets, fstat/fsetstat, fsync@openssh.com, fstatvfs@openssh.com, close.
 */
import { SftpError } from "../errors.js";
import { Stats, type Attrs } from "./attrs.js";
import { OpenFlags } from "./constants.js";
import { FSYNC, encodeFsyncRequest } from "./extensions/fsync.js";
import { FSTATVFS, decodeStatvfsReply, encodeFstatvfsRequest, type StatvfsReply } from "./extensions/statvfs.js";
import { encodeClose, encodeFsetstat, encodeFstat, encodeWriteHeader } from "./packets/handle.js";
import type { SftpResponse } from "./packet.js";
import { PipelinedReader, PipelinedWriter } from "./pipeline.js";
import { expectAttrs, expectExtendedReply, expectOk, type SftpSession } from "./session.js";

/** node:fs style open flags. */
export type OpenMode = "r" | "r+" | "w" | "wx" | "w+" | "wx+" | "a" | "ax" | "a+" | "ax+";

const FLAGS: Record<OpenMode, number> = {
  r: OpenFlags.READ,
  "r+": OpenFlags.READ | OpenFlags.WRITE,
  w: OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC,
  wx: OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.EXCL,
  "w+": OpenFlags.READ | OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC,
  "wx+": OpenFlags.READ | OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.EXCL,
  a: OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.APPEND,
  ax: OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.APPEND | OpenFlags.EXCL,
  "a+": OpenFlags.READ | OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.APPEND,
  "ax+": OpenFlags.READ | OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.APPEND | OpenFlags.EXCL,
};

export function openFlags(mode: OpenMode): number {
  const f = FLAGS[mode];
  if (f === undefined) throw new SftpError("BAD_MESSAGE", `unknown open mode ${JSON.stringify(mode)}`);
  return f;
}

export class SftpFile {
  private closed = false;

  /** @internal */
  constructor(
    private readonly session: SftpSession,
    readonly handle: Uint8Array,
    readonly path: string,
  ) {}

  /** Reads up to `length` bytes at `position` (fewer at end of file, empty at EOF). */
  async read(position: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let filled = 0;
    const reader = new PipelinedReader(this.session, this.handle, this.path, { start: position, end: position + length });
    for (let c = await reader.next(); c; c = await reader.next()) {
      out.set(c.data, c.offset - position);
      filled = Math.max(filled, c.offset - position + c.data.length);
    }
    return out.subarray(0, filled);
  }

  /** Writes all of `data` at `position`, pipelined. */
  async write(data: Uint8Array, position: number): Promise<void> {
    const writer = new PipelinedWriter(this.session, this.handle, this.path, { offset: position });
    await writer.write(data);
    await writer.flush();
  }

  /** @internal A reader over a range, for streams and transfers. */
  reader(options: { start?: number; end?: number; maxInFlight?: number }): PipelinedReader {
    return new PipelinedReader(this.session, this.handle, this.path, options);
  }

  /** @internal A writer from an offset, for streams and transfers. */
  writer(options: { offset?: number; maxInFlight?: number }): PipelinedWriter {
    return new PipelinedWriter(this.session, this.handle, this.path, options);
  }

  async stat(): Promise<Stats> {
    return new Stats(expectAttrs(await this.session.request((id) => encodeFstat(id, { handle: this.handle })), this.path, "fstat"));
  }

  async setAttrs(attrs: Attrs): Promise<void> {
    expectOk(await this.session.request((id) => encodeFsetstat(id, { handle: this.handle, attrs })), this.path, "fsetstat");
  }

  /** Flushes the file to stable storage on the server (fsync@openssh.com). */
  async fsync(): Promise<void> {
    requireExtension(this.session, FSYNC, this.path);
    expectOk(await this.session.request((id) => encodeFsyncRequest(id, { handle: this.handle })), this.path, "fsync");
  }

  /**
   * Writes all of `data` at `position` and closes the handle, without waiting for the writes to
   * be acknowledged before sending CLOSE: the server handles one handle's requests in order
   * (draft §6.1), so CLOSE still follows them, and a small file costs one round trip after OPEN,
   * not two. A failed write is the error reported (the handle is closed all the same).
   */
  writeAndClose(data: Uint8Array, position: number): Promise<void> {
    return data.length <= this.session.writeSize ? this.writeOnceAndClose(data, position) : this.writePipelinedAndClose(data, position);
  }

  /** writeAndClose of data that takes several WRITEs, kept in flight by a PipelinedWriter. */
  private async writePipelinedAndClose(data: Uint8Array, position: number): Promise<void> {
    const writer = new PipelinedWriter(this.session, this.handle, this.path, { offset: position });
    let failure: { error: unknown } | undefined;
    // CLOSE is queued right behind the last WRITE, so both leave in the same message.
    const issued = await writer.issue(data).catch((error) => void (failure ??= { error }));
    const closing = this.closeHandled();
    await issued?.sent;
    await writer.flush().catch((error) => void (failure ??= { error }));
    failure ??= await closing;
    if (failure) throw failure.error;
  }

  /**
   * writeAndClose of data that fits one WRITE (a small file: the common case of many), sent
   * with the CLOSE behind it as writeAndClose does, without a PipelinedWriter's bookkeeping.
   */
  private async writeOnceAndClose(data: Uint8Array, position: number): Promise<void> {
    let failure: { error: unknown } | undefined;
    let written: Promise<SftpResponse> | undefined;
    try {
      if (data.length > 0) {
        written = this.session.request((id) => [encodeWriteHeader(id, { handle: this.handle, offset: position, length: data.length }), data]);
      }
    } catch (error) {
      failure = { error }; // a bad position: the handle is closed all the same
    }
    const closing = this.closeHandled();
    if (written) {
      try {
        expectOk(await written, this.path, "write");
      } catch (error) {
        failure ??= { error };
      }
    }
    failure ??= await closing;
    if (failure) throw failure.error;
  }

  /**
   * close(), its failure (if any) as a value: the CLOSE is sent before the WRITE replies are
   * awaited, and a server may answer it first (draft-ietf-secsh-filexfer-02 §6.1 lets replies
   * come in any order), so its rejection must be handled from the start, not once awaited.
   */
  private closeHandled(): Promise<{ error: unknown } | undefined> {
    return this.close().then(() => undefined, (error: unknown) => ({ error }));
  }

  /** File system statistics of the file's file system (fstatvfs@openssh.com). */
  async statvfs(): Promise<StatvfsReply> {
    requireExtension(this.session, FSTATVFS, this.path);
    const reply = await this.session.request((id) => encodeFstatvfsRequest(id, { handle: this.handle }));
    return decodeStatvfsReply(expectExtendedReply(reply, this.path, "fstatvfs"));
  }

  /** Closes the handle; closing twice is a no-op. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    expectOk(await this.session.request((id) => encodeClose(id, { handle: this.handle })), this.path, "close");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.session.closed) await this.close();
  }
}

/** Throws OP_UNSUPPORTED when the server did not announce `name` in VERSION. */
export function requireExtension(session: SftpSession, name: string, path?: string): void {
  if (!session.extensions.has(name)) {
    throw new SftpError("OP_UNSUPPORTED", `the server does not support ${name}`, path);
  }
}
