/**
 * Bounds-checked reader for the SSH data types of RFC 4251 §5. Every read checks the remaining
 * length first, so a decoder can read straight through its fields: malformed input always ends
 * in a ProtocolError, never a RangeError or an out-of-bounds read.
 */
import { ProtocolError } from "../../errors.js";

// ignoreBOM: a leading U+FEFF is part of the string (OpenSSH compares bytes), not a mark to drop.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export class SshReader {
  private pos = 0;
  private readonly view: DataView;

  /** `what` names the structure being decoded, for error messages. */
  constructor(
    readonly bytes: Uint8Array,
    readonly what = "message",
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  private need(n: number, field: string): void {
    if (n > this.bytes.length - this.pos) {
      throw new ProtocolError(`truncated ${this.what}: ${field} needs ${n} bytes, ${this.remaining} left`);
    }
  }

  byte(): number {
    this.need(1, "byte");
    return this.bytes[this.pos++]!;
  }

  /** RFC 4251 §5: any non-zero value is TRUE. */
  boolean(): boolean {
    return this.byte() !== 0;
  }

  uint32(): number {
    this.need(4, "uint32");
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  uint64(): bigint {
    this.need(8, "uint64");
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  /** A string as raw bytes; a view into the input, not a copy. */
  string(): Uint8Array {
    const len = this.uint32();
    this.need(len, "string body");
    const s = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** A string that must be valid UTF-8 (RFC 4251 §5 ISO-10646 UTF-8 text). */
  utf8(): string {
    const raw = this.string();
    try {
      return utf8.decode(raw);
    } catch {
      throw new ProtocolError(`invalid UTF-8 in ${this.what}`);
    }
  }

  /** A string of US-ASCII (algorithm and method names). */
  ascii(): string {
    const raw = this.string();
    let s = "";
    for (const b of raw) {
      if (b > 0x7e || b < 0x20) throw new ProtocolError(`non-ASCII byte in name in ${this.what}`);
      s += String.fromCharCode(b);
    }
    return s;
  }

  /** RFC 4251 §5 name-list: comma-separated, non-empty names, no empty list entries. */
  nameList(): string[] {
    const s = this.ascii();
    if (s.length === 0) return [];
    const names = s.split(",");
    if (names.some((n) => n.length === 0)) throw new ProtocolError(`empty name in name-list in ${this.what}`);
    return names;
  }

  /**
   * RFC 4251 §5 mpint as a two's complement bigint. Non-minimal encodings (needless leading
   * 0x00 or 0xff bytes) are rejected as the RFC forbids them.
   */
  mpint(): bigint {
    const raw = this.string();
    if (raw.length === 0) return 0n;
    if (raw.length > 1) {
      const [a, b] = [raw[0]!, raw[1]!];
      if ((a === 0 && b < 0x80) || (a === 0xff && b >= 0x80)) {
        throw new ProtocolError(`non-minimal mpint in ${this.what}`);
      }
    }
    // One BigInt parse of the hex form: linear, where byte-by-byte shifting is quadratic.
    let hex = "";
    for (const byte of raw) hex += HEX[byte];
    let v = BigInt("0x" + hex);
    if (raw[0]! & 0x80) v -= 1n << BigInt(raw.length * 8);
    return v;
  }

  /** An mpint that must be non-negative; returns its magnitude bytes without the sign byte. */
  positiveMpintBytes(): Uint8Array {
    const start = this.pos;
    const v = this.mpint();
    if (v < 0n) throw new ProtocolError(`negative mpint in ${this.what}`);
    const raw = this.bytes.subarray(start + 4, this.pos);
    return raw[0] === 0 ? raw.subarray(1) : raw;
  }

  /** Exactly `n` raw bytes (a view). */
  raw(n: number): Uint8Array {
    this.need(n, "raw bytes");
    const s = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** Everything not read yet (a view). */
  rest(): Uint8Array {
    const s = this.bytes.subarray(this.pos);
    this.pos = this.bytes.length;
    return s;
  }

  /** Asserts the structure was consumed completely. */
  end(): void {
    if (this.pos !== this.bytes.length) {
      throw new ProtocolError(`${this.remaining} unexpected trailing bytes in ${this.what}`);
    }
  }
}
