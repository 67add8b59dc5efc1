/**
 * HTTP for the ftrack.server location, on the global `fetch` (Node, Deno and Bun all have it):
 * the credentials taken from the caller's Session, JSON API calls (`POST {server}/api`), bounded
 * requests (a timeout per request, on top of the caller's AbortSignal) and retries with
 * exponential backoff and jitter for what may succeed on a second try — network errors, HTTP
 * 5xx, 408 and 429 — but not for other 4xx answers or ftrack API exceptions, which would only
 * fail again.
 *
 * The API key travels in the `/component/get` and `/component/remove` query strings (that is
 * ftrack's protocol), so every message built here goes through `redact()`, and causes are
 * replaced by redacted copies: an error, its `cause` chain and util.inspect of either never
 * show the key.
 */
import { AccessorError, type AccessorErrorCode } from "./accessor.js";
import { follow } from "../sftp/abort.js";

/** What the server location needs from an @ftrack/api Session (which has all of these). */
export interface ServerCredentials {
  serverUrl: string;
  apiUser: string;
  apiKey: string;
  /** The JSON API path (default "/api"). */
  apiEndpoint?: string;
  /** Extra headers the Session sends with API calls. */
  additionalHeaders?: Record<string, unknown>;
}

export interface RequestPolicy {
  /** Attempts per request, the first included (default 5). */
  attempts?: number;
  /** First backoff delay; doubled per attempt up to `maxDelayMs` (defaults 250 ms, 8 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Time allowed for one request (one attempt); default 120 s. For reads, between chunks. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A failure worth another attempt (network error, 5xx, 408, 429). */
export class TransientError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = "TransientError";
  }
}

/** `text` with every occurrence of the secrets (raw and URL-encoded) replaced by "***". */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (!s) continue;
    for (const form of new Set([s, encodeURIComponent(s), new URLSearchParams({ k: s }).toString().slice(2)])) out = out.split(form).join("***");
  }
  return out;
}

/** A copy of `e` whose message (and its causes') is redacted; undefined stays undefined. */
export function redactedCause(e: unknown, secrets: readonly string[], depth = 0): Error | undefined {
  if (e === undefined || e === null) return undefined;
  const message = redact(e instanceof Error ? e.message : String(e), secrets);
  const inner = depth < 4 && e instanceof Error ? redactedCause((e as { cause?: unknown }).cause, secrets, depth + 1) : undefined;
  const copy = new Error(message, inner === undefined ? undefined : { cause: inner });
  copy.name = e instanceof Error ? e.name : "Error";
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string") (copy as { code?: string }).code = code;
  return copy;
}

/** The accessor error for `message`, redacted, with a redacted cause. */
export function serverError(code: AccessorErrorCode, message: string, secrets: readonly string[], details: { resourceIdentifier?: string; operation?: string; cause?: unknown } = {}): AccessorError {
  return new AccessorError(code, redact(message, secrets), { ...details, cause: redactedCause(details.cause, secrets) });
}

export function abortedError(operation: string, resourceIdentifier?: string): AccessorError {
  return new AccessorError("ACCESSOR_OPERATION_FAILED", `${operation} of ${resourceIdentifier ?? "ftrack.server data"} was aborted`, { operation, resourceIdentifier, cause: new DOMException("aborted", "AbortError") });
}

export function isAbortError(e: unknown): boolean {
  return (e as { name?: unknown })?.name === "AbortError" || (e instanceof AccessorError && (e.cause as { name?: unknown })?.name === "AbortError");
}

/** Waits `ms`; rejects with an AbortError as soon as `signal` aborts. */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new DOMException("aborted", "AbortError"));
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", stop);
    };
    const stop = () => {
      done();
      reject(new DOMException("aborted", "AbortError"));
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, ms);
    signal?.addEventListener("abort", stop, { once: true });
  });

/** The wait before attempt `n + 1`: doubling from `baseDelayMs`, capped, with jitter (50–100 %). */
export function backoffDelay(policy: RequestPolicy, n: number): number {
  return Math.min(policy.maxDelayMs ?? 8000, (policy.baseDelayMs ?? 250) * 2 ** (n - 1)) * (0.5 + Math.random() / 2);
}

/**
 * Runs `attempt` until it succeeds, fails with something not transient, the attempts are used
 * up, or `policy.signal` aborts. `attempt` gets a signal that also fires on the per-request
 * timeout (a timeout counts as transient) and a `touch()` that restarts that timeout (for
 * streaming bodies: the limit is then between chunks). `onRetry` sees each transient failure.
 */
