/**
 * What the key-exchange methods share: the exchange hash H (RFC 4253 §8, RFC 5656 §4,
 * RFC 4419 §3, RFC 8731 §3), the encodings of the shared secret K, reading the peer's messages,
 * and the two-message INIT/REPLY flow that DH, ECDH, curve25519 and the hybrid PQ method all use.
 */
import { ProtocolError, SshError } from "../../errors.js";
import { SshReader } from "../wire/reader.js";
import { SshWriter, mpintBytes } from "../wire/writer.js";
import type { ExchangeInputs, KexClientResult, KexHostKey, KexIO, KexMethod, KexResult } from "./kex.js";

export type HashFn = (data: Uint8Array) => Uint8Array;
/**
 * Source of random bytes; injectable so tests can run exchanges with fixed keys. Each call must
 * return a fresh array: the methods own it and zero it once the ephemeral secret is used.
 */
export type RandomFn = (length: number) => Uint8Array;

/** SSH_MSG_KEXDH_INIT / SSH_MSG_KEX_ECDH_INIT (RFC 4253 §8, RFC 5656 §7.1). */
export const MSG_KEX_INIT = 30;
/** SSH_MSG_KEXDH_REPLY / SSH_MSG_KEX_ECDH_REPLY. */
export const MSG_KEX_REPLY = 31;

/**
 * H = HASH(string V_C || string V_S || string I_C || string I_S || string K_S || fields), where
 * `fields` writes the method's own values and then K (already encoded). The common prefix is the
 * same for every method (RFC 4253 §8); only the tail differs.
 */
export function exchangeHash(
  hash: HashFn,
  inputs: ExchangeInputs,
  hostKey: Uint8Array,
  fields: (w: SshWriter) => void,
): Uint8Array {
  const w = new SshWriter(1024 + inputs.clientKexInit.length + inputs.serverKexInit.length);
  w.string(inputs.clientVersion)
    .string(inputs.serverVersion)
    .string(inputs.clientKexInit)
    .string(inputs.serverKexInit)
    .string(hostKey);
  fields(w);
  const data = w.finish();
  const h = hash(data);
  // K is written last, so only this final buffer ever held it (earlier growth copied less).
  data.fill(0);
  return h;
}

/** Runs `use` with an ephemeral secret, then zeroes the secret whether `use` returned or threw. */
export function useOnce<T>(secret: Uint8Array, use: (secret: Uint8Array) => T): T {
  try {
    return use(secret);
  } finally {
    secret.fill(0);
  }
}

/** The writer's bytes as a new array; the writer's own copy is zeroed (it held a secret). */
function takeSecret(w: SshWriter): Uint8Array {
  const view = w.finish();
  const out = view.slice();
  view.fill(0);
  return out;
}

/**
 * K as an mpint from unsigned big-endian bytes (RFC 5656 §4, RFC 8731 §3.1). `unsigned` is
 * consumed: it is zeroed once encoded.
 */
export function mpintSecret(unsigned: Uint8Array): Uint8Array {
  const k = takeSecret(new SshWriter(unsigned.length + 8).mpintFromUnsigned(unsigned));
  unsigned.fill(0);
  return k;
}

/**
 * K as an mpint from a bigint (RFC 4253 §8). The bigint itself cannot be wiped (JavaScript
 * gives no access to its storage); the encoding's intermediate buffers are.
 */
export function bigintSecret(k: bigint): Uint8Array {
  const bytes = mpintBytes(k);
  const out = takeSecret(new SshWriter(bytes.length + 8).string(bytes));
  bytes.fill(0);
  return out;
}

/** K as a string: the hybrid post-quantum methods hash their secrets into one (OpenSSH). Consumes `bytes`. */
export function stringSecret(bytes: Uint8Array): Uint8Array {
  const k = takeSecret(new SshWriter(bytes.length + 8).string(bytes));
  bytes.fill(0);
  return k;
}

/** Waits for the peer's next message and checks it is message number `type`. */
export async function receiveMessage(io: KexIO, type: number, what: string): Promise<SshReader> {
  const payload = await io.receive();
  const r = new SshReader(payload, what);
  const got = r.byte();
  if (got !== type) throw new ProtocolError(`expected ${what} (message ${type}), got message ${got}`);
  return r;
}

