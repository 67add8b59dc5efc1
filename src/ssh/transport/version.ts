/**
 * Protocol version exchange (RFC 4253 §4.2). The server may send other lines before its
 * identification string; we accept a bounded number of them. Lines end in CR LF (a bare LF is
 * tolerated, as OpenSSH does), are at most 255 bytes, and the version must be 2.0 (or 1.99,
 * which RFC 4253 §5.1 says means "2.0 compatible").
 */
import { ProtocolError } from "../../errors.js";

export const SOFTWARE_VERSION = "puresftp_0.1.0";
export const CLIENT_VERSION = `SSH-2.0-${SOFTWARE_VERSION}`;
/** The server role sends the same software version. */
export const SERVER_VERSION = CLIENT_VERSION;

const MAX_LINE = 255;
/** Pre-banner lines and bytes are bounded so a hostile server cannot feed us forever. */
const MAX_PRE_LINES = 64;
const MAX_PRE_BYTES = 64 * 1024;

export interface ParsedVersion {
  /** The identification string without CR LF (V_S in the exchange hash). */
  line: string;
  protoVersion: string;
  softwareVersion: string;
  comments: string;
}

/**
 * Scans `buf` for the identification line. Returns undefined when more bytes are needed, or the
 * parsed version plus how many bytes it consumed (lines before it included).
 */
export function scanVersion(buf: Uint8Array): { version: ParsedVersion; consumed: number } | undefined {
  let start = 0;
  let lines = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0) {
      if (buf.length - start > MAX_LINE || buf.length > MAX_PRE_BYTES) {
        throw new ProtocolError("server identification line too long or missing", "BAD_BANNER");
      }
      return undefined;
    }
    const end = nl > start && buf[nl - 1] === 0x0d ? nl - 1 : nl;
    if (nl + 1 - start > MAX_LINE) throw new ProtocolError("server sent a line over 255 bytes before its banner", "BAD_BANNER");
    const line = latin1(buf.subarray(start, end));
    if (line.startsWith("SSH-")) return { version: parseVersionLine(line), consumed: nl + 1 };
    if (++lines > MAX_PRE_LINES || nl + 1 > MAX_PRE_BYTES) {
      throw new ProtocolError("server sent too many lines before its banner", "BAD_BANNER");
    }
    start = nl + 1;
  }
}

export function parseVersionLine(line: string): ParsedVersion {
  const m = /^SSH-([^-\s]+)-([^\s]+)(?: (.*))?$/.exec(line);
  if (!m) throw new ProtocolError(`malformed identification string: ${JSON.stringify(line)}`, "BAD_BANNER");
  const [, protoVersion, softwareVersion, comments] = m;
  if (/[^\x20-\x7e]/.test(line)) throw new ProtocolError("identification string is not printable ASCII", "BAD_BANNER");
  if (protoVersion !== "2.0" && protoVersion !== "1.99") {
    throw new ProtocolError(`server speaks SSH protocol ${protoVersion}, only 2.0 is supported`, "PROTOCOL_VERSION");
  }
  return { line, protoVersion: protoVersion!, softwareVersion: softwareVersion!, comments: comments ?? "" };
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (const c of b) s += String.fromCharCode(c);
  return s;
}
