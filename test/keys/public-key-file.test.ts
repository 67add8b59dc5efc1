/** parsePublicKeyFile: RFC 4716 (ssh-keygen -e, puttygen -O public) and the OpenSSH line. */
import { describe, expect, it } from "vitest";
import { needTools } from "../support/tools.js";
import fc from "fast-check";
import { parsePublicKeyFile, parseRfc4716PublicKey } from "../../src/ssh/keys/public-key-file.js";
import { parsePublicKeyLine } from "../../src/ssh/keys/public-key.js";
import { ProtocolError } from "../../src/errors.js";
import { join } from "node:path";
import { FIXTURES, VECTORS, b64, basePublicLine, fixtureText, tool } from "./fixtures.js";

const publicFixtures = FIXTURES.filter((f) => f.format === "public");
const edLine = basePublicLine(FIXTURES.find((f) => f.file === "base/ed25519")!);
const edB64 = edLine.split(" ")[1]!;
const rfc = (...body: string[]) => ["---- BEGIN SSH2 PUBLIC KEY ----", ...body, "---- END SSH2 PUBLIC KEY ----", ""].join("\n");

describe("parsePublicKeyFile", () => {
  it.each(publicFixtures.map((f) => [f.file, f] as const))("%s has the base key's public key", (_name, f) => {
    const parsed = parsePublicKeyFile(fixtureText(f.file));
    expect(b64(parsed.key.blob)).toBe(b64(parsePublicKeyLine(basePublicLine(f)).key.blob));
    if (f.file.endsWith(".putty.pub")) expect(parsed.comment).toBe(`${f.base}@fixture`);
    else expect(parsed.comment).toMatch(/^\d+-bit .* from OpenSSH$/);
    expect(parsed.headers[0]?.tag).toBe("Comment");
  });

  it("reads the OpenSSH one-line form, ignoring blank and # lines", () => {
    const r = parsePublicKeyFile(`# my key\n\n${edLine}\n\n`);
    expect(r.comment).toBe("ed25519@fixture");
    expect(r.headers).toEqual([]);
    expect(parsePublicKeyFile(new TextEncoder().encode(edLine)).key.type).toBe("ssh-ed25519");
    expect(() => parsePublicKeyFile(`${edLine}\n${edLine}\n`)).toThrow(/found 2/);
    expect(() => parsePublicKeyFile("")).toThrow(/found 0/);
  });

  it("handles RFC 4716 headers: continuation lines, quoting, case, private x- tags, CRLF", () => {
    const long = "a".repeat(60);
    const r = parseRfc4716PublicKey(
      rfc(`Subject: someone`, `comment: "${long}\\`, `${long}"`, `x-private: value`, edB64.slice(0, 40), edB64.slice(40)).replace(/\n/g, "\r\n"),
    );
    expect(r.comment).toBe(long + long);
    expect(r.headers.map((h) => h.tag)).toEqual(["Subject", "comment", "x-private"]);
    expect(b64(r.key.blob)).toBe(edB64);
    expect(parsePublicKeyFile(rfc(`Comment: unquoted words`, edB64)).comment).toBe("unquoted words");
    expect(parsePublicKeyFile(rfc(edB64)).comment).toBe("");
  });

  it("rejects malformed RFC 4716 files with ProtocolError", () => {
    const bad: [string, RegExp][] = [
      [rfc("Comment: x"), /no key data/],
      [rfc(`Comment: "x\\`), /continues past the end/],
      [rfc(`Comment:x`, edB64), /malformed RFC 4716 header/],
      [rfc(`${"t".repeat(65)}: x`, edB64), /malformed RFC 4716 header/],
      [rfc(`Comment: ${"x".repeat(1025)}`, edB64), /longer than 1024/],
      [rfc(edB64 + "=="), /invalid RFC 4716 key data/],
      ["---- BEGIN SSH2 PUBLIC KEY ----\n" + edB64 + "\n", /missing "---- END/],
      ["junk\n" + rfc(edB64), /text before/],
      [rfc(edB64) + "junk\n", /text after/],
      [rfc(b64(new Uint8Array([0, 0, 0, 7, ...new TextEncoder().encode("ssh-dss")]))), /unsupported public key type "ssh-dss"/],
    ];
    for (const [text, message] of bad) {
      expect(() => parsePublicKeyFile(text)).toThrow(ProtocolError);
      expect(() => parsePublicKeyFile(text)).toThrow(message);
    }
    expect(() => parsePublicKeyFile(fixtureText("pkcs8/ecdsa256.pkcs8.pem"))).toThrow(/PEM file/);
    expect(() => parsePublicKeyFile(fixtureText("ppk/ecdsa256.v3.ppk"))).toThrow(/PuTTY private key/);
    expect(() => parsePublicKeyFile(new Uint8Array([0xff, 0xfe]))).toThrow(/not UTF-8/);
  });

  it("round-trips through ssh-keygen -i (RFC 4716 → OpenSSH)", (ctx) => {
    needTools(ctx, "/usr/bin/ssh-keygen");
    for (const f of publicFixtures.filter((x) => x.file.endsWith(".rfc4716.pub"))) {
      const parsed = parsePublicKeyFile(fixtureText(f.file));
      const converted = tool("/usr/bin/ssh-keygen", ["-i", "-m", "RFC4716", "-f", join(VECTORS, f.file)]).trim();
      expect(converted).toBe(`${parsed.key.type} ${b64(parsed.key.blob)}`);
    }
  });

  it("throws only ProtocolError on random and mutated input", () => {
    const texts = publicFixtures.map((f) => fixtureText(f.file));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.tuple(fc.nat(), fc.nat(), fc.string({ maxLength: 5 })).map(([k, at, s]) => {
            const t = texts[k % texts.length]!;
            const i = at % t.length;
            return t.slice(0, i) + s + t.slice(i + s.length);
          }),
        ),
        (text) => {
          try {
            parsePublicKeyFile(text);
          } catch (e) {
            expect(e).toBeInstanceOf(ProtocolError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
