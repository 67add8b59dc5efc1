/**
 * SFTPAccessor: ftrack location storage on an SFTP server, the successor of the Python package
 * `ftrack-sftp-accessor` 0.5.1 without its bugs:
 * - `isFile` is false for directories (Python's was true, so a second component on a version
 *   failed); `remove` deletes files and empty containers and refuses a non-empty one with
 *   ACCESSOR_CONTAINER_NOT_EMPTY; `list` throws instead of returning [] on errors.
 * - Host keys are checked strictly by default (Python accepted any key); the username is used
 *   for key logins too.
 * - `folder` is a path prefix, never a chdir; identifiers cannot leave it (`..` is refused).
 * - `open(id, "wb")` never runs a shell command: it writes a temporary file beside the target
 *   and renames it over the target on close (atomic), removing it on abort or failure.
 * - The connection is opened on first use; when it has dropped, the next call reconnects, and
 *   an idempotent call (everything except remove and writes) that loses the connection while
 *   in flight is retried once on a new connection.
 */
import { connect as defaultConnect, type ConnectOptions } from "../connect.js";
import { ConnectionError, SftpError, SshError } from "../errors.js";
import { localUsername } from "../platform/local.js";
import type { SftpClient } from "../sftp/client.js";
import type { HostKeyOptions } from "../ssh/trust/host-key-policy.js";
import { AccessorError, type Accessor, type AccessorData, type AccessorOpenMode, type FileCopyOptions, type MakeContainerOptions } from "./accessor.js";
import { childId, containerId, idSegments, normaliseId, tempIdFor } from "./resource-id.js";
import { memberMatcher } from "./sequence.js";
import { SftpReadData, SftpWriteData } from "./sftp-data.js";
import { sftpOptionsFromEnv, type Env } from "./sftp-env.js";
import { TransferLanes } from "./transfer-lanes.js";

export interface SFTPAccessorOptions {
  host: string;
  /** Default 22. */
  port?: number;
  /** Default: the local user name, as ssh does. Used for every login method. */
  username?: string;
  password?: string;
  /** Private key text or bytes (OpenSSH, PEM or PuTTY format). */
  privateKey?: string | Uint8Array;
  passphrase?: string;
  /**
   * ssh-agent: true = $SSH_AUTH_SOCK, or a socket path. Handed to connect() as its `agent`
   * option: the agent's keys are offered first, before `privateKey`.
   */
  agent?: boolean | string;
  /** Host key trust; default `{ policy: "strict" }` against ~/.ssh/known_hosts. */
  hostKeys?: HostKeyOptions;
  /**
   * The folder holding the location's data. Absolute, or relative to the login directory
   * (a leading "~/" means the same). Default: the login directory.
   */
  folder?: string;
  /** More connect() options (algorithms, readyTimeoutMs, keepaliveIntervalMs, …). */
  connectOptions?: Partial<ConnectOptions>;
  /** Replaces connect(), e.g. for a custom transport. */
  connect?: (options: ConnectOptions) => Promise<SftpClient>;
}

function normaliseFolder(folder: string | undefined): string {
  let f = (folder ?? "").trim();
  if (f === "~") return "";
  if (f.startsWith("~/")) f = f.slice(2);
  if (f.length > 1) f = f.replace(/\/+$/, "");
  return f === "." ? "" : f;
}

function isConnectionLoss(e: unknown): boolean {
  if (e instanceof SftpError) return e.code === "CONNECTION_LOST" || e.code === "NO_CONNECTION";
  return e instanceof ConnectionError;
}

export class SFTPAccessor implements Accessor {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** The normalised folder: "" (login directory), relative, or absolute. */
  readonly folder: string;
  /**
   * The options as given, credentials included. An ES private field, so JSON.stringify,
   * util.inspect and object spreads of the accessor never show the password, passphrase or key.
   */
  readonly #options: SFTPAccessorOptions;
  private clientPromise: Promise<SftpClient> | undefined;
  /** The sessions putFile and getFile spread over, on the current connection. */
  private lanes: TransferLanes | undefined;
  private readonly handles = new Set<AccessorData>();
  /** Temporary files a lost connection kept us from removing; removed after reconnecting. */
  private readonly orphans = new Set<string>();

