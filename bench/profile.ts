/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof` or the inspector's Profiler.stop): self time per function (file:line),
 * and per source file, as shares of the sampled time.
 */
import * as fs from "node:fs/promises";

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  name: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  totalMs: number;
  functions: ProfileEntry[];
  files: ProfileEntry[];
}

/** Shortens a file URL to the part a reader recognises (node_modules/@noble/…, src/…). */
function shortUrl(url: string): string {
  if (!url) return "";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) return url.slice(nm + "node_modules/".length);
  const src = url.search(/\/(src|bench)\//);
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, "");
}

export async function summariseProfile(file: string, top = 15): Promise<ProfileSummary> {
  const p = JSON.parse(await fs.readFile(file, "utf8")) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the gap before sample i; attribute the gap after it (V8 DevTools does too).
    const dt = deltas[i + 1] ?? 0;
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + dt);
  }
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const where = shortUrl(url);
    // tsx-compiled modules report line 0 for everything; a line is only shown when it means something.
    const name = `${functionName || "(anonymous)"}${where ? ` ${where}${lineNumber > 0 ? `:${lineNumber + 1}` : ""}` : ""}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    const fileKey = where || functionName || "(unknown)";
    files.set(fileKey, (files.get(fileKey) ?? 0) + us);
    total += us;
  }
  const rank = (m: Map<string, number>): ProfileEntry[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, percent: (100 * us) / total }));
  return { totalMs: total / 1000, functions: rank(fn), files: rank(files) };
}
