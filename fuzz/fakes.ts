/**
 * Stand-ins for what sits around a decoder in a real connection, so the fuzz targets can drive
 * the authentication, connection and agent code with hostile messages without sockets: a
 * Transport that delivers a script of payloads and then closes, a KexIO that answers from a
 * script, and a ByteChannel that hands out scripted bytes in chunks.
 */
import { ConnectionError, SshError } from "../src/errors.js";
import type { KexIO } from "../src/ssh/kex/kex.js";
import type { ByteChannel } from "../src/ssh/socket/byte-channel.js";
import type { Transport } from "../src/ssh/transport/transport.js";
import { classify } from "./engine.js";

const tick = () => new Promise<void>((r) => setImmediate(r));

/**
 * The parts of Transport that the auth and connection layers use. `deliver` feeds the script
 * one message per event-loop turn (as a socket would), then closes as a peer hanging up does.
 * What the layer under test throws from onMessage ends the "connection", as in the real read
 * loop; a JavaScript bug thrown there is kept in `bug` for the target to rethrow.
 */
export class FakeTransport {
  onMessage: (payload: Uint8Array) => void = () => {};
  sessionId: Uint8Array | undefined = new Uint8Array(32).fill(7);
  serverSigAlgs: string[] | undefined;
  readonly sent: Uint8Array[] = [];
  /** The typed error the code under test ended the connection with (not the final hang-up). */
  failure: SshError | undefined;
  bug: unknown;
  private closedFlag = false;
  private closeError: SshError | undefined;
  private listeners: ((err: SshError | undefined) => void)[] = [];

  get closed(): boolean {
    return this.closedFlag;
  }

  asTransport(): Transport {
    return this as unknown as Transport;
  }

  send(payload: Uint8Array): void {
    if (this.closedFlag) throw new ConnectionError("CONNECTION_CLOSED", "the connection is closed");
    if (this.sent.length < 256) this.sent.push(payload.slice());
  }

  drain(): Promise<void> {
    return Promise.resolve();
  }

  /** Like Transport.beforeNextWrite: `f` runs before the next write, here a microtask away. */
  beforeNextWrite(f: () => void): void {
    queueMicrotask(f);
  }

  onClose(listener: (err: SshError | undefined) => void): void {
    if (this.closedFlag) queueMicrotask(() => listener(this.closeError));
    else this.listeners.push(listener);
  }

  async disconnect(): Promise<void> {
    this.close(undefined);
  }

  fail(err: unknown): void {
    if (!(err instanceof SshError) || classify(err) !== "typed") this.bug ??= err;
    else this.failure ??= err;
    this.close(err instanceof SshError ? err : undefined);
  }

  close(err: SshError | undefined): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.closeError = err;
    for (const l of this.listeners.splice(0)) l(err);
  }

  /** Delivers each payload on its own turn of the event loop, then closes. */
  async deliver(script: readonly Uint8Array[], turnsBetween = 1): Promise<void> {
    for (const payload of script) {
      for (let i = 0; i < turnsBetween; i++) await tick();
      if (this.closedFlag) return;
      try {
        this.onMessage(payload);
      } catch (e) {
        this.fail(e);
        return;
      }
    }
    for (let i = 0; i < 3; i++) await tick();
    this.close(new ConnectionError("CONNECTION_LOST", "the peer closed the connection"));
  }
}

/** A KexIO answered from a script; past its end the peer sends `fallback` (a wrong message). */
export function scriptedKexIO(replies: readonly Uint8Array[], fallback = Uint8Array.of(99)): KexIO & { sent: Uint8Array[] } {
  const queue = [...replies];
  const sent: Uint8Array[] = [];
  return {
    sent,
    send: (p) => void sent.push(p.slice()),
    receive: async () => queue.shift() ?? fallback,
  };
}

/** Two connected KexIOs (for making genuine exchanges as seeds). */
export function kexPair(): [KexIO & { sent: Uint8Array[] }, KexIO & { sent: Uint8Array[] }] {
  const make = () => {
    const items: Uint8Array[] = [];
    const waiters: ((v: Uint8Array) => void)[] = [];
    return {
      push: (v: Uint8Array) => (waiters.length ? waiters.shift()!(v) : void items.push(v)),
      pop: () => (items.length ? Promise.resolve(items.shift()!) : new Promise<Uint8Array>((r) => waiters.push(r))),
    };
  };
  const toServer = make();
  const toClient = make();
  const end = (out: ReturnType<typeof make>, inbox: ReturnType<typeof make>) => {
    const sent: Uint8Array[] = [];
    return { sent, send: (p: Uint8Array) => (sent.push(p.slice()), out.push(p.slice())), receive: () => inbox.pop() };
  };
  return [end(toServer, toClient), end(toClient, toServer)];
}

/** A ByteChannel whose reads return `bytes` cut at the given sizes, then end of stream. */
export function scriptedChannel(bytes: Uint8Array, cuts: readonly number[]): ByteChannel & { written: Uint8Array[] } {
  let offset = 0;
  let cut = 0;
  let closed = false;
  const written: Uint8Array[] = [];
  return {
    written,
    async read() {
      await tick();
      if (closed || offset >= bytes.length) return null;
      const n = Math.max(1, cuts.length ? cuts[cut++ % cuts.length]! : bytes.length);
      const chunk = bytes.slice(offset, offset + n);
      offset += chunk.length;
      return chunk;
    },
    async write(data) {
      if (closed) throw new ConnectionError("CONNECTION_CLOSED", "write after close");
      written.push(data.slice());
    },
    close() {
      closed = true;
    },
  };
}

/** Chunk sizes for splitting a stream, derived from one seed byte so mutations can change them. */
export function chunkSizes(seed: number, count = 16): number[] {
  let s = (seed * 2654435761) >>> 0;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s ^ (s >>> 15), 2246822519) + 0x9e3779b9) >>> 0;
    // Mostly small cuts (boundaries inside headers and MACs), sometimes whole packets.
    out.push(seed % 4 === 0 ? 1 + (s % 4096) : 1 + (s % (1 + (s >>> 28) * 16)));
  }
  return out;
}

/** Splits `bytes` at the given sizes (cycled). */
export function chunk(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0, i = 0; o < bytes.length; i++) {
    const n = sizes.length ? sizes[i % sizes.length]! : bytes.length;
    out.push(bytes.subarray(o, o + n));
    o += n;
  }
  return out;
}
