/**
 * Public key files in either common text form:
 *
 *   - OpenSSH's one line, `type base64 [comment]` (what ssh-keygen writes to .pub files);
 *   - RFC 4716 "SSH2 public key" (ssh-keygen -e, puttygen -O public, ssh.com/Tectia):
 *
 *       ---- BEGIN SSH2 PUBLIC KEY ----
 *       Comment: "user@host"
 *       x-Private-Header: value continued \
 *        on the next line
 *       AAAAB3NzaC1yc2EAAAADAQABAAABAQ…
 *       ---- END SSH2 PUBLIC KEY ----
 *
 * RFC 4716 §3.3 headers: tag (printable ASCII but ':' and space, ≤ 64 bytes), ": ", UTF-8 value
 * (≤ 1024 bytes), a trailing backslash continuing the value on the next line. Tags are
 * case-insensitive; the Comment value may be double-quoted (§3.3.2), and the quotes are removed.
 * Liberal in one respect: lines longer than the RFC's 72 bytes are accepted, as some tools write
 * them. Errors are ProtocolError, as for the other public key parsers.
 */
import { ProtocolError } from "../../errors.js";
import { decodeBase64 } from "../wire/base64.js";
import { parsePublicKey, parsePublicKeyLine, type PublicKey } from "./public-key.js";

export interface PublicKeyFile {
  readonly key: PublicKey;
  /** The comment: the line's third field, or the RFC 4716 Comment header (unquoted). */
  readonly comment: string;
  /** RFC 4716 headers in file order (tags as written); empty for the one-line form. */
  readonly headers: readonly { readonly tag: string; readonly value: string }[];
}

const BEGIN = "---- BEGIN SSH2 PUBLIC KEY ----";
const END = "---- END SSH2 PUBLIC KEY ----";
const MAX_TEXT = 256 * 1024;

function fail(message: string): never {
  throw new ProtocolError(message, "KEY_FORMAT");
}

/** Parses an RFC 4716 public key file. */
export function parseRfc4716PublicKey(text: string): PublicKeyFile {
  const lines = text.split(/\r\n|\r|\n/).map((l) => l.replace(/[ \t]+$/, ""));
  const start = lines.findIndex((l) => l === BEGIN);
  if (start < 0) fail(`missing "${BEGIN}" line`);
  if (lines.slice(0, start).some((l) => l !== "")) fail(`text before "${BEGIN}"`);
  const stop = lines.indexOf(END, start + 1);
  if (stop < 0) fail(`missing "${END}" line`);
  if (lines.slice(stop + 1).some((l) => l !== "")) fail(`text after "${END}"`);
  const body = lines.slice(start + 1, stop);
  const headers: { tag: string; value: string }[] = [];
  let i = 0;
  while (i < body.length && body[i]!.includes(":")) {
    const m = /^([\x21-\x39\x3b-\x7e]{1,64}): (.*)$/.exec(body[i]!);
    if (!m) fail(`malformed RFC 4716 header line ${i + 1}`);
    let value = m[2]!;
    while (value.endsWith("\\")) {
      i++;
      if (i >= body.length) fail("RFC 4716 header continues past the end of the key");
      value = value.slice(0, -1) + body[i]!;
    }
    if (new TextEncoder().encode(value).length > 1024) fail(`RFC 4716 header "${m[1]}" is longer than 1024 bytes`);
    headers.push({ tag: m[1]!, value });
    i++;
  }
  const b64 = body.slice(i).join("");
  if (b64.length === 0) fail("RFC 4716 key has no key data");
  const key = parsePublicKey(decodeBase64(b64, "RFC 4716 key data"));
  const raw = headers.find((h) => h.tag.toLowerCase() === "comment")?.value ?? "";
  const comment = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  return { key, comment, headers };
}

/**
 * Parses a public key file in either form: RFC 4716 when it has the BEGIN marker, otherwise one
 * OpenSSH line (blank lines and `#` comment lines around it are ignored; exactly one key).
 */
export function parsePublicKeyFile(input: string | Uint8Array): PublicKeyFile {
  let text: string;
  if (typeof input === "string") text = input;
  else {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(input);
    } catch {
      fail("public key file is not UTF-8 text");
    }
  }
  if (text.length > MAX_TEXT) fail("public key file is too large");
  text = text.replace(/^\uFEFF/, "");
  if (text.includes("---- BEGIN SSH2 PUBLIC KEY")) return parseRfc4716PublicKey(text);
  if (text.includes("-----BEGIN ")) fail("this is a PEM file, not an SSH public key (a private key?)");
  if (text.startsWith("PuTTY-User-Key-File-")) fail("this is a PuTTY private key, not a public key");
  const lines = text.split(/\r\n|\r|\n/).filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));
  if (lines.length !== 1) fail(`expected one public key line, found ${lines.length}`);
  const { key, comment } = parsePublicKeyLine(lines[0]!);
  return { key, comment, headers: [] };
}
