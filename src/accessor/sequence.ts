/**
 * File sequences the way ftrack writes them: a printf-style frame token (`%04d`, or `%d` for
 * no padding) in a path, and the clique notation ftrack's `create_component` accepts,
 * `/shots/img.%04d.exr [1-10, 12]`. Member names are the frame numbers as they appear in the
 * file names ("0001"), as clique's `index` group gives them to ftrack.
 */

/** A parsed sequence path. */
export interface SequencePath {
  /** Everything before the frame token. */
  head: string;
  /** Zero-padding width; 0 for `%d`. */
  padding: number;
  /** Everything after the frame token. */
  tail: string;
  /** Frame numbers, ascending, without duplicates. */
  indexes: number[];
}

const TOKEN = /%(0\d+)?d/;
const TOKEN_GLOBAL = /%(0\d+)?d/g;

/** The printf token for a padding width: `%04d`, or `%d` when `padding` is 0 (ftrack's rule). */
export function sequenceExpression(padding: number | null | undefined): string {
  return padding ? `%0${padding}d` : "%d";
}

/** A frame number as it appears in member file names: zero-padded to `padding` digits. */
export function formatFrame(index: number, padding: number): string {
  const digits = String(Math.abs(index));
  const padded = padding > 0 ? digits.padStart(padding, "0") : digits;
  return index < 0 ? `-${padded}` : padded;
}

/** Parses "1-5, 7, 8, 10-20" into ascending, unique frame numbers; undefined when malformed. */
export function parseRanges(text: string): number[] | undefined {
  const out = new Set<number>();
  for (const raw of text.split(",")) {
    const part = raw.trim();
    if (part === "") continue;
    const m = /^(-?\d+)(?:\s*-\s*(-?\d+))?$/.exec(part);
    if (!m) return undefined;
    const start = Number(m[1]);
    const end = m[2] === undefined ? start : Number(m[2]);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start || end - start > 1_000_000) return undefined;
    for (let i = start; i <= end; i++) out.add(i);
  }
  return out.size === 0 ? undefined : [...out].sort((a, b) => a - b);
}

/**
 * Parses `{head}{padding}{tail} [{ranges}]` (clique's default pattern, which ftrack's
 * create_component uses); undefined when `path` is not in that form (a single file).
 */
export function parseSequencePath(path: string): SequencePath | undefined {
  const m = /^(.*) \[([^\]]*)\]$/s.exec(path);
  if (!m) return undefined;
  const expression = m[1]!;
  const tokens = expression.match(TOKEN_GLOBAL);
  if (!tokens || tokens.length !== 1) return undefined;
  const indexes = parseRanges(m[2]!);
  if (!indexes) return undefined;
  const t = TOKEN.exec(expression)!;
  return {
    head: expression.slice(0, t.index),
    padding: t[1] ? Number(t[1]) : 0,
    tail: expression.slice(t.index + t[0].length),
    indexes,
  };
}

/** `{head}{padding}{tail}` of a parsed sequence, e.g. "/shots/img.%04d.exr". */
export function sequenceTemplate(seq: Pick<SequencePath, "head" | "padding" | "tail">): string {
  return `${seq.head}${sequenceExpression(seq.padding)}${seq.tail}`;
}

/** The file of one member: the template with the frame token replaced by `frame`. */
export function memberPath(template: string, frame: string | number, padding?: number): string {
  const t = TOKEN.exec(template);
  if (!t) return template;
  const width = padding ?? (t[1] ? Number(t[1]) : 0);
  const text = typeof frame === "number" ? formatFrame(frame, width) : frame;
  return template.slice(0, t.index) + text + template.slice(t.index + t[0].length);
}

/** True when a name contains exactly one frame token. */
export function hasFrameToken(name: string): boolean {
  return (name.match(TOKEN_GLOBAL) ?? []).length === 1;
}

/**
 * A matcher for the member file names of a template name such as "img.%04d.exr": `%04d`
 * matches exactly four digits or a longer number without a leading zero, `%d` any number
 * without a leading zero. Undefined when the name has no single frame token.
 */
export function memberMatcher(name: string): RegExp | undefined {
  if (!hasFrameToken(name)) return undefined;
  const t = TOKEN.exec(name)!;
  const width = t[1] ? Number(t[1]) : 0;
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const digits = width > 0 ? `(?:\\d{${width}}|[1-9]\\d{${width},})` : "(?:0|[1-9]\\d*)";
  return new RegExp(`^${escape(name.slice(0, t.index))}-?${digits}${escape(name.slice(t.index + t[0].length))}$`);
}
