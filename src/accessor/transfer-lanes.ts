/**
 * The SFTP sessions an accessor's whole-file copies (putFile, getFile) run on: the connection's
 * own session, and up to MAX_LANES - 1 more channels on the same connection, opened when every
 * session already carries a copy. Each session has its own flow-control window (RFC 4254 §5.2;
 * sshd grants 2 MiB), so the members of a sequence, copied a few at a time by a Location, no
 * longer share one window: over a long link one window holds them all to window / round trip.
 * uploadDir spreads files the same way (sftp/file-spread.ts).
 */
import type { SftpClient } from "../sftp/client.js";
import { channelSource, type SessionSource } from "../sftp/session-source.js";

/** Sessions in all, the connection's own included: a Location copies 4 files at a time. */
export const MAX_LANES = 4;

interface Lane {
  client: SftpClient;
  /** Copies running on it. */
  busy: number;
  /** Ends an extra session (the connection's own is the accessor's to close). */
  close?: () => Promise<void>;
}

export class TransferLanes {
  private lanes: Lane[];
  private opening = 0;
  /** The server refused a session (sshd's MaxSessions): no more are asked for. */
  private refused = false;
  /** close() ran: no more are opened, and one still opening is closed when it arrives. */
  private closed = false;

  constructor(
    readonly main: SftpClient,
    private readonly source: SessionSource = channelSource(main),
    private readonly max = MAX_LANES,
  ) {
    this.lanes = [{ client: main, busy: 0 }];
  }

  /** Sessions open now, the connection's own included. */
  get size(): number {
    return this.lanes.length;
  }

  /** Runs `copy` on the least busy session, first opening one more when every one is busy. */
  async run<T>(copy: (client: SftpClient) => Promise<T>): Promise<T> {
    const lane = await this.take();
    try {
      return await copy(lane.client);
    } finally {
      lane.busy--;
    }
  }

  /** Closes the extra sessions (copies still running on them fail). */
  async close(): Promise<void> {
    const extra = this.lanes.filter((l) => l.close);
    this.lanes = this.lanes.filter((l) => !l.close);
    this.closed = true;
    await Promise.all(extra.map((l) => l.close!()));
  }

  private leastBusy(): Lane {
    // An extra session that ended (the server closed its channel) takes nothing more.
    this.lanes = this.lanes.filter((l) => !l.close || !l.client.session.closed);
    return this.lanes.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  private async take(): Promise<Lane> {
    const best = this.leastBusy();
    if (best.busy === 0 || this.refused || this.closed || this.lanes.length + this.opening >= this.max) {
      best.busy++; // counted at once, so copies starting together spread out
      return best;
    }
    this.opening++;
    try {
      const s = await this.source.open();
      const lane: Lane = { client: s.client, busy: 1, close: s.close };
      if (this.closed) {
        // Closed while this one was opening (a refusal meanwhile is no reason to drop it).
        await s.close();
      } else {
        this.lanes.push(lane);
        return lane;
      }
    } catch {
      this.refused = true; // carry on with the sessions there are
    } finally {
      this.opening--;
    }
    const lane = this.leastBusy();
    lane.busy++;
    return lane;
  }
}
