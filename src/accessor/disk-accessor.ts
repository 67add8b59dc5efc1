/**
 * DiskAccessor: the Accessor interface on the local file system, the counterpart of ftrack's
 * Python `ftrack_api.accessor.disk.DiskAccessor` (the accessor of ftrack Connect's location).
 *
 * With a `prefix`, identifiers are "/"-separated paths relative to it and may not leave it
 * (`..` is refused); an absolute path inside the prefix is accepted too, as in Python. Without
 * a prefix, identifiers are local file paths as they are (this is how a plain file path acts as
 * a source, like Python's origin location). Writes are atomic: a temporary file beside the
 * target, renamed over it on close.
 */
import {
  isAbsoluteLocalPath, joinLocalPath, listLocalNames, localBaseName, localFileUrl, makeLocalDirectory, parentLocalPath,
  relativeLocalPath, removeLocalDirectory, removeLocalFile, resolveLocalPath, statLocalPath,
} from "../platform/accessor-fs.js";
import { openLocal, removeLocal, renameLocal, type LocalFile } from "../platform/local-files.js";
import { SshError } from "../errors.js";
import { AccessorError, type Accessor, type AccessorData, type MakeContainerOptions, type AccessorOpenMode } from "./accessor.js";
import { CHUNK_SIZE, ReadData, WriteData } from "./data.js";
import { childId, containerId, idSegments, normaliseId } from "./resource-id.js";
import { tempSuffix } from "../util/temp-suffix.js";
import { memberMatcher } from "./sequence.js";

export interface DiskAccessorOptions {
  /** The folder holding the location's data (`~` expanded, made absolute). */
  prefix?: string;
}

export class DiskAccessor implements Accessor {
  /** The absolute prefix, or undefined when identifiers are plain file paths. */
  readonly prefix: string | undefined;
  private readonly handles = new Set<AccessorData>();

  constructor(options: DiskAccessorOptions = {}) {
    const prefix = options.prefix?.trim();
    this.prefix = prefix ? resolveLocalPath(prefix) : undefined;
  }

  async exists(id: string): Promise<boolean> {
    const path = this.path(id, "exists");
    return (await this.stat(path, id, "exists")) !== undefined;
  }

  async isFile(id: string): Promise<boolean> {
    return (await this.stat(this.path(id, "isFile"), id, "isFile"))?.isFile ?? false;
  }

  async isContainer(id: string): Promise<boolean> {
    return (await this.stat(this.path(id, "isContainer"), id, "isContainer"))?.isDirectory ?? false;
  }

  async isSequence(id: string): Promise<boolean> {
    const path = this.path(id, "isSequence");
    const matcher = memberMatcher(localBaseName(path));
    if (!matcher) return false;
    const dir = parentLocalPath(path);
    if (!(await this.stat(dir, id, "isSequence"))?.isDirectory) return false;
    const names = await this.wrap("isSequence", id, () => listLocalNames(dir));
    for (const name of names) {
      if (matcher.test(name) && (await this.stat(joinLocalPath(dir, name), id, "isSequence"))?.isFile) return true;
    }
    return false;
  }

  async list(id: string): Promise<string[]> {
    const path = this.path(id, "list");
    const st = await this.stat(path, id, "list");
    if (!st) throw this.error("ACCESSOR_RESOURCE_NOT_FOUND", "list", id, "there is nothing at");
    if (!st.isDirectory) throw this.error("ACCESSOR_RESOURCE_INVALID", "list", id, "cannot list a file:");
    const names = (await this.wrap("list", id, () => listLocalNames(path))).sort();
    return names.map((n) => (this.prefix === undefined ? joinLocalPath(id, n) : childId(this.relative(id), n)));
  }

  async makeContainer(id: string, options: MakeContainerOptions = {}): Promise<void> {
    const path = this.path(id, "makeContainer");
    const st = await this.stat(path, id, "makeContainer");
    if (st?.isDirectory) return;
    if (st) throw this.error("ACCESSOR_RESOURCE_INVALID", "makeContainer", id, "a file already exists at");
    const recursive = options.recursive ?? true;
    try {
      await makeLocalDirectory(path, recursive);
    } catch (e) {
      if ((await this.stat(path, id, "makeContainer"))?.isDirectory) return;
      if (e instanceof SshError && e.code === "LOCAL_ENOENT") {
        throw this.error("ACCESSOR_PARENT_NOT_FOUND", "makeContainer", id, "the container does not exist for", e);
      }
      throw this.mapError(e, "makeContainer", id);
    }
  }

