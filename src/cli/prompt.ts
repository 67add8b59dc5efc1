/**
 * Asking the person at the terminal: passwords, passphrases and keyboard-interactive answers.
 * Only ever on a TTY stdin; secrets are never echoed (the terminal is put in raw mode and
 * nothing is written back). The prompt text goes to stderr, like ssh's.
 */
import { CliError, EXIT } from "./errors.js";

export interface PromptIO {
  input: NodeJS.ReadStream;
  output: NodeJS.WritableStream;
}

const defaultIO = (): PromptIO => ({ input: process.stdin, output: process.stderr });

/** True when answers can be asked for: stdin is a terminal. */
export function canPrompt(io: PromptIO = defaultIO()): boolean {
  return io.input.isTTY === true && typeof io.input.setRawMode === "function";
}

/**
 * Reads one line from the terminal. With `echo: false` (the default) the typed characters are
 * not shown. Ctrl-C rejects with exit 130, Ctrl-D on an empty line rejects too.
 */
export function readLine(prompt: string, options: { echo?: boolean } = {}, io: PromptIO = defaultIO()): Promise<string> {
  const { input, output } = io;
  if (!canPrompt(io)) return Promise.reject(new CliError("NO_TTY", "cannot ask for input: stdin is not a terminal", EXIT.AUTH));
  const echo = options.echo ?? false;
  return new Promise((resolve, reject) => {
    let chars: string[] = [];
    const wasRaw = input.isRaw;
    const finish = () => {
      input.off("data", onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write("\n");
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of typeof chunk === "string" ? chunk : chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") {
          finish();
          return resolve(chars.join(""));
        }
        if (ch === "\u0003") {
          finish();
          return reject(new CliError("INTERRUPTED", "interrupted", EXIT.INTERRUPTED));
        }
        if (ch === "\u0004") {
          if (chars.length > 0) continue;
          finish();
          return reject(new CliError("NO_INPUT", "no answer given (end of input)", EXIT.AUTH));
        }
        if (ch === "\u007f" || ch === "\b") {
          if (chars.length > 0 && echo) output.write("\b \b");
          chars.pop();
          continue;
        }
        if (ch === "\u0015") {
          if (echo) output.write("\b \b".repeat(chars.length));
          chars = [];
          continue;
        }
        if (ch < " ") continue;
        chars.push(ch);
        if (echo) output.write(ch);
      }
    };
    // Raw mode before the prompt shows: an answer typed the moment it appears is never echoed.
    input.setRawMode(true);
    output.write(prompt);
    input.on("data", onData);
    input.resume();
  });
}
