/**
 * The guard behind "`.ci/run` installs every outside program a test spawns": scans test/,
 * conformance/, bench/ and fuzz/ for the programs they start and fails when one is neither part
 * of every Debian system nor declared in .ci/install. Without it a test could start using a tool
 * that only the machine it was written on had (puttygen once did), and CI on a new machine, or a
 * newcomer's `npm test`, would go red.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { packagesByProgram } from "./support/tools.js";

const ROOT = join(import.meta.dirname, "..");
const SCANNED = ["test", "conformance", "bench", "fuzz"];
/** Data, not code: recorded corpora, vectors, results. */
const SKIPPED_DIRS = new Set(["node_modules", "corpus", "vectors", "results"]);

/**
 * Programs every Debian machine has (Essential: yes packages: coreutils, bsdutils's `script`,
 * debianutils's `which`, libc-bin's `getent`, bash) and the JavaScript runtimes the project
 * installs itself (node; bun and deno from npm; tsx).
 */
const ALWAYS_THERE = new Set(["node", "bun", "deno", "tsx", "npm", "npx", "script", "which", "getent", "sh", "bash", "env", "kill", "sleep", "cat", "id", "true", "chmod"]);

/** Programs a source file starts: literal first arguments of child_process calls, absolute
 *  program paths, and the names given to the test/support/tools.ts helpers. */
export function spawnedPrograms(source: string): Set<string> {
  const out = new Set<string>();
  const add = (p: string) => out.add(p.slice(p.lastIndexOf("/") + 1));
  for (const m of source.matchAll(/\b(?:spawn|spawnSync|execFile|execFileSync|execSync)\(\s*["'`]([^"'`\s$]+)/g)) add(m[1]!);
  for (const m of source.matchAll(/["'`]((?:\/usr)?(?:\/local)?\/s?bin\/[A-Za-z0-9._+-]+)["'`]/g)) add(m[1]!);
  for (const m of source.matchAll(/\b(?:needTools|haveTools|missingTools|toolPath)\(([^)]*)\)/g)) {
    for (const s of m[1]!.matchAll(/["'`]([^"'`]+)["'`]/g)) add(s[1]!);
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return SKIPPED_DIRS.has(name) ? [] : sourceFiles(path);
    return /\.(ts|mts|js|mjs|sh)$/.test(name) ? [path] : [];
  });
}

describe("outside programs the tests spawn", () => {
  it("finds programs in each way a test starts them", () => {
    const src = [
      `spawnSync("dropbearkey", ["-t", "ed25519"]);`,
      `execFileSync('/usr/sbin/proftpd', args);`,
      `const TINY = "/usr/bin/tinysshd";`,
      `needTools(ctx, "asyncssh-server", "ssh");`,
      `spawn(cmd, args); spawn(\`\${prefix}/sshd\`);`,
    ].join("\n");
    expect([...spawnedPrograms(src)].sort()).toEqual(["asyncssh-server", "dropbearkey", "proftpd", "ssh", "tinysshd"]);
  });

  it("reads the package list from .ci/install's PACKAGE lines", () => {
    const map = packagesByProgram("# PACKAGE putty-tools: puttygen\n# PACKAGE openssh-client: ssh sftp\nPACKAGE x: y\n");
    expect([...map]).toEqual([["puttygen", "putty-tools"], ["ssh", "openssh-client"], ["sftp", "openssh-client"]]);
  });

  it("are each installed by .ci/install", () => {
    const declared = packagesByProgram();
    const undeclared: string[] = [];
    let seen = 0;
    // This file's own samples name programs on purpose.
    const files = SCANNED.flatMap((d) => sourceFiles(join(ROOT, d))).filter((f) => f !== import.meta.filename);
    for (const file of files) {
      for (const program of spawnedPrograms(readFileSync(file, "utf8"))) {
        seen++;
        if (!ALWAYS_THERE.has(program) && !declared.has(program)) undeclared.push(`${program} (${relative(ROOT, file)})`);
      }
    }
    // The scan must see the programs it exists for, or it guards nothing.
    expect(seen).toBeGreaterThan(20);
    expect(undeclared, "add a `# PACKAGE debian-package: program` line to .ci/install for each").toEqual([]);
  });
});
