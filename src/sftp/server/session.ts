/**
 * One SFTP v3 server session on an SSH channel (the "sftp" subsystem): the INIT/VERSION
 * handshake, then requests decoded with the shared codecs (src/sftp/packet.ts), served one at
 * a time in arrival order (as OpenSSH's sftp-server does, so a client's pipelined requests on
 * one file never race), and answered with the shared encoders.
 *
 * Memory is bounded per connection: the channel's receive window is credited back only as
 * requests are served (manual window), so a client that sends faster than the server works
 * stalls on its own window; each packet is limited by the framer, each reply by the READ and
 * READDIR caps, and a reply is handed to the channel (paced by the client's window) before the
 * next request is taken. Replies are charged to the connection's outgoing budget: once it (or
 * the server's total) is exceeded, the session waits for the socket to take them before it
 * serves more, so clients that stop reading cannot make the server queue replies without end.
 */
import { ProtocolError } from "../../errors.js";
import type { Channel } from "../../ssh/connection/channel.js";
import type { ConnectionBudget } from "../../ssh/server/outgoing-budget.js";
import { PacketType, SFTP_VERSION, StatusCode } from "../constants.js";
import { SftpFramer } from "../framing.js";
import { decodeRequest, peekRequestId, type SftpRequest } from "../packet.js";
import { encodeVersion } from "../packets/init.js";
import { encodeStatus } from "../packets/response.js";
import { type ServerContext, type SftpServerLimits, statusFor } from "./context.js";
import { SERVER_EXTENSIONS, extended } from "./extension-ops.js";
import * as ho from "./handle-ops.js";
import { HandleTable } from "./handles.js";
import type { Jail } from "./jail.js";
import * as po from "./path-ops.js";

export class SftpServerSession {
  private readonly framer: SftpFramer;
  private readonly ctx: ServerContext;
  private running = false;
  private initialized = false;
  private eof = false;
  private ended = false;
  /** Reply bytes charged to the outgoing budget and not yet known to be taken by the socket. */
  private unflushed = 0;
  /** Of those, the bytes an idle-time flush check is waiting on (see settleWhenTaken). */
  private settling = 0;
  /** Counts settle() calls: a check started before one has nothing left to release. */
  private settled = 0;

  private constructor(
    private readonly channel: Channel,
    jail: Jail,
    username: string,
    limits: SftpServerLimits,
    private readonly outgoing: ConnectionBudget,
  ) {
    this.framer = new SftpFramer(limits.maxPacketLength);
    this.ctx = { jail, handles: new HandleTable(limits.maxOpenHandles), limits, username };
  }

  /** Serves SFTP on `channel` until it closes; every handle is closed at the end. */
  static start(channel: Channel, jail: Jail, username: string, limits: SftpServerLimits, outgoing: ConnectionBudget): SftpServerSession {
    const s = new SftpServerSession(channel, jail, username, limits, outgoing);
    channel.manualWindow = true;
    channel.onData = (chunk) => s.onData(chunk);
    channel.onEof = () => {
      s.eof = true;
      s.kick();
    };
    channel.onClose = () => void s.end();
    return s;
  }

  /**
   * Bytes wait in the framer, not as decoded packets: however many tiny requests a window holds,
   * they cost only their bytes until they are served.
   */
  private onData(chunk: Uint8Array): void {
    if (this.ended) return;
    // The view is only valid during the call; the framer keeps what it is given.
    this.framer.push(chunk.slice());
    this.kick();
  }

  private kick(): void {
    if (this.running || this.ended) return;
    this.running = true;
    void this.run().finally(() => (this.running = false));
  }

