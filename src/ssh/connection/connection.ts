/**
 * The connection protocol (RFC 4254) over an authenticated transport: channel numbers, routing
 * of channel messages, global requests both ways, and optional keepalives.
 */
import { ConnectionError, ProtocolError, type SshError } from "../../errors.js";
import { DISCONNECT_REASON, MSG } from "../messages.js";
import type { Transport } from "../transport/transport.js";
import { SshReader } from "../wire/reader.js";
import { SshWriter } from "../wire/writer.js";
import { deferred } from "../../util/async-queue.js";
import { Channel, LOCAL_MAX_PACKET, LOCAL_WINDOW, type ChannelHost } from "./channel.js";

/** RFC 4254 §5.1 channel open failure reason codes. */
const OPEN_ADMINISTRATIVELY_PROHIBITED = 1;

/** What to do with a channel the peer opened: its receive window, and a callback once open. */
export interface ChannelAcceptance {
  windowSize?: number;
  onOpen(channel: Channel): void;
}

export class Connection {
  /**
   * Decides on a CHANNEL_OPEN from the peer (RFC 4254 §5.1): return how to accept it, or
   * undefined to refuse. By default every channel is refused, as a client never accepts one.
   */
  acceptChannel: (type: string, r: SshReader) => ChannelAcceptance | undefined = () => undefined;
  private readonly channels = new Map<number, Channel>();
  private readonly opening = new Map<number, ReturnType<typeof deferred<Channel>>>();
  private readonly globalReplies: ReturnType<typeof deferred<Uint8Array | undefined>>[] = [];
  private nextId = 0;
  private keepalive: ReturnType<typeof setInterval> | undefined;
  private closeError: SshError | undefined;
  private ended = false;
  /** What every channel sends through: this connection's transport. */
  private readonly channelHost: ChannelHost = {
    send: (...p) => this.transport.send(...p),
    release: (lid) => this.channels.delete(lid),
    drain: () => this.transport.drain(),
    beforeWrite: (f) => this.transport.beforeNextWrite(f),
  };

  constructor(readonly transport: Transport) {
    transport.onClose((err) => this.end(err));
  }

  /** Routes one message from the transport (numbers 80-127). */
  handle(payload: Uint8Array): void {
    const type = payload[0]!;
    const r = new SshReader(payload, `message ${type}`);
    r.byte();
    switch (type) {
      case MSG.GLOBAL_REQUEST:
        return this.onGlobalRequest(r);
      case MSG.REQUEST_SUCCESS:
        return this.globalReplies.shift()?.resolve(r.rest());
      case MSG.REQUEST_FAILURE:
        return this.globalReplies.shift()?.resolve(undefined);
      case MSG.CHANNEL_OPEN:
        return this.onChannelOpen(r);
      case MSG.CHANNEL_OPEN_CONFIRMATION:
        return this.onOpenConfirmation(r);
      case MSG.CHANNEL_OPEN_FAILURE:
        return this.onOpenFailure(r);
    }
    if (type < MSG.CHANNEL_WINDOW_ADJUST || type > MSG.CHANNEL_FAILURE) {
      throw new ProtocolError(`unexpected message ${type} in the connection protocol`, "UNEXPECTED_MESSAGE");
    }
    const id = r.uint32();
    const channel = this.channels.get(id);
    if (!channel) throw new ProtocolError(`message ${type} for unknown channel ${id}`, "UNKNOWN_CHANNEL");
    switch (type) {
      case MSG.CHANNEL_WINDOW_ADJUST:
        return channel.handleWindowAdjust(r.uint32());
      case MSG.CHANNEL_DATA:
        return channel.handleData(r.string());
      case MSG.CHANNEL_EXTENDED_DATA: {
        const code = r.uint32();
        return channel.handleData(r.string(), code);
      }
      case MSG.CHANNEL_EOF:
        return channel.handleEof();
      case MSG.CHANNEL_CLOSE:
        return channel.handleClose();
      case MSG.CHANNEL_REQUEST:
        return this.onChannelRequest(channel, r);
      case MSG.CHANNEL_SUCCESS:
        return channel.handleRequestReply(true);
      case MSG.CHANNEL_FAILURE:
        return channel.handleRequestReply(false);
    }
  }

