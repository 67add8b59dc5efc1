/**
 * Seeded fault cases: an operation, a fault kind, a direction and a byte offset, all drawn
 * from a seed so a run replays exactly (FAULT_SEED, FAULT_ONLY), and the seeded file contents
 * the cases transfer. Used by the fault suite (cases.ts) and the soak run (soak.ts).
 */
import type { FaultKind } from "../support/fault-proxy.js";
import { dataDirection, OPERATIONS, type Operation } from "./operations.js";

export interface FaultCase {
  index: number;
  /** FAULT_SEED as given (the runtime's own seed is derived from it). */
  baseSeed: number;
  seed: number;
  op: Operation;
  kind: FaultKind;
  direction: "up" | "down";
  at: number;
}

const KINDS: FaultKind[] = ["reset", "fin", "stall", "trickle", "truncate", "corrupt"];
const MiB = 1024 * 1024;
/** Size of transferred files: big enough that a cut lands mid-pipeline. */
export const FILE_SIZE = Number(process.env.FAULT_FILE_MIB ?? 2) * MiB;

/** mulberry32: a small seeded PRNG, so a case list is the same on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` cases from `seed`. Operations and fault kinds take turns (so even a short list covers
 * every operation); the direction and offset are random: a third of the offsets fall in the
 * handshake and login (the first 3,000 bytes each way, about what they take), the rest anywhere
 * in the operation's bulk data.
 */
export function faultCases(baseSeed: number, seed: number, count: number, ops: readonly Operation[] = OPERATIONS): FaultCase[] {
  const rand = prng(seed);
  const cases: FaultCase[] = [];
  const kindShift = Math.floor(rand() * KINDS.length);
  for (let index = 0; index < count; index++) {
    const op = ops[index % ops.length]!;
    const kind = KINDS[(index + kindShift + Math.floor(index / ops.length)) % KINDS.length]!;
    const bulk = dataDirection(op);
    const direction = bulk !== "none" && rand() < 0.75 ? bulk : rand() < 0.5 ? "up" : "down";
    const early = bulk === "none" || direction !== bulk || rand() < 0.33;
    const at = early ? Math.floor(rand() * 3000) : 3000 + Math.floor(rand() * FILE_SIZE);
    cases.push({ index, baseSeed, seed, op, kind, direction, at });
  }
  return cases;
}

/** Random bytes derived from a seed (so a retry can be compared with what was sent). */
export function seededBytes(seed: number, n: number): Uint8Array {
  const rand = prng(seed);
  const b = new Uint8Array(n);
  const words = new Uint32Array(b.buffer, 0, n >> 2);
  for (let i = 0; i < words.length; i++) words[i] = (rand() * 4294967296) >>> 0;
  for (let i = words.length * 4; i < n; i++) b[i] = (rand() * 256) | 0;
  return b;
}
