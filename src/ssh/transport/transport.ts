/**
 * The SSH transport layer (RFC 4253), for the client or the server role: version exchange, the
 * packet read loop, key exchange and re-exchange (either side may start one), strict kex
 * (OpenSSH PROTOCOL §1.10, CVE-2023-48795), ext-info (RFC 8308) and disconnects. Upper layers
 * send payloads with `send` and receive every message numbered 5..6 or 50+ via `onMessage`.
 * What differs between the roles (which KEXINIT is the client's, who signs H, which key letters
 * seal) lives in key-exchange.ts; here only the markers we offer and EXT_INFO differ.
 */
import { ConnectionError, HostKeyError, ProtocolError, SshError } from "../../errors.js";
import type { CryptoBackend } from "../crypto/cipher.js";
import type { PublicKey } from "../keys/public-key.js";
import { DISCONNECT_REASON, MSG } from "../messages.js";
import type { ByteChannel } from "../socket/byte-channel.js";
import { SshReader } from "../wire/reader.js";
import { SshWriter, concat } from "../wire/writer.js";
import { AsyncQueue, deferred } from "../../util/async-queue.js";
import { PacketReader } from "./packet-reader.js";
import { PacketWriter } from "./packet-writer.js";
import { SERVER_SIG_ALGS, decodeExtInfo, encodeExtInfo } from "./ext-info.js";
import { runKex, type KexInput, type KexOutcome } from "./key-exchange.js";
import { IdleTrim } from "./idle-trim.js";
import { EXT_INFO_C, EXT_INFO_S, STRICT_KEX_C, STRICT_KEX_S, decodeKexInit, encodeKexInit, guessWasWrong, type KexInit, type Negotiated } from "./kexinit.js";
import { CLIENT_VERSION, SERVER_VERSION, scanVersion, type ParsedVersion } from "./version.js";
import type { TransportOptions } from "./transport-options.js";

/** State of one key exchange, from the first KEXINIT (either side) to both NEWKEYS. */
interface KexRound {
  ours: KexInit;
  oursPayload: Uint8Array;
  theirsPayload?: Uint8Array;
  incoming: AsyncQueue<Uint8Array>;
  outcome: ReturnType<typeof deferred<KexOutcome>>;
  sentNewKeys: boolean;
  /** Drop the peer's next kex packet: its first_kex_packet_follows guess was wrong (§7). */
  skipGuessedPacket: boolean;
  /** Kex messages queued for the method and not yet taken; negative while the method waits. */
  backlog: number;
  /** The peer sent NEWKEYS: it can send no further key-exchange message in this round (§7.3). */
  theirNewKeys: boolean;
}

const GiB = 1024 * 1024 * 1024;

export class Transport {
  /** Receives every message the transport does not consume itself. */
  onMessage: (payload: Uint8Array) => void = () => {};
  /** The peer's identification string, once received. */
  peerVersion: ParsedVersion | undefined;
  sessionId: Uint8Array | undefined;
  hostKey: PublicKey | undefined;
  algorithms: Negotiated | undefined;
  /** Signature algorithms the server accepts for user auth (RFC 8308 §3.1), when it said so. */
  serverSigAlgs: string[] | undefined;
  /** Server role: the client offered ext-info-c in its first KEXINIT. */
  private peerWantsExtInfo = false;
  strictKex = false;
  /** Completed key exchanges, the first included. */
  kexCount = 0;

  private readonly reader: PacketReader;
  private readonly writer: PacketWriter;
  private readonly idle: IdleTrim;
  private kex: KexRound | undefined;
  private firstKexDone = deferred<void>();
  private firstKexComplete = false;
  private heldBack: Uint8Array[] = [];
  private bytesSinceKex = 0;
  private received = 0;
  private lastKexAt = Date.now();
  private closeError: SshError | undefined;
  private closedFlag = false;
  private readonly closeListeners: ((err: SshError | undefined) => void)[] = [];

