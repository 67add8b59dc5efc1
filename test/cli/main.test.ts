/** The CLI entry in-process: help for every command, usage errors, JSON errors, exit codes before any connection. */
import { describe, expect, it } from "vitest";
import { EXIT } from "../../src/cli/errors.js";
import { FILE_COMMANDS } from "../../src/cli/files.js";
import { FTRACK_COMMANDS } from "../../src/cli/ftrack.js";
import { runCli } from "./support/run-main.js";

const run = runCli;

describe("help", () => {
  it("prints the overview with --help, -h and help; usage on stderr with no arguments", async () => {
    for (const argv of [["--help"], ["-h"], ["help"]]) {
      const r = await run(argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Usage: puresftp [options] <command>");
      for (const c of [...FILE_COMMANDS, ...FTRACK_COMMANDS]) expect(r.stdout).toContain(c.name);
      expect(r.stdout).toContain("StrictHostKeyChecking");
      expect(r.stdout).toContain("5 authentication failed");
    }
    const none = await run([]);
    expect(none.code).toBe(EXIT.USAGE);
    expect(none.stderr).toContain("Usage:");
  });

  it("has --help for every command", async () => {
    for (const c of [...FILE_COMMANDS, ...FTRACK_COMMANDS]) {
      const r = await run([...c.name.split(" "), "--help"]);
      expect(r.code, c.name).toBe(0);
      expect(r.stdout, c.name).toContain(`Usage: puresftp ${c.usage[0]}`);
      expect(r.stderr).toBe("");
      const viaHelp = await run(["help", ...c.name.split(" ")]);
      expect(viaHelp.stdout).toBe(r.stdout);
    }
    expect((await run(["ftrack", "--help"])).stdout).toContain("puresftp ftrack <upload|transfer|action>");
    expect((await run(["help", "ftrack"])).code).toBe(0);
  });

  it("uses -h as help except where it means human sizes", async () => {
    expect((await run(["get", "-h"])).stdout).toContain("Usage: puresftp get");
    // ls -h is "human sizes", so this is an ls that lacks its operand.
    const ls = await run(["ls", "-h"]);
    expect(ls.code).toBe(EXIT.USAGE);
    expect(ls.stderr).toContain("ls: missing operand");
  });

  it("shows the port as -P where -p means something else", async () => {
    const r = await run(["mkdir", "--help"]);
    expect(r.stdout).toContain("-P PORT");
    expect(r.stdout).not.toContain("-p PORT");
  });

  it("prints the version", async () => {
    const r = await run(["--version"]);
    expect(r.stdout).toMatch(/^puresftp \d+\.\d+\.\d+/);
  });
});

describe("usage errors (exit 2, before any connection)", () => {
  const cases: [string[], RegExp][] = [
    [["frobnicate"], /unknown command "frobnicate"/],
    [["ls", "--bogus", "h:"], /unknown option --bogus for "ls"/],
    [["ls", "localdir"], /"localdir" is not a remote path/],
    [["ls", "a:", "b:"], /too many operands/],
    [["get"], /get: missing operand/],
    [["get", "h:a", "k:b"], /last operand must be a local path/],
    [["put", "x"], /put: missing operand/],
    [["get", "-n", "0", "h:a"], /--streams takes auto or a number from 1 to 16, not "0"/],
    [["put", "--streams", "many", "x", "h:"], /--streams takes auto or a number from 1 to 16/],
    [["get", "--connections", "0", "h:a"], /--connections takes a number from 1 to 8, not "0"/],
    [["put", "--connections", "9", "x", "h:"], /--connections takes a number from 1 to 8, not "9"/],
    [["rm", "h:a", "k:b"], /same server/],
    [["mv", "a", "b"], /name the server/],
    [["mv", "h:a", "k:b"], /same server/],
    [["ls", "-o", "Ciphers=rot13", "h:"], /unsupported cipher/],
    [["ls", "-o", "ProxyCommand=sh", "h:"], /unsupported -o option/],
    [["ls", "-p", "0", "h:"], /between 1 and 65535/],
    [["mkdir", "-m", "999", "h:x"], /octal/],
    [["ftrack"], /upload, transfer or action/],
    [["ftrack", "sync"], /unknown command "ftrack sync"/],
    [["ftrack", "transfer", "c1"], /--from and --to are required/],
    [["ftrack", "transfer", "c1", "--from", "a", "--to", "a"], /same location/],
    [["ftrack", "transfer", "c1", "--from", "a=", "--to", "b"], /DIR is empty/],
  ];
  for (const [argv, message] of cases) {
    it(argv.join(" ") || "(none)", async () => {
      const r = await run(argv);
      expect(r.code).toBe(EXIT.USAGE);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/^puresftp: /);
      expect(r.stdout).toBe("");
    });
  }

  it("reports errors as one JSON object on stderr with --json", async () => {
    const r = await run(["--json", "ls", "--bogus", "h:"]);
    expect(r.code).toBe(EXIT.USAGE);
    const parsed = JSON.parse(r.stderr) as { error: { code: string; exitCode: number; message: string } };
    expect(parsed.error).toMatchObject({ code: "USAGE", exitCode: 2 });
    expect(parsed.error.message).toContain("--bogus");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("accepts global options before or after the command", async () => {
    const a = await run(["--json", "ls"]);
    const b = await run(["ls", "--json"]);
    expect(JSON.parse(a.stderr)).toEqual(JSON.parse(b.stderr));
  });
});

describe("local failures before connecting", () => {
  it("put of a missing local file is exit 3; of a directory without -r exit 1", async () => {
    const missing = await run(["--json", "put", "/nonexistent/file.bin", "h:"]);
    expect(missing.code).toBe(EXIT.NOT_FOUND);
    expect(JSON.parse(missing.stderr).error).toMatchObject({ code: "ENOENT", path: "/nonexistent/file.bin", message: "/nonexistent/file.bin: no such file or directory" });
    const dir = await run(["put", "/tmp", "h:"]);
    expect(dir.code).toBe(EXIT.GENERIC);
    expect(dir.stderr).toContain("is a directory (use put -r)");
  });

  it("a missing identity file is a usage error", async () => {
    const r = await run(["ls", "-i", "/nonexistent/key", "-o", "ConnectTimeout=1", "127.0.0.1:"]);
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.stderr).toContain("identity file /nonexistent/key: no such file");
  });

  it("ftrack commands name the missing configuration (exit 2)", async () => {
    const r = await run(["ftrack", "transfer", "c1", "--from", "studio.sftp", "--to", "disk=/tmp"], { FTRACK_SERVER: "http://x" });
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.stderr).toContain("FTRACK_API_USER, FTRACK_API_KEY are not set");
  });
});
