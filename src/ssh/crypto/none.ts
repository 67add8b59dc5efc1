/**
 * The "none" protection in force before the first NEWKEYS (RFC 4253 §6.3): cleartext, no MAC,
 * padding to 8 bytes.
 */
import type { PacketOpener, PacketSealer } from "./cipher.js";

const plain = { name: "none", blockSize: 8, macLength: 0, lengthExcludedFromPadding: false, implementation: "none" } as const;

export const noneSealer: PacketSealer = { ...plain, seal: (_seq, packet) => packet };

export const noneOpener: PacketOpener = {
  ...plain,
  headerLength: 4,
  packetLength: (_seq, header) =>
    ((header[0]! << 24) | (header[1]! << 16) | (header[2]! << 8) | header[3]!) >>> 0,
  open: (_seq, wire) => wire.subarray(4),
};
