/**
 * The committed key fixtures of test/vectors/keys/ (made by generate-fixtures.ts with
 * ssh-keygen, openssl and puttygen), plus helpers to run those tools when they are installed.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { haveTools } from "../support/tools.js";
import { SshError } from "../../src/errors.js";

/** One entry of manifest.json. */
export interface Fixture {
  /** Path under test/vectors/keys/. */
  file: string;
  /** openssh | pem | pkcs8 | ppk | sshcom | public */
  format: string;
  /** The ssh-keygen key it was made from (base/<name>.pub holds the public key). */
  base: string;
  passphrase: string | null;
  /** Set when the parser must refuse the file: the expected SshError code. */
  error?: string;
  /** What produced it, for the record. */
  made: string;
}

export const VECTORS = join(dirname(fileURLToPath(import.meta.url)), "..", "vectors", "keys");
export const PASS = "correct horse battery staple";

/** Whether each key tool is installed, for optional cross-checks (throws in CI when missing: test/support/tools.ts). */
export const TOOLS = {
  get sshKeygen() { return haveTools("/usr/bin/ssh-keygen"); },
  get openssl() { return haveTools("/usr/bin/openssl"); },
  get puttygen() { return haveTools("/usr/bin/puttygen"); },
};

export const FIXTURES: Fixture[] = (JSON.parse(readFileSync(join(VECTORS, "manifest.json"), "utf8")) as { fixtures: Fixture[] }).fixtures;

export function fixture(file: string): Fixture {
  const f = FIXTURES.find((x) => x.file === file);
  if (!f) throw new Error(`no fixture ${file}`);
  return f;
}

/** The file as the parser should see it: bytes for DER, text otherwise. */
export function fixtureInput(f: Fixture): string | Uint8Array {
  const path = join(VECTORS, f.file);
  return f.file.endsWith(".der") ? new Uint8Array(readFileSync(path)) : readFileSync(path, "utf8");
}

export const fixtureText = (file: string): string => readFileSync(join(VECTORS, file), "utf8");

/** The expected public key line (`type base64 [comment]`) of the fixture's base key. */
export function basePublicLine(f: Fixture): string {
  return readFileSync(join(VECTORS, "base", `${f.base}.pub`), "utf8").trim();
}

/** Copies a fixture to `dir` with mode 0600 (ssh-keygen refuses group/world-readable keys). */
export function privateCopy(f: Fixture, dir: string): string {
  const path = join(dir, f.file.replace(/\//g, "_"));
  writeFileSync(path, readFileSync(join(VECTORS, f.file)));
  chmodSync(path, 0o600);
  return path;
}

/** Runs a tool with an argument array (never a shell); stdout as text. */
export function tool(cmd: string, args: string[], input?: string | Uint8Array): string {
  return execFileSync(cmd, args, { input, stdio: ["pipe", "pipe", "pipe"] }).toString();
}

export function toolBytes(cmd: string, args: string[], input?: string | Uint8Array): Uint8Array {
  return new Uint8Array(execFileSync(cmd, args, { input, stdio: ["pipe", "pipe", "pipe"] }));
}

/** "CODE: message" of the SshError `f` throws, or "no error". Fails on any other error type. */
/**
 * How long a parse may take that must refuse a KDF cost before running it: milliseconds of
 * parsing, against hours for the KDF at the cost asked (2^32 rounds or iterations; even the
 * default limits allow 20-40 s). Generous, so two loaded CI cores cannot fail it; 100 ms could.
 */
export const BEFORE_ANY_KDF_WORK_MS = 2000;

export function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (!(e instanceof SshError)) throw new Error(`expected an SshError, got ${String(e)}`, { cause: e });
    return `${e.code}: ${e.message}`;
  }
  return "no error";
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));
export const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64");