  constructor(
    private readonly socket: ByteChannel,
    private readonly options: TransportOptions,
  ) {
    this.writer = new PacketWriter(socket, (e) => this.fail(e));
    this.idle = new IdleTrim(() => {
      this.writer.encoder.trim();
      this.socket.trim?.();
    });
    this.reader = new PacketReader(socket, this.peer, () => !this.kex);
    this.firstKexDone.promise.catch(() => {});
  }

  /** Packets received so far (of any type): what keepalives watch for signs of life. */
  get packetsReceived(): number {
    return this.received;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  get isServer(): boolean {
    return this.options.role === "server";
  }

  /**
   * Who computes the protection of each direction now ("none" before the first NEWKEYS), as
   * the ciphers describe it, e.g. "aes-gcm: node:crypto"; and the `crypto` option it came from.
   */
  get cryptoInfo(): { backend: CryptoBackend; outgoing: string; incoming: string } {
    return {
      backend: this.options.backend,
      outgoing: this.writer.encoder.sealer.implementation,
      incoming: this.reader.decoder.opener.implementation,
    };
  }

  /** Client role: the server's identification string (undefined for the server role). */
  get serverVersion(): ParsedVersion | undefined {
    return this.isServer ? undefined : this.peerVersion;
  }

  private get localVersion(): string {
    return this.isServer ? SERVER_VERSION : CLIENT_VERSION;
  }

  /** Names the other side in messages. */
  private get peer(): string {
    return this.isServer ? "client" : "server";
  }

  /** Exchanges versions and completes the first key exchange. */
  async start(): Promise<void> {
    try {
      const pending = this.socket.write(new TextEncoder().encode(this.localVersion + "\r\n"));
      await this.readVersion();
      await pending;
    } catch (e) {
      this.fail(e);
    }
    if (!this.closedFlag) {
      this.startKex();
      void this.readLoop();
    }
    await this.firstKexDone.promise;
  }

  /**
   * Sends an upper-layer message, given as one or more consecutive parts (copied before this
   * returns); held back while a key exchange is in progress (§7.1).
   */
  send(...parts: Uint8Array[]): void {
    if (this.closedFlag) throw this.closeError ?? new ConnectionError("CONNECTION_CLOSED", "the connection is closed");
    if (this.kex && !this.kex.sentNewKeys) {
      this.heldBack.push(concat(...parts));
      return;
    }
    this.writePacket(...parts);
    this.maybeRekey();
  }

  /** Calls `f` (which may send) just before this turn's socket write; see PacketWriter.beforeFlush. */
  beforeNextWrite(f: () => void): void {
    this.writer.beforeFlush(f);
  }

  /** Resolves when everything sent so far has been handed to the socket. */
  drain(): Promise<void> {
    return this.writer.drain();
  }

  /** Registers a callback for when the connection ends (with the error, if it failed). */
  onClose(listener: (err: SshError | undefined) => void): void {
    if (this.closedFlag) queueMicrotask(() => listener(this.closeError));
    else this.closeListeners.push(listener);
  }

  /** Starts a key re-exchange now (the peer may also start one at any time). */
  rekey(): void {
    if (!this.closedFlag) this.startKex();
  }

  /** Sends DISCONNECT (RFC 4253 §11.1) and closes the socket. */
  async disconnect(reason: number = DISCONNECT_REASON.BY_APPLICATION, description = "closed by application"): Promise<void> {
    if (this.closedFlag) return;
    try {
      // What channels were given this turn (sent at the turn's flush) goes out before DISCONNECT.
      this.writer.flush();
      this.writePacket(new SshWriter(64).byte(MSG.DISCONNECT).uint32(reason).string(description).string("").finish().slice());
      await Promise.race([this.drain(), new Promise((r) => setTimeout(r, 1000))]);
    } catch {
      // The socket may already be gone; closing is all that is left to do.
    }
    this.shutdown(undefined);
  }

  /** Fails the connection: best-effort DISCONNECT for protocol errors, then close. */
  fail(err: unknown): void {
    if (this.closedFlag) return;
    const error = err instanceof SshError ? err : new ProtocolError(`internal error: ${(err as Error)?.message ?? err}`, "INTERNAL", { cause: err });
    if (error instanceof ProtocolError || error instanceof HostKeyError) {
      const reason = error instanceof HostKeyError ? DISCONNECT_REASON.HOST_KEY_NOT_VERIFIABLE
        : error.code === "BAD_MAC" ? DISCONNECT_REASON.MAC_ERROR : DISCONNECT_REASON.PROTOCOL_ERROR;
      try {
        this.writePacket(new SshWriter(64).byte(MSG.DISCONNECT).uint32(reason).string(error.message.slice(0, 200)).string("").finish().slice());
        this.writer.flush();
      } catch {
        // Best effort only.
      }
    }
    this.shutdown(error);
  }

  private shutdown(error: SshError | undefined): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.closeError = error;
    this.idle.stop();
    const asError = error ?? new ConnectionError("CONNECTION_CLOSED", "the connection was closed");
    this.firstKexDone.reject(asError);
    if (this.kex) {
      this.kex.incoming.fail(asError);
      this.kex.outcome.reject(asError);
    }
    // Let a final DISCONNECT reach the socket before closing it, but never wait on a peer that
    // stopped reading: the socket closes after a short grace period regardless.
    const grace = new Promise<void>((r) => (setTimeout(r, 250) as { unref?: () => void }).unref?.());
    void Promise.race([this.writer.drain(), grace]).finally(() => this.socket.close());
    for (const l of this.closeListeners.splice(0)) l(error);
  }

