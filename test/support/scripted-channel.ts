/**
 * One channel of a scripted peer (test/support/fake-server.ts), kept apart from the peer's
 * transport so each file holds one concept.
 */
import { MSG } from "../../src/ssh/messages.js";
import { SftpFramer } from "../../src/sftp/framing.js";
import { SshReader } from "../../src/ssh/wire/reader.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import type { ScriptedPeer } from "./fake-server.js";

/**
 * One channel of a scripted peer: data both ways under the peer's window (and, unless told
 * otherwise, ours credited back as data arrives), and SFTP packets framed out of the data.
 * Whatever else arrives for the channel is kept in `other`; keepalives are answered.
 */
export class ScriptedChannel {
  /** Channel messages that are neither data nor window adjustments, in order. */
  readonly other: Uint8Array[] = [];
  /** The peer sent EOF or CLOSE. */
  ended = false;
  /** Credit our window back as data arrives (false: the peer's data stalls once it is used up). */
  autoAdjust: boolean;
  /** Answer the peer's CHANNEL_CLOSE with ours, as RFC 4254 §5.3 requires (false: never). */
  answerClose = true;
  private sentClose = false;
  private readonly framer = new SftpFramer(0xffffffff);
  private ourWindow: number;

  constructor(
    readonly peer: ScriptedPeer,
    readonly ourId: number,
    readonly theirId: number,
    /** How much more the peer lets us send. */
    public theirWindow: number,
    readonly theirMaxPacket: number,
    /** The window we granted. */
    readonly windowSize: number,
  ) {
    this.ourWindow = windowSize;
    this.autoAdjust = windowSize > 0;
  }

  /** Reads the connection's next message; data and window messages are absorbed first. */
  async nextMessage(): Promise<Uint8Array> {
    for (;;) {
      const p = await this.peer.readPacket();
      if (!this.absorb(p)) return p;
    }
  }

  /** The next SFTP packet (type byte + body) from the peer's data. */
  async nextSftp(): Promise<Uint8Array> {
    for (;;) {
      const packet = this.framer.next();
      if (packet) return packet;
      if (this.ended) throw new Error("the channel ended");
      const p = await this.peer.readPacket();
      if (!this.absorb(p)) this.other.push(p);
    }
  }

  /** Sends data, split to the peer's max packet and waiting (reading on) for its window. */
  async send(data: Uint8Array): Promise<void> {
    for (let at = 0; at < data.length;) {
      while (this.theirWindow === 0) {
        if (this.ended) throw new Error("the channel ended");
        const p = await this.peer.readPacket();
        if (!this.absorb(p)) this.other.push(p);
      }
      const n = Math.min(data.length - at, this.theirWindow, this.theirMaxPacket);
      await this.sendUnchecked(data.subarray(at, at + n));
      at += n;
    }
  }

  /** One CHANNEL_DATA, whatever the window says. */
  sendUnchecked(data: Uint8Array): Promise<void> {
    this.theirWindow = Math.max(0, this.theirWindow - data.length);
    return this.peer.sendPacket(new SshWriter(data.length + 16).byte(MSG.CHANNEL_DATA).uint32(this.theirId).string(data).finish().slice());
  }

  adjust(n: number): Promise<void> {
    this.ourWindow += n;
    return this.peer.sendPacket(new SshWriter(16).byte(MSG.CHANNEL_WINDOW_ADJUST).uint32(this.theirId).uint32(n).finish().slice());
  }

  /** Handles data, window and keepalive messages; false for anything else. */
  private absorb(p: Uint8Array): boolean {
    const r = new SshReader(p, `message ${p[0]}`);
    const type = r.byte();
    if (type === MSG.GLOBAL_REQUEST) {
      r.ascii();
      if (r.boolean()) void this.peer.sendPacket(Uint8Array.of(MSG.REQUEST_FAILURE));
      return true;
    }
    if (type === MSG.IGNORE) return true;
    if (type < MSG.CHANNEL_WINDOW_ADJUST || type > MSG.CHANNEL_FAILURE) return false;
    r.uint32(); // recipient: ours
    if (type === MSG.CHANNEL_WINDOW_ADJUST) {
      this.theirWindow = Math.min(this.theirWindow + r.uint32(), 0xffffffff);
      return true;
    }
    if (type === MSG.CHANNEL_DATA) {
      const data = r.string();
      this.framer.push(data.slice());
      this.ourWindow -= data.length;
      if (this.autoAdjust && this.ourWindow < this.windowSize / 2) void this.adjust(this.windowSize - this.ourWindow);
      return true;
    }
    if (type === MSG.CHANNEL_EOF || type === MSG.CHANNEL_CLOSE) this.ended = true;
    if (type === MSG.CHANNEL_CLOSE && this.answerClose && !this.sentClose) {
      this.sentClose = true;
      void this.peer.sendPacket(new SshWriter(8).byte(MSG.CHANNEL_CLOSE).uint32(this.theirId).finish().slice());
    }
    return false;
  }
}
