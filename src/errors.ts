/**
 * The only error types this library throws. Every error carries a stable `code` so callers can
 * branch without parsing messages; messages say what happened and, where possible, what to do.
 */

/** Base class of every error thrown by this library. */
export class SshError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The peer broke the protocol: malformed or oversized data, bad MAC, wrong message order. */
export class ProtocolError extends SshError {
  constructor(message: string, code = "PROTOCOL_ERROR", options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The byte stream failed: refused, reset, closed, timed out, aborted, or the peer disconnected. */
export class ConnectionError extends SshError {
  /** SSH_DISCONNECT reason code when the peer sent SSH_MSG_DISCONNECT (RFC 4253 §11.1). */
  readonly reason: number | undefined;
  constructor(code: string, message: string, options?: { cause?: unknown; reason?: number }) {
    super(code, message, options);
    this.reason = options?.reason;
  }
}

/** The server's host key is unknown, changed, or its signature is invalid. */
export class HostKeyError extends SshError {
  /** SHA256 fingerprint of the offered key, `SHA256:…` as OpenSSH prints it. */
  readonly fingerprint: string;
  readonly keyType: string;
  constructor(code: string, message: string, fingerprint: string, keyType: string) {
    super(code, message);
    this.fingerprint = fingerprint;
    this.keyType = keyType;
  }
}

/** Authentication failed with every method that was tried. */
export class AuthError extends SshError {
  readonly methodsTried: string[];
  /** The methods the server said could continue, from the last USERAUTH_FAILURE. */
  readonly methodsAllowed: string[];
  constructor(code: string, message: string, methodsTried: string[], methodsAllowed: string[]) {
    super(code, message);
    this.methodsTried = methodsTried;
    this.methodsAllowed = methodsAllowed;
  }
}

/** SFTP status codes as error codes (draft-ietf-secsh-filexfer-02 §7). */
export type SftpErrorCode =
  | "EOF"
  | "NO_SUCH_FILE"
  | "PERMISSION_DENIED"
  | "FAILURE"
  | "BAD_MESSAGE"
  | "NO_CONNECTION"
  | "CONNECTION_LOST"
  | "OP_UNSUPPORTED"
  /** Not a status code: requests went unanswered for requestTimeoutMs (session.ts). */
  | "TIMEOUT";

/** An SFTP request failed. `path` names the file involved, when there is one. */
export class SftpError extends SshError {
  declare readonly code: SftpErrorCode;
  readonly path: string | undefined;
  constructor(code: SftpErrorCode, message: string, path?: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.path = path;
  }
}