  private async readVersion(): Promise<void> {
    let buf: Uint8Array = new Uint8Array(0);
    for (;;) {
      const found = scanVersion(buf);
      if (found) {
        this.peerVersion = found.version;
        // Packets start at 4-byte multiples from here (every cipher and MAC keeps whole packets
        // a multiple of 4 long): reads that keep that alignment let noble's ciphers use their
        // word-wide path, about 30% faster than byte by byte.
        this.socket.alignFrom?.(found.consumed);
        if (found.consumed < buf.length) this.reader.decoder.push(buf.slice(found.consumed));
        return;
      }
      const chunk = await this.socket.read();
      if (!chunk) throw new ConnectionError("CONNECTION_LOST", `the ${this.peer} closed the connection before sending its version`);
      buf = concat(buf, chunk);
    }
  }

  /**
   * Dispatches packets in order. Packets are only opened ahead (asynchronous ciphers) outside a
   * key exchange: the peer's NEWKEYS (after which the old keys no longer apply) can only follow
   * our own kex messages, which we send only after dispatching its KEXINIT.
   */
  private async readLoop(): Promise<void> {
    try {
      for (;;) {
        const payload = await this.reader.next();
        if (this.closedFlag) return;
        this.received++;
        this.idle.note(payload.length);
        await this.dispatch(payload);
      }
    } catch (e) {
      this.fail(e);
    }
  }

  private async dispatch(payload: Uint8Array): Promise<void> {
    const type = payload[0]!;
    const inKex = type >= 20 && type <= 49;
    if (!this.firstKexComplete && !inKex && type !== MSG.DISCONNECT) {
      // Strict kex forbids anything but kex messages before the first NEWKEYS; without it,
      // only IGNORE/DEBUG may appear (RFC 4253 §7.1 lets upper layers wait).
      if (this.strictKex || (type !== MSG.IGNORE && type !== MSG.DEBUG)) {
        throw new ProtocolError(`unexpected message ${type} during the initial key exchange`, "UNEXPECTED_MESSAGE");
      }
    }
    switch (type) {
      case MSG.DISCONNECT:
        return this.onDisconnect(payload);
      case MSG.IGNORE:
      case MSG.DEBUG:
        return;
      case MSG.UNIMPLEMENTED:
        // The peer did not understand something we sent; upper layers time out or fail on
        // their own requests, so there is nothing to recover here.
        return;
      case MSG.KEXINIT:
        return this.onKexInit(payload);
      case MSG.NEWKEYS:
        return this.onNewKeys();
      case MSG.EXT_INFO:
        return this.onExtInfo(payload);
    }
    if (inKex) {
      if (!this.kex?.theirsPayload) throw new ProtocolError(`key-exchange message ${type} outside a key exchange`);
      if (this.kex.skipGuessedPacket) {
        this.kex.skipGuessedPacket = false;
        return;
      }
      this.kex.backlog++;
      this.kex.incoming.push(payload);
      return;
    }
    if (type < MSG.SERVICE_REQUEST || (type > MSG.EXT_INFO && type < MSG.USERAUTH_REQUEST)) {
      // RFC 4253 §11.4: answer unknown transport-layer messages with UNIMPLEMENTED.
      this.writePacket(new SshWriter(8).byte(MSG.UNIMPLEMENTED).uint32((this.reader.decoder.seq - 1) >>> 0).finish().slice());
      return;
    }
    this.onMessage(payload);
    this.maybeRekey();
  }

