/**
 * The handles of one SFTP server session: open files and directory listings behind opaque
 * 4-byte handles (draft §3.2 allows up to 256 bytes), bounded in number so a client cannot hold
 * unbounded descriptors.
 */
import type { FsDir, FsFile } from "../../platform/server-fs.js";
import { SftpError } from "../../errors.js";

export interface FileHandle {
  kind: "file";
  file: FsFile;
  /** Checked host path, for messages and fstatvfs (and to order requests on one file). */
  host: string;
  /** Opened with O_APPEND: every write lands at the end. */
  append?: boolean;
}

export interface DirHandle {
  kind: "dir";
  dir: FsDir;
  /** The descriptor the listing was checked through; closed with it. */
  fd: FsFile;
  host: string;
  /** A name read but not yet sent (its entry did not fit the previous batch). */
  held?: string;
}

export type Handle = FileHandle | DirHandle;

export class HandleTable {
  private readonly open = new Map<number, Handle>();
  private next = 1;
  private ended = false;

  constructor(readonly max: number) {}

  get size(): number {
    return this.open.size;
  }

  /** Refuses before any descriptor is opened, so a client at the limit costs nothing. */
  checkRoom(): void {
    if (this.open.size >= this.max) throw new SftpError("FAILURE", `too many open handles (limit ${this.max})`);
  }

  /**
   * Takes an opened file or listing. A handle that cannot be taken (the table is full, or the
   * session ended while it was being opened: its request was already in progress when the
   * client vanished) is closed here, so no descriptor outlives its session.
   */
  add(h: Handle): Uint8Array {
    if (this.ended || this.open.size >= this.max) {
      void closeHandle(h).catch(() => {});
      if (this.ended) throw new SftpError("FAILURE", "the session has ended");
      this.checkRoom();
    }
    while (this.open.has(this.next) || this.next === 0) this.next = (this.next + 1) >>> 0;
    const id = this.next;
    this.next = (this.next + 1) >>> 0;
    this.open.set(id, h);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, id);
    return bytes;
  }

  private id(handle: Uint8Array): number {
    return handle.length === 4 ? new DataView(handle.buffer, handle.byteOffset, 4).getUint32(0) : 0;
  }

  /** The open handle, or undefined. */
  find(handle: Uint8Array): Handle | undefined {
    return this.open.get(this.id(handle));
  }

  get(handle: Uint8Array): Handle {
    const h = this.find(handle);
    if (!h) throw new SftpError("FAILURE", "invalid handle");
    return h;
  }

  file(handle: Uint8Array): FileHandle {
    const h = this.get(handle);
    if (h.kind !== "file") throw new SftpError("FAILURE", "not a file handle");
    return h;
  }

  dir(handle: Uint8Array): DirHandle {
    const h = this.get(handle);
    if (h.kind !== "dir") throw new SftpError("FAILURE", "not a directory handle");
    return h;
  }

  /** Removes and closes one handle. */
  async close(handle: Uint8Array): Promise<void> {
    const h = this.get(handle);
    this.open.delete(this.id(handle));
    await closeHandle(h);
  }

  /** Closes everything (the session ended). */
  async closeAll(): Promise<void> {
    this.ended = true;
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((h) => closeHandle(h).catch(() => {})));
  }
}

async function closeHandle(h: Handle): Promise<void> {
  if (h.kind === "file") return h.file.close();
  try {
    await h.dir.close();
  } finally {
    await h.fd.close();
  }
}
