/**
 * One SFTP v3 server session on an SSH channel (the "sftp" subsystem): the INIT/VERSION
 * handshake, then requests decoded with the shared codecs (src/sftp/packet.ts), served
 * concurrently where draft-ietf-secsh-filexfer-02 §6.1 allows (request-order.ts: requests on
 * one file keep their order, path operations go one at a time), and answered with the shared
 * encoders as each finishes.
 *
 * Memory is bounded per connection: the channel's receive window is credited back only as
 * requests are answered (manual window), so a client that sends faster than the server works
 * stalls on its own window; at most `maxConcurrentRequests` packets are decoded at once, the
 * rest wait as bytes; each packet is limited by the framer, each reply by the READ and READDIR
 * caps. Replies are charged to the connection's outgoing budget when their request starts (at
 * the size they may reach): once it (or the server's total) is exceeded, no request starts until
 * the socket has taken what was sent, so clients that stop reading cannot make the server queue
 * replies without end: a stalled connection holds its share plus one reply.
 */
import { ProtocolError } from "../../errors.js";
import type { Channel } from "../../ssh/connection/channel.js";
import type { ConnectionBudget } from "../../ssh/server/outgoing-budget.js";
import { PacketType, SFTP_VERSION, StatusCode } from "../constants.js";
import { SftpFramer } from "../framing.js";
import { decodeRequest, peekRequestId, type SftpRequest } from "../packet.js";
import type { ReadPacket, WritePacket } from "../packets/handle.js";
import { encodeVersion } from "../packets/init.js";
import { DATA_HEADER_LENGTH, encodeStatus } from "../packets/response.js";
import { type ServerContext, type SftpServerLimits, statusFor } from "./context.js";
import { SERVER_EXTENSIONS, extended } from "./extension-ops.js";
import * as ho from "./handle-ops.js";
import { HandleTable } from "./handles.js";
import type { Jail } from "./jail.js";
import * as po from "./path-ops.js";
import { ReplyBuffers } from "./reply-buffers.js";
import { accessOf } from "./request-access.js";
import { BARRIER, RequestScheduler, type Access } from "./request-order.js";

/** A run of READs (WRITEs) is read (written) at once up to this many bytes. */
const RUN_BYTES = 256 * 1024;

/** What one scheduled task answers for: its reply's bound, request bytes to credit back, requests. */
interface Job {
  bound: number;
  packetBytes: number;
  requests: number;
}

type RunPacket = ReadPacket | WritePacket;

/** Consecutive READs, or WRITEs, of one handle (see joinRun). */
interface Run {
  reqs: RunPacket[];
  handle: Uint8Array;
  access: Access & { kind: "file" };
  job: Job;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The most reply buffers a session keeps for later READs (ReplyBuffers): about what the outgoing
 * budget lets a connection have in flight (2 MiB by default) plus a few replies in the making.
 */
const POOLED_REPLY_BYTES = 3 * 1024 * 1024;
/** A generous bound for every reply but DATA and NAME (STATUS, HANDLE, ATTRS, a few names). */
const SMALL_REPLY = 1024;
/** READDIR replies stop adding entries past 64 KiB (handle-ops.ts); one more entry may follow. */
const NAME_REPLY = 72 * 1024;

/** How large a request's reply may be, charged when it starts (see submit). */
function replyBound(r: Exclude<SftpRequest, { type: typeof PacketType.INIT }>, limits: SftpServerLimits): number {
  if (r.type === PacketType.READ) return DATA_HEADER_LENGTH + Math.min(r.length, limits.maxReadLength);
  if (r.type === PacketType.READDIR) return NAME_REPLY;
  return SMALL_REPLY;
}

export class SftpServerSession {
  private readonly framer: SftpFramer;
  private readonly ctx: ServerContext;
  private readonly scheduler: RequestScheduler;
  private initialized = false;
  private eof = false;
  private ended = false;
  /** Reply bytes charged to the outgoing budget for requests still running. */
  private reserved = 0;
  /** Reply bytes charged and handed to the channel, not yet known to be taken by the socket. */
  private unflushed = 0;
  /** A flush check is pending (see releaseWhenTaken). */
  private watching = false;
  /** Requests decoded and not finished (a run counts each). */
  private held = 0;
  /** The last READ or WRITE taken in this go, which the next may join (see joinRun). */
  private run: Run | undefined;

