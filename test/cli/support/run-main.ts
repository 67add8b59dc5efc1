/** Runs the CLI entry in-process with captured stdout / stderr and a non-TTY prompt. */
import { main, type MainIO } from "../../../src/cli/main.js";

export async function runCli(argv: string[], env: Record<string, string | undefined> = {}, signal = new AbortController().signal): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = { write: (s: string) => ((stdout += s), true) } as unknown as NodeJS.WritableStream;
  const err = { write: (s: string) => ((stderr += s), true) } as unknown as NodeJS.WritableStream;
  const io: MainIO = {
    env,
    stdout: out,
    stderr: err,
    prompt: { input: { isTTY: false } as unknown as NodeJS.ReadStream, output: err },
    signal,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}
