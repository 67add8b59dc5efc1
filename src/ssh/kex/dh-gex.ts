/**
 * diffie-hellman-group-exchange-sha256 (RFC 4419, minimum sizes from RFC 8270): the client asks
 * for a group size, the server sends a group (p, g), then the two run DH in it.
 *
 *   C → S  SSH_MSG_KEX_DH_GEX_REQUEST (34)  uint32 min, uint32 n, uint32 max
 *   S → C  SSH_MSG_KEX_DH_GEX_GROUP   (31)  mpint p, mpint g
 *   C → S  SSH_MSG_KEX_DH_GEX_INIT    (32)  mpint e
 *   S → C  SSH_MSG_KEX_DH_GEX_REPLY   (33)  string K_S, mpint f, string signature
 *
 * H = SHA256(V_C || V_S || I_C || I_S || K_S || min || n || max || p || g || e || f || K)
 * (RFC 4419 §3). The deprecated SSH_MSG_KEX_DH_GEX_REQUEST_OLD (30) is not supported.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { ProtocolError } from "../../errors.js";
import { SshWriter } from "../wire/writer.js";
import type { ExchangeInputs, KexClientResult, KexHostKey, KexIO, KexMethod, KexResult } from "./kex.js";
import { boundedMpint, exchangeHash, receiveMessage, type HashFn, type RandomFn } from "./exchange-hash.js";
import { dhKeyPair, dhSharedSecret, GEX_SERVER_GROUPS, readDhPublic, type DhGroup } from "./dh-groups.js";
import { bitLength } from "./modpow.js";

export const MSG_KEX_DH_GEX_GROUP = 31;
export const MSG_KEX_DH_GEX_INIT = 32;
export const MSG_KEX_DH_GEX_REPLY = 33;
export const MSG_KEX_DH_GEX_REQUEST = 34;

/** RFC 8270 §2: groups below 2048 bits are refused; 8192 is the largest anyone offers. */
export const GEX_MIN_BITS = 2048;
export const GEX_MAX_BITS = 8192;

export interface GexOptions {
  /** Smallest group the client accepts (bits); never below 2048. */
  min?: number;
  /**
   * Preferred group size (bits). 3072 matches the 128-bit strength of curve25519 and AES-128.
   * OpenSSH instead derives n from the negotiated cipher and asks for 8192 with AES-256 or
   * chacha20-poly1305; this method cannot see the cipher, so callers wanting that set it here.
   */
  n?: number;
  /** Largest group the client accepts (bits); never above 8192. */
  max?: number;
  /** The groups the server role chooses from (default: RFC 3526 groups of 2048-8192 bits). */
  serverGroups?: readonly DhGroup[];
  random?: RandomFn;
}

/**
 * Checks a server's group (RFC 4419 §3 leaves this to the client). The size must be within the
 * requested [min, max], p odd and g in (1, p-1). Whether p is a (safe) prime cannot be checked
 * cheaply — a probabilistic primality test on an 8192-bit number costs seconds — so, like
 * OpenSSH, we trust the server here: a server that wants to weaken the exchange can also just
 * leak the keys, since it is the party we are talking to.
 */
function checkGroup(p: bigint, g: bigint, min: number, max: number): DhGroup {
  if (p <= 0n) throw new ProtocolError("DH group modulus is not positive");
  const bits = bitLength(p);
  if (bits < min || bits > max) {
    throw new ProtocolError(`DH group of ${bits} bits is outside the requested ${min}-${max} bits`);
  }
  if ((p & 1n) === 0n) throw new ProtocolError("DH group modulus is even");
  if (g <= 1n || g >= p - 1n) throw new ProtocolError("DH group generator is out of range");
  return { p, g, bits };
}

/**
 * The server's choice: among the groups within [min, max], the smallest of at least n bits, else
 * the largest (so a client asking for more than we have still gets our best).
 */
export function chooseGroup(groups: readonly DhGroup[], min: number, n: number, max: number): DhGroup {
  const fits = groups.filter((g) => g.bits >= min && g.bits <= max).sort((a, b) => a.bits - b.bits);
  const chosen = fits.find((g) => g.bits >= n) ?? fits[fits.length - 1];
  if (!chosen) throw new ProtocolError(`no DH group between ${min} and ${max} bits`);
  return chosen;
}

