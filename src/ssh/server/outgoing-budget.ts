/**
 * A memory budget for what the server has produced for its clients but they have not taken
 * yet: replies handed to a channel (which waits on the client's window) and packets waiting on
 * a socket the client does not read (a zero TCP window). A client that stops reading, alone or
 * with many others, must not make the server hold memory without bound, while everyone else is
 * still served.
 *
 * Producers (SFTP sessions) charge each reply before handing it over; once their connection is
 * over its share, or the whole server over its total, they wait until their connection has
 * taken what it was given (Channel.flushed) before producing more, and release what they had
 * charged. A stalled client then holds at most its share plus one reply per session; healthy
 * ones flush quickly and go on, one reply at a time while the server as a whole is over.
 */

export interface OutgoingBudgetLimits {
  /** Bytes one connection may hold before its producers wait (default 2 MiB). */
  perConnection: number;
  /** Bytes all connections together may hold before every producer waits (default 64 MiB). */
  total: number;
}

export const DEFAULT_OUTGOING_BUDGET: OutgoingBudgetLimits = { perConnection: 2 * 1024 * 1024, total: 64 * 1024 * 1024 };

/** The server-wide account; `connection()` opens one connection's account in it. */
export class OutgoingBudget {
  private held = 0;

  constructor(readonly limits: OutgoingBudgetLimits = DEFAULT_OUTGOING_BUDGET) {}

  /** Bytes held across every connection now. */
  get total(): number {
    return this.held;
  }

  connection(): ConnectionBudget {
    return new ConnectionBudget(this);
  }

  /** @internal */
  adjust(n: number): void {
    this.held += n;
  }
}

export class ConnectionBudget {
  private held = 0;

  constructor(private readonly server: OutgoingBudget) {}

  /** Bytes this connection holds now. */
  get total(): number {
    return this.held;
  }

  /** Counts `n` more bytes held; true when the producer must now wait for its connection to take them. */
  charge(n: number): boolean {
    this.held += n;
    this.server.adjust(n);
    return this.over;
  }

  /** This connection holds more than its share, or the server more than its total. */
  get over(): boolean {
    return this.held > this.server.limits.perConnection || this.server.total > this.server.limits.total;
  }

  /** The connection has taken `n` charged bytes (or they were dropped with it). */
  release(n: number): void {
    this.held -= n;
    this.server.adjust(-n);
  }
}
