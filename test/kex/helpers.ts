/**
 * Test plumbing for key-exchange methods: an in-memory KexIO pair, a dummy host key, fixed
 * exchange inputs, and SSH encoders written independently of src/ (Buffer + node:crypto) so the
 * exchange hashes can be recomputed without the library's own code.
 */
import { createHash, createPublicKey, diffieHellman, generateKeyPairSync } from "node:crypto";
import { expect } from "vitest";
import type { ExchangeInputs, KexHostKey, KexIO } from "../../src/ssh/kex/kex.js";
import { ProtocolError } from "../../src/errors.js";

/** One direction of an in-memory link: an async queue of payloads. */
class Queue {
  private items: Uint8Array[] = [];
  private waiters: ((v: Uint8Array) => void)[] = [];
  push(v: Uint8Array): void {
    const w = this.waiters.shift();
    if (w) w(v);
    else this.items.push(v);
  }
  pop(): Promise<Uint8Array> {
    const v = this.items.shift();
    return v ? Promise.resolve(v) : new Promise((resolve) => this.waiters.push(resolve));
  }
}

export interface RecordingIO extends KexIO {
  /** Every payload this end sent, in order (copies). */
  sent: Uint8Array[];
}

/** Two connected KexIOs: what one sends the other receives. */
export function ioPair(): [RecordingIO, RecordingIO] {
  const toServer = new Queue();
  const toClient = new Queue();
  const end = (out: Queue, inbox: Queue): RecordingIO => {
    const sent: Uint8Array[] = [];
    return {
      sent,
      send: (p) => {
        sent.push(p.slice());
        out.push(p.slice());
      },
      receive: () => inbox.pop(),
    };
  };
  return [end(toServer, toClient), end(toClient, toServer)];
}

/**
 * A KexIO whose peer answers from a list. Past its end it answers `fallback` if given (the fuzz
 * tests use a message of the wrong number), else fails with a plain Error.
 */
export function scriptedIO(replies: Uint8Array[], fallback?: Uint8Array): RecordingIO {
  const sent: Uint8Array[] = [];
  const queue = [...replies];
  return {
    sent,
    send: (p) => void sent.push(p.slice()),
    receive: async () => {
      const next = queue.shift() ?? fallback;
      if (!next) throw new Error("script exhausted");
      return next;
    },
  };
}

export const INPUTS: ExchangeInputs = {
  clientVersion: "SSH-2.0-pure_test_client",
  serverVersion: "SSH-2.0-OpenSSH_10.0",
  clientKexInit: Uint8Array.from([20, ...Array.from({ length: 40 }, (_, i) => i)]),
  serverKexInit: Uint8Array.from([20, ...Array.from({ length: 33 }, (_, i) => 255 - i)]),
};

export const HOST_KEY_BLOB = Buffer.concat([str(Buffer.from("ssh-ed25519")), str(Buffer.alloc(32, 7))]);
export const SIGNATURE = Buffer.concat([str(Buffer.from("ssh-ed25519")), str(Buffer.alloc(64, 9))]);

/** A host key whose signature is fixed bytes; remembers what it was asked to sign. */
export function dummyHostKey(): KexHostKey & { signed: Uint8Array[] } {
  const signed: Uint8Array[] = [];
  return {
    blob: new Uint8Array(HOST_KEY_BLOB),
    signed,
    sign: async (h) => {
      signed.push(h.slice());
      return new Uint8Array(SIGNATURE);
    },
  };
}

/**
 * A NIST-curve ECDH peer from node:crypto's KeyObject API, which Node, Deno and Bun all have for
 * the three curves (createECDH has no secp521r1 on Deno): its public point uncompressed and
 * compressed (SEC1 §2.3.3), and the shared x coordinate with a peer's uncompressed point.
 */
export function ecdhPeer(curve: "P-256" | "P-384" | "P-521") {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: curve });
  const jwk = publicKey.export({ format: "jwk" });
  const x = Buffer.from(jwk.x!, "base64url");
  const y = Buffer.from(jwk.y!, "base64url");
  return {
    raw: Buffer.concat([Buffer.from([4]), x, y]),
    compressed: Buffer.concat([Buffer.from([2 | (y[y.length - 1]! & 1)]), x]),
    shared(peer: Uint8Array): Buffer {
      const n = (peer.length - 1) / 2;
      const coord = (from: number) => Buffer.from(peer.subarray(from, from + n)).toString("base64url");
      const key = createPublicKey({ key: { kty: "EC", crv: curve, x: coord(1), y: coord(1 + n) }, format: "jwk" });
      return diffieHellman({ privateKey, publicKey: key });
    },
  };
}

// ---- independent SSH encoders (RFC 4251 §5) ----

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export function str(b: Uint8Array | string): Buffer {
  const body = typeof b === "string" ? Buffer.from(b, "utf8") : Buffer.from(b);
  return Buffer.concat([u32(body.length), body]);
}

/** mpint of a non-negative integer given as big-endian bytes or a bigint. */
export function mpint(v: Uint8Array | bigint): Buffer {
  let hex = typeof v === "bigint" ? v.toString(16) : Buffer.from(v).toString("hex");
  hex = hex.replace(/^(00)+/, "");
  if (hex === "0" || hex === "") return u32(0);
  if (hex.length % 2) hex = "0" + hex;
  let body = Buffer.from(hex, "hex");
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return str(body);
}

export function toBigint(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt("0x" + Buffer.from(b).toString("hex"));
}

/** H over the RFC 4253 §8 prefix plus already-encoded method fields. */
export function independentHash(alg: string, hostKey: Uint8Array, ...fields: Buffer[]): Buffer {
  return createHash(alg)
    .update(
      Buffer.concat([
        str(INPUTS.clientVersion),
        str(INPUTS.serverVersion),
        str(INPUTS.clientKexInit),
        str(INPUTS.serverKexInit),
        str(hostKey),
        ...fields,
      ]),
    )
    .digest();
}

/** Reads SSH strings off a payload after its message number byte (test-side decoder). */
export function fields(payload: Uint8Array): Buffer[] {
  const b = Buffer.from(payload);
  const out: Buffer[] = [];
  let o = 1;
  while (o < b.length) {
    const n = b.readUInt32BE(o);
    out.push(b.subarray(o + 4, o + 4 + n));
    o += 4 + n;
  }
  return out;
}

export function msg(type: number, ...parts: Buffer[]): Uint8Array {
  return new Uint8Array(Buffer.concat([Buffer.from([type]), ...parts]));
}

/** Asserts a promise rejects with a ProtocolError (and nothing else). */
export async function expectProtocolError(p: Promise<unknown>): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "expected a ProtocolError, but the promise resolved").toBeInstanceOf(ProtocolError);
}
