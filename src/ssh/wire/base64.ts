/**
 * Base64 (RFC 4648 §4) and base64url (§5) without Buffer, so the library runs the same on Node,
 * Deno, Bun and browsers. The decoder is strict, like OpenSSH's b64_pton: canonical padded input
 * only, so one key has exactly one text form and a fingerprint can't be forged by re-encoding.
 */
import { ProtocolError } from "../../errors.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

function encodeWith(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + alphabet[(n >>> 6) & 63]! + alphabet[n & 63]!;
  }
  const left = bytes.length - i;
  if (left === 1) {
    const n = bytes[i]! << 16;
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + (pad ? "==" : "");
  } else if (left === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + alphabet[(n >>> 6) & 63]! + (pad ? "=" : "");
  }
  return out;
}

/** Standard padded base64, as in OpenSSH public key lines. */
export function encodeBase64(bytes: Uint8Array): string {
  return encodeWith(bytes, ALPHABET, true);
}

/** base64url without padding (RFC 7515 §2 "Base64url Encoding"), as JWK fields need. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return encodeWith(bytes, URL_ALPHABET, false);
}

/**
 * Decodes padded standard base64. Throws ProtocolError on any character outside the alphabet
 * (whitespace included: callers strip line breaks of armored text themselves), a length that is
 * not a multiple of 4, misplaced padding, or non-zero bits left over in the last character.
 */
export function decodeBase64(text: string, what = "base64 data"): Uint8Array {
  if (text.length % 4 !== 0) throw new ProtocolError(`invalid ${what}: length is not a multiple of 4`);
  let pad = 0;
  if (text.endsWith("==")) pad = 2;
  else if (text.endsWith("=")) pad = 1;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  const digit = (k: number): number => {
    const c = text.charCodeAt(k);
    const v = c < 128 ? DECODE[c]! : -1;
    if (v < 0) throw new ProtocolError(`invalid ${what}: bad character at offset ${k}`);
    return v;
  };
  let o = 0;
  const full = text.length - (pad ? 4 : 0);
  for (let k = 0; k < full; k += 4) {
    const n = (digit(k) << 18) | (digit(k + 1) << 12) | (digit(k + 2) << 6) | digit(k + 3);
    out[o++] = n >>> 16;
    out[o++] = (n >>> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  if (pad) {
    const a = digit(full);
    const b = digit(full + 1);
    if (pad === 2) {
      // RFC 4648 §3.5: the unused low bits must be zero in canonical encodings.
      if (b & 0x0f) throw new ProtocolError(`invalid ${what}: non-canonical final character`);
      out[o++] = (a << 2) | (b >>> 4);
    } else {
      const c = digit(full + 2);
      if (c & 0x03) throw new ProtocolError(`invalid ${what}: non-canonical final character`);
      out[o++] = (a << 2) | (b >>> 4);
      out[o++] = ((b & 0x0f) << 4) | (c >>> 2);
    }
  }
  return out;
}