  constructor(options: SFTPAccessorOptions) {
    if (!options || typeof options.host !== "string" || options.host.trim() === "") {
      throw new AccessorError("ACCESSOR_CONFIGURATION", "SFTPAccessor needs a host");
    }
    if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535)) {
      throw new AccessorError("ACCESSOR_CONFIGURATION", `SFTPAccessor port must be 1-65535, got ${options.port}`);
    }
    this.#options = { ...options };
    this.host = options.host.trim();
    this.port = options.port ?? 22;
    this.username = options.username ?? localUsername();
    this.folder = normaliseFolder(options.folder);
  }

  /**
   * An accessor configured from FTRACK_SFTP_ACCESSOR_* variables (see sftp-env.ts): HOSTNAME,
   * PORT, USERNAME, PASSWORD, FOLDER, PRIVATE_KEY (text or path), PASSPHRASE, AGENT,
   * KNOWN_HOSTS, HOST_KEY_FINGERPRINT, HOST_KEY_POLICY.
   */
  static fromEnv(env: Env = globalThis.process?.env ?? {}, extra: Partial<SFTPAccessorOptions> = {}): SFTPAccessor {
    return new SFTPAccessor({ ...sftpOptionsFromEnv(env), ...extra });
  }

  // --- queries -------------------------------------------------------------------------------

  async exists(id: string): Promise<boolean> {
    const path = this.remotePath(id, "exists");
    return this.run("exists", id, (c) => c.exists(path));
  }

  async isFile(id: string): Promise<boolean> {
    const path = this.remotePath(id, "isFile");
    return this.run("isFile", id, async (c) => (await statOrUndefined(c, path))?.isFile() ?? false);
  }

  async isContainer(id: string): Promise<boolean> {
    const path = this.remotePath(id, "isContainer");
    return this.run("isContainer", id, async (c) => (await statOrUndefined(c, path))?.isDirectory() ?? false);
  }

  async isSequence(id: string): Promise<boolean> {
    const parts = idSegments(id, "isSequence");
    const matcher = memberMatcher(parts[parts.length - 1] ?? "");
    if (!matcher) return false;
    const dir = this.remotePath(parts.slice(0, -1).join("/"), "isSequence");
    return this.run("isSequence", id, async (c) => {
      const st = await statOrUndefined(c, dir);
      if (!st?.isDirectory()) return false;
      return (await c.list(dir)).some((e) => !e.attrs.isDirectory() && matcher.test(e.name));
    });
  }

  async list(id: string): Promise<string[]> {
    const path = this.remotePath(id, "list");
    return this.run("list", id, async (c) => {
      const st = await statOrUndefined(c, path);
      if (!st) throw this.error("ACCESSOR_RESOURCE_NOT_FOUND", "list", id, "there is nothing at");
      if (!st.isDirectory()) throw this.error("ACCESSOR_RESOURCE_INVALID", "list", id, "cannot list a file:");
      const names = (await c.list(path)).map((e) => e.name).sort();
      return names.map((n) => childId(id, n));
    });
  }

  // --- changes -------------------------------------------------------------------------------

  async makeContainer(id: string, options: MakeContainerOptions = {}): Promise<void> {
    const path = this.remotePath(id, "makeContainer");
    const recursive = options.recursive ?? true;
    const isRoot = normaliseId(id) === "";
    return this.run("makeContainer", id, async (c) => {
      const st = await statOrUndefined(c, path);
      if (st?.isDirectory()) return;
      if (st) throw this.error("ACCESSOR_RESOURCE_INVALID", "makeContainer", id, "a file already exists at");
      try {
        await c.mkdir(path, { recursive: recursive || isRoot });
      } catch (e) {
        if ((await statOrUndefined(c, path))?.isDirectory()) return; // made concurrently
        if (e instanceof SftpError && e.code === "NO_SUCH_FILE") {
          throw this.error("ACCESSOR_PARENT_NOT_FOUND", "makeContainer", id, "the container does not exist for", e);
        }
        throw e;
      }
    });
  }

  async remove(id: string): Promise<void> {
    const path = this.remotePath(id, "remove");
    if (normaliseId(id) === "") {
      throw this.error("ACCESSOR_RESOURCE_INVALID", "remove", id, "refusing to remove the accessor's root folder");
    }
    return this.run("remove", id, async (c) => {
      let st;
      try {
        st = await c.lstat(path);
      } catch (e) {
        if (e instanceof SftpError && e.code === "NO_SUCH_FILE") throw this.error("ACCESSOR_RESOURCE_NOT_FOUND", "remove", id, "there is nothing to remove at", e);
        throw e;
      }
      if (st.isDirectory()) {
        if ((await c.list(path)).length > 0) throw this.error("ACCESSOR_CONTAINER_NOT_EMPTY", "remove", id, "the container is not empty:");
        await c.rmdir(path);
      } else {
        await c.remove(path);
      }
    }, false);
  }

  async open(id: string, mode: AccessorOpenMode = "rb"): Promise<AccessorData> {
    if (mode !== "rb" && mode !== "wb") {
      throw new AccessorError("ACCESSOR_UNSUPPORTED", `open mode must be "rb" or "wb", got ${JSON.stringify(mode)}`, { resourceIdentifier: id, operation: "open" });
    }
    const path = this.remotePath(id, "open");
    if (normaliseId(id) === "") throw this.error("ACCESSOR_RESOURCE_INVALID", "open", id, "cannot open the root folder");
    return mode === "rb" ? this.openRead(id, path) : this.openWrite(id, path);
  }

  private openRead(id: string, path: string): Promise<AccessorData> {
    return this.run("open", id, async (c) => {
      const st = await statOrUndefined(c, path);
      if (!st) throw this.error("ACCESSOR_RESOURCE_NOT_FOUND", "open", id, "there is no file at");
      if (st.isDirectory()) throw this.error("ACCESSOR_RESOURCE_INVALID", "open", id, "cannot open a container:");
      const file = await c.open(path, "r");
      const data: SftpReadData = new SftpReadData(id, file, (e, op) => this.mapError(e, op, id), () => this.handles.delete(data));
      this.handles.add(data);
      return data;
    });
  }

  private openWrite(id: string, path: string): Promise<AccessorData> {
    const tempPath = this.remotePath(tempIdFor(id), "open");
    return this.run("open", id, async (c) => {
      if ((await statOrUndefined(c, path))?.isDirectory()) throw this.error("ACCESSOR_RESOURCE_INVALID", "open", id, "a container exists at");
      let file;
      try {
        file = await c.open(tempPath, "wx", { permissions: 0o644 });
      } catch (e) {
        if (e instanceof SftpError && e.code === "NO_SUCH_FILE") throw this.error("ACCESSOR_PARENT_NOT_FOUND", "open", id, "the container does not exist for", e);
        // The server may have created the file before the connection went: clean it up (and free
        // its name for a retry) on the next connection.
        if (isConnectionLoss(e)) this.addOrphan(tempPath);
        throw e;
      }
      const data: SftpWriteData = new SftpWriteData(id, c, file, tempPath, path, (e, op) => this.mapError(e, op, id), () => this.handles.delete(data),
        (orphan, e) => void (isConnectionLoss(e) && this.addOrphan(orphan)));
      this.handles.add(data);
      return data;
    });
  }

  /**
   * Uploads through SftpClient.upload (default streams: a large file is carried by several
   * sessions) to the same temporary name a "wb" handle writes, renamed over the target when whole.
   */
  async putFile(localPath: string, id: string, options: FileCopyOptions = {}): Promise<void> {
    const path = this.remotePath(id, "putFile");
    if (normaliseId(id) === "") throw this.error("ACCESSOR_RESOURCE_INVALID", "putFile", id, "cannot write the root folder");
    // Not retried on a new connection (like a "wb" handle's writes): the caller sees the loss.
    return this.run("putFile", id, async (c) => {
      const tempPath = this.remotePath(tempIdFor(id), "putFile");
      if ((await statOrUndefined(c, path))?.isDirectory()) throw this.error("ACCESSOR_RESOURCE_INVALID", "putFile", id, "a container exists at");
      try {
        await this.lanesFor(c).run((t) =>
          t.upload(localPath, tempPath, { atomic: false, mode: 0o644, signal: options.signal, onProgress: (p) => options.onProgress?.(p.transferred) }));
        await c.rename(tempPath, path, { overwrite: true });
      } catch (e) {
        // As for a "wb" handle: a lost connection leaves the temporary file for the next one to remove.
        if (isConnectionLoss(e)) this.addOrphan(tempPath);
        else await c.remove(tempPath).catch(() => {});
        if (e instanceof SftpError && e.code === "NO_SUCH_FILE") throw this.error("ACCESSOR_PARENT_NOT_FOUND", "putFile", id, "the container does not exist for", e);
        throw e;
      }
    }, false);
  }

  /** Downloads through SftpClient.download (default streams), to a local temporary file renamed into place. */
  async getFile(id: string, localPath: string, options: FileCopyOptions = {}): Promise<void> {
    const path = this.remotePath(id, "getFile");
    return this.run("getFile", id, (c) => this.lanesFor(c).run((t) =>
      t.download(path, localPath, { signal: options.signal, onProgress: (p) => options.onProgress?.(p.transferred) })), false);
  }

  // --- names ---------------------------------------------------------------------------------

  async getContainer(id: string): Promise<string> {
    return containerId(id);
  }

  /** `sftp://user@host:port/path` (draft-ietf-secsh-scp-sftp-ssh-uri; `/~/` = login directory). */
  async getUrl(id: string): Promise<string> {
    const rel = normaliseId(id, "getUrl");
    const full = [this.folder, rel].filter((s) => s !== "").join("/");
    const encoded = full.split("/").filter(Boolean).map(encodeURIComponent).join("/");
    const path = this.folder.startsWith("/") ? `/${encoded}` : `/~/${encoded}`;
    const host = this.host.includes(":") && !this.host.startsWith("[") ? `[${this.host}]` : this.host;
    return `sftp://${encodeURIComponent(this.username)}@${host}:${this.port}${path}`;
  }

  // --- lifetime ------------------------------------------------------------------------------

  /** True while a connection is open. */
  get connected(): boolean {
    return this.clientPromise !== undefined;
  }

  /** Aborts open handles (unfinished writes are discarded) and closes the connection. */
  async close(): Promise<void> {
    for (const h of [...this.handles]) await h.abort().catch(() => {});
    this.handles.clear();
    await this.dropLanes();
    const p = this.clientPromise;
    this.clientPromise = undefined;
    if (p) await (await p.catch(() => undefined))?.close().catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // --- internals -----------------------------------------------------------------------------

  /** The server path of `id`: the folder joined with the checked identifier. */
  private remotePath(id: string, operation: string): string {
    const rel = normaliseId(id, operation);
    if (this.folder === "") return rel === "" ? "." : rel;
    if (rel === "") return this.folder;
    return this.folder.endsWith("/") ? this.folder + rel : `${this.folder}/${rel}`;
  }

  private connectOptions(): ConnectOptions {
    const o = this.#options;
    const options: ConnectOptions = {
      ...o.connectOptions,
      host: this.host,
      port: this.port,
      username: this.username,
      hostKeys: o.hostKeys ?? o.connectOptions?.hostKeys ?? { policy: "strict" },
    };
    if (o.password !== undefined) options.password = o.password;
    if (o.privateKey !== undefined) options.privateKey = o.privateKey;
    if (o.passphrase !== undefined) options.passphrase = o.passphrase;
    if (o.agent !== undefined) options.agent = o.agent;
    return options;
  }

  /** The live client, connecting (or reconnecting after a drop) when needed. */
  private async client(operation: string, id: string): Promise<SftpClient> {
    for (let attempt = 0; ; attempt++) {
      const p = (this.clientPromise ??= this.connectNow());
      let c: SftpClient;
      try {
        c = await p;
      } catch (e) {
        if (this.clientPromise === p) this.clientPromise = undefined;
        throw new AccessorError("ACCESSOR_CONNECTION_FAILED",
          `cannot connect to sftp://${this.host}:${this.port} as ${this.username}: ${(e as Error)?.message ?? e}`,
          { resourceIdentifier: id, operation, cause: e });
      }
      if (!c.session.closed && !c.ssh.closed) return c;
      this.forget(c, p);
      if (attempt >= 1) {
        throw new AccessorError("ACCESSOR_CONNECTION_FAILED", `the connection to ${this.host}:${this.port} closed right after it opened`, { resourceIdentifier: id, operation });
      }
    }
  }

  private async connectNow(): Promise<SftpClient> {
    const c = await (this.#options.connect ?? defaultConnect)(this.connectOptions());
    await this.removeOrphans(c);
    return c;
  }

  /**
   * Records a temporary file a lost connection kept us from removing. Another operation may
   * already have reconnected (transfers run in parallel), so try the current client right away;
   * whatever still fails is retried on the next connection.
   */
  private addOrphan(path: string): void {
    this.orphans.add(path);
    const current = this.clientPromise;
    if (current) void current.then((c) => this.removeOrphans(c), () => {});
  }

  private async removeOrphans(c: SftpClient): Promise<void> {
    for (const orphan of [...this.orphans]) {
      try {
        await c.remove(orphan);
        this.orphans.delete(orphan);
      } catch (e) {
        if (e instanceof SftpError && e.code === "NO_SUCH_FILE") this.orphans.delete(orphan);
      }
    }
  }

  private forget(c: SftpClient, p?: Promise<SftpClient>): void {
    if (p === undefined || this.clientPromise === p) this.clientPromise = undefined;
    if (this.lanes?.main === c) void this.dropLanes();
    void c.close().catch(() => {});
  }

  /**
   * The sessions whole-file copies spread over (transfer-lanes.ts) on connection `c`: the
   * members of a sequence each get a window of their own. A new connection starts a new set.
   */
  private lanesFor(c: SftpClient): TransferLanes {
    if (this.lanes?.main !== c) {
      void this.dropLanes();
      this.lanes = new TransferLanes(c);
    }
    return this.lanes;
  }

  /** Closes the extra sessions of the current set; never throws. */
  private async dropLanes(): Promise<void> {
    const lanes = this.lanes;
    this.lanes = undefined;
    await lanes?.close().catch(() => {});
  }

  /** Runs `fn` on a live client; retries once on a new connection when `idempotent`. */
  private async run<T>(operation: string, id: string, fn: (c: SftpClient) => Promise<T>, idempotent = true): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const c = await this.client(operation, id);
      try {
        return await fn(c);
      } catch (e) {
        if (!isConnectionLoss(e)) throw this.mapError(e, operation, id);
        if (this.clientPromise !== undefined && (await this.clientPromise.catch(() => undefined)) === c) this.forget(c);
        if (!idempotent || attempt >= 1) throw this.mapError(e, operation, id);
      }
    }
  }

  private error(code: AccessorError["code"], operation: string, id: string, what: string, cause?: unknown): AccessorError {
    return new AccessorError(code, `${operation}: ${what} ${JSON.stringify(id)} on sftp://${this.host}:${this.port}`, { resourceIdentifier: id, operation, cause });
  }

  /** SftpError / SshError → AccessorError; AccessorErrors pass through. */
  private mapError(e: unknown, operation: string, id: string): unknown {
    if (e instanceof AccessorError) return e;
    if (isConnectionLoss(e)) {
      return new AccessorError("ACCESSOR_CONNECTION_FAILED",
        `${operation} ${JSON.stringify(id)}: the connection to ${this.host}:${this.port} was lost (${(e as Error).message}); ` +
        "the next call reconnects, so the operation can be retried", { resourceIdentifier: id, operation, cause: e });
    }
    if (e instanceof SftpError) {
      const code = e.code === "NO_SUCH_FILE" ? "ACCESSOR_RESOURCE_NOT_FOUND"
        : e.code === "PERMISSION_DENIED" ? "ACCESSOR_PERMISSION_DENIED"
        : e.code === "OP_UNSUPPORTED" ? "ACCESSOR_UNSUPPORTED"
        : "ACCESSOR_OPERATION_FAILED";
      return new AccessorError(code, `${operation} ${JSON.stringify(id)}: ${e.message}`, { resourceIdentifier: id, operation, cause: e });
    }
    const message = e instanceof SshError || e instanceof Error ? e.message : String(e);
    return new AccessorError("ACCESSOR_OPERATION_FAILED", `${operation} ${JSON.stringify(id)}: ${message}`, { resourceIdentifier: id, operation, cause: e });
  }
}

async function statOrUndefined(c: SftpClient, path: string) {
  try {
    return await c.stat(path);
  } catch (e) {
    if (e instanceof SftpError && e.code === "NO_SUCH_FILE") return undefined;
    throw e;
  }
}
