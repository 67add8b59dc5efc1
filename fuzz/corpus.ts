/**
 * Reading seeds: the committed corpus under fuzz/corpus/ (hex lines for binary messages, plain
 * files for text formats) and the key fixtures the unit tests already use (test/vectors/keys/).
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const CORPUS = fileURLToPath(new URL("corpus", import.meta.url));
export const VECTORS = fileURLToPath(new URL("../test/vectors/keys", import.meta.url));
/** The passphrase of every encrypted fixture and of the cheap-KDF keys in corpus/keys/. */
export const PASSPHRASE = "correct horse battery staple";

/** One hex payload per line; `#` lines are comments. */
export function readHexLines(name: string): Uint8Array[] {
  const path = join(CORPUS, name);
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => new Uint8Array(Buffer.from(l, "hex")));
}

export function writeHexLines(name: string, items: Uint8Array[], comment: string): void {
  const lines = [`# ${comment}`, ...items.map((b) => Buffer.from(b).toString("hex"))];
  writeFileSync(join(CORPUS, name), lines.join("\n") + "\n");
}

/** Every file under `dir` (recursively) whose name passes `keep`, as bytes. */
export function readFiles(dir: string, keep: (name: string) => boolean = () => true): { name: string; bytes: Uint8Array }[] {
  if (!existsSync(dir)) return [];
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...readFiles(path, keep).map((f) => ({ ...f, name: `${name}/${f.name}` })));
    else if (keep(name)) out.push({ name, bytes: new Uint8Array(readFileSync(path)) });
  }
  return out;
}

/** Captured SSH payloads whose message number is in `types` (all when omitted). */
export function sshMessages(...types: number[]): Uint8Array[] {
  return readHexLines("ssh-messages.txt").filter((m) => types.length === 0 || types.includes(m[0]!));
}

export function sftpPackets(): Uint8Array[] {
  return readHexLines("sftp-packets.txt");
}

const enc = new TextEncoder();
/** Dictionary tokens from strings. */
export const tokens = (...words: string[]): Uint8Array[] => words.map((w) => enc.encode(w));

/** Prefixes an input with a selector byte: targets with several modes read it first. */
export const tagged = (tag: number, body: Uint8Array): Uint8Array => {
  const out = new Uint8Array(body.length + 1);
  out[0] = tag;
  out.set(body, 1);
  return out;
};

/** SSH string framing for building seeds: uint32 length || bytes. */
export function sshString(b: Uint8Array | string): Uint8Array {
  const body = typeof b === "string" ? enc.encode(b) : b;
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Splits an input into up to `max` messages, each uint16 length || bytes (the last may be cut short). */
export function splitMessages(input: Uint8Array, max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o + 2 <= input.length && out.length < max; ) {
    const n = (input[o]! << 8) | input[o + 1]!;
    out.push(input.subarray(o + 2, Math.min(input.length, o + 2 + n)));
    o += 2 + n;
  }
  return out;
}

/** The inverse of splitMessages, for building seeds. */
export function joinMessages(messages: Uint8Array[]): Uint8Array {
  return concatBytes(...messages.flatMap((m) => [Uint8Array.of(m.length >> 8, m.length & 0xff), m]));
}
