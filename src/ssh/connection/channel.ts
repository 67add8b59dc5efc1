/**
 * One channel of the connection protocol (RFC 4254 §5): data in both directions under window
 * flow control, EOF and CLOSE, and channel requests answered in order.
 */
import { ConnectionError, ProtocolError, SshError } from "../../errors.js";
import { MSG } from "../messages.js";
import type { SshReader } from "../wire/reader.js";
import { SshWriter } from "../wire/writer.js";
import { deferred } from "../../util/async-queue.js";

/** What a channel needs from its connection: a way to send and to forget it once closed. */
export interface ChannelHost {
  /** Sends one message given as consecutive parts (copied before it returns). */
  send(...parts: Uint8Array[]): void;
  release(localId: number): void;
  /** Resolves when what was sent so far has reached the socket (its backpressure included). */
  drain?(): Promise<void>;
  /**
   * Optional: calls `f` once, just before the next socket write of this turn of the event loop
   * (f may send). Without it, channel data is sent as soon as it is written.
   */
  beforeWrite?(f: () => void): void;
}

/** A part of a write waiting to be sent; the last part of each write says whom to tell. */
interface QueuedData {
  data: Uint8Array;
  done?: ReturnType<typeof deferred<void>>;
  failed?: (e: unknown) => void;
}

function failEntry(q: QueuedData, e: unknown): void {
  q.done?.reject(e);
  q.failed?.(e);
}

/** Our receive window (RFC 4254 §5.2). Large enough to keep 64 SFTP reads of 32-255 KiB moving. */
export const LOCAL_WINDOW = 16 * 1024 * 1024;
/** Largest CHANNEL_DATA we accept; leaves room for headers under the 256 KiB packet limit. */
export const LOCAL_MAX_PACKET = 256 * 1024 - 1024;

export class Channel {
  /**
   * Called with each chunk of channel data. The chunk stays valid after the call and the
   * receiver may keep it without copying: it is a view into its decrypted packet, which is never
   * reused, and a socket read buffer is read into again only once the packet layer has released
   * it, which it does only for bytes no payload refers to (ReadArena in socket/tcp.ts,
   * PacketDecoder.release). It must not be written to.
   */
  onData: (data: Uint8Array) => void = () => {};
  /** Called with extended data, e.g. stderr (type 1, RFC 4254 §5.2). */
  onExtendedData: (type: number, data: Uint8Array) => void = () => {};
  onEof: () => void = () => {};
  /** Called once when the channel is closed (with the error when the connection failed). */
  onClose: (err: SshError | undefined) => void = () => {};
  /** The command's exit status, when the server sent "exit-status" (RFC 4254 §6.10). */
  exitStatus: number | undefined;
  exitSignal: string | undefined;
  /**
   * Answers a channel request from the peer (RFC 4254 §5.4) other than exit-status/exit-signal;
   * `r` is positioned after want-reply. True sends CHANNEL_SUCCESS. By default every request is
   * refused, as a client must refuse what a server asks of it.
   */
  onRequest: (type: string, r: SshReader) => boolean = () => false;
  /**
   * When true, received data is credited back to the peer's window only as `consumed(n)` is
   * called, so a slow consumer holds back the sender (bounded memory); when false (default) the
   * window is replenished on receipt.
   */
  manualWindow = false;

  private localWindow: number;
  private credit = 0;
  private readonly pendingRequests: ReturnType<typeof deferred<boolean>>[] = [];
  /** Data to send, in order; `done` (or `failed`, for `post`) on the last part of each write. */
  private readonly sendQueue: QueuedData[] = [];
  private pumpScheduled = false;
  private eofRequested = false;
  private eofSent = false;
  private sentClose = false;
  private closed = false;
  private closeError: SshError | undefined;
  private readonly closedSignal = deferred<void>();

  constructor(
    private readonly host: ChannelHost,
    readonly localId: number,
    readonly remoteId: number,
    private remoteWindow: number,
    readonly remoteMaxPacket: number,
    /** Our receive window size (RFC 4254 §5.2). */
    private readonly windowSize: number = LOCAL_WINDOW,
  ) {
    this.localWindow = windowSize;
    this.peerWindowMax = remoteWindow;
  }

  private peerWindowMax: number;

  /**
   * The largest window the peer has granted so far (RFC 4254 §5.2): the most data that may be in
   * flight towards it, so one channel moves at most this much per round trip. sshd confirms a
   * session channel with none and grants 2 MiB (CHAN_SES_WINDOW_DEFAULT) once the subsystem runs.
   */
  get peerWindow(): number {
    return this.peerWindowMax;
  }

