/**
 * One channel of the connection protocol (RFC 4254 §5): data in both directions under window
 * flow control, EOF and CLOSE, and channel requests answered in order.
 */
import { ConnectionError, SshError } from "../../errors.js";
import { MSG } from "../messages.js";
import { SshWriter } from "../wire/writer.js";
import { deferred } from "../../util/async-queue.js";

/** What a channel needs from its connection: a way to send and to forget it once closed. */
export interface ChannelHost {
  send(payload: Uint8Array): void;
  release(localId: number): void;
}

/** Our receive window (RFC 4254 §5.2). Large enough to keep 64 SFTP reads of 32-255 KiB moving. */
export const LOCAL_WINDOW = 16 * 1024 * 1024;
/** Largest CHANNEL_DATA we accept; leaves room for headers under the 256 KiB packet limit. */
export const LOCAL_MAX_PACKET = 256 * 1024 - 1024;

export class Channel {
  /** Called with each chunk of channel data (the view is only valid during the call). */
  onData: (data: Uint8Array) => void = () => {};
  /** Called with extended data, e.g. stderr (type 1, RFC 4254 §5.2). */
  onExtendedData: (type: number, data: Uint8Array) => void = () => {};
  onEof: () => void = () => {};
  /** Called once when the channel is closed (with the error when the connection failed). */
  onClose: (err: SshError | undefined) => void = () => {};
  /** The command's exit status, when the server sent "exit-status" (RFC 4254 §6.10). */
  exitStatus: number | undefined;
  exitSignal: string | undefined;

  private localWindow = LOCAL_WINDOW;
  private readonly pendingRequests: ReturnType<typeof deferred<boolean>>[] = [];
  private readonly sendQueue: { data: Uint8Array; done: ReturnType<typeof deferred<void>> }[] = [];
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
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves when both sides have closed the channel. */
  get whenClosed(): Promise<void> {
    return this.closedSignal.promise;
  }

  /**
   * Sends data, split to the peer's max packet and paced by its window. Resolves when all of it
   * has been handed to the transport.
   */
  write(data: Uint8Array): Promise<void> {
    if (this.closed || this.eofRequested) return Promise.reject(this.closeError ?? new ConnectionError("CHANNEL_CLOSED", "write to a closed channel"));
    if (data.length === 0) return Promise.resolve();
    const done = deferred<void>();
    this.sendQueue.push({ data, done });
    this.pump();
    return done.promise;
  }

  /** Sends a channel request (RFC 4254 §5.4); resolves with the server's answer when `wantReply`. */
  request(type: string, wantReply: boolean, body?: (w: SshWriter) => void): Promise<boolean> {
    if (this.closed) return Promise.reject(this.closeError ?? new ConnectionError("CHANNEL_CLOSED", "request on a closed channel"));
    const w = new SshWriter(128).byte(MSG.CHANNEL_REQUEST).uint32(this.remoteId).string(type).boolean(wantReply);
    body?.(w);
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
      this.sentClose = true;
      this.host.send(this.header(MSG.CHANNEL_CLOSE).finish().slice());
    }
    return this.closedSignal.promise;
  }

  // --- called by the connection for incoming messages -------------------------------------

  /** @internal */
  handleData(data: Uint8Array, extendedType?: number): void {
    if (data.length > this.localWindow) {
      throw new ConnectionError("WINDOW_EXCEEDED", `the server sent ${data.length} bytes with ${this.localWindow} left in the window`);
    }
    this.localWindow -= data.length;
    // Replenish once half is used: fewer WINDOW_ADJUST messages, never a stall (§5.2).
    if (this.localWindow < LOCAL_WINDOW / 2 && !this.sentClose) {
      const add = LOCAL_WINDOW - this.localWindow;
      this.localWindow += add;
      this.host.send(this.header(MSG.CHANNEL_WINDOW_ADJUST).uint32(add).finish().slice());
    }
    if (extendedType === undefined) this.onData(data);
    else this.onExtendedData(extendedType, data);
  }

  /** @internal */
  handleWindowAdjust(n: number): void {
    // A window beyond 2^32-1 is a protocol violation; clamp as OpenSSH does.
    this.remoteWindow = Math.min(this.remoteWindow + n, 0xffffffff);
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
    for (const q of this.sendQueue.splice(0)) q.done.reject(e);
    this.host.release(this.localId);
    this.closedSignal.resolve();
    this.onClose(err);
  }

  private header(type: number): SshWriter {
    return new SshWriter(16).byte(type).uint32(this.remoteId);
  }

  /** Sends as much queued data as the peer's window allows. */
  private pump(): void {
    while (this.sendQueue.length > 0 && this.remoteWindow > 0 && !this.closed) {
      const head = this.sendQueue[0]!;
      const n = Math.min(head.data.length, this.remoteWindow, this.remoteMaxPacket);
      const chunk = head.data.subarray(0, n);
      this.host.send(new SshWriter(n + 16).byte(MSG.CHANNEL_DATA).uint32(this.remoteId).string(chunk).finish());
      this.remoteWindow -= n;
      head.data = head.data.subarray(n);
      if (head.data.length === 0) {
        this.sendQueue.shift();
        head.done.resolve();
      }
    }
    if (this.sendQueue.length === 0 && this.eofRequested && !this.eofSent && !this.closed) {
      this.eofSent = true;
      this.host.send(this.header(MSG.CHANNEL_EOF).finish().slice());
    }
  }
}
