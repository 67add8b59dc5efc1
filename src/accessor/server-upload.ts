/**
 * Uploading one component's data to ftrack.server, streamed: bytes are written in as they come
 * (from a local file, an SFTP read, anything) and leave in parts, so at most one part per
 * in-flight request plus the part being filled is held in memory — never the whole file, and
 * never a temporary copy.
 *
 * The protocol is @ftrack/api's uploader's (uploader.ts), which @ftrack/api only runs in a
 * browser: the API action `get_upload_metadata` (component_id, file_name, file_size, and
 * `parts` for a multipart upload) answers with one signed URL and its headers, or with an
 * `upload_id` and one signed URL per part; parts are PUT in parallel (at most 6), each must
 * answer 200 with an ETag; `complete_multipart_upload` then gets the parts sorted by number,
 * ETags without quotes. Part sizes follow @ftrack/api's table (8 MiB, up to 128 MiB for the
 * largest files, at most 10,000 parts); a file of at most two parts goes as one PUT with the
 * base64 MD5 `checksum` (Python's ServerFile sends it), so the storage can check it.
 *
 * Every request is retried on transient failures (withRetries); with `verifyParts`, a part
 * whose ETag is not the MD5 of the bytes sent is sent again. ftrack has no action to abort a
 * multipart upload: after a failure or abort the parts already sent stay in the storage until
 * its own expiry rules remove them; nothing is recorded in ftrack.
 */
import { bytesToHex } from "@noble/hashes/utils.js";
import type { CryptoBackend } from "../ssh/crypto/cipher.js";
import { md5Function } from "../ssh/crypto/suite.js";
import { encodeBase64 } from "../ssh/wire/base64.js";
import { follow } from "../sftp/abort.js";
import { AccessorError } from "./accessor.js";
import {
  abortedError, callApi, drain, isAbortError, serverError, statusIsTransient, TransientError, withRetries,
  type RequestPolicy, type ServerCredentials,
} from "./server-http.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** The storage's limit on parts per upload. */
export const MAX_UPLOAD_PARTS = 10_000;
/** Parts sent at the same time (@ftrack/api's default). */
export const MAX_PARTS_IN_FLIGHT = 6;

/** @ftrack/api's part size for a file of `fileSize` bytes. */
export function uploadPartSize(fileSize: number): number {
  if (fileSize > 128 * MiB * MAX_UPLOAD_PARTS) throw new RangeError(`${fileSize} bytes is more than ftrack.server accepts (1,280 GiB)`);
  if (fileSize > 64 * GiB) return 128 * MiB;
  if (fileSize > 8 * GiB) return 64 * MiB;
  if (fileSize > 1 * GiB) return 32 * MiB;
  if (fileSize > 128 * MiB) return 16 * MiB;
  return 8 * MiB;
}

export interface UploadProgress {
  /** Bytes the storage has confirmed, and the file's size. */
  transferred: number;
  total: number;
}

export interface UploadOptions extends RequestPolicy {
  /** Part size (default: uploadPartSize(size)); parts stay ≤ MAX_UPLOAD_PARTS. */
  partSize?: number;
  /** Parts in flight (default 6). */
  parallel?: number;
  onProgress?: (progress: UploadProgress) => void;
  /**
   * Check each part's ETag against the MD5 of the bytes sent and resend a part that differs
   * (default false). Only for storages whose part ETags are plain MD5s (S3 without KMS
   * encryption, MinIO without encryption): KMS gives other tags, which would fail every part.
   * Costs CPU: one MD5 of every part (native where the runtime has it, see `crypto`). Without
   * it, the storage still checks every part at completion and the single-PUT checksum.
   */
  verifyParts?: boolean;
  /**
   * Who computes MD5 (part checks, the single-PUT checksum): "auto" (default) the runtime's
   * node:crypto when it passes RFC 1321's test suite, else noble (about a tenth of the speed);
   * "pure" noble; "native" node:crypto or a NATIVE_CRYPTO_UNAVAILABLE error.
   */
  crypto?: CryptoBackend;
}

export interface UploadTarget {
  componentId: string;
  /** name + file_type, as ftrack shows it when the file is downloaded. */
  fileName: string;
  /** The exact number of bytes that will be written. */
  size: number;
}

interface PartUrl {
  signed_url: string;
  part_number: number;
}

/**
 * One upload: `write()` the bytes in order (it waits while the parallel slots are full),
 * `finish()` sends the rest and completes, `abort()` cancels the requests in flight.
 */
export class ComponentUpload {
  readonly partSize: number;
  /** Parts, or 1 for a single PUT. */
  readonly partCount: number;
  /** Most bytes held at once (the part being filled plus those in flight), for tests and tuning. */
  peakBuffered = 0;
  private readonly secrets: string[];
  private readonly controller = new AbortController();
  private readonly policy: RequestPolicy;
  /** The part (or, for a single PUT, the file) being filled, and how much of it is. */
  private filling: Uint8Array | undefined;
  private filled = 0;
  private written = 0;
  private confirmed = 0;
  private nextPart = 1;
  private inFlight = new Map<number, Promise<void>>();
  private inFlightBytes = 0;
  private etags: { part_number: number; e_tag: string }[] = [];
  private urls: Promise<{ uploadId: string; urls: Map<number, string> }> | undefined;
  private failure: unknown;
  private readonly unlink: () => void;
  private md5Ready: Promise<(data: Uint8Array) => Uint8Array> | undefined;