  async remove(id: string): Promise<void> {
    const path = this.path(id, "remove");
    if (this.prefix !== undefined && this.relative(id) === "") {
      throw this.error("ACCESSOR_RESOURCE_INVALID", "remove", id, "refusing to remove the accessor's prefix");
    }
    const st = await this.stat(path, id, "remove", false);
    if (!st) throw this.error("ACCESSOR_RESOURCE_NOT_FOUND", "remove", id, "there is nothing to remove at");
    if (st.isDirectory) {
      if ((await this.wrap("remove", id, () => listLocalNames(path))).length > 0) {
        throw this.error("ACCESSOR_CONTAINER_NOT_EMPTY", "remove", id, "the container is not empty:");
      }
      await this.wrap("remove", id, () => removeLocalDirectory(path));
    } else {
      await this.wrap("remove", id, () => removeLocalFile(path));
    }
  }

  async open(id: string, mode: AccessorOpenMode = "rb"): Promise<AccessorData> {
    if (mode !== "rb" && mode !== "wb") {
      throw new AccessorError("ACCESSOR_UNSUPPORTED", `open mode must be "rb" or "wb", got ${JSON.stringify(mode)}`, { resourceIdentifier: id, operation: "open" });
    }
    const path = this.path(id, "open");
    const st = await this.stat(path, id, "open");
    if (st?.isDirectory) throw this.error("ACCESSOR_RESOURCE_INVALID", "open", id, "cannot open a container:");
    const release = (d: AccessorData) => () => void this.handles.delete(d);
    if (mode === "rb") {
      if (!st) throw this.error("ACCESSOR_RESOURCE_NOT_FOUND", "open", id, "there is no file at");
      const file = await this.wrap("open", id, () => openLocal(path, "r"));
      const data = new DiskReadData(id, file, (e, op) => this.mapError(e, op, id));
      data.onRelease = release(data);
      this.handles.add(data);
      return data;
    }
    const temp = joinLocalPath(parentLocalPath(path), `.${localBaseName(path)}.${tempSuffix()}.part`);
    let file: LocalFile;
    try {
      file = await openLocal(temp, "w");
    } catch (e) {
      if (e instanceof SshError && (e.code === "LOCAL_ENOENT" || e.code === "LOCAL_ENOTDIR")) {
        throw this.error("ACCESSOR_PARENT_NOT_FOUND", "open", id, "the container does not exist for", e);
      }
      throw this.mapError(e, "open", id);
    }
    const data = new DiskWriteData(id, file, temp, path, (e, op) => this.mapError(e, op, id));
    data.onRelease = release(data);
    this.handles.add(data);
    return data;
  }

  async getContainer(id: string): Promise<string> {
    if (this.prefix === undefined) {
      const path = resolveLocalPath(id);
      const parent = parentLocalPath(path);
      if (parent === path) throw this.error("ACCESSOR_PARENT_NOT_FOUND", "getContainer", id, "the file system root has no container:");
      return parent;
    }
    return containerId(this.relative(id));
  }

  async getUrl(id: string): Promise<string> {
    return localFileUrl(this.path(id, "getUrl"));
  }

  /** The local file system path of `id` (Python's `get_filesystem_path`). */
  async getFilesystemPath(id: string): Promise<string> {
    return this.path(id, "getFilesystemPath");
  }

  /** Aborts open handles (unfinished writes are discarded). */
  async close(): Promise<void> {
    for (const h of [...this.handles]) await h.abort().catch(() => {});
    this.handles.clear();
  }

  // --- internals -----------------------------------------------------------------------------

