#!/usr/bin/env node
/**
 * puresftp: the command-line entry. Parses the global options and the command word, dispatches
 * to the command groups (files.ts, ftrack.ts), prints the result (output.ts) and turns any
 * failure into a message on stderr and an exit code (errors.ts).
 */
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { formatOptions, parseArgs, type OptionSpec } from "./args.js";
import type { CommandContext, CommandDef } from "./command.js";
import { CliError, describeError, EXIT, formatError, UsageError } from "./errors.js";
import { FILE_COMMANDS } from "./files.js";
import { FTRACK_COMMANDS } from "./ftrack.js";
import { printResult } from "./output.js";
import type { PromptIO } from "./prompt.js";
import { CONNECTION_OPTIONS, SSH_OPTIONS } from "./target.js";

export const GLOBAL_OPTIONS: OptionSpec[] = [
  { name: "json", long: "json", help: "results as JSON on stdout; errors as a JSON object on stderr" },
  { name: "quiet", short: "q", long: "quiet", help: "no progress display, no banners" },
  { name: "verbose", short: "v", long: "verbose", help: "show the server, negotiated algorithms and host key on stderr" },
  { name: "help", long: "help", help: "show help (also -h, except in ls and df where -h is human sizes)" },
  { name: "version", short: "V", long: "version", help: "show the version" },
];
const HELP_SHORT: OptionSpec = { name: "help", short: "h" };

const COMMANDS = new Map<string, CommandDef>([...FILE_COMMANDS, ...FTRACK_COMMANDS].map((c) => [c.name, c]));

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

const EXIT_CODES = `Exit codes:
  0 ok   1 other failure   2 usage or configuration   3 not found   4 permission denied
  5 authentication failed   6 host key not trusted   7 connection failed   130 interrupted`;

export function mainHelp(): string {
  const width = Math.max(...[...COMMANDS.keys()].map((n) => n.length));
  const list = (cs: CommandDef[]) => cs.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n");
  return `puresftp ${version()} — SFTP and ftrack transfers from the shell, over a pure-TypeScript SSH client

Usage: puresftp [options] <command> [options] operands…
       puresftp <command> --help

Commands:
${list(FILE_COMMANDS)}
${list(FTRACK_COMMANDS)}

Remote paths are written [user@]host:path (as scp: a "/" before the first ":" makes it local;
[user@][ipv6]:path; or sftp://[user@]host[:port]/path). An empty path is the login directory,
~ and ~/… are expanded by the server. ~/.ssh/config is read: Host aliases, HostName, User, Port,
IdentityFile, ProxyJump, StrictHostKeyChecking, UserKnownHostsFile, algorithms, … .

Connection options:
${formatOptions(CONNECTION_OPTIONS)}

-o options (first value wins, as in ssh):
${Object.values(SSH_OPTIONS).map((d) => `  ${d}`).join("\n")}

Host keys are checked strictly by default: the server's key must be in ~/.ssh/known_hosts (or
UserKnownHostsFile). -o StrictHostKeyChecking=accept-new trusts and records a new key; a changed
key is always refused.

Credentials: identity files (-i, IdentityFile, the config's defaults, ssh-agent), the password in
PURESFTP_PASSWORD, a key passphrase in PURESFTP_PASSPHRASE. On a terminal (and without
BatchMode=yes) missing ones are asked for, never echoed; without a terminal a failed login is exit 5.

Global options:
${formatOptions(GLOBAL_OPTIONS)}

ftrack: FTRACK_SERVER, FTRACK_API_USER, FTRACK_API_KEY name the ftrack server; the studio.sftp
location's server comes from FTRACK_SFTP_ACCESSOR_HOSTNAME, _PORT, _USERNAME, _PASSWORD,
_PRIVATE_KEY, _PASSPHRASE, _AGENT, _FOLDER, _KNOWN_HOSTS, _HOST_KEY_FINGERPRINT, _HOST_KEY_POLICY.

${EXIT_CODES}
`;
}

export function commandHelp(def: CommandDef): string {
  const usage = def.usage.map((u, i) => `${i === 0 ? "Usage: " : "       "}puresftp ${u}`).join("\n");
  const own = formatOptions(def.options);
  const parts = [`${usage}\n\n${def.summary[0]!.toUpperCase()}${def.summary.slice(1)}.`];
  if (def.description) parts.push(def.description);
  if (own) parts.push(`Options:\n${own}`);
  const taken = new Set(def.options.map((o) => o.short).filter(Boolean));
  const connection = CONNECTION_OPTIONS.map((o) => (o.short && taken.has(o.short) ? { ...o, help: undefined } : o));
  if (taken.has("p")) connection.splice(1, 0, { ...CONNECTION_OPTIONS.find((o) => o.short === "P")!, help: "server port" });
  if (def.connects) parts.push(`Connection options (see puresftp --help for -o keys):\n${formatOptions(connection.filter((o) => o.help))}`);
  parts.push(`Global options:\n${formatOptions(GLOBAL_OPTIONS)}`);
  parts.push(EXIT_CODES);
  return `${parts.join("\n\n")}\n`;
}

