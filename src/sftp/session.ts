/**
 * One SFTP v3 session over an SSH channel: the INIT/VERSION handshake, request ids, replies
 * matched to requests in any order, and failure of every waiter when the channel goes away.
 * Typed helpers turn replies into values or SftpErrors, so the client reads straight through.
 */
import { SftpError, type SshError } from "../errors.js";
import type { Channel } from "../ssh/connection/channel.js";
import { PacketType, StatusCode, statusErrorCode } from "./constants.js";
import { SftpFramer } from "./framing.js";
import { decodeResponse, type SftpResponse } from "./packet.js";
import { encodeInit, decodeVersion } from "./packets/init.js";
import type { NameEntry } from "./packets/response.js";
import type { Attrs } from "./attrs.js";
import { deferred } from "../util/async-queue.js";
import { LIMITS, decodeLimitsReply, encodeLimitsRequest, type LimitsReply } from "./extensions/limits.js";
import { DEFAULT_MAX_IN_FLIGHT, InFlightLimit } from "./in-flight.js";

/** Without limits@openssh.com, the draft's guaranteed minimum is 32 KiB per read/write. */
export const DEFAULT_IO_SIZE = 32 * 1024;
/** OpenSSH's sftp-server accepts up to 256 KiB packets; 255 KiB of data leaves header room. */
export const MAX_IO_SIZE = 255 * 1024;

/**
 * How long requests may go unanswered before the session is given up, by default. The SSH
 * keepalive (ServerAliveInterval) only proves the connection is alive: a server whose transport
 * answers it while its SFTP side never answers (a wedged sftp-server, a file system that hangs)
 * would otherwise hold an operation forever. Five minutes, like rclone's --timeout: longer than
 * any single request takes on a healthy server (a READ or WRITE is at most 255 KiB), short enough
 * that a batch job notices. copy-data of a very large file, or fsync on a slow disk, can take
 * longer: raise it or pass 0 for those.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5 * 60_000;

export interface SftpSessionOptions {
  /**
   * Give up the SFTP session (every pending request fails with SftpError TIMEOUT, the channel is
   * closed) when requests are outstanding and nothing has arrived from the server's SFTP side
   * for this long, in ms. Any reply, or part of one, counts as progress, so a long pipelined
   * transfer over a slow link never trips it. Default
   * DEFAULT_REQUEST_TIMEOUT_MS (5 minutes); 0 turns it off.
   */
  requestTimeoutMs?: number;
}

export class SftpSession {
  /** Extension name → data from the server's VERSION packet. */
  readonly extensions = new Map<string, string>();
  /** Largest READ length and WRITE data length to use. */
  readSize = DEFAULT_IO_SIZE;
  writeSize = DEFAULT_IO_SIZE;
  /** The server's open-handle limit, 0 when unknown. */
  maxOpenHandles = 0;
  /**
   * The round trip seen when the session started, in milliseconds: the shortest of INIT → VERSION
   * and the limits@openssh.com request, both sent before any bulk data could queue ahead of them.
   * INIT → VERSION may include the server starting its sftp-server process, hence the minimum.
   */
  roundTripMs = Infinity;
  /**
   * How many WRITEs an upload keeps outstanding when its caller set no maxInFlight: learnt from
   * the round trips of every upload on this session, so each file or range starts where the last
   * left off (in-flight.ts).
   */
  readonly writeLimit = new InFlightLimit(DEFAULT_MAX_IN_FLIGHT);

  private readonly framer = new SftpFramer();
  private readonly pending = new Map<number, { resolve: (r: SftpResponse) => void; reject: (e: unknown) => void }>();
  private nextId = 1;
  /** The VERSION packet, until it has arrived; every later packet is a reply. */
  private version: ReturnType<typeof deferred<Uint8Array>> | undefined = deferred();
  private failure: SftpError | undefined;
  private readonly timeoutMs: number;
  /** A request could not be sent (the connection went away under it): the session is over. */
  private readonly sendFailed = (e: unknown) => this.fail(e);
  /** When a reply last arrived, or the first request after a quiet spell left. */
  private progressAt = 0;
  private watchdog: ReturnType<typeof setTimeout> | undefined;

  private constructor(readonly channel: Channel, options: SftpSessionOptions) {
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.version!.promise.catch(() => {});
    channel.onData = (chunk) => this.onData(chunk);
    channel.onClose = (err) => this.fail(err);
    channel.onEof = () => this.fail(undefined);
  }

  /** Starts the sftp subsystem on `channel` and completes the version exchange (draft §4). */
  static async start(channel: Channel, options: SftpSessionOptions = {}): Promise<SftpSession> {
    const session = new SftpSession(channel, options);
    const versionPacket = session.version!.promise;
    await channel.subsystem("sftp");
    const sent = performance.now();
    await channel.write(encodeInit(3));
    const v = decodeVersion((await versionPacket).subarray(1));
    session.roundTripMs = performance.now() - sent;
    if (v.version !== 3) {
      throw new SftpError("OP_UNSUPPORTED", `the server speaks SFTP version ${v.version}; this client needs version 3`);
    }
    for (const e of v.extensions) session.extensions.set(e.name, e.data);
    await session.readLimits();
    return session;
  }

