/**
 * The embedded SSH server: accepts TCP connections, runs the transport in its server role,
 * authenticates, and serves session channels with the subsystems it is given. It knows nothing
 * of SFTP; src/sftp/server/index.ts plugs the sftp subsystem in.
 *
 * Defences, all per server: a connection must authenticate within `authTimeoutMs` (version,
 * key exchange and auth together, like sshd's LoginGraceTime); at most `maxUnauthenticated`
 * connections may be in that phase at once — a new one then evicts the oldest that has not even
 * finished its key exchange (idle or half-open sockets), and is refused only when all of them
 * have; at most `maxConnections` in total. Once authenticated, a connection that sends nothing
 * for its channels for `idleTimeoutMs` (off by default, like sshd's ChannelTimeout) is closed:
 * IGNORE, DEBUG and global requests (keepalives) do not count as activity, so neither a client
 * that trickles padding nor one that only pings keeps a connection it does not use.
 */
import { ConnectionError, SshError } from "../../errors.js";
import { resolveAlgorithms, type AlgorithmOptions, type AlgorithmPreset } from "../algorithms.js";
import type { CryptoBackend } from "../crypto/cipher.js";
import { Connection } from "../connection/connection.js";
import { HOST_KEY_ALGORITHMS, type PublicKey } from "../keys/public-key.js";
import { DISCONNECT_REASON, MSG } from "../messages.js";
import type { AcceptedConnection } from "../socket/tcp-server.js";
import { listenTcp } from "../socket/tcp-server.js";
import { Transport } from "../transport/transport.js";
import { serveAuthentication, type AuthMethod, type Authenticate } from "./auth.js";
import { parseAuthorizedKeys } from "./authorized-keys.js";
import { hostKeyAlgorithms, loadHostKeys, type HostKeyInput } from "./host-keys.js";
import { DEFAULT_OUTGOING_BUDGET, OutgoingBudget, type OutgoingBudgetLimits } from "./outgoing-budget.js";
import { serveSessions, type SubsystemHandler } from "./sessions.js";

export interface SshServerLimits {
  /** Failed authentication attempts per connection before it is dropped (default 6). */
  maxAuthAttempts?: number;
  /** Delay after each failed attempt (default 300 ms). */
  authFailureDelayMs?: number;
  /** From accept to authenticated (default 30 s), like sshd's LoginGraceTime. */
  authTimeoutMs?: number;
  /**
   * After authentication: close a connection that sent no channel message (open, data, window
   * adjustment, request, EOF, close) for this long; 0 (default) never does.
   */
  idleTimeoutMs?: number;
  /** Connections not yet authenticated, at once (default 32). */
  maxUnauthenticated?: number;
  /** Connections in total (default 256). */
  maxConnections?: number;
  /** Session channels per connection (default 8). */
  maxSessions?: number;
  /**
   * Outgoing data the server may hold for clients that do not take it (a zero window, a client
   * that stopped reading): per connection and in total (defaults 2 MiB and 64 MiB); see
   * outgoing-budget.ts.
   */
  outgoingBudget?: Partial<OutgoingBudgetLimits>;
  /**
   * After authentication, check for signs of life from the client this often (ms), like sshd's
   * ClientAliveInterval: after 3 keepalives unanswered with nothing else received, the
   * connection is dropped, so a client that vanished without a FIN or RST (cable, NAT, a
   * suspended laptop) does not hold its slot and memory for ever. Default 15 s; 0 turns it off.
   */
  keepaliveIntervalMs?: number;
  /** Re-exchange keys after this many bytes in one direction (default 1 GiB) or this long (1 h). */
  rekeyAfterBytes?: number;
  rekeyAfterMs?: number;
}

export interface SshServerOptions {
  hostKeys: HostKeyInput | readonly HostKeyInput[];
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port (see the returned `port`). */
  port?: number;
  authenticate?: Authenticate;
  /** authorized_keys text for every user, or per user name. */
  authorizedKeys?: string | Readonly<Record<string, string>>;
  /** Methods offered; default publickey and password (keyboard-interactive only when listed). */
  authMethods?: readonly AuthMethod[];
  subsystems: Readonly<Record<string, SubsystemHandler>>;
  /**
   * kex, cipher and mac lists (host key algorithms follow from the keys), or "hardened":
   * HARDENED_ALGORITHMS, whose host key list then also limits what the keys are offered for.
   */
  algorithms?: Omit<AlgorithmOptions, "serverHostKey"> | AlgorithmPreset;
  crypto?: CryptoBackend;
  limits?: SshServerLimits;
}