  private constructor(
    private readonly channel: Channel,
    jail: Jail,
    username: string,
    limits: SftpServerLimits,
    private readonly outgoing: ConnectionBudget,
  ) {
    this.framer = new SftpFramer(limits.maxPacketLength);
    const buffers = new ReplyBuffers(limits.maxReadLength, POOLED_REPLY_BYTES);
    this.ctx = { jail, handles: new HandleTable(limits.maxOpenHandles), limits, username, buffers };
    this.scheduler = new RequestScheduler(() => this.mayStart(), () => this.pump());
  }

  /** Serves SFTP on `channel` until it closes; every handle is closed at the end. */
  static start(channel: Channel, jail: Jail, username: string, limits: SftpServerLimits, outgoing: ConnectionBudget): SftpServerSession {
    const s = new SftpServerSession(channel, jail, username, limits, outgoing);
    channel.manualWindow = true;
    channel.onData = (chunk) => s.onData(chunk);
    channel.onEof = () => {
      s.eof = true;
      s.pump();
    };
    channel.onClose = () => void s.end();
    return s;
  }

  /**
   * Bytes wait in the framer, not as decoded packets: however many tiny requests a window holds,
   * they cost only their bytes until they are taken.
   */
  private onData(chunk: Uint8Array): void {
    if (this.ended) return;
    // The framer keeps the chunk itself (Channel.onData: it stays valid): no copy per chunk.
    this.framer.push(chunk);
    this.pump();
  }

  /**
   * Takes packets while there is room, starts what may start, and ends the session after the
   * client's EOF. Requests taken in one go start together, so consecutive READs of one file can
   * join one run first (see take).
   */
  private pump(): void {
    while (!this.ended && this.held < this.ctx.limits.maxConcurrentRequests) {
      let packet: Uint8Array | undefined;
      try {
        packet = this.framer.next();
      } catch {
        return void this.end(); // oversized or zero-length packet: the stream cannot be parsed further
      }
      if (!packet) break;
      this.held++;
      this.take(packet);
    }
    this.run = undefined;
    this.scheduler.startReady();
    if (this.ended || this.scheduler.size > 0) return;
    if (this.held === 0) this.ctx.buffers.clear(); // nothing to do: an idle session keeps no buffers
    this.releaseWhenTaken();
    if (this.eof) {
      this.channel.eof();
      void this.end();
    }
  }

  private take(packet: Uint8Array): void {
    const previous = this.run;
    this.run = undefined; // only a request right after it may join a run
    if (!this.initialized) {
      if (packet[0] !== PacketType.INIT) return void this.end(); // expected SFTP INIT
      this.initialized = true;
      // Version 3 whatever the client asks for: it is the only one either side speaks.
      return void this.submit(packet, BARRIER, 256, async () => encodeVersion(SFTP_VERSION, SERVER_EXTENSIONS));
    }
    let req: SftpRequest;
    try {
      req = decodeRequest(packet);
    } catch (e) {
      const id = peekRequestId(packet);
      if (id === undefined) return void this.end(); // nothing to answer: a protocol violation
      const unknown = e instanceof ProtocolError && e.code === "SFTP_UNKNOWN_PACKET";
      const status = unknown
        ? { code: StatusCode.OP_UNSUPPORTED, message: "Operation unsupported", lang: "en" }
        : { code: StatusCode.BAD_MESSAGE, message: "Bad message", lang: "en" };
      return void this.submit(packet, BARRIER, 64, async () => encodeStatus(id, status));
    }
    if (req.type === PacketType.INIT) return void this.end(); // a second INIT
    const r = req;
    const runnable = r.type === PacketType.READ ? r.length <= this.ctx.limits.maxReadLength : r.type === PacketType.WRITE;
    if (runnable && previous && this.joinRun(previous, r as RunPacket, packet)) return void (this.run = previous);
    const access = accessOf(r, this.ctx.handles);
    const job = this.submit(packet, access, replyBound(r, this.ctx.limits), async () => {
      if (run && run.reqs.length > 1) {
        return run.reqs[0]!.type === PacketType.READ
          ? ho.readRun(this.ctx, run.reqs as ReadPacket[])
          : ho.writeRun(this.ctx, run.reqs as WritePacket[]);
      }
      try {
        return await this.dispatch(r);
      } catch (e) {
        return statusFor(r.id, e);
      }
    });
    const run = runnable && access.kind === "file" ? { reqs: [r as RunPacket], handle: (r as RunPacket).handle, access, job } : undefined;
    this.run = run;
  }

