/**
 * Opening an SSH connection: socket, transport (kex + host trust), user authentication and the
 * connection protocol, bounded by `readyTimeoutMs` and an optional AbortSignal.
 */
import { ConnectionError, SshError } from "../errors.js";
import { resolveAlgorithms, type AlgorithmOptions, type AlgorithmPreset } from "./algorithms.js";
import { authenticate, type Prompt } from "./auth/userauth.js";
import type { CryptoBackend } from "./crypto/cipher.js";
import { defaultCiphers } from "./crypto/algorithms.js";
import { Channel } from "./connection/channel.js";
import { Connection } from "./connection/connection.js";
import { keyTypeForAlgorithm } from "./keys/public-key.js";
import { fromWebStreams, type ByteChannel } from "./socket/byte-channel.js";
import { connectTcp } from "./socket/tcp.js";
import {
  DEFAULT_KNOWN_HOSTS, certificateEntriesFor, hostKeyVerifier, knownKeysFor, preferCertificateAlgorithms, preferKnownAlgorithms,
  type HostKeyOptions,
} from "./trust/host-key-policy.js";
import { Transport } from "./transport/transport.js";
import { resolveConnectOptions } from "./connect-options.js";
import { channelByteStream } from "./connection/channel-stream.js";
import { connectThroughJumps, parseHop } from "./jump.js";

export interface SshConnectOptions {
  host: string;
  /** Default 22. */
  port?: number;
  /** Default: the local user name. */
  username?: string;
  password?: string;
  /** A private key (OpenSSH format text or bytes), or several. */
  privateKey?: string | Uint8Array | (string | Uint8Array)[];
  /**
   * OpenSSH user certificates (the text of `id_ed25519-cert.pub`, or its bytes), or several.
   * Each is paired with the `privateKey` (or agent key) it certifies and offered before that
   * plain key; SshError CERT_MISMATCH when it certifies none of them. Without this option,
   * IdentityFile keys from ssh_config pick up `<file>-cert.pub` automatically, as ssh does.
   */
  certificate?: string | Uint8Array | (string | Uint8Array)[];
  passphrase?: string;
  keyboardInteractive?: (prompts: Prompt[], info: { name: string; instructions: string }) => Promise<string[]> | string[];
  /** How the server is trusted; default `{ policy: "strict" }` with ~/.ssh/known_hosts. */
  hostKeys?: HostKeyOptions;
  /**
   * Algorithm lists (each replacing or editing the default), or "hardened": HARDENED_ALGORITHMS,
   * which then also overrides ssh_config's KexAlgorithms, HostKeyAlgorithms, Ciphers and MACs.
   */
  algorithms?: AlgorithmOptions | AlgorithmPreset;
  /** "pure" uses noble for everything; "auto" (default) may use platform AES and RSA. */
  crypto?: CryptoBackend;
  /** Fail when the connection is not ready within this time (default 20 s). */
  readyTimeoutMs?: number;
  /**
   * Check for signs of life this often (ms): when nothing has arrived for a whole interval,
   * keepalive@openssh.com is sent, and after 3 unanswered (ssh_config's ServerAliveCountMax)
   * the connection fails with KEEPALIVE_TIMEOUT. Default: ssh_config's ServerAliveInterval when
   * it sets one (0 there turns keepalives off, as for ssh), else 5 s, so a silent server ends
   * every operation within 25 s. 0 turns it off.
   */
  keepaliveIntervalMs?: number;
  signal?: AbortSignal;
  /** A custom byte transport instead of TCP. */
  stream?: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };
  /** Re-exchange keys after this many bytes (default 1 GiB) or milliseconds (default 1 hour). */
  rekeyAfterBytes?: number;
  rekeyAfterMs?: number;
  onBanner?: (text: string) => void;
  /** Use ssh-agent keys: true for $SSH_AUTH_SOCK, or the agent's socket path. */
  agent?: boolean | string;
  /**
   * Read ssh_config: true for ~/.ssh/config, a path, or false. Default: true for TCP
   * connections, false with a custom `stream`. Explicit options always win over the config.
   */
  sshConfig?: boolean | string;
  /**
   * Jump hosts (`[user@]host[:port]`, comma-separated), like ssh -J / ProxyJump. Each hop is
   * checked and authenticated like the final host, with the same credentials and trust options.
   */
  jumpHosts?: string;
  /** An already connected byte channel to use instead of TCP (e.g. a forwarded channel). */
  sock?: ByteChannel;
}