  /** `id` relative to the prefix, checked ("" = the prefix itself). */
  private relative(id: string, operation?: string): string {
    if (this.prefix !== undefined && isAbsoluteLocalPath(id)) {
      const rel = relativeLocalPath(this.prefix, resolveLocalPath(id));
      if (rel === ".." || rel.startsWith("../") || isAbsoluteLocalPath(rel)) {
        throw this.error("ACCESSOR_FILESYSTEM_PATH", operation ?? "resolve", id, "the path is outside the prefix:");
      }
      return normaliseId(rel, operation);
    }
    return normaliseId(id, operation);
  }

  private path(id: string, operation: string): string {
    if (this.prefix === undefined) {
      if (typeof id !== "string" || id === "" || id.includes("\0")) {
        throw this.error("ACCESSOR_FILESYSTEM_PATH", operation, String(id), "not a file path:");
      }
      return resolveLocalPath(id);
    }
    return joinLocalPath(this.prefix, ...idSegments(this.relative(id, operation), operation));
  }

  private async stat(path: string, id: string, operation: string, follow = true) {
    return this.wrap(operation, id, () => statLocalPath(path, { follow }));
  }

  private async wrap<T>(operation: string, id: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.mapError(e, operation, id);
    }
  }

  private error(code: AccessorError["code"], operation: string, id: string, what: string, cause?: unknown): AccessorError {
    const where = this.prefix === undefined ? "" : ` under ${this.prefix}`;
    return new AccessorError(code, `${operation}: ${what} ${JSON.stringify(id)}${where}`, { resourceIdentifier: id, operation, cause });
  }

  /** LOCAL_<errno> SshErrors → AccessorError, as Python's error_handler maps errno values. */
  private mapError(e: unknown, operation: string, id: string): unknown {
    if (e instanceof AccessorError) return e;
    const code = e instanceof SshError ? e.code : "";
    const mapped = code === "LOCAL_ENOENT" ? "ACCESSOR_RESOURCE_NOT_FOUND"
      : code === "LOCAL_EPERM" || code === "LOCAL_EACCES" ? "ACCESSOR_PERMISSION_DENIED"
      : code === "LOCAL_ENOTEMPTY" ? "ACCESSOR_CONTAINER_NOT_EMPTY"
      : code === "LOCAL_ENOTDIR" || code === "LOCAL_EISDIR" || code === "LOCAL_EINVAL" ? "ACCESSOR_RESOURCE_INVALID"
      : "ACCESSOR_OPERATION_FAILED";
    return new AccessorError(mapped, `${operation} ${JSON.stringify(id)}: ${(e as Error)?.message ?? e}`, { resourceIdentifier: id, operation, cause: e });
  }
}

type Mapper = (e: unknown, operation: string) => unknown;

class DiskReadData extends ReadData {
  private position = 0;
  onRelease: () => void = () => {};

  constructor(id: string, private readonly file: LocalFile, private readonly mapError: Mapper) {
    super(id);
  }

  protected async nextChunk(): Promise<Uint8Array | undefined> {
    const buf = new Uint8Array(CHUNK_SIZE);
    let n: number;
    try {
      n = await this.file.read(buf, this.position);
    } catch (e) {
      throw this.mapError(e, "read");
    }
    if (n === 0) return undefined;
    this.position += n;
    return buf.subarray(0, n);
  }

  protected async release(): Promise<void> {
    this.onRelease();
    await this.file.close().catch(() => {});
  }
}

class DiskWriteData extends WriteData {
  private position = 0;
  private handleOpen = true;
  onRelease: () => void = () => {};

  constructor(id: string, private readonly file: LocalFile, private readonly temp: string, private readonly target: string, private readonly mapError: Mapper) {
    super(id);
  }

  protected async put(data: Uint8Array): Promise<void> {
    try {
      await this.file.write(data, this.position);
      this.position += data.length;
    } catch (e) {
      throw this.mapError(e, "write");
    }
  }

  protected async commit(): Promise<void> {
    try {
      await this.closeHandle();
      await renameLocal(this.temp, this.target);
      this.onRelease();
    } catch (e) {
      throw this.mapError(e, "close");
    }
  }

  protected async discard(): Promise<void> {
    this.onRelease();
    await this.closeHandle().catch(() => {});
    await removeLocal(this.temp).catch(() => {});
  }

  private async closeHandle(): Promise<void> {
    if (!this.handleOpen) return;
    this.handleOpen = false;
    await this.file.close();
  }
}
