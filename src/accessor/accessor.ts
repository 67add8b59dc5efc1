/**
 * The Accessor seam (shared/API.md, "Accessor"): how a Location reads and writes bytes, named by
 * resource identifiers — "/"-separated paths relative to the accessor's root. The methods mirror
 * ftrack's Python `ftrack_api.accessor.base.Accessor`, camelCased and async; the errors mirror
 * its `Accessor*Error` family as one class with a `code`.
 */
import { SshError } from "../errors.js";

/** Error codes, one per ftrack Python accessor exception (plus connection failures). */
export type AccessorErrorCode =
  /** AccessorResourceNotFoundError: nothing at the identifier. */
  | "ACCESSOR_RESOURCE_NOT_FOUND"
  /** AccessorParentResourceNotFoundError: the container is missing, or the root has none. */
  | "ACCESSOR_PARENT_NOT_FOUND"
  /** AccessorContainerNotEmptyError: remove() of a container that still has entries. */
  | "ACCESSOR_CONTAINER_NOT_EMPTY"
  /** AccessorPermissionDeniedError. */
  | "ACCESSOR_PERMISSION_DENIED"
  /** AccessorResourceInvalidError: a file where a container is needed, or the reverse. */
  | "ACCESSOR_RESOURCE_INVALID"
  /** AccessorFilesystemPathError: the identifier is malformed or leaves the root (`..`). */
  | "ACCESSOR_FILESYSTEM_PATH"
  /** AccessorUnsupportedOperationError. */
  | "ACCESSOR_UNSUPPORTED"
  /** AccessorOperationFailedError: anything else the storage reported. */
  | "ACCESSOR_OPERATION_FAILED"
  /** Could not connect (network, host key, authentication), or the connection was lost. */
  | "ACCESSOR_CONNECTION_FAILED"
  /** The accessor's options (or environment variables) are missing or malformed. */
  | "ACCESSOR_CONFIGURATION";

/** Every error an accessor throws. `cause` holds the underlying SftpError / SshError. */
export class AccessorError extends SshError {
  declare readonly code: AccessorErrorCode;
  /** The resource identifier involved, when there is one. */
  readonly resourceIdentifier: string | undefined;
  /** The accessor operation that failed ("open", "remove", …). */
  readonly operation: string | undefined;
  constructor(
    code: AccessorErrorCode,
    message: string,
    details: { resourceIdentifier?: string; operation?: string; cause?: unknown } = {},
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.resourceIdentifier = details.resourceIdentifier;
    this.operation = details.operation;
  }
}

export type AccessorOpenMode = "rb" | "wb";

/**
 * An open resource, like Python's `ftrack_api.data.Data`. A "rb" handle reads; a "wb" handle
 * writes to a temporary name that `close()` renames over the target (atomic: readers never see
 * a partial file) and `abort()` discards.
 */
export interface AccessorData {
  readonly mode: AccessorOpenMode;
  /**
   * The next bytes: up to `size` of them, or everything left when `size` is omitted. An empty
   * array means end of file. ("rb" only.)
   */
  read(size?: number): Promise<Uint8Array>;
  /** Appends bytes (a string is written as UTF-8). ("wb" only.) */
  write(data: Uint8Array | string): Promise<void>;
  /** Releases the handle; for "wb", commits the data under its final name. Idempotent. */
  close(): Promise<void>;
  /** Releases the handle without committing: a "wb" handle's temporary file is removed. */
  abort(): Promise<void>;
  /** A Web ReadableStream over the rest of the data ("rb" only; throws ACCESSOR_UNSUPPORTED on "wb"). */
  readonly readable: ReadableStream<Uint8Array>;
  /** A Web WritableStream; closing it commits ("wb" only; throws ACCESSOR_UNSUPPORTED on "rb"). */
  readonly writable: WritableStream<Uint8Array>;
}

export interface AccessorOpenOptions {
  signal?: AbortSignal;
}

export interface FileCopyOptions {
  signal?: AbortSignal;
  /** Bytes of the file copied so far. */
  onProgress?: (transferred: number) => void;
}

export interface MakeContainerOptions {
  /** Also make missing intermediate containers (default true, as in Python). */
  recursive?: boolean;
}

/**
 * Storage access for a Location. Identifiers are relative paths with "/" separators; `""` is
 * the root. Every method throws AccessorError only.
 */
export interface Accessor {
  /** True when something (file or container) is at `id`. */
  exists(id: string): Promise<boolean>;
  /** True for a regular file (false for containers and missing resources). */
  isFile(id: string): Promise<boolean>;
  /** True for a container (directory). */
  isContainer(id: string): Promise<boolean>;
  /**
   * True when `id` is a sequence expression (`name.%04d.exr`) with at least one member file
   * present. (Python's accessors raise "unsupported" here.)
   */
  isSequence(id: string): Promise<boolean>;
  /** The identifiers of the entries of container `id`, sorted. */
  list(id: string): Promise<string[]>;
  /** Creates a container; an existing container is left as it is. */
  makeContainer(id: string, options?: MakeContainerOptions): Promise<void>;
  /** Removes a file or an empty container (ACCESSOR_CONTAINER_NOT_EMPTY otherwise). */
  remove(id: string): Promise<void>;
  /**
   * `options.signal` lets an accessor whose requests can be long (ftrack.server's uploads)
   * stop them at once; others may ignore it (Location copies check it between chunks).
   */
  open(id: string, mode?: AccessorOpenMode, options?: AccessorOpenOptions): Promise<AccessorData>;
  /** The identifier of the container of `id` (ACCESSOR_PARENT_NOT_FOUND for the root). */
  getContainer(id: string): Promise<string>;
  /** A URL for `id`, without secrets. */
  getUrl(id: string): Promise<string>;
  /** A local filesystem path for `id`, when the accessor has one (ACCESSOR_UNSUPPORTED otherwise). */
  getFilesystemPath?(id: string): Promise<string>;
  /**
   * Optional: copies the local file `localPath` to `id` the accessor's own fastest way, committed
   * like a "wb" handle (a temporary name renamed over `id`). Location copies from an accessor
   * with a filesystem path use it: SFTPAccessor moves the file with SftpClient.upload and its
   * default streams, as uploadDir and the CLI do.
   */
  putFile?(localPath: string, id: string, options?: FileCopyOptions): Promise<void>;
  /** Optional: copies `id` into the local file `localPath` (SFTPAccessor: SftpClient.download), atomically. */
  getFile?(id: string, localPath: string, options?: FileCopyOptions): Promise<void>;
  /** Releases connections and open handles; the accessor reconnects if used again. */
  close(): Promise<void>;
}

/** True when `e` is an AccessorError with one of `codes` (any code when none given). */
export function isAccessorError(e: unknown, ...codes: AccessorErrorCode[]): e is AccessorError {
  return e instanceof AccessorError && (codes.length === 0 || codes.includes(e.code));
}
