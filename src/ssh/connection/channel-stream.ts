/**
 * A channel as a ByteChannel, so a whole SSH connection can run inside another one's
 * direct-tcpip channel (jump hosts). The window is credited back only as the reader takes data,
 * so a slow inner connection holds back the outer sender instead of buffering without bound.
 */
import type { ByteChannel } from "../socket/byte-channel.js";
import type { Channel } from "./channel.js";
import { ConnectionError } from "../../errors.js";

export function channelByteStream(channel: Channel): ByteChannel {
  const chunks: Uint8Array[] = [];
  let ended = false;
  let waiter: (() => void) | undefined;
  const wake = () => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  channel.manualWindow = true;
  // Kept as given: channel data stays valid after the callback (Channel.onData).
  channel.onData = (d) => {
    chunks.push(d);
    wake();
  };
  channel.onEof = () => {
    ended = true;
    wake();
  };
  channel.onClose = () => {
    ended = true;
    wake();
  };
  return {
    async read() {
      for (;;) {
        const c = chunks.shift();
        if (c) {
          channel.consumed(c.length);
          return c;
        }
        if (ended) return null;
        await new Promise<void>((r) => (waiter = r));
      }
    },
    async write(data) {
      if (channel.isClosed) throw new ConnectionError("CONNECTION_LOST", "the forwarded channel is closed");
      await channel.write(data);
    },
    close() {
      ended = true;
      wake();
      void channel.close().catch(() => {});
    },
  };
}
