/**
 * Growable writer for the SSH data types of RFC 4251 §5. Fields are appended into one buffer
 * that doubles when full, so building a message copies each field once. `headroom` reserves bytes
 * at the front so the packet layer can put its header in place without copying the payload.
 */

const utf8 = new TextEncoder();

export class SshWriter {
  private buf: Uint8Array;
  private pos: number;
  readonly headroom: number;

  /**
   * `buffer`, when given, is where writing starts (it must be zero-filled or entirely
   * overwritten before it is read, and at least `headroom` bytes long): a caller that writes many
   * small messages can hand out pieces of one larger buffer (see util/small-buffers.ts) instead
   * of having each writer allocate memory of its own.
   */
  constructor(capacity = 256, headroom = 0, buffer?: Uint8Array) {
    this.buf = buffer ?? new Uint8Array(Math.max(capacity, headroom + 16));
    this.headroom = headroom;
    this.pos = headroom;
  }

  /** Bytes written after the headroom. */
  get length(): number {
    return this.pos - this.headroom;
  }

  private ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  byte(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  boolean(v: boolean): this {
    return this.byte(v ? 1 : 0);
  }

  uint32(v: number): this {
    this.ensure(4);
    const b = this.buf;
    const at = this.pos;
    b[at] = v >>> 24;
    b[at + 1] = v >>> 16;
    b[at + 2] = v >>> 8;
    b[at + 3] = v;
    this.pos = at + 4;
    return this;
  }

  uint64(v: bigint): this {
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).setBigUint64(0, BigInt.asUintN(64, v));
    this.pos += 8;
    return this;
  }

  /**
   * A string from bytes, or from text encoded as UTF-8. ASCII text (most names and paths) is
   * copied in character by character; a TextEncoder call and the array it returns cost more for
   * strings this short.
   */
  string(v: Uint8Array | string): this {
    if (typeof v !== "string") {
      this.uint32(v.length);
      return this.raw(v);
    }
    const n = v.length;
    this.ensure(4 + n);
    const b = this.buf;
    const at = this.pos + 4;
    for (let i = 0; i < n; i++) {
      const c = v.charCodeAt(i);
      if (c >= 0x80) return this.string(utf8.encode(v));
      b[at + i] = c;
    }
    this.uint32(n);
    this.pos += n;
    return this;
  }

  nameList(names: readonly string[]): this {
    return this.string(names.join(","));
  }

  /** RFC 4251 §5 mpint, minimal two's complement. */
  mpint(v: bigint): this {
    return this.string(mpintBytes(v));
  }

  /** An mpint from unsigned big-endian magnitude bytes (leading zeros stripped, sign byte added). */
  mpintFromUnsigned(bytes: Uint8Array): this {
    let i = 0;
    while (i < bytes.length && bytes[i] === 0) i++;
    const mag = bytes.subarray(i);
    const pad = mag.length > 0 && mag[0]! & 0x80 ? 1 : 0;
    this.uint32(mag.length + pad);
    if (pad) this.byte(0);
    return this.raw(mag);
  }

  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** The written bytes after the headroom (a view; valid until the next write). */
  finish(): Uint8Array {
    return this.buf.subarray(this.headroom, this.pos);
  }

  /** The whole buffer including headroom (a view), for in-place packet framing. */
  withHeadroom(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/** Minimal two's complement big-endian bytes of `v` (RFC 4251 §5 mpint body). */
export function mpintBytes(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  // n bytes hold v when its magnitude (or -v-1 when negative) leaves the top bit for the sign.
  const x = v >= 0n ? v : -v - 1n;
  const bits = x === 0n ? 0 : x.toString(2).length;
  const n = Math.floor(bits / 8) + 1;
  return hexToBytes(BigInt.asUintN(n * 8, v).toString(16).padStart(n * 2, "0"));
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Concatenates byte arrays into one new array. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
