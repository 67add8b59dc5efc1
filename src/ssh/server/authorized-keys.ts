/**
 * authorized_keys text (sshd(8) AUTHORIZED_KEYS FILE FORMAT): one key per line, optionally
 * preceded by comma-separated options. This server cannot enforce options that restrict a key
 * (command=, from=, permitopen=, principals=, expiry-time=, cert-authority, …), so a line that
 * carries one is skipped — the key then does not authenticate at all (failing closed). Options
 * that only take something away that this server never offers (no-pty, restrict, …) are fine.
 */
import { ProtocolError } from "../../errors.js";
import { decodeBase64 } from "../wire/base64.js";
import { parsePublicKey, type PublicKey } from "../keys/public-key.js";
import { bytesEqual } from "../../util/bytes.js";

const HARMLESS = new Set([
  "restrict", "no-pty", "no-port-forwarding", "no-agent-forwarding", "no-x11-forwarding", "no-user-rc",
  "no-touch-required", "verify-required",
]);

/** Splits off the options field; quoted values may contain spaces and commas. */
function splitOptions(line: string): { options: string[]; rest: string } {
  let i = 0;
  let quoted = false;
  for (; i < line.length; i++) {
    const c = line[i];
    if (c === "\\" && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === " " || c === "\t")) break;
  }
  const field = line.slice(0, i);
  const options: string[] = [];
  let cur = "";
  quoted = false;
  for (let j = 0; j < field.length; j++) {
    const c = field[j]!;
    if (c === '"') quoted = !quoted;
    if (c === "," && !quoted) {
      options.push(cur);
      cur = "";
    } else cur += c;
  }
  options.push(cur);
  return { options, rest: line.slice(i).trimStart() };
}

/** The keys of an authorized_keys text; malformed lines and restricted keys are skipped. */
export function parseAuthorizedKeys(text: string): PublicKey[] {
  const keys: PublicKey[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    try {
      let fields = line;
      if (!/^(ssh-|ecdsa-|sk-)/.test(line)) {
        const { options, rest } = splitOptions(line);
        if (!options.every((o) => HARMLESS.has(o.toLowerCase()))) continue;
        fields = rest;
      }
      const [type, b64] = fields.split(/[ \t]+/);
      if (!type || !b64) continue;
      const key = parsePublicKey(decodeBase64(b64, "authorized key"));
      if (key.type !== type) continue;
      keys.push(key);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
    }
  }
  return keys;
}

export function keyListed(keys: readonly PublicKey[], key: PublicKey): boolean {
  return keys.some((k) => bytesEqual(k.blob, key.blob));
}
