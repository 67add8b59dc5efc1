/**
 * Exit codes and error reports of the CLI. Every failure ends as one exit code a script can
 * branch on, and one message on stderr (a JSON object with --json):
 *
 *   0 ok · 1 other failure · 2 usage or configuration · 3 not found · 4 permission denied ·
 *   5 authentication failed · 6 host key not trusted · 7 connection failed · 130 interrupted
 */
import { AuthError, ConnectionError, HostKeyError, ProtocolError, SftpError, SshError } from "../errors.js";

export const EXIT = {
  OK: 0,
  GENERIC: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  PERMISSION: 4,
  AUTH: 5,
  HOST_KEY: 6,
  CONNECTION: 7,
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the CLI itself detected, with the exit code it ends in. */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  constructor(code: string, message: string, exitCode: ExitCode = EXIT.GENERIC, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Bad arguments, options or configuration: exit 2, and the message says what to write instead. */
export class UsageError extends CliError {
  /** The command whose usage applies, for the "see --help" hint. */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super("USAGE", message, EXIT.USAGE);
    this.command = command;
  }
}

/** What the CLI reports about an error. */
export interface ErrorReport {
  code: string;
  message: string;
  exitCode: ExitCode;
  /** Extra machine-readable facts (path, fingerprint, methods, …). */
  details: Record<string, unknown>;
}

const NODE_CODES: Record<string, ExitCode> = {
  ENOENT: EXIT.NOT_FOUND,
  EACCES: EXIT.PERMISSION,
  EPERM: EXIT.PERMISSION,
  EROFS: EXIT.PERMISSION,
  ECONNREFUSED: EXIT.CONNECTION,
  ECONNRESET: EXIT.CONNECTION,
  ETIMEDOUT: EXIT.CONNECTION,
  EHOSTUNREACH: EXIT.CONNECTION,
  ENETUNREACH: EXIT.CONNECTION,
  ENOTFOUND: EXIT.CONNECTION,
  EAI_AGAIN: EXIT.CONNECTION,
};

/** The library codes that are not decided by the error's class. */
const SSH_CODES: Record<string, ExitCode> = {
  NO_SUCH_FILE: EXIT.NOT_FOUND,
  PERMISSION_DENIED: EXIT.PERMISSION,
  NO_CONNECTION: EXIT.CONNECTION,
  CONNECTION_LOST: EXIT.CONNECTION,
  UNKNOWN_ALGORITHM: EXIT.USAGE,
  CONFIG_ERROR: EXIT.USAGE,
  PASSPHRASE_REQUIRED: EXIT.AUTH,
  BAD_PASSPHRASE: EXIT.AUTH,
  ACCESSOR_RESOURCE_NOT_FOUND: EXIT.NOT_FOUND,
  ACCESSOR_PARENT_NOT_FOUND: EXIT.NOT_FOUND,
  ACCESSOR_PERMISSION_DENIED: EXIT.PERMISSION,
  ACCESSOR_CONFIGURATION: EXIT.USAGE,
  ACCESSOR_FILESYSTEM_PATH: EXIT.USAGE,
  ACCESSOR_CONNECTION_FAILED: EXIT.CONNECTION,
};

/** The exit code of one error, without looking at its causes; undefined when it decides nothing. */
function ownExitCode(e: unknown): ExitCode | undefined {
  if (e instanceof CliError) return e.exitCode;
  if (e instanceof HostKeyError) return EXIT.HOST_KEY;
  if (e instanceof AuthError) return e.code === "CONNECTION_CLOSED" ? EXIT.CONNECTION : EXIT.AUTH;
  if (e instanceof SftpError) return SSH_CODES[e.code] ?? EXIT.GENERIC;
  if (e instanceof ConnectionError || e instanceof ProtocolError) return EXIT.CONNECTION;
  if (e instanceof SshError) return SSH_CODES[e.code];
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string") return NODE_CODES[code];
  return undefined;
}

/** The errors in `e`'s cause chain, `e` first (bounded, in case of a cycle). */
function causeChain(e: unknown): unknown[] {
  const out: unknown[] = [];
  for (let cur = e; cur !== undefined && cur !== null && out.length < 8 && !out.includes(cur); cur = (cur as { cause?: unknown }).cause) {
    out.push(cur);
  }
  return out;
}

/**
 * The exit code for an error: the most specific one along its cause chain, so an accessor or
 * location error caused by a missing host key still exits 6.
 */
export function exitCodeFor(e: unknown): ExitCode {
  const chain = causeChain(e);
  const codes = chain.map(ownExitCode);
  // Wrappers (accessor/location errors) carry a generic or connection code; a cause that names
  // the real reason (host key, auth, not found, permission) wins.
  const specific = codes.find((c) => c !== undefined && c !== EXIT.GENERIC && c !== EXIT.CONNECTION);
  return specific ?? codes.find((c) => c !== undefined) ?? EXIT.GENERIC;
}

const NODE_MESSAGES: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
  EEXIST: "already exists",
  ENOTEMPTY: "directory not empty",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
};