  /** Our receive window (RFC 4254 §5.2): the most the peer may have in flight towards us. */
  get receiveWindow(): number {
    return this.windowSize;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves when both sides have closed the channel. */
  get whenClosed(): Promise<void> {
    return this.closedSignal.promise;
  }

  /**
   * Sends data (given as one or more consecutive parts), split to the peer's max packet and
   * paced by its window. Resolves when all of it has been handed to the transport, which copies
   * it into packets: the data must not change until then.
   *
   * What is written during one turn of the event loop goes out together, just before that turn's
   * socket write: many small writes (SFTP requests from concurrent operations) then share
   * CHANNEL_DATA messages, each one packet to seal and one message for the peer to handle.
   */
  write(...parts: Uint8Array[]): Promise<void> {
    if (this.closed || this.eofRequested) return Promise.reject(this.closeError ?? new ConnectionError("CHANNEL_CLOSED", "write to a closed channel"));
    const data = parts.filter((p) => p.length > 0);
    if (data.length === 0) return Promise.resolve();
    const done = deferred<void>();
    for (let i = 0; i < data.length; i++) this.sendQueue.push(i === data.length - 1 ? { data: data[i]!, done } : { data: data[i]! });
    this.schedulePump();
    return done.promise;
  }

  /**
   * `write` of one part for a caller that needs no promise of its own, such as an SFTP session
   * sending a request (whose reply is what it waits for): the data is sent as `write` sends it,
   * and if it cannot be, `failed` is called with the error. Returns false, sending nothing,
   * when the channel no longer takes data.
   */
  post(data: Uint8Array, failed: (e: unknown) => void): boolean {
    if (this.closed || this.eofRequested) return false;
    if (data.length === 0) return true;
    this.sendQueue.push({ data, failed });
    this.schedulePump();
    return true;
  }

  private schedulePump(): void {
    if (!this.host.beforeWrite) this.pump();
    else if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      this.host.beforeWrite(() => {
        this.pumpScheduled = false;
        try {
          this.pump();
        } catch (e) {
          this.failQueued(e);
        }
      });
    }
  }

  /**
   * Resolves when everything handed to the connection so far has been written to the socket.
   * `write` only waits for the peer's window; a producer that must not outrun a peer that
   * stopped reading its socket awaits this too.
   */
  flushed(): Promise<void> {
    return this.host.drain?.() ?? Promise.resolve();
  }

  /** Sends a channel request (RFC 4254 §5.4); resolves with the server's answer when `wantReply`. */
  request(type: string, wantReply: boolean, body?: (w: SshWriter) => void): Promise<boolean> {
    if (this.closed) return Promise.reject(this.closeError ?? new ConnectionError("CHANNEL_CLOSED", "request on a closed channel"));
    const w = new SshWriter(128).byte(MSG.CHANNEL_REQUEST).uint32(this.remoteId).string(type).boolean(wantReply);
    body?.(w);
    this.pump(); // data written before the request goes first
    this.host.send(w.finish().slice());
    if (!wantReply) return Promise.resolve(true);
    const reply = deferred<boolean>();
    this.pendingRequests.push(reply);
    return reply.promise;
  }

  /** Starts a subsystem such as "sftp" (RFC 4254 §6.5). */
  async subsystem(name: string): Promise<void> {
    if (!(await this.request("subsystem", true, (w) => w.string(name)))) {
      throw new SshError("SUBSYSTEM_REFUSED", `the server refused to start the "${name}" subsystem`);
    }
  }

  /** Runs a command (RFC 4254 §6.5). The command goes to the server as is: no local shell. */
  async exec(command: string): Promise<void> {
    if (!(await this.request("exec", true, (w) => w.string(command)))) {
      throw new SshError("EXEC_REFUSED", `the server refused to run the command`);
    }
  }

  /** Sends EOF after the queued data (RFC 4254 §5.3). */
  eof(): void {
    if (this.closed || this.eofRequested) return;
    this.eofRequested = true;
    this.pump();
  }

  /** Closes the channel; resolves when the server has closed its side too. */
  close(): Promise<void> {
    if (!this.closed && !this.sentClose) {
      this.pump(); // data written before close() goes first, as far as the window allows
      this.sentClose = true;
      this.host.send(this.header(MSG.CHANNEL_CLOSE).finish().slice());
    }
    return this.closedSignal.promise;
  }

