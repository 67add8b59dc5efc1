/**
 * Numbers of SFTP version 3 (draft-ietf-secsh-filexfer-02): packet types (§3), status codes
 * (§7), open flags (§6.3), attribute flags (§5) and the file type bits of `permissions` (the
 * POSIX st_mode layout every v3 server sends).
 */
import type { SftpErrorCode } from "../errors.js";

/** The protocol version this library speaks; OpenSSH speaks only this one. */
export const SFTP_VERSION = 3;

/** Packet type byte of every v3 packet (draft §3). */
export const PacketType = {
  INIT: 1,
  VERSION: 2,
  OPEN: 3,
  CLOSE: 4,
  READ: 5,
  WRITE: 6,
  LSTAT: 7,
  FSTAT: 8,
  SETSTAT: 9,
  FSETSTAT: 10,
  OPENDIR: 11,
  READDIR: 12,
  REMOVE: 13,
  MKDIR: 14,
  RMDIR: 15,
  REALPATH: 16,
  STAT: 17,
  RENAME: 18,
  READLINK: 19,
  SYMLINK: 20,
  STATUS: 101,
  HANDLE: 102,
  DATA: 103,
  NAME: 104,
  ATTRS: 105,
  EXTENDED: 200,
  EXTENDED_REPLY: 201,
} as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

/** SSH_FXP_STATUS codes (draft §7). Servers may send larger numbers from later drafts. */
export const StatusCode = {
  OK: 0,
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;
export type StatusCode = (typeof StatusCode)[keyof typeof StatusCode];

const ERROR_CODES: readonly SftpErrorCode[] = [
  "EOF",
  "NO_SUCH_FILE",
  "PERMISSION_DENIED",
  "FAILURE",
  "BAD_MESSAGE",
  "NO_CONNECTION",
  "CONNECTION_LOST",
  "OP_UNSUPPORTED",
];

/**
 * The SftpError code for a non-OK status. Codes beyond v3's range (later drafts define up to
 * 31) map to "FAILURE", which is what a v3 client can say about them.
 */
export function statusErrorCode(code: number): SftpErrorCode {
  return ERROR_CODES[code - 1] ?? "FAILURE";
}

/** SSH_FXP_OPEN pflags (draft §6.3). */
export const OpenFlags = {
  READ: 0x01,
  WRITE: 0x02,
  APPEND: 0x04,
  CREAT: 0x08,
  TRUNC: 0x10,
  EXCL: 0x20,
} as const;

/** ATTRS flags (draft §5). */
export const AttrFlags = {
  SIZE: 0x01,
  UIDGID: 0x02,
  PERMISSIONS: 0x04,
  ACMODTIME: 0x08,
  EXTENDED: 0x80000000,
} as const;

/** File type bits of `permissions` (POSIX st_mode; octal as in <sys/stat.h>). */
export const FileType = {
  S_IFMT: 0o170000,
  S_IFSOCK: 0o140000,
  S_IFLNK: 0o120000,
  S_IFREG: 0o100000,
  S_IFBLK: 0o060000,
  S_IFDIR: 0o040000,
  S_IFCHR: 0o020000,
  S_IFIFO: 0o010000,
} as const;

/** Longest handle a server may return (draft §3.2: "MUST NOT be longer than 256 bytes"). */
export const MAX_HANDLE_LENGTH = 256;