  private onDisconnect(payload: Uint8Array): void {
    const r = new SshReader(payload, "DISCONNECT");
    r.byte();
    const reason = r.uint32();
    const description = r.utf8();
    this.shutdown(new ConnectionError("DISCONNECTED", `the ${this.peer} disconnected (reason ${reason}): ${description}`, { reason }));
  }

  private startKex(): void {
    if (this.kex) return;
    const first = this.sessionId === undefined;
    const markers = this.isServer ? [EXT_INFO_S, STRICT_KEX_S] : [EXT_INFO_C, STRICT_KEX_C];
    const ours: KexInit = {
      cookie: crypto.getRandomValues(new Uint8Array(16)),
      // The markers are only sent in the first KEXINIT (RFC 8308 §2.1, PROTOCOL §1.10).
      kex: first ? [...this.options.kex, ...markers] : [...this.options.kex],
      serverHostKey: this.options.serverHostKey,
      cipherC2S: this.options.cipher,
      cipherS2C: this.options.cipher,
      macC2S: this.options.mac,
      macS2C: this.options.mac,
      compressionC2S: ["none"],
      compressionS2C: ["none"],
      languagesC2S: [],
      languagesS2C: [],
      firstKexPacketFollows: false,
    };
    const oursPayload = encodeKexInit(ours);
    const round: KexRound = {
      ours,
      oursPayload,
      incoming: new AsyncQueue(),
      outcome: deferred(),
      sentNewKeys: false,
      skipGuessedPacket: false,
      backlog: 0,
      theirNewKeys: false,
    };
    round.outcome.promise.catch(() => {});
    this.kex = round;
    this.writePacket(oursPayload);
  }

  private onKexInit(payload: Uint8Array): void {
    const isFirstPacket = this.reader.decoder.packets === 1;
    if (!this.kex) this.startKex();
    const round = this.kex!;
    if (round.theirsPayload) throw new ProtocolError(`the ${this.peer} sent a second KEXINIT during a key exchange`);
    round.theirsPayload = payload.slice();
    const theirs = decodeKexInit(round.theirsPayload);
    if (this.sessionId === undefined) {
      // We always offer our strict marker in the first KEXINIT: the peer's decides.
      this.strictKex = theirs.kex.includes(this.isServer ? STRICT_KEX_C : STRICT_KEX_S);
      if (this.strictKex && !isFirstPacket) {
        throw new ProtocolError(`strict kex: the ${this.peer}'s KEXINIT was not its first packet`, "STRICT_KEX_VIOLATION");
      }
      this.peerWantsExtInfo = this.isServer && theirs.kex.includes(EXT_INFO_C);
    }
    if (theirs.firstKexPacketFollows && guessWasWrong(round.ours, theirs)) round.skipGuessedPacket = true;
    const io = {
      send: (p: Uint8Array) => this.writePacket(p),
      receive: () => {
        if (round.theirNewKeys && round.backlog <= 0) return Promise.reject(newKeysTooEarly(this.peer));
        round.backlog--;
        return round.incoming.shift();
      },
    };
    const o = this.options;
    const side: KexInput["side"] = o.role === "server"
      ? { role: "server", hostKeys: o.hostKeys }
      : { role: "client", previousHostKey: this.hostKey?.blob, verifyHostKey: (k) => o.verifyHostKey(k) };
    const peerLine = this.peerVersion!.line;
    runKex(
      {
        clientVersion: this.isServer ? peerLine : this.localVersion,
        serverVersion: this.isServer ? this.localVersion : peerLine,
        ours: round.ours,
        oursPayload: round.oursPayload,
        theirsPayload: round.theirsPayload,
        io,
        backend: this.options.backend,
        sessionId: this.sessionId,
        side,
      },
      theirs,
    ).then(
      (outcome) => this.onKexComputed(round, outcome),
      (e) => {
        round.outcome.reject(e);
        this.fail(e);
      },
    );
  }