export async function withRetries<T>(
  policy: RequestPolicy,
  attempt: (signal: AbortSignal, touch: () => void, n: number) => Promise<T>,
  onRetry?: (error: unknown, n: number) => void,
): Promise<T> {
  const attempts = Math.max(1, policy.attempts ?? 5);
  for (let n = 1; ; n++) {
    if (policy.signal?.aborted) throw new DOMException("aborted", "AbortError");
    const { signal, touch, dispose, timedOut } = requestSignal(policy.signal, policy.timeoutMs ?? 120_000);
    try {
      return await attempt(signal, touch, n);
    } catch (e) {
      const error = timedOut() ? new TransientError(`no answer within ${policy.timeoutMs ?? 120_000} ms`) : e;
      if (policy.signal?.aborted) throw new DOMException("aborted", "AbortError");
      if (!isTransient(error) || n >= attempts) throw error;
      onRetry?.(error, n);
      await sleep(backoffDelay(policy, n), policy.signal);
    } finally {
      dispose();
    }
  }
}

/** Network errors (fetch's TypeError, a reset body stream) and TransientError are transient. */
export function isTransient(e: unknown): boolean {
  if (e instanceof TransientError) return true;
  if (e instanceof AccessorError || isAbortError(e)) return false;
  return e instanceof TypeError || /ECONNRESET|EPIPE|socket|terminated|other side closed|network/i.test(String((e as Error)?.message ?? e));
}

/** HTTP status → transient (retry) or final. */
export function statusIsTransient(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

function requestSignal(outer: AbortSignal | undefined, timeoutMs: number) {
  const controller = new AbortController();
  let expired = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      expired = true;
      controller.abort(new DOMException("timed out", "TimeoutError"));
    }, timeoutMs);
  };
  const unfollow = follow(outer, controller);
  arm();
  return {
    signal: controller.signal,
    touch: arm,
    timedOut: () => expired,
    dispose: () => {
      clearTimeout(timer);
      unfollow();
    },
  };
}

/** Discards a response body so the connection can be reused; errors do not matter here. */
export async function drain(response: Response): Promise<string> {
  try {
    return (await response.text()).slice(0, 300);
  } catch {
    return "";
  }
}

/**
 * One JSON API call with retries: POST `operations` to `{serverUrl}{apiEndpoint}` with the
 * Session's headers. An `exception` in the answer is final (ftrack rejected the operation).
 */
export async function callApi(credentials: ServerCredentials, operations: Record<string, unknown>[], policy: RequestPolicy = {}): Promise<Record<string, unknown>[]> {
  const secrets = [credentials.apiKey];
  const url = `${credentials.serverUrl.replace(/\/+$/, "")}${credentials.apiEndpoint ?? "/api"}`;
  const extra = Object.fromEntries(Object.entries(credentials.additionalHeaders ?? {}).filter(([, v]) => typeof v === "string")) as Record<string, string>;
  const what = operations.map((o) => String(o.action)).join(", ");
  try {
    return await withRetries(policy, async (signal) => {
      const response = await fetch(url, {
        method: "POST",
        headers: { ...extra, Accept: "application/json", "Content-Type": "application/json", "ftrack-api-key": credentials.apiKey, "ftrack-user": credentials.apiUser },
        body: JSON.stringify(operations),
        signal,
      });
      if (!response.ok) {
        const body = await drain(response);
        const message = `ftrack API ${what} answered HTTP ${response.status}${body ? `: ${body}` : ""}`;
        if (statusIsTransient(response.status)) throw new TransientError(message, response.status);
        throw serverError(response.status === 401 || response.status === 403 ? "ACCESSOR_PERMISSION_DENIED" : "ACCESSOR_OPERATION_FAILED", message, secrets, { operation: what });
      }
      const body = (await response.json()) as unknown;
      if (body && typeof body === "object" && !Array.isArray(body) && "exception" in body) {
        const b = body as { exception?: unknown; content?: unknown };
        throw serverError("ACCESSOR_OPERATION_FAILED", `ftrack API ${what} failed: ${String(b.exception)}: ${String(b.content ?? "")}`, secrets, { operation: what });
      }
      if (!Array.isArray(body) || body.length !== operations.length) {
        throw serverError("ACCESSOR_OPERATION_FAILED", `ftrack API ${what}: unexpected answer`, secrets, { operation: what });
      }
      return body as Record<string, unknown>[];
    });
  } catch (e) {
    if (e instanceof AccessorError) throw e;
    if (isAbortError(e)) throw abortedError(what);
    throw serverError("ACCESSOR_CONNECTION_FAILED", `ftrack API ${what} failed: ${(e as Error)?.message ?? e}`, secrets, { operation: what, cause: e });
  }
}
