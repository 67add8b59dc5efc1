/**
 * OpenSSH known_hosts files (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): one key per line,
 * `[@marker] patterns keytype base64 [comment]`. Patterns are comma-separated host names or
 * wildcards (`*`, `?`), `!` negates, `[host]:port` names a non-default port, and `|1|salt|hash`
 * is a hashed name (HMAC-SHA1 keyed with the salt).
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { matchPattern } from "../config/ssh-config.js";
import { decodeBase64 as fromBase64, encodeBase64 as toBase64 } from "../wire/base64.js";

export interface KnownHostEntry {
  marker: "" | "@cert-authority" | "@revoked";
  patterns: string;
  keyType: string;
  keyBlob: Uint8Array;
  line: number;
}

/** Parses a known_hosts text; lines that cannot be parsed are skipped, as ssh(1) does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry["marker"] = "";
    if (fields[0] === "@cert-authority" || fields[0] === "@revoked") marker = fields.shift() as KnownHostEntry["marker"];
    const [patterns, keyType, b64] = fields;
    if (!patterns || !keyType || !b64) return;
    let keyBlob: Uint8Array;
    try {
      keyBlob = fromBase64(b64);
    } catch {
      return;
    }
    entries.push({ marker, patterns, keyType, keyBlob, line: i + 1 });
  });
  return entries;
}

/** The name a host is recorded under: `host`, or `[host]:port` off port 22. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** True when `patterns` (one known_hosts host field) matches `name`. */
export function matchesHost(patterns: string, name: string): boolean {
  if (patterns.startsWith("|1|")) return matchesHashed(patterns, name);
  let matched = false;
  for (const p of patterns.split(",")) {
    const negated = p.startsWith("!");
    const pattern = negated ? p.slice(1) : p;
    if (wildcard(pattern.toLowerCase(), name.toLowerCase())) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function matchesHashed(field: string, name: string): boolean {
  const [, , salt, hash] = field.split("|");
  if (!salt || !hash) return false;
  try {
    return toBase64(hmac(sha1, fromBase64(salt), new TextEncoder().encode(name))) === hash;
  } catch {
    return false;
  }
}

/**
 * Glob match with `*` and `?` (OpenSSH match_pattern). Linear-time: a pattern turned into a
 * RegExp (`*a*a*a…` → `.*a.*a.*a…`) backtracks exponentially, so a crafted pattern could hang
 * every connection that reads the file.
 */
function wildcard(pattern: string, s: string): boolean {
  return matchPattern(s, pattern);
}

/** A known_hosts line for a host and key; hashed (HashKnownHosts) unless `hashed` is false. */
export function knownHostsLine(host: string, port: number, keyType: string, blob: Uint8Array, hashed = true): string {
  const name = hostKeyName(host, port);
  return `${hashed ? hashHostName(name) : name} ${keyType} ${toBase64(blob)}`;
}

/** `|1|salt|hash` as ssh-keygen -H writes it: HMAC-SHA1 keyed with a random 20-byte salt. */
export function hashHostName(name: string, salt = crypto.getRandomValues(new Uint8Array(20))): string {
  return `|1|${toBase64(salt)}|${toBase64(hmac(sha1, salt, new TextEncoder().encode(name)))}`;
}
