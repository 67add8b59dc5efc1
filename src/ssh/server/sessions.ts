/**
 * Session channels on the server side (RFC 4254 §6): a client may open "session" channels and
 * start a subsystem the server offers; everything else — exec, shell, pty-req, env, x11-req,
 * agent forwarding, and every other channel type (direct-tcpip, forwarded-tcpip, x11) — is
 * refused. Global requests such as tcpip-forward are refused by the connection layer already.
 */
import type { Channel } from "../connection/channel.js";
import type { Connection } from "../connection/connection.js";
import type { ConnectionBudget } from "./outgoing-budget.js";

/** What a subsystem is told about its connection. */
export interface SubsystemContext {
  username: string;
  remoteAddress: string;
  /** This connection's share of the server's budget for outgoing data (outgoing-budget.ts). */
  outgoing: ConnectionBudget;
}

/** Takes over a channel once its subsystem request is accepted (it sets onData, onClose, …). */
export type SubsystemHandler = (channel: Channel, context: SubsystemContext) => void;

export interface SessionOptions {
  subsystems: Readonly<Record<string, SubsystemHandler>>;
  /** Open session channels per connection. */
  maxSessions: number;
  /** Receive window of each session channel. */
  windowSize: number;
}

export function serveSessions(connection: Connection, context: SubsystemContext, options: SessionOptions): void {
  let open = 0;
  connection.acceptChannel = (type) => {
    if (type !== "session" || open >= options.maxSessions) return undefined;
    open++;
    return {
      windowSize: options.windowSize,
      onOpen: (channel) => {
        channel.onClose = () => open--;
        let started = false;
        channel.onRequest = (request, r) => {
          if (request !== "subsystem" || started) return false;
          const name = r.utf8();
          const handler = Object.hasOwn(options.subsystems, name) ? options.subsystems[name] : undefined;
          if (!handler) return false;
          started = true;
          const closed = channel.onClose;
          handler(channel, context);
          const subsystemClosed = channel.onClose;
          channel.onClose = (err) => {
            closed(err);
            if (subsystemClosed !== closed) subsystemClosed(err);
          };
          return true;
        };
      },
    };
  };
}