/** An authenticated SSH connection. */
export class SshConnection {
  private constructor(
    private readonly transport: Transport,
    private readonly connection: Connection,
    /** The user this connection authenticated as. */
    readonly username: string,
    /**
     * The ready timeout this connection was made under (`readyTimeoutMs`, else ssh_config's
     * ConnectTimeout, else 20 s): what a layer started on it (SFTP) is bounded by too.
     */
    readonly readyTimeoutMs: number,
  ) {}

  /** @internal */
  static create(transport: Transport, connection: Connection, username: string, readyTimeoutMs: number): SshConnection {
    return new SshConnection(transport, connection, username, readyTimeoutMs);
  }

  /**
   * How to connect again with the options this connection was made with (set by connectSsh);
   * a closure, so the options (and any password in them) are never a field to print.
   */
  #again: ((signal?: AbortSignal) => Promise<SshConnection>) | undefined;

  /** @internal */
  setConnectAgain(again: (signal?: AbortSignal) => Promise<SshConnection>): void {
    this.#again = again;
  }

  /**
   * True when `connectAgain` can open another connection: this one was made by connecting to a
   * host, not over a socket or stream the caller passed (which cannot be opened twice).
   */
  get canConnectAgain(): boolean {
    return this.#again !== undefined;
  }

  /**
   * Opens another connection to the same server with the same options: the host key checked by
   * the same policy, the same authentication, its own TCP flow (and server process). Used by
   * transfers spread over several connections (`connections`); the caller closes it.
   */
  connectAgain(signal?: AbortSignal): Promise<SshConnection> {
    if (!this.#again) return Promise.reject(new ConnectionError("CONNECT_AGAIN_UNSUPPORTED", "this connection runs over a socket or stream the caller passed; another one cannot be opened like it"));
    return this.#again(signal);
  }

  /** The negotiated algorithms of the current keys. */
  get algorithms() {
    const a = this.transport.algorithms!;
    return {
      kex: a.kex,
      serverHostKey: a.serverHostKey,
      cipherClientToServer: a.cipherC2S,
      cipherServerToClient: a.cipherS2C,
      macClientToServer: a.macC2S,
      macServerToClient: a.macS2C,
    };
  }

  /**
   * Which implementation protects each direction with the current keys, e.g.
   * `{ backend: "auto", clientToServer: "aes-gcm: node:crypto", serverToClient: "aes-gcm: node:crypto" }`
   * or "chacha20: noble, poly1305: noble" (Bun); `backend` is the `crypto` option in force.
   */
  get cryptoInfo(): { backend: CryptoBackend; clientToServer: string; serverToClient: string } {
    const c = this.transport.cryptoInfo;
    return { backend: c.backend, clientToServer: c.outgoing, serverToClient: c.incoming };
  }

  get hostKey(): { type: string; fingerprint: string } {
    const k = this.transport.hostKey!;
    return { type: k.type, fingerprint: k.fingerprint };
  }

  /** The server's identification string, e.g. "SSH-2.0-OpenSSH_9.2p1 Debian-2". */
  get serverVersion(): string {
    return this.transport.serverVersion!.line;
  }

  /** True when strict key exchange (Terrapin mitigation) is in force. */
  get strictKex(): boolean {
    return this.transport.strictKex;
  }

  /** Completed key exchanges: 1 after connecting, +1 per re-exchange. */
  get keyExchanges(): number {
    return this.transport.kexCount;
  }

  get closed(): boolean {
    return this.transport.closed;
  }

  /** Opens a session channel (for a subsystem or a command). */
  openSession(): Promise<Channel> {
    return this.connection.openSession();
  }

  /**
   * Asks the server to open a TCP connection to host:port and returns it as a byte channel
   * (RFC 4254 §7.2 direct-tcpip), e.g. to run another SSH connection through this one.
   */
  async forwardOut(host: string, port: number): Promise<ByteChannel> {
    return channelByteStream(await this.connection.openDirectTcpip(host, port));
  }

  /** Starts a key re-exchange. */
  rekey(): void {
    this.transport.rekey();
  }

  /** Registers a callback for the end of the connection (with the error when it failed). */
  onClose(listener: (err: SshError | undefined) => void): void {
    this.transport.onClose(listener);
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Connects, verifies the host key, authenticates and returns the connection. */
export async function connectSsh(options: SshConnectOptions): Promise<SshConnection> {
  const conn = await connectOnce(options);
  // The caller's own socket or stream cannot be opened twice; a host (also behind jump hosts) can.
  if (!options.sock && !options.stream) conn.setConnectAgain((signal) => connectSsh({ ...options, signal }));
  return conn;
}

async function connectOnce(options: SshConnectOptions): Promise<SshConnection> {
  // Checks the crypto backends (once per process) while the options and files are read.
  const ciphers = defaultCiphers(options.crypto ?? "auto");
  ciphers.catch(() => {}); // never rejects (failed checks are answers); awaited below
  const resolved = await resolveConnectOptions(options);
  const { host, port, username, hostKeys } = resolved;
  const preset = typeof options.algorithms === "string" ? options.algorithms : undefined;
  const lists = resolveAlgorithms(preset ?? resolved.algorithms, await ciphers);
  const keys = resolved.keys;
  if (hostKeys.policy !== "insecure-accept-any" && (preset !== undefined || resolved.algorithms.serverHostKey === undefined)) {
    const known = await knownKeysFor(host, port, hostKeys.knownHostsFile ?? DEFAULT_KNOWN_HOSTS);
    lists.serverHostKey = preferKnownAlgorithms(lists.serverHostKey, known, (a) => keyTypeForAlgorithm(a) ?? "");
    const authorities = await certificateEntriesFor(host, port, hostKeys.knownHostsFile ?? DEFAULT_KNOWN_HOSTS);
    lists.serverHostKey = preferCertificateAlgorithms(lists.serverHostKey, authorities);
  }

  if (resolved.jumpHosts.length > 0 && !options.sock && !options.stream) {
    return connectThroughJumps(resolved.jumpHosts.map(parseHop), options, connectSsh);
  }
  const timeoutMs = resolved.readyTimeoutMs;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new ConnectionError("TIMEOUT", `not ready within ${timeoutMs} ms`)), timeoutMs);
  const onOuterAbort = () => abort.abort(options.signal!.reason);

  let transport: Transport | undefined;
  const aborted = new Promise<never>((_, reject) => {
    abort.signal.addEventListener("abort", () => {
      const reason = abort.signal.reason;
      const err = reason instanceof SshError ? reason : new ConnectionError("ABORTED", `connect aborted: ${reason?.message ?? reason}`, { cause: reason });
      transport?.fail(err);
      reject(err);
    }, { once: true });
  });
  aborted.catch(() => {});
  // Only now: an already-aborted signal must find the listener above in place.
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (options.signal?.aborted) onOuterAbort();
  try {
    const socket: ByteChannel = options.sock
      ?? (options.stream ? fromWebStreams(options.stream) : await Promise.race([connectTcp(host, port, abort.signal), aborted]));
    transport = new Transport(socket, {
      ...lists,
      backend: options.crypto ?? "auto",
      verifyHostKey: hostKeyVerifier(host, port, hostKeys),
      rekeyAfterBytes: options.rekeyAfterBytes ?? (resolved.config?.rekeyLimit.bytes || undefined),
      rekeyAfterMs: options.rekeyAfterMs ?? (resolved.config?.rekeyLimit.seconds ? resolved.config.rekeyLimit.seconds * 1000 : undefined),
    });
    if (abort.signal.aborted) await aborted; // rejects with the ConnectionError built above
    await Promise.race([transport.start(), aborted]);
    const connection = new Connection(transport);
    const t = transport;
    await Promise.race([
      authenticate(t, {
        username,
        password: options.password,
        privateKeys: keys,
        keyboardInteractive: options.keyboardInteractive,
        onBanner: options.onBanner,
      }, () => (t.onMessage = (m) => connection.handle(m))),
      aborted,
    ]);
    connection.startKeepalive(resolved.keepaliveIntervalMs, resolved.keepaliveCountMax);
    return SshConnection.create(transport, connection, username, timeoutMs);
  } catch (e) {
    const err = e instanceof SshError ? e : new ConnectionError("CONNECTION_FAILED", `${(e as Error)?.message ?? e}`, { cause: e });
    transport?.fail(err);
    throw err;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onOuterAbort);
  }
}
