/**
 * AccessorData over SFTP file handles. Reads are pipelined (many requests in flight) and come
 * back in file order. Writes go to a temporary name beside the target, opened with O_EXCL;
 * close() flushes, closes the handle and renames over the target (posix-rename@openssh.com, an
 * atomic replace); abort() and failures close the handle and remove the temporary file. No shell
 * command is ever run, and every path closes its handle.
 */
import type { SftpClient } from "../sftp/client.js";
import type { SftpFile } from "../sftp/file.js";
import type { PipelinedReader, PipelinedWriter } from "../sftp/pipeline.js";
import { ReadData, WriteData } from "./data.js";

/** Turns any error into the AccessorError the accessor reports for `operation`. */
export type ErrorMapper = (e: unknown, operation: string) => unknown;

export class SftpReadData extends ReadData {
  private readonly reader: PipelinedReader;

  constructor(
    id: string,
    private readonly file: SftpFile,
    private readonly mapError: ErrorMapper,
    private readonly onRelease: () => void,
  ) {
    super(id);
    this.reader = file.reader({});
  }

  protected async nextChunk(): Promise<Uint8Array | undefined> {
    try {
      return (await this.reader.next())?.data;
    } catch (e) {
      throw this.mapError(e, "read");
    }
  }

  protected async release(): Promise<void> {
    this.onRelease();
    this.reader.stop();
    // A lost connection has already freed the handle on the server.
    await this.file.close().catch(() => {});
  }
}

export class SftpWriteData extends WriteData {
  private readonly writer: PipelinedWriter;
  private handleOpen = true;

  constructor(
    id: string,
    private readonly client: SftpClient,
    private readonly file: SftpFile,
    private readonly tempPath: string,
    private readonly targetPath: string,
    private readonly mapError: ErrorMapper,
    private readonly onRelease: () => void,
    /** Called with the temporary path when it could not be removed (e.g. the connection is gone). */
    private readonly onOrphan: (tempPath: string, error: unknown) => void,
  ) {
    super(id);
    this.writer = file.writer({});
  }

  protected async put(data: Uint8Array): Promise<void> {
    try {
      await this.writer.write(data);
    } catch (e) {
      throw this.mapError(e, "write");
    }
  }

  protected async commit(): Promise<void> {
    try {
      await this.writer.flush();
      await this.closeHandle();
      await this.client.rename(this.tempPath, this.targetPath, { overwrite: true });
      this.onRelease();
    } catch (e) {
      throw this.mapError(e, "close");
    }
  }

  protected async discard(): Promise<void> {
    this.onRelease();
    await this.writer.flush().catch(() => {});
    await this.closeHandle().catch(() => {});
    await this.client.remove(this.tempPath).catch((e) => this.onOrphan(this.tempPath, e));
  }

  private async closeHandle(): Promise<void> {
    if (!this.handleOpen) return;
    this.handleOpen = false;
    await this.file.close();
  }
}