export function dhGroupExchangeMethod(name: string, hash: HashFn, options: GexOptions = {}): KexMethod {
  const min = Math.max(options.min ?? GEX_MIN_BITS, GEX_MIN_BITS);
  const max = Math.min(options.max ?? GEX_MAX_BITS, GEX_MAX_BITS);
  const n = Math.min(Math.max(options.n ?? 3072, min), max);
  const serverGroups = options.serverGroups ?? GEX_SERVER_GROUPS;
  const random = options.random ?? randomBytes;

  /** `req` is [min, n, max] exactly as the client sent them; `ef` is [e, f]. */
  const hashOf = (io: ExchangeInputs, ks: Uint8Array, req: number[], grp: DhGroup, ef: bigint[], k: Uint8Array) =>
    exchangeHash(hash, io, ks, (w) => {
      for (const v of req) w.uint32(v);
      w.mpint(grp.p).mpint(grp.g);
      for (const v of ef) w.mpint(v);
      w.raw(k);
    });

  return {
    name,
    hash,

    async client(io: KexIO, inputs: ExchangeInputs): Promise<KexClientResult> {
      io.send(new SshWriter(16).byte(MSG_KEX_DH_GEX_REQUEST).uint32(min).uint32(n).uint32(max).finish());

      const gr = await receiveMessage(io, MSG_KEX_DH_GEX_GROUP, "DH GEX group");
      // Bound p's length before converting it (max bits plus a sign byte).
      const maxBytes = Math.ceil(max / 8) + 1;
      const p = boundedMpint(gr, maxBytes, "DH GEX modulus");
      const g = boundedMpint(gr, maxBytes, "DH GEX generator");
      gr.end();
      const grp = checkGroup(p, g, min, max);

      const { x, e } = dhKeyPair(grp, random);
      io.send(new SshWriter(grp.bits / 8 + 16).byte(MSG_KEX_DH_GEX_INIT).mpint(e).finish());

      const r = await receiveMessage(io, MSG_KEX_DH_GEX_REPLY, "DH GEX reply");
      const hostKey = r.string().slice();
      const f = readDhPublic(r, grp, "DH GEX server value f");
      const signature = r.string().slice();
      r.end();
      const sharedSecret = dhSharedSecret(grp, x, f);
      const exchangeHash = hashOf(inputs, hostKey, [min, n, max], grp, [e, f], sharedSecret);
      return { sharedSecret, exchangeHash, hostKey, signature };
    },

    async server(io: KexIO, inputs: ExchangeInputs, hostKey: KexHostKey): Promise<KexResult> {
      const rq = await receiveMessage(io, MSG_KEX_DH_GEX_REQUEST, "DH GEX request");
      const [cMin, cN, cMax] = [rq.uint32(), rq.uint32(), rq.uint32()];
      rq.end();
      // RFC 4419 §3 implies min <= n <= max; OpenSSH refuses requests that break it.
      if (!(cMin <= cN && cN <= cMax)) throw new ProtocolError(`bad DH GEX request ${cMin}/${cN}/${cMax}`);
      const grp = chooseGroup(serverGroups, cMin, cN, cMax);
      io.send(new SshWriter(grp.bits / 8 + 16).byte(MSG_KEX_DH_GEX_GROUP).mpint(grp.p).mpint(grp.g).finish());

      const ir = await receiveMessage(io, MSG_KEX_DH_GEX_INIT, "DH GEX init");
      const e = readDhPublic(ir, grp, "DH GEX client value e");
      ir.end();
      const { x, e: f } = dhKeyPair(grp, random);
      const sharedSecret = dhSharedSecret(grp, x, e);
      const exchangeHash = hashOf(inputs, hostKey.blob, [cMin, cN, cMax], grp, [e, f], sharedSecret);
      const signature = await hostKey.sign(exchangeHash);
      const reply = new SshWriter(grp.bits / 8 + hostKey.blob.length + signature.length + 32);
      reply.byte(MSG_KEX_DH_GEX_REPLY).string(hostKey.blob).mpint(f).string(signature);
      io.send(reply.finish());
      return { sharedSecret, exchangeHash };
    },
  };
}

export const DH_GEX_SHA256 = dhGroupExchangeMethod("diffie-hellman-group-exchange-sha256", (d) => sha256(d));
