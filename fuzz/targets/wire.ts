/**
 * The RFC 4251 §5 reader every SSH decoder stands on, and base64 (key files, known_hosts).
 * An input is a small program: its first byte says how many op bytes follow, each op byte picks
 * a read, and the rest is the data read. Besides "value or ProtocolError", the reader's own
 * promises are checked: views stay inside the input and the offset only moves forward.
 */
import { decodeBase64, encodeBase64 } from "../../src/ssh/wire/base64.js";
import { SshReader } from "../../src/ssh/wire/reader.js";
import { classify, type FuzzTarget } from "../engine.js";
import { concatBytes, sshMessages, tokens } from "../corpus.js";
import type { Rng } from "../mutate.js";

const OPS = 13;

function invariant(ok: boolean, what: string): void {
  if (!ok) throw new Error(`SshReader invariant broken: ${what}`);
}

function program(input: Uint8Array): { ops: Uint8Array; data: Uint8Array } {
  const n = (input[0] ?? 0) % 48;
  return { ops: input.subarray(1, 1 + n), data: input.subarray(1 + n) };
}

function runProgram(ops: Uint8Array, data: Uint8Array): unknown[] {
  const r = new SshReader(data, "fuzz input");
  const out: unknown[] = [];
  for (const op of ops) {
    const before = r.offset;
    const remaining = r.remaining;
    let v: unknown;
    switch (op % OPS) {
      case 0: v = r.byte(); break;
      case 1: v = r.boolean(); break;
      case 2: v = r.uint32(); break;
      case 3: v = r.uint64(); break;
      case 4: {
        const s = r.string();
        invariant(s.buffer === data.buffer && s.byteOffset >= data.byteOffset && s.byteOffset + s.length <= data.byteOffset + data.length, "string view outside the input");
        invariant(s.length <= remaining - 4, "string longer than what was left");
        v = s;
        break;
      }
      case 5: v = r.utf8(); break;
      case 6: v = r.ascii(); break;
      case 7: v = r.nameList(); break;
      case 8: v = r.mpint(); break;
      case 9: {
        const m = r.positiveMpintBytes();
        invariant(m.length === 0 || m[0] !== 0 || m.length === 1, "positive mpint kept a leading zero");
        v = m;
        break;
      }
      case 10: v = r.raw(op >> 4); break;
      case 11: v = r.rest(); break;
      default: r.end(); v = "end";
    }
    invariant(r.offset >= before && r.offset <= data.length, `offset moved from ${before} to ${r.offset}`);
    out.push(v);
  }
  return out;
}

/** Reads the data as each kind of field in turn: the cheapest way to hit every length check. */
function everyKind(data: Uint8Array): void {
  for (let op = 0; op < OPS - 1; op++) {
    try {
      runProgram(Uint8Array.of(op, op, op), data);
    } catch (e) {
      if (classify(e) !== "typed") throw e;
    }
  }
}

export const wireReader: FuzzTarget = {
  name: "wire-reader",
  iterations: 150_000,
  maxLength: 4096,
  seeds: () => {
    const kexinit = Uint8Array.of(0, 10, 10, ...Array(10).fill(7), 1, 2);
    return sshMessages().map((m, i) => concatBytes(Uint8Array.of(12), i % 2 ? kexinit.subarray(0, 12) : Uint8Array.of(0, 2, 4, 4, 8, 9, 6, 5, 7, 3, 1, 12), m));
  },
  generate: (rng: Rng) => {
    const ops = rng.bytes(rng.int(16));
    const parts: Uint8Array[] = [];
    for (let i = 0; i < rng.int(8); i++) {
      const len = rng.chance(0.8) ? rng.int(40) : rng.pick([0x80, 0xff, 0x7fffffff, 0xffffffff]);
      const body = rng.bytes(Math.min(len, 64));
      if (rng.chance(0.3) && body.length > 1) body[0] = rng.pick([0, 0xff, 0x80]);
      parts.push(Uint8Array.of(len >>> 24, (len >>> 16) & 255, (len >>> 8) & 255, len & 255), body);
    }
    return concatBytes(Uint8Array.of(ops.length), ops, ...parts);
  },
  run: (input) => {
    const { ops, data } = program(input);
    everyKind(data);
    return runProgram(ops, data);
  },
};

export const base64: FuzzTarget = {
  name: "base64",
  iterations: 50_000,
  text: true,
  maxLength: 2048,
  dict: tokens("=", "==", "A", "/", "+", "-", "_", " ", "\n"),
  seeds: () => sshMessages().slice(0, 40).map((m) => new TextEncoder().encode(encodeBase64(m.subarray(0, 200)))),
  run: (input) => {
    const text = new TextDecoder().decode(input);
    const out = decodeBase64(text);
    // A canonical decode must round-trip exactly.
    if (encodeBase64(out) !== text) throw new Error(`base64 accepted a non-canonical form: ${JSON.stringify(text.slice(0, 80))}`);
    return out;
  },
};

export const targets = [wireReader, base64];