  // --- called by the connection for incoming messages -------------------------------------

  /** @internal */
  handleData(data: Uint8Array, extendedType?: number): void {
    if (data.length > this.localWindow) {
      // RFC 4254 §5.2: the peer may not send more than the window allows; a protocol error, so
      // the transport says why in a DISCONNECT.
      throw new ProtocolError(`the peer sent ${data.length} bytes with ${this.localWindow} left in the window`, "WINDOW_EXCEEDED");
    }
    this.localWindow -= data.length;
    if (!this.manualWindow) this.consumed(data.length);
    if (extendedType === undefined) this.onData(data);
    else this.onExtendedData(extendedType, data);
  }

  /** Returns `n` received bytes to the peer's window (see `manualWindow`). */
  consumed(n: number): void {
    this.credit += n;
    // Replenish once half is used: fewer WINDOW_ADJUST messages, never a stall (§5.2).
    if (this.localWindow < this.windowSize / 2 && this.credit > 0 && !this.sentClose) {
      const add = this.credit;
      this.credit = 0;
      this.localWindow += add;
      this.host.send(this.header(MSG.CHANNEL_WINDOW_ADJUST).uint32(add).finish().slice());
    }
  }

  /** @internal */
  handleWindowAdjust(n: number): void {
    // A window beyond 2^32-1 is a protocol violation; clamp as OpenSSH does.
    this.remoteWindow = Math.min(this.remoteWindow + n, 0xffffffff);
    if (this.remoteWindow > this.peerWindowMax) this.peerWindowMax = this.remoteWindow;
    this.pump();
  }

  /** @internal */
  handleRequestReply(ok: boolean): void {
    this.pendingRequests.shift()?.resolve(ok);
  }

  /** @internal */
  handleEof(): void {
    this.onEof();
  }

  /** @internal The server closed its side; answer and release the channel number. */
  handleClose(): void {
    if (!this.sentClose) {
      this.sentClose = true;
      this.host.send(this.header(MSG.CHANNEL_CLOSE).finish().slice());
    }
    this.finish(undefined);
  }

  /** @internal The connection ended. */
  finish(err: SshError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = err;
    const e = err ?? new ConnectionError("CHANNEL_CLOSED", "the channel was closed");
    for (const r of this.pendingRequests.splice(0)) r.reject(e);
    this.failQueued(e);
    this.host.release(this.localId);
    this.closedSignal.resolve();
    this.onClose(err);
  }

  /** Drops the data not yet sent and fails the writes it belongs to. */
  private failQueued(e: unknown): void {
    for (const q of this.sendQueue.splice(0)) failEntry(q, e);
  }

  private header(type: number): SshWriter {
    return new SshWriter(16).byte(type).uint32(this.remoteId);
  }

  /**
   * Sends as much queued data as the peer's window allows, each CHANNEL_DATA as full as its max
   * packet allows: consecutive writes share a message.
   */
  private pump(): void {
    while (this.sendQueue.length > 0 && this.remoteWindow > 0 && !this.closed && !this.sentClose) {
      const room = Math.min(this.remoteWindow, this.remoteMaxPacket);
      const parts: Uint8Array[] = [];
      const sent: QueuedData[] = [];
      let n = 0;
      while (n < room && this.sendQueue.length > 0) {
        const head = this.sendQueue[0]!;
        const k = Math.min(head.data.length, room - n);
        parts.push(k === head.data.length ? head.data : head.data.subarray(0, k));
        head.data = head.data.subarray(k);
        n += k;
        if (head.data.length === 0) {
          const q = this.sendQueue.shift()!;
          if (q.done || q.failed) sent.push(q);
        }
      }
      try {
        // Header and data go down as parts: the packet layer copies the data once, into the packet.
        this.host.send(this.header(MSG.CHANNEL_DATA).uint32(n).finish(), ...parts);
      } catch (e) {
        // The connection closed under us (its final flush runs this pump before the channel
        // hears of the close): the writes taken off the queue for this message fail too, or
        // their callers would wait for ever.
        for (const q of sent) failEntry(q, e);
        throw e;
      }
      this.remoteWindow -= n;
      for (const q of sent) q.done?.resolve();
    }
    if (this.sendQueue.length === 0 && this.eofRequested && !this.eofSent && !this.closed) {
      this.eofSent = true;
      this.host.send(this.header(MSG.CHANNEL_EOF).finish().slice());
    }
  }
}