function ftrackHelp(): string {
  const width = Math.max(...FTRACK_COMMANDS.map((c) => c.name.length));
  return `Usage: puresftp ftrack <upload|transfer|action> …

${FTRACK_COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Configuration from the environment: FTRACK_SERVER, FTRACK_API_USER, FTRACK_API_KEY, and
FTRACK_SFTP_ACCESSOR_* for the studio.sftp location. See puresftp ftrack <command> --help.
`;
}

export interface MainIO {
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  prompt: PromptIO;
  signal: AbortSignal;
}

/** Runs the CLI on `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: readonly string[], io: MainIO): Promise<number> {
  const json = argv.includes("--json");
  try {
    // Global and connection options may come before the command word.
    const pre = parseArgs(argv, [...GLOBAL_OPTIONS, HELP_SHORT, ...CONNECTION_OPTIONS], { stopAtOperand: true });
    const before = argv.slice(0, argv.length - pre.rest.length).filter((w) => w !== "--");
    let rest = pre.rest;
    if (rest.length === 0) {
      if (pre.args.flag("version")) return write(io.stdout, `puresftp ${version()}\n`, EXIT.OK);
      if (pre.args.flag("help")) return write(io.stdout, mainHelp(), EXIT.OK);
      return write(io.stderr, mainHelp(), EXIT.USAGE);
    }
    let name = rest[0]!;
    rest = rest.slice(1);
    if (name === "help") {
      const topic = rest.join(" ");
      if (!topic) return write(io.stdout, mainHelp(), EXIT.OK);
      if (topic === "ftrack") return write(io.stdout, ftrackHelp(), EXIT.OK);
      const def = COMMANDS.get(topic);
      if (!def) throw new UsageError(`no command ${JSON.stringify(topic)}`);
      return write(io.stdout, commandHelp(def), EXIT.OK);
    }
    if (name === "ftrack") {
      const sub = parseArgs(rest, [...GLOBAL_OPTIONS, HELP_SHORT], { stopAtOperand: true, command: "ftrack" });
      if (sub.rest.length === 0) {
        if (sub.args.flag("help") || pre.args.flag("help")) return write(io.stdout, ftrackHelp(), EXIT.OK);
        throw new UsageError("ftrack: which one? upload, transfer or action", "ftrack");
      }
      before.push(...rest.slice(0, rest.length - sub.rest.length));
      name = `ftrack ${sub.rest[0]!}`;
      rest = sub.rest.slice(1);
    }
    const def = COMMANDS.get(name);
    if (!def) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
    const specs = [
      ...def.options,
      ...GLOBAL_OPTIONS,
      ...(def.options.some((o) => o.short === "h") ? [] : [HELP_SHORT]),
      ...(def.connects ? CONNECTION_OPTIONS : []),
    ];
    const { args } = parseArgs([...before, ...rest], specs, { command: def.name });
    if (args.flag("help")) return write(io.stdout, commandHelp(def), EXIT.OK);
    const ctx: CommandContext = {
      args,
      json: args.flag("json"),
      quiet: args.flag("quiet"),
      verbose: args.flag("verbose"),
      env: io.env,
      stdout: io.stdout,
      stderr: io.stderr,
      prompt: io.prompt,
      signal: io.signal,
    };
    const result = await def.run(ctx);
    printResult(result, ctx.json, io.stdout);
    return EXIT.OK;
  } catch (e) {
    const report = io.signal.aborted ? describeError(new CliError("INTERRUPTED", "interrupted", EXIT.INTERRUPTED, { cause: e })) : describeError(e);
    io.stderr.write(formatError(report, json));
    return report.exitCode;
  }
}

function write(stream: NodeJS.WritableStream, text: string, code: number): number {
  stream.write(text);
  return code;
}

/** True when this file is the program being run (not imported by a test). */
function isEntry(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++interrupts > 1) process.exit(EXIT.INTERRUPTED);
    controller.abort(new Error(`received ${signal}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const code = await main(process.argv.slice(2), {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    prompt: { input: process.stdin, output: process.stderr },
    signal: controller.signal,
  });
  // Let stdout/stderr drain (pipes are asynchronous), then leave even if a socket lingers.
  process.exitCode = code;
  await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
  await new Promise<void>((resolve) => process.stderr.write("", () => resolve()));
  process.exit(code);
}