  get closed(): boolean {
    return this.failure !== undefined;
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends a request built for a fresh id (one packet, or consecutive parts: a WRITE's header,
   * then its data as it is) and resolves with the reply packet. The cheapest way to send: no
   * promise but the reply's (a failure to send fails the session, and so the reply). Parts must
   * not change until the reply has come; `send` says when they may.
   */
  request(build: (id: number) => Uint8Array | readonly Uint8Array[]): Promise<SftpResponse> {
    if (this.failure) return handled(Promise.reject(this.failure));
    const id = this.allocateId();
    const packet = build(id); // may throw (a bad argument): nothing is pending yet
    const reply = this.expect(id);
    // Parts posted one after another in this turn go out back to back, as one write would.
    const posted = packet instanceof Uint8Array ? this.channel.post(packet, this.sendFailed)
      : packet.every((part) => this.channel.post(part, this.sendFailed));
    if (!posted) this.fail(new SftpError("CONNECTION_LOST", "the SFTP channel is closed"));
    return reply;
  }

  /**
   * Sends a request built for a fresh id as consecutive parts (a WRITE's header, then its data
   * as it is): `sent` resolves once the parts have been copied into packets, after which the
   * caller may reuse them; `reply` with the reply packet.
   */
  send(build: (id: number) => Uint8Array[]): { reply: Promise<SftpResponse>; sent: Promise<void> } {
    if (this.failure) {
      // Both handled here (see below); whoever awaits them still gets the rejection.
      return { reply: handled(Promise.reject(this.failure)), sent: handled(Promise.reject(this.failure)) };
    }
    const id = this.allocateId();
    const parts = build(id); // may throw (a bad argument): nothing is pending yet
    const reply = this.expect(id);
    const sent = this.channel.write(...parts);
    sent.catch(this.sendFailed);
    return { reply, sent };
  }

  /** The reply to request `id`, about to be sent. */
  private expect(id: number): Promise<SftpResponse> {
    if (this.pending.size === 0) this.progressAt = performance.now();
    this.watch();
    // A pipeline keeps dozens of replies that nobody awaits yet (the reader awaits them in file
    // order, between local disk writes); when the session fails they all reject in the same
    // turn. Marked handled when created, they cannot become unhandled rejections that kill the
    // process; each is still rejected for whoever awaits it later.
    return handled(new Promise<SftpResponse>((resolve, reject) => this.pending.set(id, { resolve, reject })));
  }

  /**
   * Hands back a reply's memory once the caller is done with it (see SftpFramer.recycle).
   * `waiting`: replies the caller holds unconsumed or still expects (a read pipeline's queue),
   * when that is more than the requests unanswered.
   */
  recycle(data: Uint8Array, waiting = 0): void {
    this.framer.recycle(data, Math.max(waiting, this.pending.size));
  }

  /** Bytes of reply buffers the session keeps for later large replies (see SftpFramer). */
  get pooledReplyBytes(): number {
    return this.framer.pooled;
  }

  /**
   * A read pipeline stopped with `own` requests of its own still unanswered (reads past the end
   * of the file, answered with EOF and no data): the reply buffers pooled for it go, but those
   * the other requests may need.
   */
  trimReplyBuffers(own: number): void {
    this.framer.trim(this.pending.size - own);
  }

  /** Closes the channel; pending requests fail with CONNECTION_LOST. */
  async close(): Promise<void> {
    this.fail(undefined);
    await this.channel.close();
  }

  private allocateId(): number {
    while (this.pending.has(this.nextId)) this.nextId = (this.nextId + 1) >>> 0;
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    return id;
  }

  private onData(chunk: Uint8Array): void {
    // Any byte of a reply is progress: over a slow link one 255 KiB DATA reply can take minutes
    // to arrive whole, and must not read as a server that stopped answering.
    this.progressAt = performance.now();
    try {
      this.framer.push(chunk);
      for (let packet = this.framer.next(); packet; packet = this.framer.next()) {
        if (this.version) {
          if (packet[0] !== PacketType.VERSION) throw new SftpError("BAD_MESSAGE", `expected SFTP VERSION, got packet type ${packet[0]}`);
          this.version.resolve(packet);
          this.version = undefined;
          continue;
        }
        const reply = decodeResponse(packet);
        const id = "id" in reply ? reply.id : undefined;
        const waiter = id === undefined ? undefined : this.pending.get(id);
        if (!waiter) throw new SftpError("BAD_MESSAGE", `the server answered request ${id} that is not pending`);
        this.pending.delete(id!);
        waiter.resolve(reply);
      }
    } catch (e) {
      // A malformed reply leaves the stream unparseable: the session cannot continue.
      this.fail(e);
      void this.channel.close();
    }
  }

  /**
   * One timer per session, not one per request (a pipeline keeps dozens in flight): armed while
   * requests are pending, re-armed lazily for what is left of the timeout since the last reply.
   */
  private watch(): void {
    if (this.watchdog !== undefined || this.timeoutMs <= 0) return;
    const check = () => {
      this.watchdog = undefined;
      if (this.failure || this.pending.size === 0) return;
      const quiet = performance.now() - this.progressAt;
      if (quiet < this.timeoutMs) return arm(this.timeoutMs - quiet);
      this.fail(new SftpError("TIMEOUT", `the server answered no SFTP request for ${Math.round(quiet)} ms ` +
        `(requestTimeoutMs ${this.timeoutMs}) although the connection is alive; the SFTP session was closed, connect again`));
      void this.channel.close().catch(() => {});
    };
    const arm = (ms: number) => {
      this.watchdog = setTimeout(check, ms);
      // Never what keeps a process alive: the requests it watches are the caller's to await.
      (this.watchdog as { unref?: () => void }).unref?.();
    };
    arm(Math.max(0, this.timeoutMs - (performance.now() - this.progressAt)));
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    clearTimeout(this.watchdog);
    const cause = err as SshError | undefined;
    this.failure = err instanceof SftpError && err.code === "TIMEOUT" ? err : new SftpError("CONNECTION_LOST",
      cause ? `the SFTP session ended: ${cause.message}` : "the SFTP session was closed", undefined, { cause });
    for (const w of this.pending.values()) w.reject(this.failure);
    this.pending.clear();
    this.version?.reject(this.failure);
  }

  /** limits@openssh.com sizes reads and writes (OpenSSH PROTOCOL §4.8). */
  private async readLimits(): Promise<void> {
    if (!this.extensions.has(LIMITS)) return;
    const sent = performance.now();
    const limits: LimitsReply = decodeLimitsReply(expectExtendedReply(await this.request((id) => encodeLimitsRequest(id))));
    this.roundTripMs = Math.min(this.roundTripMs, performance.now() - sent);
    const size = (n: number) => (n > 0 ? Math.min(n, MAX_IO_SIZE) : MAX_IO_SIZE);
    // The packet limit bounds a WRITE's data too: leave room for its header (handle ≤ 256 bytes).
    const byPacket = limits.maxPacketLength > 0 ? limits.maxPacketLength - 1024 : MAX_IO_SIZE;
    this.readSize = Math.max(DEFAULT_IO_SIZE, Math.min(size(limits.maxReadLength), byPacket));
    this.writeSize = Math.max(DEFAULT_IO_SIZE, Math.min(size(limits.maxWriteLength), byPacket));
    this.maxOpenHandles = limits.maxOpenHandles;
  }
}

/** `p`, with a no-op handler attached so its rejection is never reported as unhandled. */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

// --- reply helpers: a value of the expected kind, or an SftpError naming the path ---------

export function statusError(reply: SftpResponse, path?: string, what = "request"): SftpError {
  if (reply.type === PacketType.STATUS) {
    const code = statusErrorCode(reply.code);
    const where = path === undefined ? "" : ` ${JSON.stringify(path)}`;
    return new SftpError(code, `${what}${where} failed: ${reply.message || code}`, path);
  }
  return new SftpError("BAD_MESSAGE", `unexpected SFTP reply type ${reply.type} to ${what}`, path);
}

export function expectOk(reply: SftpResponse, path?: string, what?: string): void {
  if (reply.type === PacketType.STATUS && reply.code === StatusCode.OK) return;
  throw statusError(reply, path, what);
}

export function expectHandle(reply: SftpResponse, path?: string, what?: string): Uint8Array {
  if (reply.type === PacketType.HANDLE) return reply.handle;
  throw statusError(reply, path, what);
}

export function expectAttrs(reply: SftpResponse, path?: string, what?: string): Attrs {
  if (reply.type === PacketType.ATTRS) return reply.attrs;
  throw statusError(reply, path, what);
}

/** NAME entries, or undefined at end of directory (STATUS EOF). */
export function expectNames(reply: SftpResponse, path?: string, what?: string): NameEntry[] | undefined {
  if (reply.type === PacketType.NAME) return reply.entries;
  if (reply.type === PacketType.STATUS && reply.code === StatusCode.EOF) return undefined;
  throw statusError(reply, path, what);
}

/** DATA bytes, or undefined at end of file (STATUS EOF). */
export function expectData(reply: SftpResponse, path?: string): Uint8Array | undefined {
  if (reply.type === PacketType.DATA) return reply.data;
  if (reply.type === PacketType.STATUS && reply.code === StatusCode.EOF) return undefined;
  throw statusError(reply, path, "read");
}

export function expectExtendedReply(reply: SftpResponse, path?: string, what?: string): Uint8Array {
  if (reply.type === PacketType.EXTENDED_REPLY) return reply.data;
  throw statusError(reply, path, what);
}

/** The single name a REALPATH/READLINK/expand-path reply carries. */
export function expectOneName(reply: SftpResponse, path?: string, what?: string): string {
  const names = expectNames(reply, path, what);
  if (!names || names.length !== 1) throw new SftpError("BAD_MESSAGE", `expected one name in the reply to ${what}`, path);
  return names[0]!.filename;
}
