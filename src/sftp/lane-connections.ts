/**
 * The SSH connections a segmented transfer spreads its streams over (`connections`): the
 * client's own, and extra ones opened with the same options (SshConnection.connectAgain: host key
 * checked by the same policy, the same authentication). Each is its own TCP flow and its own
 * server process, so a link that limits each flow, or a server whose per-connection process is
 * busy, carries more. Each extra connection is opened once, by the first stream placed on it, and
 * closed when the transfer ends; one that fails to open takes no more streams, and the transfer
 * goes on with the streams that exist.
 */
import type { SshConnection } from "../ssh/client.js";
import { SftpClient } from "./client.js";
import type { SftpSessionOptions } from "./session.js";

/** An explicit count is capped here: every connection is a handshake and a server process. */
export const MAX_CONNECTIONS = 8;

interface Slot {
  /** The extra connection, once asked for (undefined for the client's own, slot 0). */
  ssh?: Promise<SshConnection>;
  /** Streams placed on it, open or opening. */
  streams: number;
  /** It failed to connect: no more streams go there. */
  dead: boolean;
}

export class LaneConnections {
  private readonly slots: Slot[];
  /** Ends the connects still under way when the transfer no longer needs them. */
  private readonly connecting = new AbortController();

  /**
   * `count` connections in all, `main` the first; its first stream is the caller's session, whose
   * options (requestTimeoutMs) every stream's session takes too.
   */
  constructor(private readonly main: SshConnection, count: number, private readonly sessionOptions: SftpSessionOptions = {}) {
    const n = main.canConnectAgain ? Math.max(1, Math.min(MAX_CONNECTIONS, Math.floor(count))) : 1;
    this.slots = Array.from({ length: n }, (_, i) => ({ streams: i === 0 ? 1 : 0, dead: false }));
  }

  /**
   * Opens an SFTP session for one more stream on the connection with the fewest streams (the
   * client's own on a tie, so no handshake is paid for what it can carry); resolves with the
   * session, the extra connection it runs on (undefined for the client's own) and when the
   * session itself was asked for (after any handshake).
   */
  async openStream(): Promise<{ client: SftpClient; ssh?: SshConnection; asked: number }> {
    let k = 0;
    this.slots.forEach((s, i) => {
      if (!s.dead && s.streams < this.slots[k]!.streams) k = i;
    });
    const slot = this.slots[k]!;
    slot.streams++;
    try {
      let ssh = this.main;
      if (k > 0) {
        if (!slot.ssh) {
          slot.ssh = this.main.connectAgain(this.connecting.signal);
          slot.ssh.catch(() => (slot.dead = true));
        }
        ssh = await slot.ssh;
      }
      const asked = Date.now();
      return { client: await SftpClient.open(ssh, this.sessionOptions), ssh: k > 0 ? ssh : undefined, asked };
    } catch (e) {
      slot.streams--;
      throw e;
    }
  }

  /** Every range is placed: connects still under way stop (their streams would find no work). */
  stopConnecting(): void {
    this.connecting.abort(new Error("the transfer no longer needs another connection"));
  }

  /**
   * The transfer is over: connects under way stop, and every extra connection not in `keep`
   * (those carrying a lane, closed with it by closeLanes) is closed.
   */
  async release(keep: ReadonlySet<SshConnection | undefined> = new Set()): Promise<void> {
    this.stopConnecting();
    await Promise.all(this.slots.map(async (s) => {
      const ssh = await s.ssh?.catch(() => undefined);
      if (ssh && !keep.has(ssh)) await ssh.close().catch(() => {});
    }));
  }
}
