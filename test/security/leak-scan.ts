/**
 * Finding secrets where they must not be: every text form of a value (message, String(),
 * stack, JSON.stringify, util.inspect to depth 10, the whole cause chain) is searched for
 * marker secrets in the encodings a leak would take — the text itself, hex (either case),
 * base64 and base64url at every byte alignment.
 */
import { inspect } from "node:util";

/** Every marker starts with this; it is searched for on its own as well. */
export const CORE = "S3cr3t-MARKER";

const utf8 = new TextEncoder();

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

/**
 * The strings a leak of `secret` would contain. For base64 the secret may start at any of the
 * three byte offsets inside a longer encoding, so each alignment contributes its stable middle.
 */
export function encodedForms(secret: Uint8Array | string): string[] {
  const bytes = typeof secret === "string" ? utf8.encode(secret) : secret;
  const forms = new Set<string>();
  if (typeof secret === "string") forms.add(secret);
  const hex = Buffer.from(bytes).toString("hex");
  forms.add(hex);
  forms.add(hex.toUpperCase());
  for (let shift = 0; shift < 3; shift++) {
    const padded = new Uint8Array(shift + bytes.length);
    padded.set(bytes, shift);
    const enc = b64(padded).replace(/=+$/, "");
    // Drop the characters that mix in neighbouring bytes: the first (shift>0) and the last two.
    const start = shift === 0 ? 0 : Math.ceil((shift * 8) / 6);
    const middle = enc.slice(start, enc.length - 2);
    if (middle.length >= 8) {
      forms.add(middle);
      forms.add(middle.replace(/\+/g, "-").replace(/\//g, "_"));
    }
  }
  return [...forms];
}

/** JSON.stringify that survives cycles and BigInt (a cycle becomes "[cycle]"). */
export function safeJson(value: unknown): string {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(value, (_k, v: unknown) => {
      if (typeof v === "bigint") return `0x${v.toString(16)} ${v.toString()}`;
      if (v instanceof Uint8Array) return { hex: Buffer.from(v).toString("hex"), base64: b64(v) };
      if (typeof v === "object" && v !== null) {
        if (seen.has(v)) return "[cycle]";
        seen.add(v);
      }
      return v;
    }) ?? "";
  } catch (e) {
    return `[JSON.stringify threw: ${(e as Error).message}]`;
  }
}

/** Every text a program (or a log line) could make of `value`. */
export function textsOf(value: unknown): string[] {
  const out: string[] = [];
  if (typeof value === "string") out.push(value);
  const seen = new Set<unknown>();
  for (let cur = value; cur instanceof Error && !seen.has(cur) && seen.size < 16; cur = (cur as { cause?: unknown }).cause) {
    seen.add(cur);
    out.push(cur.message, String(cur), cur.stack ?? "");
  }
  out.push(safeJson(value));
  out.push(inspect(value, { depth: 10 }));
  try {
    out.push(String(value));
  } catch {
    // objects without a string conversion
  }
  return out;
}

export interface Leak {
  label: string;
  form: string;
  context: string;
}

/** The leaks of any of `secrets` in any text form of `value`. */
export function findLeaks(label: string, value: unknown, secrets: readonly (string | Uint8Array)[]): Leak[] {
  const forms = [CORE, ...secrets.flatMap(encodedForms)];
  const leaks: Leak[] = [];
  for (const text of textsOf(value)) {
    for (const form of forms) {
      const at = text.indexOf(form);
      if (at >= 0) {
        leaks.push({ label, form, context: text.slice(Math.max(0, at - 120), at + form.length + 40) });
        break;
      }
    }
  }
  return leaks;
}
