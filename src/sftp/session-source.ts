/**
 * Where a transfer gets more SFTP sessions from. Every SFTP session runs on its own channel with
 * its own flow-control window (RFC 4254 §5.2), so a transfer spread over N sessions has N windows
 * open at once. The default source opens them as more channels on the caller's connection; a
 * source that opens them on more SSH connections plugs in through the same two methods.
 */
import { SftpClient } from "./client.js";
import { unlessAbortedRelease } from "./abort.js";

/** One session a source opened: the client to move files with, and how to give it back. */
export interface PooledSession {
  readonly client: SftpClient;
  /** Ends the session (and whatever the source opened for it alone); never throws. */
  close(): Promise<void>;
}

export interface SessionSource {
  /**
   * One more session. Rejects when the server refuses it (sshd's MaxSessions, a channel limit,
   * a lost connection): the caller carries on with the sessions it has.
   */
  open(): Promise<PooledSession>;
}

/** More channels on `client`'s connection (RFC 4254 §6.1 session channels), each its own SFTP session. */
export function channelSource(client: SftpClient): SessionSource {
  return {
    open: async () => {
      const extra = await SftpClient.open(client.ssh, client.sessionOptions);
      // Only the channel: the connection is the caller's.
      return { client: extra, close: () => extra.session.close().catch(() => {}) };
    },
  };
}

/**
 * `source.open()`, or ABORTED as soon as `signal` fires; a session that arrives after the abort
 * is closed, not leaked.
 */
export function openUnlessAborted(source: SessionSource, signal: AbortSignal | undefined): Promise<PooledSession> {
  return unlessAbortedRelease(source.open(), signal, (s) => s.close());
}