  /**
   * A READ (WRITE) that continues the previous one, of the same handle, taken in the same go and
   * not started yet, joins its run: one file read (write) for the run instead of one per request
   * (a client such as OpenSSH's sftp moves 32 KiB per request, 64 at once; every file call costs
   * a trip through the runtime's thread pool). Doing them together is what §6.1 allows for
   * requests outstanding at the same time. An appending handle's writes never join: their range
   * is the whole file, so no offset continues it.
   */
  private joinRun(run: Run, r: RunPacket, packet: Uint8Array): boolean {
    const length = r.type === PacketType.READ ? r.length : r.data.length;
    if (r.type !== run.reqs[0]!.type || r.offset !== run.access.end) return false;
    if (run.access.end - run.access.start + length > RUN_BYTES || !sameBytes(r.handle, run.handle)) return false;
    run.reqs.push(r);
    run.access.end += length;
    run.job.bound += replyBound(r, this.ctx.limits);
    run.job.packetBytes += 4 + packet.length;
    run.job.requests++;
    return true;
  }

  /**
   * Queues one request. Its reply is charged (at `bound`, corrected to its real size) when it
   * starts and handed to the channel when it is ready; its place in the file's order is free
   * then (a session that ends waits only for that part), and its slot and its bytes in the
   * client's window once the channel has taken the reply.
   */
  private submit(packet: Uint8Array, access: Access, bound: number, serve: () => Promise<Uint8Array>): Job {
    const job: Job = { bound, packetBytes: 4 + packet.length, requests: 1 };
    this.scheduler.submit(access, async () => {
      const { bound, packetBytes, requests } = job; // final now: a run grows only until it starts
      this.reserved += bound;
      this.outgoing.charge(bound);
      const reply = await serve();
      if (this.ended) return; // end() released the charge
      this.reserved -= bound;
      this.unflushed += reply.length;
      if (reply.length > bound) this.outgoing.charge(reply.length - bound);
      else this.outgoing.release(bound - reply.length);
      // The request's slot stays taken until the channel has its reply (the client's window
      // paces it): the bound counts requests whose replies wait there too.
      this.channel.write(reply).then(() => {
        this.ctx.buffers.give(reply); // copied into packets: its buffer may take a later READ
        this.channel.consumed(packetBytes);
        this.held -= requests;
        this.pump();
      }, () => void this.end());
    }, false);
    return job;
  }

  /**
   * Whether another request may start: yes while the budget has room, and one at a time when
   * the server as a whole is over (everyone is still served). Otherwise the socket must take
   * what was sent first; the flush check, or a running request as it finishes, calls pump().
   */
  private mayStart(): boolean {
    if (!this.outgoing.over) return true;
    if (this.scheduler.running === 0 && this.unflushed === 0) return true;
    this.releaseWhenTaken();
    return false;
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

  /**
   * Releases what was handed to the channel once the socket has taken it, so the budget counts
   * what clients really hold. Checked only when over budget or idle: a flush check writes out
   * the current batch at once, which would split the replies of one event-loop turn.
   */
  private releaseWhenTaken(): void {
    if (this.watching || this.unflushed === 0 || this.ended) return;
    this.watching = true;
    const n = this.unflushed;
    this.channel.flushed().then(() => {
      this.watching = false;
      if (this.ended) return; // end() released it already
      this.unflushed -= n;
      this.outgoing.release(n);
      this.scheduler.startReady();
      this.pump();
    }, () => {});
  }

  /** Ends the session: closes every handle and the channel. Idempotent. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.outgoing.release(this.reserved + this.unflushed);
    this.reserved = this.unflushed = 0;
    // Requests in progress finish first: a descriptor closed under a running read or write
    // could be reused by the next open and the operation land in another file.
    await this.scheduler.stop();
    await this.ctx.handles.closeAll();
    await this.channel.close().catch(() => {});
  }
}
