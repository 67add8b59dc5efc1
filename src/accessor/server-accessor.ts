/**
 * ServerAccessor: ftrack's own storage (the `ftrack.server` location) as an Accessor — the
 * counterpart of Python's `ftrack_api.accessor.server._ServerAccessor`, streaming where Python
 * buffers the whole file in memory, and on the global `fetch` so it runs on Node, Deno and Bun.
 *
 * Resource identifiers are component ids (Python's EntityIdStructure). Reading is
 * `GET {server}/component/get`, removing `GET {server}/component/remove`, writing the upload
 * protocol of server-upload.ts. Like Python's accessor it cannot tell what exists — `exists()`
 * is always false and there is no listing: what ftrack.server holds is known from its
 * ComponentLocation records only. Containers are nothing on the server: `makeContainer` does
 * nothing and `getContainer` has no parent (Python returns None).
 *
 * Credentials (server URL, API user, API key) are the caller's Session's. The key is never put
 * in a message, an error or `getUrl()`, and the Session is held in a private field.
 */
import type { CryptoBackend } from "../ssh/crypto/cipher.js";
import { AccessorError, type Accessor, type AccessorData, type AccessorOpenMode, type AccessorOpenOptions } from "./accessor.js";
import { quote, type SessionLike } from "./ftrack.js";
import { ServerReadData, ServerWriteData } from "./server-data.js";
import {
  abortedError, drain, isAbortError, serverError, statusIsTransient, TransientError, withRetries, type RequestPolicy, type ServerCredentials,
} from "./server-http.js";
import { ComponentUpload, type UploadOptions, type UploadProgress } from "./server-upload.js";

/** The Location entity ftrack creates for its own storage (the same id on every server). */
export const SERVER_LOCATION_ID = "3a372bde-05bc-11e4-8908-20c9d081909b";
export const SERVER_LOCATION_NAME = "ftrack.server";

/** An @ftrack/api Session has all of these: `query`, `serverUrl`, `apiUser`, `apiKey`. */
export type ServerSessionLike = Pick<SessionLike, "query"> & ServerCredentials;

export interface ServerAccessorOptions extends Omit<RequestPolicy, "signal"> {
  /** Upload part size (default: @ftrack/api's table, 8 MiB and up). */
  partSize?: number;
  /** Parts uploaded at the same time (default 6). */
  parallel?: number;
  /** Check part ETags against their MD5 (default false; see UploadOptions.verifyParts). */
  verifyParts?: boolean;
  /** Who computes MD5: "auto" (default: native where it passes RFC 1321's suite), "pure" or "native" (see UploadOptions.crypto). */
  crypto?: CryptoBackend;
}

export interface OpenWriterOptions {
  /** The number of bytes that will be written (default: the component's `size`). */
  size?: number;
  /** The file name ftrack keeps (default: the component's name + file_type). */
  fileName?: string;
  signal?: AbortSignal;
  onProgress?: (progress: UploadProgress) => void;
}

export class ServerAccessor implements Accessor {
  readonly #session: ServerSessionLike;
  private readonly options: ServerAccessorOptions;
  private readonly handles = new Set<AccessorData>();

  constructor(session: ServerSessionLike, options: ServerAccessorOptions = {}) {
    for (const key of ["serverUrl", "apiUser", "apiKey"] as const) {
      if (typeof session?.[key] !== "string" || session[key] === "") {
        throw new AccessorError("ACCESSOR_CONFIGURATION", `the session has no ${key}: ftrack.server needs the Session's server URL, API user and API key`);
      }
    }
    this.#session = session;
    this.options = options;
  }