  private async run(): Promise<void> {
    while (!this.ended) {
      let packet: Uint8Array | undefined;
      try {
        packet = this.framer.next();
      } catch {
        return void this.end(); // oversized or zero-length packet: the stream cannot be parsed further
      }
      if (!packet) {
        this.settleWhenTaken();
        break;
      }
      let reply: Uint8Array | undefined;
      try {
        reply = await this.serve(packet);
      } catch {
        return void this.end(); // a protocol violation that has no request id to answer
      }
      try {
        // Charged before the write: a reply waiting on the client's window is held too.
        this.unflushed += reply.length;
        const over = this.outgoing.charge(reply.length);
        await this.channel.write(reply);
        // A client that stops reading its socket must not make us queue replies without end.
        if (over) {
          await this.channel.flushed();
          this.settle();
        }
      } catch {
        return void this.end();
      }
      this.channel.consumed(4 + packet.length);
    }
    if (this.eof && !this.ended) {
      this.channel.eof();
      void this.end();
    }
  }

  private async serve(packet: Uint8Array): Promise<Uint8Array> {
    if (!this.initialized) {
      if (packet[0] !== PacketType.INIT) throw new ProtocolError(`expected SFTP INIT, got packet type ${packet[0]}`);
      this.initialized = true;
      // Version 3 whatever the client asks for: it is the only one either side speaks.
      return encodeVersion(SFTP_VERSION, SERVER_EXTENSIONS);
    }
    let req: SftpRequest;
    try {
      req = decodeRequest(packet);
    } catch (e) {
      const id = peekRequestId(packet);
      if (id === undefined) throw e;
      const unknown = e instanceof ProtocolError && e.code === "SFTP_UNKNOWN_PACKET";
      return encodeStatus(id, unknown
        ? { code: StatusCode.OP_UNSUPPORTED, message: "Operation unsupported", lang: "en" }
        : { code: StatusCode.BAD_MESSAGE, message: "Bad message", lang: "en" });
    }
    if (req.type === PacketType.INIT) throw new ProtocolError("a second SFTP INIT");
    try {
      return await this.dispatch(req);
    } catch (e) {
      return statusFor(req.id, e);
    }
  }

  private dispatch(r: Exclude<SftpRequest, { type: typeof PacketType.INIT }>): Promise<Uint8Array> {
    const c = this.ctx;
    switch (r.type) {
      case PacketType.OPEN: return po.open(c, r);
      case PacketType.CLOSE: return ho.close(c, r);
      case PacketType.READ: return ho.read(c, r);
      case PacketType.WRITE: return ho.write(c, r);
      case PacketType.LSTAT: return po.lstat(c, r);
      case PacketType.FSTAT: return ho.fstat(c, r);
      case PacketType.SETSTAT: return po.setstat(c, r);
      case PacketType.FSETSTAT: return ho.fsetstat(c, r);
      case PacketType.OPENDIR: return po.opendir(c, r);
      case PacketType.READDIR: return ho.readdir(c, r);
      case PacketType.REMOVE: return po.remove(c, r);
      case PacketType.MKDIR: return po.mkdir(c, r);
      case PacketType.RMDIR: return po.rmdir(c, r);
      case PacketType.REALPATH: return po.realpath(c, r);
      case PacketType.STAT: return po.stat(c, r);
      case PacketType.RENAME: return po.rename(c, r);
      case PacketType.READLINK: return po.readlink(c, r);
      case PacketType.SYMLINK: return po.symlink(c, r);
      case PacketType.EXTENDED: return extended(c, r);
    }
  }

  /** What this session charged has been taken by the connection (or dropped with it). */
  private settle(): void {
    this.outgoing.release(this.unflushed);
    this.unflushed = 0;
    this.settling = 0;
    this.settled++;
  }

  /**
   * Idle, with replies charged: release them once the socket has taken them, so the budget
   * counts what clients really hold rather than what a session sent since it last went over
   * (stale charges would make the server look over its total and slow everyone down).
   */
  private settleWhenTaken(): void {
    const n = this.unflushed - this.settling;
    if (n <= 0) return;
    this.settling += n;
    const round = this.settled;
    this.channel.flushed().then(() => {
      if (this.settled !== round) return; // settle() (over budget, or end) released it already
      this.settling -= n;
      this.unflushed -= n;
      this.outgoing.release(n);
    }, () => {});
  }

  /** Ends the session: closes every handle and the channel. Idempotent. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.settle(); // including what an idle-time check is still waiting on
    await this.ctx.handles.closeAll();
    await this.channel.close().catch(() => {});
  }
}
