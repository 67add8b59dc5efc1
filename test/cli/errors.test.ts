import { describe, expect, it } from "vitest";
import { AccessorError } from "../../src/accessor/accessor.js";
import { CliError, describeError, EXIT, exitCodeFor, formatError, UsageError } from "../../src/cli/errors.js";
import { AuthError, ConnectionError, HostKeyError, ProtocolError, SftpError, SshError } from "../../src/errors.js";

const nodeError = (code: string, path?: string) => Object.assign(new Error(`${code}: boom`), { code, ...(path ? { path } : {}) });

describe("exit codes", () => {
  it("maps the library's errors", () => {
    expect(exitCodeFor(new SftpError("NO_SUCH_FILE", "no", "/x"))).toBe(EXIT.NOT_FOUND);
    expect(exitCodeFor(new SftpError("PERMISSION_DENIED", "no", "/x"))).toBe(EXIT.PERMISSION);
    expect(exitCodeFor(new SftpError("FAILURE", "no"))).toBe(EXIT.GENERIC);
    expect(exitCodeFor(new SftpError("CONNECTION_LOST", "no"))).toBe(EXIT.CONNECTION);
    expect(exitCodeFor(new AuthError("AUTH_FAILED", "no", ["password"], ["publickey"]))).toBe(EXIT.AUTH);
    expect(exitCodeFor(new AuthError("CONNECTION_CLOSED", "closed", [], []))).toBe(EXIT.CONNECTION);
    expect(exitCodeFor(new HostKeyError("HOST_KEY_UNKNOWN", "unknown", "SHA256:x", "ssh-ed25519"))).toBe(EXIT.HOST_KEY);
    expect(exitCodeFor(new HostKeyError("HOST_KEY_CHANGED", "changed", "SHA256:x", "ssh-ed25519"))).toBe(EXIT.HOST_KEY);
    expect(exitCodeFor(new ConnectionError("CONNECTION_REFUSED", "refused"))).toBe(EXIT.CONNECTION);
    expect(exitCodeFor(new ConnectionError("TIMEOUT", "slow"))).toBe(EXIT.CONNECTION);
    expect(exitCodeFor(new ProtocolError("bad mac"))).toBe(EXIT.CONNECTION);
    expect(exitCodeFor(new SshError("UNKNOWN_ALGORITHM", "x"))).toBe(EXIT.USAGE);
    expect(exitCodeFor(new SshError("BAD_PASSPHRASE", "x"))).toBe(EXIT.AUTH);
    expect(exitCodeFor(new SshError("UNSUPPORTED", "x"))).toBe(EXIT.GENERIC);
  });

  it("maps the CLI's own errors, local file errors and anything else", () => {
    expect(exitCodeFor(new UsageError("bad"))).toBe(EXIT.USAGE);
    expect(exitCodeFor(new CliError("X", "x", EXIT.NOT_FOUND))).toBe(EXIT.NOT_FOUND);
    expect(exitCodeFor(nodeError("ENOENT"))).toBe(EXIT.NOT_FOUND);
    expect(exitCodeFor(nodeError("EACCES"))).toBe(EXIT.PERMISSION);
    expect(exitCodeFor(nodeError("ECONNREFUSED"))).toBe(EXIT.CONNECTION);
    expect(exitCodeFor(nodeError("EISDIR"))).toBe(EXIT.GENERIC);
    expect(exitCodeFor(new TypeError("x"))).toBe(EXIT.GENERIC);
    expect(exitCodeFor("a string")).toBe(EXIT.GENERIC);
  });

  it("looks through wrappers to the specific cause", () => {
    const hostKey = new HostKeyError("HOST_KEY_UNKNOWN", "unknown key", "SHA256:abc", "ssh-ed25519");
    const wrapped = new AccessorError("ACCESSOR_CONNECTION_FAILED", "cannot connect", { cause: hostKey });
    expect(exitCodeFor(wrapped)).toBe(EXIT.HOST_KEY);
    const gone = new AccessorError("ACCESSOR_RESOURCE_NOT_FOUND", "missing");
    expect(exitCodeFor(gone)).toBe(EXIT.NOT_FOUND);
    const loop: Error & { cause?: unknown } = new Error("loop");
    loop.cause = loop;
    expect(exitCodeFor(loop)).toBe(EXIT.GENERIC);
  });
});

describe("reports", () => {
  it("carries the details a script needs", () => {
    const r = describeError(new HostKeyError("HOST_KEY_UNKNOWN", "unknown host key for h", "SHA256:abc", "ssh-ed25519"));
    expect(r).toMatchObject({ code: "HOST_KEY_UNKNOWN", exitCode: 6, details: { fingerprint: "SHA256:abc", keyType: "ssh-ed25519" } });
    expect(r.message).toContain("StrictHostKeyChecking=accept-new");
    const a = describeError(new AuthError("AUTH_FAILED", "authentication failed", ["password"], ["publickey", "password"]));
    expect(a.details).toEqual({ methodsTried: ["password"], methodsAllowed: ["publickey", "password"] });
    expect(a.message).toContain("PURESFTP_PASSWORD");
    expect(describeError(new SftpError("NO_SUCH_FILE", "stat failed", "/x")).details).toEqual({ path: "/x" });
  });

  it("says where to look for usage", () => {
    expect(describeError(new UsageError("ls: missing operand", "ls")).message).toBe("ls: missing operand\nSee: puresftp ls --help");
  });

  it("words local file errors plainly", () => {
    expect(describeError(Object.assign(new Error("ENOENT: no such file or directory, stat '/a'"), { code: "ENOENT", path: "/a" })).message).toBe("/a: no such file or directory");
  });

  it("prints `puresftp: message`, or one JSON object", () => {
    const r = describeError(new SftpError("PERMISSION_DENIED", "open failed", "/etc/shadow"));
    expect(formatError(r, false)).toBe("puresftp: open failed\n");
    expect(JSON.parse(formatError(r, true))).toEqual({ error: { code: "PERMISSION_DENIED", message: "open failed", exitCode: 4, path: "/etc/shadow" } });
  });
});
