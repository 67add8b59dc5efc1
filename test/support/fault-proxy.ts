/**
 * A TCP proxy for fault injection: listens on 127.0.0.1:0, forwards every connection to a
 * target port, and can break one direction of each connection at a byte offset, the way real
 * networks break: a reset or a FIN, a stall (bytes swallowed, nothing closed), a trickle, a
 * packet cut short, one flipped bit. A fixed per-direction delay simulates a long link.
 *
 * "up" is client → server, "down" is server → client. Offsets count the bytes of that
 * direction on each connection. Test code only (it uses node:net directly).
 */
import * as net from "node:net";

export type FaultKind =
  /** Forward up to `at`, then reset both sockets (RST where the runtime can send one). */
  | "reset"
  /** Forward up to `at`, then end both sockets cleanly (FIN). */
  | "fin"
  /** Forward up to `at`, then swallow everything after it in both directions; nothing closes. */
  | "stall"
  /** Forward up to `at`, then one byte every `trickleMs`. */
  | "trickle"
  /** Forward up to `at`, then close the destination side only: the reader sees a cut packet. */
  | "truncate"
  /** Forward everything, with the byte at `at` XORed with 0x01. */
  | "corrupt";

export interface Fault {
  kind: FaultKind;
  /** Byte offset in the direction's stream where the fault starts. */
  at: number;
  /** For "trickle": milliseconds between bytes (default 50). */
  trickleMs?: number;
}

export interface FaultProxyOptions {
  targetPort: number;
  targetHost?: string;
  up?: Fault;
  down?: Fault;
  /** Fixed one-way delay added to each direction, in milliseconds (a long link: RTT = up + down). */
  delayMs?: { up?: number; down?: number };
}

export interface FaultProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Faults that have fired so far (one per direction per connection at most). */
  readonly faultsFired: number;
  /** Replaces the faults applied to connections accepted from now on. */
  setFaults(faults: { up?: Fault; down?: Fault }): void;
  /**
   * Stalls one direction of every connection open now, from this moment (not at an offset):
   * its bytes are swallowed, nothing closes, the other direction still flows. For a fault at an
   * exact point of a protocol exchange, e.g. a request that reaches the server while its reply
   * never comes back.
   */
  mute(direction: Direction): void;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

export type Direction = "up" | "down";

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  let faults = { up: options.up, down: options.down };
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let faultsFired = 0;
  /** Each open connection's muted directions. */
  const mutes = new Set<Set<Direction>>();

  const server = net.createServer((client) => {
    connections++;
    const upstream = net.connect({ port: options.targetPort, host: options.targetHost ?? "127.0.0.1" });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on("error", () => {}); // a reset we caused, or the far side's: the pipe just ends
      s.on("close", () => {
        sockets.delete(s);
        // A socket closing on its own takes its partner with it; a fault handles both itself.
        if (!broken) (s === client ? upstream : client).destroy();
      });
    }
    /**
     * Set when a fault fires that ends or stalls the connection: from then on nothing more is
     * forwarded either way, and the fault, not the close of one socket, decides the other's fate.
     */
    let broken = false;
    const muted = new Set<Direction>();
    mutes.add(muted);
    client.on("close", () => mutes.delete(muted));
    const { up, down } = faults;
    pipe(client, upstream, "up", up);
    pipe(upstream, client, "down", down);

    function pipe(from: net.Socket, to: net.Socket, dir: Direction, fault: Fault | undefined): void {
      const delay = options.delayMs?.[dir] ?? 0;
      let seen = 0;
      let fired = false;
      let tail: Promise<void> = Promise.resolve(); // trickle keeps bytes in order
      const forward = (chunk: Buffer) => {
        if (to.destroyed) return;
        if (delay > 0) setTimeout(() => !to.destroyed && to.write(chunk), delay);
        else to.write(chunk);
      };
      const finish = () => {
        if (!to.destroyed) delay > 0 ? setTimeout(() => to.end(), delay) : to.end();
      };
      from.on("end", () => {
        if (!broken) void tail.then(finish);
      });
      from.on("data", (chunk: Buffer) => {
        const start = seen;
        seen += chunk.length;
        if (broken || muted.has(dir)) return;
        if (fired && fault!.kind === "trickle") {
          tail = tail.then(() => trickle(chunk, fault!.trickleMs ?? 50));
          return;
        }
        if (!fault || fired || seen <= fault.at) {
          forward(chunk);
          return;
        }
        fired = true;
        faultsFired++;
        if (fault.kind !== "corrupt" && fault.kind !== "trickle") broken = true;
        const before = chunk.subarray(0, fault.at - start);
        const after = chunk.subarray(fault.at - start);
        switch (fault.kind) {
          case "corrupt": {
            const copy = Buffer.from(chunk);
            copy[fault.at - start]! ^= 0x01;
            forward(copy);
            return;
          }
          case "trickle":
            if (before.length > 0) forward(before);
            tail = trickle(after, fault.trickleMs ?? 50);
            return;
          case "stall":
            if (before.length > 0) forward(before);
            return;
          case "truncate":
            // The bytes up to the offset arrive, then the destination sees its stream end.
            if (before.length > 0) to.write(before);
            to.end();
            from.destroy();
            return;
          case "fin":
            if (before.length > 0) to.write(before);
            to.end();
            from.end();
            return;
          case "reset":
            // The bytes before the offset first. Node can send a FIN instead of the RST when
            // the reset follows a write's completion too closely, so give them a moment.
            if (before.length > 0) to.write(before, () => setTimeout(() => reset(to), 10));
            else reset(to);
            reset(from);
            return;
        }
      });

      async function trickle(bytes: Buffer, ms: number): Promise<void> {
        for (const b of bytes) {
          if (to.destroyed || broken) return;
          await new Promise((r) => setTimeout(r, ms));
          forward(Buffer.of(b));
        }
      }
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    get connections() {
      return connections;
    },
    get faultsFired() {
      return faultsFired;
    },
    setFaults(f) {
      faults = { up: f.up, down: f.down };
    },
    mute(direction) {
      for (const m of mutes) m.add(direction);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** RST where the runtime has resetAndDestroy (Node ≥ 16.17), else a plain destroy. */
function reset(s: net.Socket): void {
  const r = (s as net.Socket & { resetAndDestroy?: () => void }).resetAndDestroy;
  if (r && !s.destroyed) r.call(s);
  else s.destroy();
}