  /** Our side of NEWKEYS: switch the outgoing direction and release held-back messages. */
  private onKexComputed(round: KexRound, outcome: KexOutcome): void {
    if (this.closedFlag || this.kex !== round) return;
    this.writePacket(new Uint8Array([MSG.NEWKEYS]));
    this.writer.encoder.sealer = outcome.sealer;
    if (this.strictKex) this.writer.encoder.seq = 0;
    // Outgoing limits count what the new keys carry, held-back messages included.
    this.bytesSinceKex = 0;
    this.writer.encoder.packets = 0;
    // RFC 8308 §2.4: the server's EXT_INFO is the next packet after its first NEWKEYS.
    if (this.options.role === "server" && this.peerWantsExtInfo && this.sessionId === undefined) {
      this.writePacket(encodeExtInfo(new Map([[SERVER_SIG_ALGS, this.options.serverSigAlgs.join(",")]])));
    }
    round.sentNewKeys = true;
    round.outcome.resolve(outcome);
    for (const p of this.heldBack.splice(0)) {
      this.writePacket(p);
      p.fill(0); // our own copy, now in the packet; it may have held a password
    }
  }

  /** The peer's NEWKEYS: everything after it uses the new incoming keys (§7.3). */
  private async onNewKeys(): Promise<void> {
    const round = this.kex;
    if (!round?.theirsPayload) throw new ProtocolError("NEWKEYS outside a key exchange");
    // A method still waiting for the peer's reply would wait forever: the read loop is parked
    // here until the method finishes, and no kex message may follow NEWKEYS anyway.
    round.theirNewKeys = true;
    if (round.backlog < 0) round.incoming.fail(newKeysTooEarly(this.peer));
    const outcome = await round.outcome.promise;
    this.reader.decoder.opener = outcome.opener;
    if (this.strictKex) this.reader.decoder.seq = 0;
    this.kex = undefined;
    this.sessionId = outcome.sessionId;
    this.hostKey = outcome.hostKey;
    this.algorithms = outcome.negotiated;
    this.kexCount++;
    this.lastKexAt = Date.now();
    this.reader.decoder.bytes = 0;
    this.reader.decoder.packets = 0;
    if (!this.firstKexComplete) {
      this.firstKexComplete = true;
      this.firstKexDone.resolve();
    }
    // What was held back during the exchange may already have used up the new keys.
    this.maybeRekey();
  }

  private onExtInfo(payload: Uint8Array): void {
    const value = decodeExtInfo(payload).get(SERVER_SIG_ALGS);
    // A client's EXT_INFO carries nothing a server acts on (server-sig-algs is the server's).
    if (value && !this.isServer) this.serverSigAlgs = new TextDecoder().decode(value).split(",").filter((a) => a.length > 0);
  }

  private maybeRekey(): void {
    if (this.kex || !this.firstKexComplete) return;
    const limit = this.options.rekeyAfterBytes ?? GiB;
    const interval = this.options.rekeyAfterMs ?? 3600_000;
    if (this.bytesSinceKex >= limit || this.reader.decoder.bytes >= limit || Date.now() - this.lastKexAt >= interval
      || this.writer.encoder.packets >= 2 ** 31 || this.reader.decoder.packets >= 2 ** 31) {
      this.startKex();
    }
  }

  private writePacket(...parts: Uint8Array[]): void {
    this.writer.write(...parts);
    let n = 0;
    for (const p of parts) n += p.length;
    this.bytesSinceKex += n;
    this.idle.note(n);
  }
}

function newKeysTooEarly(peer: string): ProtocolError {
  return new ProtocolError(`the ${peer} sent NEWKEYS before completing the key exchange`, "UNEXPECTED_MESSAGE");
}
