/**
 * Input generation for the fuzz targets: a seeded PRNG (so any run can be repeated with
 * --seed), AFL-style stacked byte mutations, mutations that aim at SSH/SFTP length fields
 * (uint32 set to 0, huge, off by one), splicing between seeds, dictionary tokens, and
 * line-level edits for the text formats. Nothing here knows about a particular decoder.
 */

/** mulberry32: tiny, fast, good enough to spread mutations; not for cryptography. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** 0 <= result < n (0 when n <= 0). */
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
  /** Small sizes much more often than large ones (fuzzers find most bugs with short inputs). */
  size(max: number): number {
    return this.int(Math.min(max, 1 << this.int(12)) + 1);
  }
}

/** Bytes that tend to sit on decoder boundaries: 0, sign bits, separators, newline. */
const INTERESTING8 = [0x00, 0x01, 0x02, 0x04, 0x10, 0x20, 0x2c, 0x3d, 0x0a, 0x0d, 0x7f, 0x80, 0x81, 0xfe, 0xff];
/** uint32 values that break length arithmetic: zero, sign bit, all ones, typical limits. */
const INTERESTING32 = [0, 1, 4, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x40000, 0x40001,
  0x1000000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

export interface MutateOptions {
  /** Other inputs to splice with. */
  pool: readonly Uint8Array[];
  /** Tokens worth inserting (algorithm names, PEM labels, keywords). */
  dict: readonly Uint8Array[];
  /** Longest input to produce. */
  maxLength: number;
  /** Treat the input as text: also edit whole lines. */
  text: boolean;
}

const readU32 = (b: Uint8Array, i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
function writeU32(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 24;
  b[i + 1] = (v >>> 16) & 0xff;
  b[i + 2] = (v >>> 8) & 0xff;
  b[i + 3] = v & 0xff;
}

function insert(b: Uint8Array, at: number, ins: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length + ins.length);
  out.set(b.subarray(0, at));
  out.set(ins, at);
  out.set(b.subarray(at), at + ins.length);
  return out;
}

function remove(b: Uint8Array, at: number, n: number): Uint8Array {
  const out = new Uint8Array(b.length - n);
  out.set(b.subarray(0, at));
  out.set(b.subarray(at + n), at);
  return out;
}

/**
 * Offsets where a uint32 looks like an SSH length prefix (its value fits in what follows), so
 * length corruption hits real fields instead of random positions most of the time.
 */
function lengthFields(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 4 <= b.length && out.length < 64; i++) {
    const v = readU32(b, i);
    if (v <= b.length - i - 4 && (v > 0 || i % 4 === 0)) out.push(i);
  }
  return out;
}

function corruptLength(rng: Rng, b: Uint8Array): Uint8Array {
  if (b.length < 4) return b;
  const fields = lengthFields(b);
  const at = fields.length > 0 && rng.chance(0.8) ? rng.pick(fields) : rng.int(b.length - 3);
  const v = readU32(b, at);
  const rest = b.length - at - 4;
  const choices = [0, 0xffffffff, 0x7fffffff, 0x80000000, v + 1, v - 1, rest, rest + 1, v * 2, v >>> 1, rng.pick(INTERESTING32)];
  const out = b.slice();
  writeU32(out, at, rng.pick(choices) >>> 0);
  return out;
}

function lineEdit(rng: Rng, b: Uint8Array, o: MutateOptions): Uint8Array {
  const text = new TextDecoder().decode(b);
  const lines = text.split("\n");
  const i = rng.int(lines.length);
  const j = rng.int(lines.length);
  switch (rng.int(6)) {
    case 0: lines.splice(i, 1); break;
    case 1: lines.splice(i, 0, lines[j]!); break;
    case 2: [lines[i], lines[j]] = [lines[j]!, lines[i]!]; break;
    case 3: {
      // Replace a number with one that stresses its parser.
      const nums = ["0", "-1", "4294967296", "99999999999999999999", "1e308", "0x10", "65536", "1.5", "NaN", ""];
      lines[i] = lines[i]!.replace(/\d+/, rng.pick(nums));
      break;
    }
    case 4: {
      const words = lines[i]!.split(/([ \t=,:])/);
      if (o.dict.length > 0) words[rng.int(words.length)] = new TextDecoder().decode(rng.pick(o.dict));
      lines[i] = words.join("");
      break;
    }
    default: lines[i] = lines[i]!.repeat(1 + rng.int(4));
  }
  return new TextEncoder().encode(lines.join("\n"));
}

