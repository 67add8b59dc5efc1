/**
 * The algorithm lists a client or server offers, from defaults, the "hardened" preset or the
 * caller's `algorithms` option. A list may replace the defaults, or modify them as ssh_config(5)
 * does: "+a,b" appends, "-a" removes, "^a" puts first. Names this library does not implement are
 * refused up front.
 */
import { SshError } from "../errors.js";
import { CIPHERS, DEFAULT_CIPHERS, DEFAULT_MACS, MACS } from "./crypto/algorithms.js";
import { DEFAULT_KEX, KEX_METHODS } from "./kex/methods.js";
import { HOST_KEY_ALGORITHMS, keyTypeForAlgorithm } from "./keys/public-key.js";

export type AlgorithmList = readonly string[] | string;

export interface AlgorithmOptions {
  kex?: AlgorithmList;
  serverHostKey?: AlgorithmList;
  cipher?: AlgorithmList;
  mac?: AlgorithmList;
}

/**
 * A named set of lists, given as `algorithms: "hardened"` instead of an AlgorithmOptions:
 * HARDENED_ALGORITHMS, and nothing from ssh_config.
 */
export type AlgorithmPreset = "hardened";

/**
 * The "hardened" preset: only algorithms that ssh-audit (2.5, Debian 12's) reports nothing
 * against, in either role. Against the defaults it drops the NIST-curve key exchanges and ECDSA
 * host keys ("weak elliptic curves"), finite-field DH, AES-CTR, and encrypt-and-MAC hmac-sha2-*.
 * OpenSSH 7.2 and later share curve25519-sha256 (or its @libssh.org name), chacha20-poly1305
 * and the AES-GCMs, and an ed25519 or RSA host key, with it. ssh-audit 2.5 predates
 * mlkem768x25519-sha256 (OpenSSH 9.9) and strict kex (9.6) and calls both only "unknown
 * algorithm", as it does for OpenSSH's own defaults.
 */
export const HARDENED_ALGORITHMS: Readonly<Record<keyof AlgorithmOptions, readonly string[]>> = Object.freeze({
  kex: Object.freeze(["mlkem768x25519-sha256", "curve25519-sha256", "curve25519-sha256@libssh.org"]),
  serverHostKey: Object.freeze(["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"]),
  cipher: Object.freeze(["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com"]),
  mac: Object.freeze(["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"]),
});

export interface AlgorithmLists {
  kex: string[];
  serverHostKey: string[];
  cipher: string[];
  mac: string[];
}

/**
 * The lists to offer. `cipherDefaults` is the default cipher order a list modifies or stands in
 * for (a client on fast native AES-GCM puts it first: crypto/algorithms.ts defaultCiphers).
 */
export function resolveAlgorithms(options: AlgorithmOptions | AlgorithmPreset = {}, cipherDefaults: readonly string[] = DEFAULT_CIPHERS): AlgorithmLists {
  if (typeof options === "string") {
    if (options !== "hardened") throw new SshError("UNKNOWN_ALGORITHM", `unknown algorithm preset "${options}" (known: "hardened")`);
    options = HARDENED_ALGORITHMS;
  }
  return {
    kex: resolve("kex", options.kex, DEFAULT_KEX, (a) => a in KEX_METHODS),
    serverHostKey: resolve("serverHostKey", options.serverHostKey, HOST_KEY_ALGORITHMS, (a) => keyTypeForAlgorithm(a) !== undefined),
    cipher: resolve("cipher", options.cipher, cipherDefaults, (a) => a in CIPHERS),
    mac: resolve("mac", options.mac, DEFAULT_MACS, (a) => a in MACS),
  };
}

function resolve(what: string, given: AlgorithmList | undefined, defaults: readonly string[], known: (a: string) => boolean): string[] {
  if (given === undefined) return [...defaults];
  const text = typeof given === "string" ? given : undefined;
  const op = text && "+-^".includes(text[0] ?? "") ? text[0] : undefined;
  const names = (typeof given === "string" ? (op ? text!.slice(1) : text!).split(",") : [...given]).map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !known(n));
  if (op !== "-" && unknown.length > 0) {
    throw new SshError("UNKNOWN_ALGORITHM", `unsupported ${what} algorithm(s): ${unknown.join(", ")}`);
  }
  let list: string[];
  if (op === "+") list = [...defaults, ...names.filter((n) => !defaults.includes(n))];
  else if (op === "-") list = defaults.filter((d) => !names.includes(d));
  else if (op === "^") list = [...names, ...defaults.filter((d) => !names.includes(d))];
  else list = names;
  if (list.length === 0) throw new SshError("UNKNOWN_ALGORITHM", `the ${what} algorithm list is empty`);
  return list;
}