function messageOf(e: unknown): string {
  const node = e as NodeJS.ErrnoException | null;
  if (node && typeof node.code === "string" && typeof node.path === "string" && NODE_MESSAGES[node.code]) {
    return `${node.path}: ${NODE_MESSAGES[node.code]}`;
  }
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/** The advice appended to a message, by exit code. */
function hintFor(e: unknown, exitCode: ExitCode): string | undefined {
  const hostKey = causeChain(e).find((x): x is HostKeyError => x instanceof HostKeyError);
  if (hostKey) {
    if (hostKey.code !== "HOST_KEY_UNKNOWN") return undefined;
    return "With this CLI: -o UserKnownHostsFile=FILE names the file, -o StrictHostKeyChecking=accept-new trusts a new key on first use.";
  }
  if (exitCode === EXIT.AUTH && causeChain(e).some((x) => x instanceof AuthError && x.code === "AUTH_FAILED")) {
    return "Give a key with -i, set PURESFTP_PASSWORD, or run in a terminal to be asked for the password.";
  }
  return undefined;
}

/** Builds the report for an error: code, message (with advice), exit code and details. */
export function describeError(e: unknown): ErrorReport {
  const exitCode = exitCodeFor(e);
  const details: Record<string, unknown> = {};
  let code = "ERROR";
  if (e instanceof CliError || e instanceof SshError) code = e.code;
  else if (typeof (e as { code?: unknown } | null)?.code === "string") code = (e as { code: string }).code;
  for (const x of causeChain(e)) {
    if (x instanceof SftpError && x.path !== undefined) details.path ??= x.path;
    if (x instanceof HostKeyError) {
      details.fingerprint ??= x.fingerprint;
      details.keyType ??= x.keyType;
    }
    if (x instanceof AuthError) {
      details.methodsTried ??= x.methodsTried;
      details.methodsAllowed ??= x.methodsAllowed;
    }
    const path = (x as { path?: unknown } | null)?.path;
    if (!(x instanceof SshError) && typeof path === "string") details.path ??= path;
  }
  const chain = causeChain(e);
  // Name the cause when the wrapper's message does not already include it.
  let message = messageOf(e);
  const root = chain[chain.length - 1];
  if (root !== e && root instanceof Error) {
    const rootMessage = messageOf(root);
    if (!message.includes(rootMessage)) message += `: ${rootMessage}`;
    const rootCode = (root as { code?: unknown }).code;
    if (typeof rootCode === "string" && rootCode !== code) details.cause = rootCode;
  }
  const hint = hintFor(e, exitCode);
  if (hint && !message.includes(hint)) message += `\n${hint}`;
  if (e instanceof UsageError) message += `\nSee: puresftp ${e.command ? `${e.command} ` : ""}--help`;
  return { code, message, exitCode, details };
}

/** The stderr text for an error: `puresftp: message`, or one JSON object with --json. */
export function formatError(report: ErrorReport, json: boolean): string {
  if (json) return `${JSON.stringify({ error: { code: report.code, message: report.message, exitCode: report.exitCode, ...report.details } })}\n`;
  return `puresftp: ${report.message}\n`;
}