  private get secrets(): string[] {
    return [this.#session.apiKey];
  }

  private base(): string {
    return this.#session.serverUrl.replace(/\/+$/, "");
  }

  /** `{server}/component/{what}?id=…&username=…&apiKey=…` (the key is ftrack's protocol here). */
  private componentUrl(what: "get" | "remove", id: string): string {
    return `${this.base()}/component/${what}?${new URLSearchParams({ id, username: this.#session.apiUser, apiKey: this.#session.apiKey })}`;
  }

  private checkId(id: string, operation: string): string {
    if (typeof id !== "string" || id.trim() === "" || /[\0/]/.test(id)) {
      throw new AccessorError("ACCESSOR_FILESYSTEM_PATH", `ftrack.server identifiers are component ids, not ${JSON.stringify(id)}`, { resourceIdentifier: String(id), operation });
    }
    return id.trim();
  }

  /** Always false, as in Python: ftrack.server cannot be asked; its records say what it holds. */
  async exists(id: string): Promise<boolean> {
    this.checkId(id, "exists");
    return false;
  }

  async isFile(id: string): Promise<boolean> {
    throw this.unsupported("isFile", id);
  }

  /** False: there are no containers on ftrack.server (members are stored by their own ids). */
  async isContainer(id: string): Promise<boolean> {
    this.checkId(id, "isContainer");
    return false;
  }

  async isSequence(id: string): Promise<boolean> {
    throw this.unsupported("isSequence", id);
  }

  async list(id: string): Promise<string[]> {
    throw this.unsupported("list", id);
  }

  /** Nothing to make (Python does nothing either). */
  async makeContainer(id: string): Promise<void> {
    this.checkId(id, "makeContainer");
  }

  async getContainer(id: string): Promise<string> {
    throw new AccessorError("ACCESSOR_PARENT_NOT_FOUND", `component ${JSON.stringify(id)} on ftrack.server has no container`, { resourceIdentifier: id, operation: "getContainer" });
  }

  /** `{server}/component/get?id=…` without credentials: it opens in a browser logged in to ftrack. */
  async getUrl(id: string): Promise<string> {
    return `${this.base()}/component/get?${new URLSearchParams({ id: this.checkId(id, "getUrl") })}`;
  }

  async remove(id: string): Promise<void> {
    const cid = this.checkId(id, "remove");
    try {
      await withRetries(this.policy(), async (signal) => {
        const response = await fetch(this.componentUrl("remove", cid), { redirect: "follow", signal });
        const body = await drain(response);
        if (response.ok) return;
        const message = `removing component ${cid} from ftrack.server answered HTTP ${response.status}${body ? `: ${body}` : ""}`;
        if (statusIsTransient(response.status)) throw new TransientError(message, response.status);
        const code = response.status === 404 ? "ACCESSOR_RESOURCE_NOT_FOUND" : response.status === 401 || response.status === 403 ? "ACCESSOR_PERMISSION_DENIED" : "ACCESSOR_OPERATION_FAILED";
        throw serverError(code, message, this.secrets, { resourceIdentifier: cid, operation: "remove" });
      });
    } catch (e) {
      throw this.failure(e, "remove", cid);
    }
  }

  async open(id: string, mode: AccessorOpenMode = "rb", options: AccessorOpenOptions = {}): Promise<AccessorData> {
    if (mode === "wb") return this.openWriter(id, { signal: options.signal });
    if (mode !== "rb") throw new AccessorError("ACCESSOR_UNSUPPORTED", `open mode ${JSON.stringify(mode)} is not supported (use "rb" or "wb")`, { resourceIdentifier: id, operation: "open" });
    const cid = this.checkId(id, "open");
    const data = new ServerReadData(cid, this.componentUrl("get", cid), this.secrets, { ...this.policy(), signal: options.signal });
    try {
      await data.start();
    } catch (e) {
      await data.close().catch(() => {});
      throw this.failure(e, "open", cid);
    }
    return this.track(data);
  }

  /**
   * A "wb" handle with upload options: the size to announce (default the component's `size`),
   * an AbortSignal and upload progress (bytes the storage confirmed).
   */
  async openWriter(id: string, options: OpenWriterOptions = {}): Promise<AccessorData> {
    const cid = this.checkId(id, "open");
    let { size, fileName } = options;
    if (size === undefined || fileName === undefined) {
      // Python's ServerFile loads the component for its name too.
      let component: Record<string, unknown> | undefined;
      try {
        component = (await this.#session.query(`select id, name, file_type, size from Component where id is ${quote(cid)}`)).data[0];
      } catch (e) {
        throw serverError("ACCESSOR_OPERATION_FAILED", `cannot load component ${cid}: ${(e as Error)?.message ?? e}`, this.secrets, { resourceIdentifier: cid, operation: "open", cause: e });
      }
      if (!component) throw new AccessorError("ACCESSOR_RESOURCE_NOT_FOUND", `there is no component ${cid} to upload data for`, { resourceIdentifier: cid, operation: "open" });
      const type = typeof component.file_type === "string" ? component.file_type.replace(/^\.+/, "") : "";
      fileName ??= `${String(component.name ?? cid)}${type ? `.${type}` : ""}`;
      size ??= typeof component.size === "number" ? component.size : undefined;
    }
    if (size === undefined) {
      throw new AccessorError("ACCESSOR_OPERATION_FAILED", `component ${cid} has no size: ftrack.server needs the size before the upload starts (set the component's size)`, { resourceIdentifier: cid, operation: "open" });
    }
    const uploadOptions: UploadOptions = { ...this.policy(), partSize: this.options.partSize, parallel: this.options.parallel, verifyParts: this.options.verifyParts, crypto: this.options.crypto, signal: options.signal, onProgress: options.onProgress };
    let upload: ComponentUpload;
    try {
      upload = new ComponentUpload(this.#session, { componentId: cid, fileName, size }, uploadOptions);
    } catch (e) {
      // A size ftrack.server cannot take (over 1,280 GiB) or that is not a byte count.
      throw new AccessorError("ACCESSOR_OPERATION_FAILED", `cannot upload component ${cid}: ${(e as Error)?.message ?? e}`, { resourceIdentifier: cid, operation: "open", cause: e });
    }
    return this.track(new ServerWriteData(cid, upload));
  }

  /** Discards unfinished uploads and stops reads. */
  async close(): Promise<void> {
    const open = [...this.handles];
    this.handles.clear();
    await Promise.all(open.map((h) => h.abort().catch(() => {})));
  }

  private policy(): RequestPolicy {
    const { attempts, baseDelayMs, maxDelayMs, timeoutMs } = this.options;
    return { attempts, baseDelayMs, maxDelayMs, timeoutMs };
  }

  private track(data: AccessorData): AccessorData {
    this.handles.add(data);
    const forget = () => this.handles.delete(data);
    const { close, abort } = data;
    data.close = () => close.call(data).finally(forget);
    data.abort = () => abort.call(data).finally(forget);
    return data;
  }

  private unsupported(operation: string, id: string): AccessorError {
    return new AccessorError("ACCESSOR_UNSUPPORTED", `ftrack.server cannot answer ${operation}: its ComponentLocation records say what it holds`, { resourceIdentifier: id, operation });
  }

  private failure(e: unknown, operation: string, id: string): AccessorError {
    if (e instanceof AccessorError) return e;
    if (isAbortError(e)) return abortedError(operation, id);
    return serverError("ACCESSOR_CONNECTION_FAILED", `${operation} of component ${id} on ftrack.server failed: ${(e as Error)?.message ?? e}`, this.secrets, { resourceIdentifier: id, operation, cause: e });
  }
}