  constructor(private readonly credentials: ServerCredentials, readonly target: UploadTarget, private readonly options: UploadOptions = {}) {
    if (!Number.isSafeInteger(target.size) || target.size < 0) throw new RangeError(`bad upload size ${target.size}`);
    const min = Math.ceil(target.size / MAX_UPLOAD_PARTS);
    this.partSize = Math.max(options.partSize ?? uploadPartSize(target.size), min, 1);
    const parts = Math.ceil(target.size / this.partSize);
    // @ftrack/api: two parts or fewer go as one PUT.
    this.partCount = parts <= 2 ? 1 : parts;
    this.secrets = [credentials.apiKey];
    this.unlink = follow(options.signal, this.controller);
    this.policy = { ...options, signal: this.controller.signal };
  }

  /** The MD5 implementation `crypto` selects (chosen on first use). */
  private md5(): Promise<(data: Uint8Array) => Uint8Array> {
    return (this.md5Ready ??= md5Function(this.options.crypto ?? "auto"));
  }

  get multipart(): boolean {
    return this.partCount > 1;
  }

  /** Appends bytes; resolves once they are buffered (waiting for a free slot when needed). */
  async write(data: Uint8Array): Promise<void> {
    this.check();
    if (this.written + data.length > this.target.size) {
      throw this.fail(serverError("ACCESSOR_OPERATION_FAILED", `more data than the ${this.target.size} bytes announced for component ${this.target.componentId}`, this.secrets, this.details()));
    }
    this.written += data.length;
    // Copied in, so the caller may reuse its buffer once write() resolves.
    for (let offset = 0; offset < data.length;) {
      this.filling ??= new Uint8Array(this.multipart ? Math.min(this.partSize, this.target.size - (this.nextPart - 1) * this.partSize) : this.target.size);
      const n = Math.min(data.length - offset, this.filling.length - this.filled);
      this.filling.set(data.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      this.track();
      if (this.multipart && this.filled === this.filling.length) await this.startPart(this.takeFilled());
    }
  }

  /** Sends what is left, waits for every part and completes the upload. */
  async finish(): Promise<void> {
    try {
      this.check();
      if (this.written !== this.target.size) {
        throw serverError("ACCESSOR_OPERATION_FAILED", `component ${this.target.componentId}: ${this.written} bytes written, ${this.target.size} announced`, this.secrets, this.details());
      }
      if (!this.multipart) {
        await this.singlePut(this.takeFilled());
      } else {
        // Every part, the last included, was started by write() once full.
        await Promise.all(this.inFlight.values());
        this.check();
        const { uploadId } = await this.urlsFor();
        this.etags.sort((a, b) => a.part_number - b.part_number);
        await callApi(this.credentials, [{ action: "complete_multipart_upload", component_id: this.target.componentId, upload_id: uploadId, parts: this.etags }], this.policy);
      }
    } catch (e) {
      throw this.fail(e);
    } finally {
      this.unlink();
    }
  }

  /** Cancels the requests in flight; resolves once they have stopped. */
  async abort(): Promise<void> {
    this.failure ??= abortedError("upload", this.target.componentId);
    this.controller.abort();
    this.unlink();
    await Promise.all(this.inFlight.values());
  }

  // --- internals -------------------------------------------------------------------------------

  private details() {
    return { resourceIdentifier: this.target.componentId, operation: "upload" };
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.controller.signal.aborted) throw (this.failure = abortedError("upload", this.target.componentId));
  }

  /** Records the first failure (as an AccessorError), stops the other requests, returns it. */
  private fail(e: unknown): AccessorError {
    if (this.failure === undefined) {
      this.failure = e instanceof AccessorError ? e
        : isAbortError(e) ? abortedError("upload", this.target.componentId)
        : serverError("ACCESSOR_CONNECTION_FAILED", `uploading component ${this.target.componentId} failed: ${(e as Error)?.message ?? e}`, this.secrets, { ...this.details(), cause: e });
      this.controller.abort();
    }
    return this.failure as AccessorError;
  }

  private track(): void {
    this.peakBuffered = Math.max(this.peakBuffered, (this.filling?.length ?? 0) + this.inFlightBytes);
  }

  private takeFilled(): Uint8Array {
    const out = this.filling ?? new Uint8Array(0);
    this.filling = undefined;
    this.filled = 0;
    return out;
  }

  private progress(n: number): void {
    this.confirmed += n;
    this.options.onProgress?.({ transferred: this.confirmed, total: this.target.size });
  }

