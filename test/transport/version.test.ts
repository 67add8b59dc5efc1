import { describe, expect, it } from "vitest";
import { parseVersionLine, scanVersion, CLIENT_VERSION } from "../../src/ssh/transport/version.js";
import { ProtocolError } from "../../src/errors.js";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("version exchange (RFC 4253 §4.2)", () => {
  it("our banner names the library", () => {
    expect(CLIENT_VERSION).toMatch(/^SSH-2\.0-puresftp_\d+\.\d+\.\d+$/);
  });

  it("parses OpenSSH's banner and what follows it", () => {
    const r = scanVersion(bytes("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n\x00\x00\x01"))!;
    expect(r.version.softwareVersion).toBe("OpenSSH_9.2p1");
    expect(r.version.comments).toBe("Debian-2+deb12u3");
    expect(r.consumed).toBe(40);
  });

  it("skips lines before the banner and accepts a bare LF and 1.99", () => {
    const r = scanVersion(bytes("Welcome\r\nauthorized use only\nSSH-1.99-srv\n"))!;
    expect(r.version.protoVersion).toBe("1.99");
    expect(r.version.line).toBe("SSH-1.99-srv");
  });

  it("waits for more bytes", () => {
    expect(scanVersion(bytes("SSH-2.0-Open"))).toBeUndefined();
  });

  it("rejects SSH-1, garbage and overlong lines", () => {
    expect(() => parseVersionLine("SSH-1.5-old")).toThrow(/only 2.0/);
    expect(() => parseVersionLine("SSH-2.0")).toThrow(ProtocolError);
    expect(() => scanVersion(bytes("x".repeat(300)))).toThrow(ProtocolError);
    expect(() => scanVersion(bytes("x".repeat(300) + "\n"))).toThrow(ProtocolError);
    expect(() => scanVersion(bytes("hi\n".repeat(100)))).toThrow(/too many lines/);
  });
});