/** One mutation step. */
function mutateOnce(rng: Rng, b: Uint8Array, o: MutateOptions): Uint8Array {
  const n = b.length;
  switch (rng.int(o.text ? 14 : 12)) {
    case 0: { // flip one bit
      if (n === 0) return rng.bytes(1);
      const out = b.slice();
      out[rng.int(n)]! ^= 1 << rng.int(8);
      return out;
    }
    case 1: { // set a byte to an interesting or random value
      if (n === 0) return Uint8Array.of(rng.pick(INTERESTING8));
      const out = b.slice();
      out[rng.int(n)] = rng.chance(0.5) ? rng.pick(INTERESTING8) : rng.u32() & 0xff;
      return out;
    }
    case 2: { // small arithmetic on a byte
      if (n === 0) return b;
      const out = b.slice();
      const i = rng.int(n);
      out[i] = (out[i]! + (rng.int(35) + 1) * (rng.chance(0.5) ? 1 : -1)) & 0xff;
      return out;
    }
    case 3: // insert random bytes or a run of one byte
      return insert(b, rng.int(n + 1), rng.chance(0.5) ? rng.bytes(1 + rng.int(16)) : new Uint8Array(1 + rng.size(512)).fill(rng.pick(INTERESTING8)));
    case 4: { // delete a range
      if (n === 0) return b;
      const at = rng.int(n);
      return remove(b, at, 1 + rng.int(Math.min(n - at, rng.chance(0.7) ? 8 : 256)));
    }
    case 5: { // duplicate a range elsewhere
      if (n === 0) return b;
      const at = rng.int(n);
      const len = 1 + rng.int(Math.min(n - at, 128));
      return insert(b, rng.int(n + 1), b.slice(at, at + len));
    }
    case 6: // truncate
      return b.subarray(0, rng.int(n + 1));
    case 7:
    case 8: // length-field corruption, twice as likely: it is what SSH decoders trust most
      return corruptLength(rng, b);
    case 9: { // splice with another input
      if (o.pool.length === 0) return b;
      const other = rng.pick(o.pool);
      if (rng.chance(0.5)) {
        const head = b.subarray(0, rng.int(n + 1));
        const tail = other.subarray(rng.int(other.length + 1));
        const out = new Uint8Array(head.length + tail.length);
        out.set(head);
        out.set(tail, head.length);
        return out;
      }
      const at = rng.int(other.length + 1);
      return insert(b, rng.int(n + 1), other.subarray(at, at + 1 + rng.int(64)));
    }
    case 10: { // dictionary token: insert or overwrite
      if (o.dict.length === 0) return mutateOnce(rng, b, o);
      const tok = rng.pick(o.dict);
      const at = rng.int(n + 1);
      if (rng.chance(0.5) || at + tok.length > n) return insert(b, at, tok);
      const out = b.slice();
      out.set(tok, at);
      return out;
    }
    case 11: { // swap two ranges' bytes
      if (n < 2) return b;
      const out = b.slice();
      const i = rng.int(n);
      const j = rng.int(n);
      [out[i], out[j]] = [out[j]!, out[i]!];
      return out;
    }
    default:
      return lineEdit(rng, b, o);
  }
}

/** AFL's "havoc": 1, 2, 4, 8 or 16 stacked mutations. */
export function mutate(rng: Rng, input: Uint8Array, o: MutateOptions): Uint8Array {
  let b = input;
  const steps = 1 << rng.int(5);
  for (let i = 0; i < steps; i++) {
    b = mutateOnce(rng, b, o);
    if (b.length > o.maxLength) b = b.subarray(0, o.maxLength);
  }
  return b;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.trim(), "hex"));