/**
 * Runs a computation on peer-supplied values, turning any error that is not ours (noble throws
 * plain Errors for points off the curve, low-order points, bad ML-KEM keys) into a ProtocolError.
 */
export function checkPeer<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SshError) throw e;
    throw new ProtocolError(`invalid ${what}: ${e instanceof Error ? e.message : String(e)}`, undefined, {
      cause: e,
    });
  }
}

/**
 * Reads an mpint, refusing one longer than `maxBytes` before converting it: the reader's
 * byte-at-a-time conversion is quadratic, so a peer could otherwise burn CPU with a huge value.
 */
export function boundedMpint(r: SshReader, maxBytes: number, what: string): bigint {
  const start = r.offset;
  const raw = r.string();
  if (raw.length > maxBytes) throw new ProtocolError(`${what} is too long (${raw.length} bytes)`);
  return new SshReader(r.bytes.subarray(start, r.offset), what).mpint();
}

/**
 * A method made of one client INIT (its public value) and one server REPLY (K_S, the server's
 * public value, the signature), hashing V_C..K_S || client value || server value || K.
 * `P` is the public value as the method keeps it; `S` the client's secret state.
 */
export interface InitReplyKex<S, P> {
  readonly name: string;
  readonly hash: HashFn;
  /** Writes a public value as it appears on the wire and in H (string or mpint). */
  writePublic(w: SshWriter, value: P): void;
  /** Reads and validates a peer's public value; throws ProtocolError when it is unacceptable. */
  readPublic(r: SshReader): P;
  /** Client: a fresh ephemeral key. */
  clientKey(): { secret: S; value: P };
  /** Server: the reply value and the encoded K for a client's value. */
  serverRespond(clientValue: P): { value: P; sharedSecret: Uint8Array };
  /** Client: the encoded K from the server's value. */
  clientFinish(secret: S, serverValue: P): Uint8Array;
}

export function initReplyMethod<S, P>(spec: InitReplyKex<S, P>): KexMethod {
  const what = spec.name;
  const hashOf = (inputs: ExchangeInputs, hostKey: Uint8Array, c: P, s: P, k: Uint8Array): Uint8Array =>
    exchangeHash(spec.hash, inputs, hostKey, (w) => {
      spec.writePublic(w, c);
      spec.writePublic(w, s);
      w.raw(k);
    });

  return {
    name: spec.name,
    hash: spec.hash,

    async client(io: KexIO, inputs: ExchangeInputs): Promise<KexClientResult> {
      const { secret, value } = spec.clientKey();
      const init = new SshWriter().byte(MSG_KEX_INIT);
      spec.writePublic(init, value);
      io.send(init.finish());

      const r = await receiveMessage(io, MSG_KEX_REPLY, `${what} reply`);
      const hostKey = r.string().slice();
      const serverValue = spec.readPublic(r);
      const signature = r.string().slice();
      r.end();
      const sharedSecret = spec.clientFinish(secret, serverValue);
      const exchangeHash = hashOf(inputs, hostKey, value, serverValue, sharedSecret);
      return { sharedSecret, exchangeHash, hostKey, signature };
    },

    async server(io: KexIO, inputs: ExchangeInputs, hostKey: KexHostKey): Promise<KexResult> {
      const r = await receiveMessage(io, MSG_KEX_INIT, `${what} init`);
      const clientValue = spec.readPublic(r);
      r.end();
      const { value, sharedSecret } = spec.serverRespond(clientValue);
      const exchangeHash = hashOf(inputs, hostKey.blob, clientValue, value, sharedSecret);
      const signature = await hostKey.sign(exchangeHash);
      const reply = new SshWriter(hostKey.blob.length + signature.length + 1200).byte(MSG_KEX_REPLY);
      reply.string(hostKey.blob);
      spec.writePublic(reply, value);
      reply.string(signature);
      io.send(reply.finish());
      return { sharedSecret, exchangeHash };
    },
  };
}
