/**
 * The seam between the binary packet protocol (RFC 4253 §6) and the algorithms that protect
 * packets. One direction of a connection holds one PacketSealer (outgoing) or PacketOpener
 * (incoming). The cipher files state each SSH construction once over the primitives of a
 * CryptoSuite (primitives.ts); which backend computes them is suite.ts's choice.
 *
 * Packet layout on the wire: uint32 packet_length || byte padding_length || payload || padding
 * || mac. `seq` is the RFC 4253 §6.4 sequence number of the packet (uint32, wraps).
 */

import type { CryptoSuite } from "./primitives.js";

/**
 * The `crypto` option: "auto" = per primitive node:crypto, else WebCrypto, else noble; "native" =
 * node:crypto or a typed error; "pure" = noble only (suite.ts).
 */
export type CryptoBackend = "auto" | "native" | "pure";

interface PacketProtection {
  readonly name: string;
  /** Padding aligns to this many bytes (RFC 4253 §6: the cipher block size, at least 8). */
  readonly blockSize: number;
  /** Bytes of MAC or AEAD tag that follow the packet. */
  readonly macLength: number;
  /**
   * True when the 4-byte packet_length is not part of the padding alignment: AEAD modes
   * (aes-gcm, chacha20-poly1305) and encrypt-then-MAC, as OpenSSH's packet.c does.
   */
  readonly lengthExcludedFromPadding: boolean;
  /** Who computes what, e.g. "aes-gcm: node:crypto" or "chacha20: node:crypto, poly1305: node:crypto". */
  readonly implementation: string;
}

export interface PacketSealer extends PacketProtection {
  /**
   * Protects one packet. `packet` is the plaintext packet_length || padding_length || payload
   * || padding (the caller computed lengths and padding). Returns the bytes to write: the
   * encrypted packet followed by its MAC/tag. The sealer owns `packet` from the call on: it may
   * encrypt in place, and when `macLength` spare bytes follow the view in its buffer (the
   * PacketEncoder always leaves them) it writes the MAC there instead of allocating.
   */
  seal(seq: number, packet: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

export interface PacketOpener extends PacketProtection {
  /** How many leading bytes `packetLength` needs: 4, or one cipher block when the length is encrypted. */
  readonly headerLength: number;
  /**
   * Reads packet_length from the first `headerLength` bytes of a packet without changing any
   * state (it may be called again for the same packet).
   */
  packetLength(seq: number, header: Uint8Array): number;
  /**
   * Checks and decrypts one whole packet: `wire` holds 4 + packet_length + macLength bytes.
   * Returns padding_length || payload || padding (the bytes after packet_length). Throws
   * ProtocolError when the MAC or tag does not verify. May decrypt `wire` in place. Keeps no
   * reference to `wire` once it has returned (or its promise has settled), other than through
   * the result: the packet layer may then reuse that memory when the result is elsewhere.
   */
  open(seq: number, wire: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/**
 * Key material for one direction, derived per RFC 4253 §7.2. The key exchange wipes these bytes
 * once the sealer and opener are made: createSealer/createOpener copy whatever they keep.
 */
export interface DirectionKeys {
  iv: Uint8Array;
  key: Uint8Array;
  macKey: Uint8Array;
}

/** A MAC algorithm for non-AEAD ciphers (RFC 4253 §6.4, OpenSSH -etm@openssh.com variants). */
export interface MacAlgorithm {
  readonly name: string;
  readonly keyLength: number;
  readonly length: number;
  /** Encrypt-then-MAC: the MAC covers the ciphertext and packet_length is sent in the clear. */
  readonly etm: boolean;
  /** A keyed MAC of `seq || data` from the suite's HMAC. */
  create(key: Uint8Array, suite: CryptoSuite): PacketMac;
}

export interface PacketMac {
  readonly implementation: string;
  compute(seq: number, data: Uint8Array): Uint8Array;
}

export interface CipherAlgorithm {
  readonly name: string;
  readonly keyLength: number;
  readonly ivLength: number;
  readonly blockSize: number;
  /** AEAD ciphers carry their own integrity; the negotiated MAC is ignored for them. */
  readonly aead: boolean;
  createSealer(keys: DirectionKeys, mac: MacAlgorithm | undefined, suite: CryptoSuite): PacketSealer;
  createOpener(keys: DirectionKeys, mac: MacAlgorithm | undefined, suite: CryptoSuite): PacketOpener;
}

/**
 * `packet` extended over the `macLength` bytes after it when its buffer has them (see
 * PacketSealer.seal), otherwise a copy with room for the MAC: sealing then needs no other output
 * buffer.
 */
export function withMacRoom(packet: Uint8Array, macLength: number): Uint8Array {
  if (packet.byteOffset + packet.length + macLength <= packet.buffer.byteLength) {
    return new Uint8Array(packet.buffer, packet.byteOffset, packet.length + macLength);
  }
  const out = new Uint8Array(packet.length + macLength);
  out.set(packet);
  return out;
}
