/** The shape of a CLI command and what it is given to run: the seam between main.ts and the command groups. */
import type { Args, OptionSpec } from "./args.js";
import type { CommandResult } from "./output.js";
import type { PromptIO } from "./prompt.js";
import type { SessionIO } from "./target.js";

export interface CommandContext {
  /** The command's arguments (global, connection and its own options, and operands). */
  args: Args;
  /** --json: results as JSON on stdout, errors as JSON on stderr, no progress display. */
  json: boolean;
  /** --quiet: no progress display, no banners. */
  quiet: boolean;
  /** --verbose: what was negotiated, on stderr. */
  verbose: boolean;
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  prompt: PromptIO;
  /** Aborted on SIGINT / SIGTERM. */
  signal: AbortSignal;
}

export interface CommandDef {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Usage lines without the program name, e.g. "ls [-l] [user@]host:[path]". */
  usage: string[];
  /** More help: what the operands mean, examples. */
  description?: string;
  /** The command's own options. */
  options: OptionSpec[];
  /** Whether -p/-i/-J/-F/-o apply (commands that connect to a server). */
  connects: boolean;
  run(ctx: CommandContext): Promise<CommandResult>;
}

/** The SessionIO of a command: environment, terminal, and notices on stderr (none when quiet or --json). */
export function sessionIO(ctx: CommandContext): SessionIO {
  return {
    env: ctx.env,
    prompt: ctx.prompt,
    notice: (text) => {
      if (!ctx.quiet && !ctx.json) ctx.stderr.write(text);
    },
  };
}
