/**
 * A small strict DER reader (ITU-T X.690 §8 BER with the §10 DER restrictions) for key files:
 * PKCS#1, SEC1, PKCS#8 and PBES2 parameters. It decodes exactly what those need and nothing
 * else, and rejects every non-DER encoding rather than guessing:
 *
 *   - single-byte identifiers only (tag numbers < 31; the high-tag-number form is refused);
 *   - definite lengths in the minimal form (§10.1): no indefinite length, no long form for
 *     lengths < 128, no leading zero length bytes, at most 4 length bytes;
 *   - INTEGERs non-empty and minimal (§8.3.2), OIDs with minimal sub-identifiers (§8.19.2),
 *     NULL empty, BIT STRINGs with 0 unused bits (key material is whole bytes).
 *
 * Every read is bounds-checked against the enclosing element, so malformed or truncated input
 * ends in a ProtocolError (code DER_FORMAT), never a RangeError. Nothing recurses on input.
 */
import { ProtocolError } from "../../errors.js";

export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
} as const;

/** Context-specific constructed tag [n] (EXPLICIT tagging, or IMPLICIT of a constructed type). */
export const contextTag = (n: number) => 0xa0 | n;

function derError(message: string): never {
  throw new ProtocolError(message, "DER_FORMAT");
}

export interface DerElement {
  readonly tag: number;
  /** The contents octets (a view into the input). */
  readonly value: Uint8Array;
}

export class DerReader {
  private pos = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly what = "DER",
  ) {}

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** The tag of the next element, or undefined at the end. */
  peekTag(): number | undefined {
    return this.pos < this.bytes.length ? this.bytes[this.pos] : undefined;
  }

  /** Reads any one element. */
  any(): DerElement {
    const b = this.bytes;
    if (this.pos >= b.length) derError(`truncated ${this.what}: element expected`);
    const tag = b[this.pos]!;
    if ((tag & 0x1f) === 0x1f) derError(`high tag numbers are not used in ${this.what}`);
    if (this.pos + 1 >= b.length) derError(`truncated ${this.what}: length expected`);
    let len = b[this.pos + 1]!;
    let at = this.pos + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0) derError(`indefinite length in ${this.what} (BER, not DER)`);
      if (n > 4) derError(`length field of ${n} bytes in ${this.what}`);
      if (at + n > b.length) derError(`truncated ${this.what}: length bytes`);
      if (b[at] === 0) derError(`non-minimal length in ${this.what}`);
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[at + i]!;
      if (len < 0x80) derError(`non-minimal length in ${this.what}`);
      at += n;
    }
    if (len > b.length - at) derError(`truncated ${this.what}: ${len} bytes of contents, ${b.length - at} left`);
    this.pos = at + len;
    return { tag, value: b.subarray(at, at + len) };
  }

  /** Reads an element that must carry `tag`; `field` names it in errors. */
  expect(tag: number, field: string): Uint8Array {
    const t = this.peekTag();
    if (t !== tag) {
      derError(`${this.what}: expected ${field} (tag 0x${tag.toString(16)}), found ${t === undefined ? "the end" : `tag 0x${t.toString(16)}`}`);
    }
    return this.any().value;
  }

  /** A SEQUENCE, as a reader over its contents. */
  sequence(field = "SEQUENCE"): DerReader {
    return new DerReader(this.expect(TAG.SEQUENCE, field), `${this.what} ${field}`);
  }

  /** The contents of [n] EXPLICIT when it comes next, else undefined. */
  optionalContext(n: number, field: string): DerReader | undefined {
    if (this.peekTag() !== contextTag(n)) return undefined;
    return new DerReader(this.any().value, `${this.what} ${field}`);
  }

  /** A signed INTEGER (two's complement, minimal). */
  integer(field = "INTEGER"): bigint {
    const v = this.expect(TAG.INTEGER, field);
    if (v.length === 0) derError(`${this.what}: empty ${field}`);
    if (v.length > 1 && ((v[0] === 0 && v[1]! < 0x80) || (v[0] === 0xff && v[1]! >= 0x80))) {
      derError(`${this.what}: non-minimal ${field}`);
    }
    let hex = "";
    for (const byte of v) hex += byte.toString(16).padStart(2, "0");
    let n = BigInt("0x" + hex);
    if (v[0]! & 0x80) n -= 1n << BigInt(v.length * 8);
    return n;
  }

  /** A non-negative INTEGER. */
  unsigned(field = "INTEGER"): bigint {
    const n = this.integer(field);
    if (n < 0n) derError(`${this.what}: negative ${field}`);
    return n;
  }

  /** A non-negative INTEGER that must be ≤ max (for versions, counts, sizes). */
  small(field: string, max = Number.MAX_SAFE_INTEGER): number {
    const n = this.unsigned(field);
    // The value is not echoed: in a decrypted key it could be key material.
    if (n > BigInt(max)) derError(`${this.what}: ${field} exceeds ${max}`);
    return Number(n);
  }

  octetString(field = "OCTET STRING"): Uint8Array {
    return this.expect(TAG.OCTET_STRING, field);
  }

  /** A BIT STRING of whole bytes (unused-bits octet 0), returned without that octet. */
  bitString(field = "BIT STRING"): Uint8Array {
    return bitStringBytes(this.expect(TAG.BIT_STRING, field), `${this.what} ${field}`);
  }

  null(field = "NULL"): void {
    if (this.expect(TAG.NULL, field).length !== 0) derError(`${this.what}: ${field} has contents`);
  }

  /** An OBJECT IDENTIFIER in dotted form, e.g. "1.2.840.113549.1.1.1". */
  oid(field = "OBJECT IDENTIFIER"): string {
    const v = this.expect(TAG.OID, field);
    if (v.length === 0 || v.length > 64) derError(`${this.what}: ${field} of ${v.length} bytes`);
    const arcs: number[] = [];
    let acc = 0;
    for (let i = 0; i < v.length; i++) {
      const b = v[i]!;
      if (acc === 0 && b === 0x80) derError(`${this.what}: non-minimal ${field}`);
      acc = acc * 128 + (b & 0x7f);
      if (acc > 0xffffffff) derError(`${this.what}: ${field} arc too large`);
      if (!(b & 0x80)) {
        arcs.push(acc);
        acc = 0;
      } else if (i === v.length - 1) {
        derError(`${this.what}: truncated ${field}`);
      }
    }
    const first = arcs[0]!;
    const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
    return [...head, ...arcs.slice(1)].join(".");
  }

  /** Asserts every element was read. */
  end(): void {
    if (!this.done) derError(`${this.bytes.length - this.pos} unexpected trailing bytes in ${this.what}`);
  }
}

/** Strips the unused-bits octet of a BIT STRING's contents, requiring whole bytes. */
export function bitStringBytes(contents: Uint8Array, what: string): Uint8Array {
  if (contents.length === 0) derError(`${what}: empty BIT STRING`);
  if (contents[0] !== 0) derError(`${what}: BIT STRING with ${contents[0]} unused bits`);
  return contents.subarray(1);
}

/** An AlgorithmIdentifier (RFC 5280 §4.1.1.2): the OID and the reader over its parameters. */
export function algorithmIdentifier(r: DerReader, field: string): { oid: string; params: DerReader } {
  const seq = r.sequence(field);
  const oid = seq.oid(`${field} algorithm`);
  return { oid, params: seq };
}

/** True when an AlgorithmIdentifier's parameters are absent or NULL (both appear in the wild). */
export function absentOrNull(params: DerReader): boolean {
  if (params.done) return true;
  if (params.peekTag() !== TAG.NULL) return false;
  params.null();
  return params.done;
}
