/**
 * The library runs unchanged on Node, Deno and Bun: only the runtime adapters (src/platform/,
 * src/ssh/socket/) may touch node: modules, Buffer or process; the CLI is a Node program of its
 * own. Everything else uses Uint8Array, Web Streams, WebCrypto and noble.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "src");
const ADAPTERS = ["platform/", "ssh/socket/", "cli/"];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

it("keeps node:, Buffer and process inside the runtime adapters", () => {
  const offenders: string[] = [];
  for (const file of files(ROOT)) {
    const rel = relative(ROOT, file);
    if (ADAPTERS.some((a) => rel.startsWith(a))) continue;
    // Comments may mention them; code may not.
    const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    for (const [what, re] of [["node: import", /from\s+["']node:/], ["Buffer", /\bBuffer\s*[.(]/], ["process", /\bprocess\s*\./]] as const) {
      if (re.test(code)) offenders.push(`${rel}: ${what}`);
    }
  }
  expect(offenders).toEqual([]);
});

it("imports node:crypto from one module only (the native crypto backend)", () => {
  const importers = files(ROOT)
    .filter((file) => /from\s+["']node:crypto["']/.test(readFileSync(file, "utf8")))
    .map((file) => relative(ROOT, file));
  expect(importers).toEqual(["platform/native-crypto.ts"]);
});