  /** Opens a "session" channel (RFC 4254 §6.1). */
  openSession(): Promise<Channel> {
    return this.openChannel("session");
  }

  /**
   * Opens a "direct-tcpip" channel (RFC 4254 §7.2): the server connects to host:port and the
   * channel carries that TCP stream. This is how jump hosts (ProxyJump) reach the next hop.
   */
  openDirectTcpip(host: string, port: number, originatorHost = "127.0.0.1", originatorPort = 0): Promise<Channel> {
    return this.openChannel("direct-tcpip", (w) => w.string(host).uint32(port).string(originatorHost).uint32(originatorPort));
  }

  private openChannel(type: string, extra?: (w: SshWriter) => void): Promise<Channel> {
    if (this.ended) return Promise.reject(this.closedError());
    const id = this.allocateId();
    const pending = deferred<Channel>();
    this.opening.set(id, pending);
    const w = new SshWriter(64).byte(MSG.CHANNEL_OPEN).string(type).uint32(id).uint32(LOCAL_WINDOW).uint32(LOCAL_MAX_PACKET);
    extra?.(w);
    this.transport.send(w.finish().slice());
    return pending.promise;
  }

  /** Sends a global request (RFC 4254 §4); resolves with the reply data, or undefined on failure. */
  globalRequest(name: string, wantReply: boolean, body?: (w: SshWriter) => void): Promise<Uint8Array | undefined> {
    if (this.ended) return Promise.reject(this.closedError());
    const w = new SshWriter(64).byte(MSG.GLOBAL_REQUEST).string(name).boolean(wantReply);
    body?.(w);
    this.transport.send(w.finish().slice());
    if (!wantReply) return Promise.resolve(new Uint8Array(0));
    const reply = deferred<Uint8Array | undefined>();
    this.globalReplies.push(reply);
    return reply.promise;
  }

  /**
   * Bounds a silent peer, like ssh(1)'s ServerAliveInterval / ServerAliveCountMax: every
   * `intervalMs` with nothing at all received since the last check, keepalive@openssh.com is
   * sent and counted; when `maxMissed` have gone unanswered and still nothing has arrived, the
   * connection fails with KEEPALIVE_TIMEOUT. Any packet received resets the count (as OpenSSH
   * does), so a busy connection sends none, and a slow link whose replies queue behind bulk
   * data is not mistaken for a dead one. A peer silent from a packet on fails within
   * (maxMissed + 2) × intervalMs.
   */
  startKeepalive(intervalMs: number, maxMissed = 3): void {
    if (intervalMs <= 0 || this.keepalive) return;
    let missed = 0;
    let seen = this.transport.packetsReceived;
    this.keepalive = setInterval(() => {
      if (this.transport.packetsReceived !== seen) {
        seen = this.transport.packetsReceived;
        missed = 0;
        return;
      }
      if (missed >= maxMissed) {
        this.transport.fail(new ConnectionError("KEEPALIVE_TIMEOUT", `no answer to ${maxMissed} keepalives in a row; the server is unreachable`));
        return;
      }
      missed++;
      // The answer itself is a packet received; a rejection means the connection is over.
      this.globalRequest("keepalive@openssh.com", true).catch(() => {});
    }, intervalMs);
    // A keepalive timer alone must not keep a process alive (Node, Deno and Bun all have unref).
    (this.keepalive as { unref?: () => void }).unref?.();
  }

  /** Closes every channel and the transport. */
  async close(): Promise<void> {
    await this.transport.disconnect(DISCONNECT_REASON.BY_APPLICATION);
  }

  private allocateId(): number {
    while (this.channels.has(this.nextId) || this.opening.has(this.nextId)) this.nextId = (this.nextId + 1) >>> 0;
    return this.nextId++;
  }

