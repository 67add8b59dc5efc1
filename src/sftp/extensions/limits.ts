/**
 * "limits@openssh.com" (OpenSSH PROTOCOL §4.8): the server's packet, read, write and open-handle
 * limits. Request: no fields. Reply: EXTENDED_REPLY with four uint64s in that order; a field is 0
 * when the server enforces no specific limit. Clients should stay within them: the server may
 * drop the connection otherwise (OpenSSH's exits on packets above 256 KiB).
 *
 * The values are numbers: a limit above 2^53-1 reads as Number.MAX_SAFE_INTEGER, which is as
 * good as unlimited (a cap, unlike a file offset, loses nothing by saturating).
 */
import { SshReader } from "../../ssh/wire/reader.js";
import { buildExtended, buildExtendedReply } from "../packets/extended.js";
import { u64 } from "../packets/wire.js";

export const LIMITS = "limits@openssh.com";

export interface LimitsReply {
  maxPacketLength: number;
  maxReadLength: number;
  maxWriteLength: number;
  maxOpenHandles: number;
}

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

export function encodeLimitsRequest(id: number): Uint8Array {
  return buildExtended(id, LIMITS, () => {}, 0);
}

/** Checks that the request data is empty, as the extension defines none. */
export function decodeLimitsRequest(data: Uint8Array): Record<string, never> {
  new SshReader(data, LIMITS).end();
  return {};
}

export function encodeLimitsReply(id: number, f: LimitsReply): Uint8Array {
  return buildExtendedReply(
    id,
    (w) => {
      w.uint64(u64(f.maxPacketLength, "maxPacketLength"));
      w.uint64(u64(f.maxReadLength, "maxReadLength"));
      w.uint64(u64(f.maxWriteLength, "maxWriteLength"));
      w.uint64(u64(f.maxOpenHandles, "maxOpenHandles"));
    },
    32,
  );
}

/** Decodes the EXTENDED_REPLY data (after the id). */
export function decodeLimitsReply(data: Uint8Array): LimitsReply {
  const r = new SshReader(data, "limits@openssh.com reply");
  const next = () => {
    const v = r.uint64();
    return Number(v > MAX ? MAX : v);
  };
  const reply = { maxPacketLength: next(), maxReadLength: next(), maxWriteLength: next(), maxOpenHandles: next() };
  r.end();
  return reply;
}