  private urlsFor() {
    this.urls ??= callApi(this.credentials, [{
      action: "get_upload_metadata", component_id: this.target.componentId, file_name: this.target.fileName, file_size: this.target.size, parts: this.partCount,
    }], this.policy).then(([meta]) => {
      const m = meta as { upload_id?: unknown; urls?: unknown };
      if (typeof m.upload_id !== "string" || !Array.isArray(m.urls)) throw serverError("ACCESSOR_OPERATION_FAILED", "get_upload_metadata did not answer with a multipart upload", this.secrets, this.details());
      return { uploadId: m.upload_id, urls: new Map((m.urls as PartUrl[]).map((u) => [u.part_number, u.signed_url])) };
    });
    return this.urls;
  }

  /** Starts a part once a slot is free; the part's promise never rejects (failures go to fail()). */
  private async startPart(data: Uint8Array): Promise<void> {
    const number = this.nextPart++;
    const parallel = Math.max(1, this.options.parallel ?? MAX_PARTS_IN_FLIGHT);
    // Counted while it waits for a slot too: it is held in memory all the same.
    this.inFlightBytes += data.length;
    this.track();
    while (this.inFlight.size >= parallel) await Promise.race(this.inFlight.values());
    if (this.failure !== undefined || this.controller.signal.aborted) {
      this.inFlightBytes -= data.length;
      this.check();
    }
    const run = this.sendPart(number, data).then(
      () => this.progress(data.length),
      (e) => void this.fail(e),
    ).finally(() => {
      this.inFlight.delete(number);
      this.inFlightBytes -= data.length;
    });
    this.inFlight.set(number, run);
  }

  private async sendPart(number: number, data: Uint8Array): Promise<void> {
    const { urls } = await this.urlsFor();
    const url = urls.get(number);
    if (!url) throw serverError("ACCESSOR_OPERATION_FAILED", `get_upload_metadata gave no URL for part ${number}`, this.secrets, this.details());
    // Opt-in: one MD5 of every part (see verifyParts).
    const expected = this.options.verifyParts ? bytesToHex((await this.md5())(data)) : undefined;
    const etag = await withRetries(this.putPolicy(data.length), async (signal) => {
      const response = await fetch(url, { method: "PUT", body: data as Uint8Array<ArrayBuffer>, signal });
      await this.checkStatus(response, `part ${number}`);
      const tag = response.headers.get("etag")?.replaceAll('"', "").trim();
      if (!tag) throw new TransientError(`part ${number} was answered without an ETag`);
      // A mismatch means the bytes arrived damaged: send them again.
      if (expected !== undefined && tag.toLowerCase() !== expected) throw new TransientError(`part ${number} arrived damaged (ETag ${tag}, MD5 ${expected})`);
      return tag;
    });
    this.etags.push({ part_number: number, e_tag: etag });
  }

  private async singlePut(data: Uint8Array): Promise<void> {
    const checksum = encodeBase64((await this.md5())(data));
    const [meta] = await callApi(this.credentials, [{
      action: "get_upload_metadata", component_id: this.target.componentId, file_name: this.target.fileName, file_size: this.target.size, checksum,
    }], this.policy);
    const { url, headers } = (meta ?? {}) as { url?: unknown; headers?: unknown };
    if (typeof url !== "string") throw serverError("ACCESSOR_OPERATION_FAILED", "get_upload_metadata did not answer with an upload URL", this.secrets, this.details());
    // Exactly the headers the URL was signed with; fetch sets Content-Length itself.
    const sent = Object.fromEntries(Object.entries((headers ?? {}) as Record<string, unknown>).filter(([k, v]) => typeof v === "string" && k.toLowerCase() !== "content-length")) as Record<string, string>;
    this.inFlightBytes = data.length;
    this.track();
    await withRetries(this.putPolicy(data.length), async (signal) => {
      const response = await fetch(url, { method: "PUT", headers: sent, body: data as Uint8Array<ArrayBuffer>, signal });
      await this.checkStatus(response, "the file");
      await drain(response);
    });
    this.inFlightBytes = 0;
    this.progress(data.length);
  }

  /** A PUT's time limit grows with its size: the per-request limit for every 8 MiB. */
  private putPolicy(bytes: number): RequestPolicy {
    return { ...this.policy, timeoutMs: (this.policy.timeoutMs ?? 120_000) * Math.max(1, Math.ceil(bytes / (8 * MiB))) };
  }

  private async checkStatus(response: Response, what: string): Promise<void> {
    if (response.ok) return;
    const body = await drain(response);
    const message = `uploading ${what} of component ${this.target.componentId} answered HTTP ${response.status}${body ? `: ${body}` : ""}`;
    if (statusIsTransient(response.status)) throw new TransientError(message, response.status);
    throw serverError(response.status === 401 || response.status === 403 ? "ACCESSOR_PERMISSION_DENIED" : "ACCESSOR_OPERATION_FAILED", message, this.secrets, this.details());
  }
}
