/**
 * What every request handler of the SFTP server shares: the jail, the session's handles and
 * limits, and the helpers that build replies and turn failures into STATUS codes.
 */
import { SftpError } from "../../errors.js";
import { FsError } from "../../platform/server-fs.js";
import type { Attrs } from "../attrs.js";
import { StatusCode } from "../constants.js";
import { encodeAttrsReply, encodeName, encodeStatus } from "../packets/response.js";
import type { HandleTable } from "./handles.js";
import type { Jail } from "./jail.js";
import type { ReplyBuffers } from "./reply-buffers.js";

/** Per-session bounds on memory and descriptors (the limits@openssh.com reply reports them). */
export interface SftpServerLimits {
  /** Largest SFTP packet accepted (length field), default 256 KiB + 1 KiB. */
  maxPacketLength: number;
  /** Longest READ served (longer ones return fewer bytes), default 255 KiB. */
  maxReadLength: number;
  /** Open files and directories per session, default 64. */
  maxOpenHandles: number;
  /** Entries per READDIR reply, default 100 (and at most ~64 KiB of reply). */
  readdirBatch: number;
  /**
   * Requests one session decodes and holds at once, default 16; those that do not touch the
   * same file run concurrently (see request-order.ts). The rest wait, undecoded, in the window.
   */
  maxConcurrentRequests: number;
}

export const DEFAULT_SFTP_LIMITS: SftpServerLimits = {
  maxPacketLength: 256 * 1024 + 1024,
  maxReadLength: 255 * 1024,
  maxOpenHandles: 64,
  readdirBatch: 100,
  maxConcurrentRequests: 16,
};

export interface ServerContext {
  jail: Jail;
  handles: HandleTable;
  limits: SftpServerLimits;
  /** The authenticated user (home-directory answers only for them). */
  username: string;
  /** Buffers READ replies are built in, reused once the channel has taken them. */
  buffers: ReplyBuffers;
}

export function ok(id: number): Uint8Array {
  return encodeStatus(id, { code: StatusCode.OK, message: "Success", lang: "en" });
}

export function attrsReply(id: number, attrs: Attrs): Uint8Array {
  return encodeAttrsReply(id, { attrs });
}

/** A NAME reply with one entry, as REALPATH, READLINK and expand-path send. */
export function oneName(id: number, name: string): Uint8Array {
  return encodeName(id, { entries: [{ filename: name, longname: name, attrs: {} }] });
}

const ERRNO_STATUS: Record<string, [number, string]> = {
  ENOENT: [StatusCode.NO_SUCH_FILE, "No such file"],
  ENOTDIR: [StatusCode.NO_SUCH_FILE, "No such file"],
  EACCES: [StatusCode.PERMISSION_DENIED, "Permission denied"],
  EPERM: [StatusCode.PERMISSION_DENIED, "Permission denied"],
  EROFS: [StatusCode.PERMISSION_DENIED, "Read-only file system"],
  ELOOP: [StatusCode.PERMISSION_DENIED, "Symbolic link not followed"],
  EEXIST: [StatusCode.FAILURE, "File exists"],
  ENOTEMPTY: [StatusCode.FAILURE, "Directory not empty"],
  EISDIR: [StatusCode.FAILURE, "Is a directory"],
  ENOSPC: [StatusCode.FAILURE, "No space left on device"],
  EXDEV: [StatusCode.FAILURE, "Cross-device link"],
  EINVAL: [StatusCode.FAILURE, "Invalid argument"],
  ENOSYS: [StatusCode.OP_UNSUPPORTED, "Operation unsupported"],
  ENOTSUP: [StatusCode.OP_UNSUPPORTED, "Operation unsupported"],
  EOPNOTSUPP: [StatusCode.OP_UNSUPPORTED, "Operation unsupported"],
};

/**
 * The STATUS reply for a failure. Host error messages are never passed on: they name host
 * paths, which would reveal where the root lies.
 */
export function statusFor(id: number, e: unknown): Uint8Array {
  if (e instanceof SftpError) {
    const code = StatusCode[e.code as keyof typeof StatusCode] ?? StatusCode.FAILURE;
    return encodeStatus(id, { code, message: e.message, lang: "en" });
  }
  if (e instanceof FsError) {
    const [code, message] = ERRNO_STATUS[e.code] ?? [StatusCode.FAILURE, `Failure (${e.code})`];
    return encodeStatus(id, { code, message, lang: "en" });
  }
  return encodeStatus(id, { code: StatusCode.FAILURE, message: "Failure", lang: "en" });
}
