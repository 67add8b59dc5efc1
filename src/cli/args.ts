/**
 * A small command-line parser, GNU/OpenSSH style: short options bundle (`-lr`), take their value
 * attached or as the next word (`-p22`, `-p 22`); long options take `--name=value` or
 * `--name value`; options may come before or after the operands; `--` ends the options; `-`
 * alone is an operand. Unknown options are usage errors (exit 2), never guessed.
 */
import { UsageError } from "./errors.js";

export interface OptionSpec {
  /** Key in the parsed result. */
  name: string;
  /** One character, without the dash. */
  short?: string;
  /** Without the dashes. */
  long?: string;
  /** Takes a value (the word after it, or attached). */
  value?: boolean;
  /** The value's name in help texts (`-p PORT`). */
  valueName?: string;
  /** Help text; options without one are not listed. */
  help?: string;
}

/** Parsed arguments: flags, option values (every occurrence, in order) and operands. */
export class Args {
  constructor(
    readonly positionals: string[],
    private readonly values: ReadonlyMap<string, string[]>,
    private readonly flags: ReadonlySet<string>,
  ) {}

  /** True when the flag was given. */
  flag(name: string): boolean {
    return this.flags.has(name);
  }

  /** The first value given for an option (OpenSSH's "first one wins"). */
  value(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  /** Every value given for an option, in order. */
  all(name: string): string[] {
    return [...(this.values.get(name) ?? [])];
  }

  /** The names of the options and flags that were given. */
  given(): string[] {
    return [...this.flags, ...this.values.keys()];
  }
}

function findShort(specs: readonly OptionSpec[], ch: string): OptionSpec | undefined {
  return specs.find((s) => s.short === ch);
}

function findLong(specs: readonly OptionSpec[], name: string): OptionSpec | undefined {
  return specs.find((s) => s.long === name);
}

export interface ParseOptions {
  /** The command the arguments belong to, for messages. */
  command?: string;
  /** Stop at the first operand and leave it and everything after it unparsed (see `rest`). */
  stopAtOperand?: boolean;
}

export interface ParseResult {
  args: Args;
  /** With `stopAtOperand`: the words from the first operand on. */
  rest: string[];
}

/** Parses `argv` against `specs`; throws UsageError for unknown options or missing values. */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[], options: ParseOptions = {}): ParseResult {
  const positionals: string[] = [];
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const where = options.command ? ` for "${options.command}"` : "";
  const add = (spec: OptionSpec, value: string | undefined) => {
    if (spec.value) values.set(spec.name, [...(values.get(spec.name) ?? []), value!]);
    else flags.add(spec.name);
  };

  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === "--") {
      if (options.stopAtOperand) return { args: new Args(positionals, values, flags), rest: argv.slice(i + 1) };
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (word.startsWith("--")) {
      const eq = word.indexOf("=");
      const name = word.slice(2, eq < 0 ? undefined : eq);
      const spec = findLong(specs, name);
      if (!spec) throw new UsageError(`unknown option --${name}${where}`, options.command);
      if (!spec.value) {
        if (eq >= 0) throw new UsageError(`option --${name} takes no value`, options.command);
        add(spec, undefined);
        continue;
      }
      const value: string | undefined = eq >= 0 ? word.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`option --${name} needs a value (${spec.valueName ?? "VALUE"})`, options.command);
      add(spec, value);
      continue;
    }
    if (word.startsWith("-") && word.length > 1) {
      for (let j = 1; j < word.length; j++) {
        const ch = word[j]!;
        const spec = findShort(specs, ch);
        if (!spec) throw new UsageError(`unknown option -${ch}${where}`, options.command);
        if (!spec.value) {
          add(spec, undefined);
          continue;
        }
        const attached = word.slice(j + 1);
        const value = attached !== "" ? attached : argv[++i];
        if (value === undefined) throw new UsageError(`option -${ch} needs a value (${spec.valueName ?? "VALUE"})`, options.command);
        add(spec, value);
        break;
      }
      continue;
    }
    if (options.stopAtOperand) return { args: new Args(positionals, values, flags), rest: argv.slice(i) };
    positionals.push(word);
  }
  return { args: new Args(positionals, values, flags), rest: [] };
}

/** Help lines for options: `  -p, --port PORT    help`. */
export function formatOptions(specs: readonly OptionSpec[]): string {
  const rows = specs.filter((s) => s.help).map((s) => {
    const names = [s.short ? `-${s.short}` : "", s.long ? `--${s.long}` : ""].filter(Boolean).join(", ");
    return [`${names}${s.value ? ` ${s.valueName ?? "VALUE"}` : ""}`, s.help!] as const;
  });
  const width = Math.min(28, Math.max(0, ...rows.map(([left]) => left.length)));
  return rows.map(([left, help]) => (left.length > width ? `  ${left}\n  ${" ".repeat(width)}  ${help}` : `  ${left.padEnd(width)}  ${help}`)).join("\n");
}

/** Checks the operand count; throws UsageError naming the usage. */
export function expectOperands(args: Args, min: number, max: number, command: string, usage: string): string[] {
  const n = args.positionals.length;
  if (n < min) throw new UsageError(`${command}: missing operand\nUsage: puresftp ${usage}`, command);
  if (n > max) throw new UsageError(`${command}: too many operands\nUsage: puresftp ${usage}`, command);
  return args.positionals;
}

/** A non-negative integer option value, or a UsageError naming the option. */
export function parseCount(text: string, what: string, command?: string, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${what} must be a whole number, got ${JSON.stringify(text)}`, command);
  const n = Number(text.trim());
  if (n < min || n > max) throw new UsageError(`${what} must be between ${min} and ${max}, got ${n}`, command);
  return n;
}