  private onGlobalRequest(r: SshReader): void {
    r.ascii();
    // Unknown requests (hostkeys-00@openssh.com, keepalive@openssh.com) get FAILURE when a
    // reply is wanted; for keepalives that answer is what the server is waiting for.
    if (r.boolean()) this.transport.send(new Uint8Array([MSG.REQUEST_FAILURE]));
  }

  private onChannelOpen(r: SshReader): void {
    const type = r.ascii();
    const sender = r.uint32();
    const window = r.uint32();
    const maxPacket = r.uint32();
    const accepted = this.acceptChannel(type, r);
    if (accepted) {
      const id = this.allocateId();
      const windowSize = accepted.windowSize ?? LOCAL_WINDOW;
      const channel = new Channel(this.channelHost, id, sender, window, Math.max(1, Math.min(maxPacket, LOCAL_MAX_PACKET)), windowSize);
      this.channels.set(id, channel);
      this.transport.send(new SshWriter(32).byte(MSG.CHANNEL_OPEN_CONFIRMATION).uint32(sender).uint32(id)
        .uint32(windowSize).uint32(LOCAL_MAX_PACKET).finish().slice());
      accepted.onOpen(channel);
      return;
    }
    // Channels nobody asked for (forwarding, X11, agent) are refused (RFC 4254 §5.1).
    this.transport.send(
      new SshWriter(64).byte(MSG.CHANNEL_OPEN_FAILURE).uint32(sender).uint32(OPEN_ADMINISTRATIVELY_PROHIBITED)
        .string(`${type} channels are not accepted`).string("").finish().slice(),
    );
  }

  private onOpenConfirmation(r: SshReader): void {
    const id = r.uint32();
    // Every field is read before the pending open is taken: a truncated message then fails the
    // connection, which rejects the open with it, instead of leaving it pending forever.
    const remoteId = r.uint32();
    const window = r.uint32();
    const maxPacket = r.uint32();
    const pending = this.opening.get(id);
    if (!pending) throw new ProtocolError(`open confirmation for channel ${id} that was not being opened`);
    this.opening.delete(id);
    const channel = new Channel(
      this.channelHost,
      id,
      remoteId,
      window,
      Math.max(1, Math.min(maxPacket, LOCAL_MAX_PACKET)),
    );
    this.channels.set(id, channel);
    pending.resolve(channel);
  }

  private onOpenFailure(r: SshReader): void {
    const id = r.uint32();
    const reason = r.uint32();
    const text = r.utf8();
    const pending = this.opening.get(id);
    if (!pending) throw new ProtocolError(`open failure for channel ${id} that was not being opened`);
    this.opening.delete(id);
    pending.reject(new ConnectionError("CHANNEL_OPEN_FAILED", `the server refused to open a channel (reason ${reason}): ${text}`, { reason }));
  }

  private onChannelRequest(channel: Channel, r: SshReader): void {
    const type = r.ascii();
    const wantReply = r.boolean();
    let ok = false;
    if (type === "exit-status") channel.exitStatus = r.uint32();
    else if (type === "exit-signal") channel.exitSignal = r.ascii();
    else ok = channel.onRequest(type, r);
    if (wantReply) this.transport.send(new SshWriter(8).byte(ok ? MSG.CHANNEL_SUCCESS : MSG.CHANNEL_FAILURE).uint32(channel.remoteId).finish().slice());
  }

  private closedError(): SshError {
    return this.closeError ?? new ConnectionError("CONNECTION_CLOSED", "the connection is closed");
  }

  private end(err: SshError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.closeError = err;
    if (this.keepalive) clearInterval(this.keepalive);
    const e = this.closedError();
    for (const p of this.opening.values()) p.reject(e);
    this.opening.clear();
    for (const g of this.globalReplies.splice(0)) g.reject(e);
    for (const c of [...this.channels.values()]) c.finish(err ?? e);
  }
}
