/**
 * Decides whether a server's host key is trusted. Secure by default: with no options a key
 * must already be in ~/.ssh/known_hosts; an unknown key is refused with its SHA256 fingerprint
 * in the message so the user can check it out of band, and a changed key is always refused.
 */
import { HostKeyError } from "../../errors.js";
import type { PublicKey } from "../keys/public-key.js";
import { appendTextFile, readTextFile } from "../../platform/local.js";
import { hostKeyName, knownHostsLine, matchesHost, parseKnownHosts, type KnownHostEntry } from "./known-hosts.js";
import { bytesEqual } from "../../util/bytes.js";
import { fingerprintSha256 } from "../keys/fingerprint.js";

export interface HostKeyOptions {
  /**
   * strict: must be known; accept-new: unknown keys are appended (hashed) to the file, changed
   * keys are still refused; insecure-accept-any: no check at all, with a warning on stderr.
   */
  policy?: "strict" | "accept-new" | "insecure-accept-any";
  /** Default ~/.ssh/known_hosts. */
  knownHostsFile?: string;
  /** Pinned fingerprints (`SHA256:…`); a match is trusted. */
  fingerprints?: string[];
  /** A custom check; true trusts the key. */
  verify?: (key: PublicKey) => boolean | Promise<boolean>;
}

export const DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts";

/** Loads the known_hosts entries that name this host (any marker). */
export async function knownKeysFor(host: string, port: number, file: string): Promise<KnownHostEntry[]> {
  const text = await readTextFile(file);
  if (text === undefined) return [];
  const name = hostKeyName(host, port);
  return parseKnownHosts(text).filter((e) => matchesHost(e.patterns, name));
}

/** Returns a verifier for the transport: resolves when trusted, throws HostKeyError otherwise. */
export function hostKeyVerifier(host: string, port: number, options: HostKeyOptions = {}): (key: PublicKey) => Promise<void> {
  const policy = options.policy ?? "strict";
  const file = options.knownHostsFile ?? DEFAULT_KNOWN_HOSTS;
  return async (key) => {
    const fp = key.fingerprint;
    const fail = (code: string, message: string): never => {
      throw new HostKeyError(code, message, fp, key.type);
    };
    const entries = policy === "insecure-accept-any" ? [] : await knownKeysFor(host, port, file);
    const same = (e: KnownHostEntry) => e.keyType === key.type && bytesEqual(e.keyBlob, key.blob);
    if (entries.some((e) => e.marker === "@revoked" && same(e))) {
      fail("HOST_KEY_REVOKED", `the ${key.type} host key of ${host} (${fp}) is marked @revoked in ${file}`);
    }
    if (options.fingerprints?.includes(fp)) return;
    if (options.verify) {
      if (await options.verify(key)) return;
      fail("HOST_KEY_REJECTED", `the ${key.type} host key of ${host} (${fp}) was rejected by the verify callback`);
    }
    if (options.fingerprints?.length) {
      fail("HOST_KEY_MISMATCH", `the ${key.type} host key of ${host} is ${fp}, which matches none of the pinned fingerprints`);
    }
    const plain = entries.filter((e) => e.marker === "");
    if (plain.some(same)) return;
    if (policy === "insecure-accept-any") {
      console.warn(`WARNING: host key checking is off (insecure-accept-any): accepted ${key.type} ${fp} for ${host} unverified`);
      return;
    }
    const changed = plain.find((e) => e.keyType === key.type);
    if (changed) {
      fail("HOST_KEY_CHANGED", `HOST KEY CHANGED for ${host}: the server sent ${key.type} ${fp}, but ${file} line ${changed.line} ` +
        `lists ${fingerprintSha256(changed.keyBlob)}. This may be an attack; if the server was re-keyed, remove that line.`);
    }
    if (policy === "accept-new") {
      await appendTextFile(file, knownHostsLine(host, port, key.type, key.blob) + "\n");
      return;
    }
    fail("HOST_KEY_UNKNOWN", `unknown host key for ${hostKeyName(host, port)}: ${key.type} ${fp}. ` +
      `Check this fingerprint with the server's administrator, then add it to ${file}, pin it with ` +
      `hostKeys.fingerprints, or connect once with hostKeys.policy "accept-new".`);
  };
}

/**
 * Host key algorithms reordered so those already known for the host come first, as ssh(1)
 * does: otherwise a server with an RSA key in known_hosts would be asked for ed25519 and fail.
 */
export function preferKnownAlgorithms(algorithms: string[], known: KnownHostEntry[], keyTypeOf: (alg: string) => string): string[] {
  const types = new Set(known.filter((e) => e.marker === "").map((e) => e.keyType));
  if (types.size === 0) return algorithms;
  const first = algorithms.filter((a) => types.has(keyTypeOf(a)));
  return [...first, ...algorithms.filter((a) => !first.includes(a))];
}