/** One connection as the server sees it (SshServer.connections). */
export interface ServerConnectionInfo {
  remoteAddress: string;
  /** The authenticated user; undefined until authentication succeeds. */
  username: string | undefined;
  /**
   * Which implementation protects each direction with the current keys, as the client's
   * SshConnection.cryptoInfo says it ("none" before the first NEWKEYS), e.g.
   * `{ backend: "auto", clientToServer: "aes-gcm: node:crypto", serverToClient: "aes-gcm: node:crypto" }`.
   */
  cryptoInfo: { backend: CryptoBackend; clientToServer: string; serverToClient: string };
}

export interface SshServer {
  readonly host: string;
  readonly port: number;
  /** `SHA256:…` of each host key, as ssh-keygen -lf prints them. */
  readonly hostKeyFingerprints: string[];
  /** Connections open now. */
  readonly connectionCount: number;
  /** A snapshot of the connections open now: who, from where, and what protects their data. */
  readonly connections: ServerConnectionInfo[];
  /** Outgoing bytes held for clients that have not taken them yet (see outgoingBudget). */
  readonly outgoingBytes: number;
  /** Stops listening and disconnects every client. */
  close(): Promise<void>;
}

/** Signature algorithms accepted for publickey auth (announced as server-sig-algs). */
const USER_SIG_ALGS = HOST_KEY_ALGORITHMS;

interface Live {
  transport: Transport;
  remoteAddress: string;
  username: string | undefined;
  authenticated: boolean;
  kexDone: boolean;
  acceptedAt: number;
}

