/**
 * What a test does when an outside program it spawns (puttygen, openssl, ssh-audit, sshd...) is
 * missing. Outside CI it skips, with a one-line reason naming the Debian package to install. In
 * CI (CI=true) it fails: CI must prove that the test ran, and .ci/install installs every program
 * a test spawns. test/tools-installed.test.ts keeps that list and the tests in step.
 */
import { accessSync, constants, readFileSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { describe } from "vitest";

export const inCI = process.env.CI === "true";

const ROOT = join(import.meta.dirname, "..", "..");

/** .ci/install, whose `# PACKAGE name: program program...` lines are the one list of tools. */
export const CI_INSTALL = join(ROOT, ".ci", "install");

/** Program name -> the Debian package that provides it, as .ci/install declares. */
export function packagesByProgram(installScript = readFileSync(CI_INSTALL, "utf8")): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of installScript.matchAll(/^# PACKAGE ([a-z0-9.+-]+):((?: [A-Za-z0-9._+-]+)+)\s*$/gm)) {
    for (const program of m[2]!.trim().split(/\s+/)) map.set(program, m[1]!);
  }
  return map;
}

const PACKAGES = packagesByProgram();
const found = new Map<string, string | undefined>();

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The program's path: itself when absolute, else the first match on PATH (and the sbin dirs). */
export function toolPath(program: string): string | undefined {
  if (!found.has(program)) {
    const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"].filter(Boolean);
    found.set(program, isAbsolute(program) ? (executable(program) ? program : undefined) : dirs.map((d) => join(d, program)).find(executable));
  }
  return found.get(program);
}

function baseName(program: string): string {
  return program.slice(program.lastIndexOf("/") + 1);
}

/** Why these programs cannot run here ("puttygen not installed: apt-get install putty-tools"), or undefined. */
export function missingTools(...programs: string[]): string | undefined {
  const missing = programs.filter((p) => toolPath(p) === undefined);
  if (missing.length === 0) return undefined;
  const pkgs = [...new Set(missing.map((p) => PACKAGES.get(baseName(p)) ?? `(no package for ${baseName(p)} in .ci/install)`))];
  return `${missing.map(baseName).join(", ")} not installed: apt-get install ${pkgs.join(" ")}`;
}

/**
 * For code that runs outside a test body (fixtures, beforeAll): true when every program is
 * installed; false outside CI, where the tests that need them skip through needTools; throws in
 * CI, so the file fails loudly instead of losing its checks.
 */
export function haveTools(...programs: string[]): boolean {
  const reason = missingTools(...programs);
  if (reason === undefined) return true;
  if (inCI) throw new Error(`${reason} (required in CI; .ci/install installs it)`);
  return false;
}

/** Inside a test: returns when the programs are installed, else skips it with the reason (fails in CI). */
export function needTools(ctx: { skip: (note?: string) => void }, ...programs: string[]): void {
  if (!haveTools(...programs)) ctx.skip(missingTools(...programs));
}

/**
 * A describe block that needs something this machine may lack (`reason` says what, undefined
 * when all is there): skipped outside CI with the reason printed once; in CI it runs, and fails.
 */
export function describeUnless(reason: string | undefined, what: string): typeof describe {
  if (reason === undefined || inCI) return describe;
  console.warn(`skipping ${what}: ${reason}`);
  return describe.skip as typeof describe;
}