export async function startSshServer(options: SshServerOptions): Promise<SshServer> {
  const hostKeys = loadHostKeys(options.hostKeys);
  const lists = resolveAlgorithms(options.algorithms);
  const serverHostKey = typeof options.algorithms === "string"
    ? hostKeyAlgorithms(hostKeys).filter((a) => lists.serverHostKey.includes(a))
    : hostKeyAlgorithms(hostKeys);
  if (serverHostKey.length === 0) {
    throw new SshError("INVALID_ARGUMENT", `no host key can sign with the "${options.algorithms}" preset's host key ` +
      `algorithms (${lists.serverHostKey.join(", ")}): give an ed25519 or RSA host key`);
  }
  const l = options.limits ?? {};
  const limits = {
    maxAuthAttempts: l.maxAuthAttempts ?? 6,
    authFailureDelayMs: l.authFailureDelayMs ?? 300,
    authTimeoutMs: l.authTimeoutMs ?? 30_000,
    maxUnauthenticated: l.maxUnauthenticated ?? 32,
    maxConnections: l.maxConnections ?? 256,
    maxSessions: l.maxSessions ?? 8,
    idleTimeoutMs: l.idleTimeoutMs ?? 0,
    keepaliveIntervalMs: l.keepaliveIntervalMs ?? 15_000,
  };
  const outgoing = new OutgoingBudget({ ...DEFAULT_OUTGOING_BUDGET, ...l.outgoingBudget });
  const authorized = authorizedKeysLookup(options.authorizedKeys);
  const methods = options.authMethods ?? (["publickey", "password"] as const);
  const live = new Set<Live>();

  const admit = (): boolean => {
    if (live.size >= limits.maxConnections) return false;
    const pending = [...live].filter((c) => !c.authenticated);
    if (pending.length < limits.maxUnauthenticated) return true;
    const idle = pending.filter((c) => !c.kexDone).sort((a, b) => a.acceptedAt - b.acceptedAt)[0];
    if (!idle) return false;
    live.delete(idle);
    idle.transport.fail(new ConnectionError("EVICTED", "too many unauthenticated connections"));
    return true;
  };

  const serve = async (accepted: AcceptedConnection): Promise<void> => {
    if (!admit()) return accepted.channel.close();
    const transport = new Transport(accepted.channel, {
      role: "server",
      ...lists,
      serverHostKey,
      hostKeys,
      serverSigAlgs: USER_SIG_ALGS,
      backend: options.crypto ?? "auto",
      rekeyAfterBytes: l.rekeyAfterBytes,
      rekeyAfterMs: l.rekeyAfterMs,
    });
    const entry: Live = {
      transport, remoteAddress: accepted.remoteAddress, username: undefined, authenticated: false, kexDone: false, acceptedAt: performance.now(),
    };
    live.add(entry);
    transport.onClose(() => live.delete(entry));
    const timer = setTimeout(() => {
      void transport.disconnect(DISCONNECT_REASON.BY_APPLICATION, `not authenticated within ${limits.authTimeoutMs} ms`);
    }, limits.authTimeoutMs);
    (timer as { unref?: () => void }).unref?.();
    try {
      await transport.start();
      entry.kexDone = true;
      const connection = new Connection(transport);
      const username = await serveAuthentication(transport, {
        methods,
        authenticate: options.authenticate,
        authorizedKeys: authorized,
        signatureAlgorithms: USER_SIG_ALGS,
        maxAttempts: limits.maxAuthAttempts,
        failureDelayMs: limits.authFailureDelayMs,
        remoteAddress: accepted.remoteAddress,
      }, () => {
        entry.authenticated = true;
        clearTimeout(timer);
        const idle = limits.idleTimeoutMs > 0 ? watchIdle(transport, limits.idleTimeoutMs) : undefined;
        transport.onMessage = idle
          ? (m) => {
            if (m[0]! >= MSG.CHANNEL_OPEN) idle.touch();
            connection.handle(m);
          }
          : (m) => connection.handle(m);
      });
      entry.username = username;
      connection.startKeepalive(limits.keepaliveIntervalMs);
      serveSessions(connection, { username, remoteAddress: accepted.remoteAddress, outgoing: outgoing.connection() }, {
        subsystems: options.subsystems,
        maxSessions: limits.maxSessions,
        windowSize: 4 * 1024 * 1024,
      });
    } catch (e) {
      clearTimeout(timer);
      transport.fail(e instanceof SshError ? e : new ConnectionError("SERVER_ERROR", String(e), { cause: e }));
    }
  };

  const listener = await listenTcp(options.host ?? "127.0.0.1", options.port ?? 0, (c) => void serve(c));
  return {
    host: listener.host,
    port: listener.port,
    hostKeyFingerprints: hostKeys.map((k) => k.publicKey.fingerprint),
    get connectionCount() {
      return live.size;
    },
    get connections() {
      return [...live].map(describe);
    },
    get outgoingBytes() {
      return outgoing.total;
    },
    async close() {
      const closing = listener.close();
      await Promise.all([...live].map((c) => c.transport.disconnect(DISCONNECT_REASON.BY_APPLICATION, "server shutting down")));
      live.clear();
      await closing;
    },
  };
}

function describe(c: Live): ServerConnectionInfo {
  // The server's outgoing direction is server → client.
  const t = c.transport.cryptoInfo;
  return {
    remoteAddress: c.remoteAddress,
    username: c.username,
    cryptoInfo: { backend: t.backend, clientToServer: t.incoming, serverToClient: t.outgoing },
  };
}

/** Disconnects `transport` once `touch` has not been called for `ms`; one timer, re-armed lazily. */
function watchIdle(transport: Transport, ms: number): { touch(): void } {
  let last = performance.now();
  let timer: ReturnType<typeof setTimeout>;
  const arm = (delay: number) => {
    timer = setTimeout(check, delay);
    (timer as { unref?: () => void }).unref?.();
  };
  const check = () => {
    const idle = performance.now() - last;
    if (idle < ms) return arm(ms - idle);
    void transport.disconnect(DISCONNECT_REASON.BY_APPLICATION, `idle for ${ms} ms`);
  };
  arm(ms);
  transport.onClose(() => clearTimeout(timer));
  return { touch: () => (last = performance.now()) };
}

function authorizedKeysLookup(given: SshServerOptions["authorizedKeys"]): ((username: string) => readonly PublicKey[]) | undefined {
  if (given === undefined) return undefined;
  if (typeof given === "string") {
    const keys = parseAuthorizedKeys(given);
    return () => keys;
  }
  const byUser = new Map(Object.entries(given).map(([u, text]) => [u, parseAuthorizedKeys(text)]));
  return (username) => byUser.get(username) ?? [];
}
