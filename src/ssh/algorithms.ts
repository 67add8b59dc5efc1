/**
 * The algorithm lists a client offers, from defaults or the caller's `algorithms` option. A list
 * may replace the defaults, or modify them as ssh_config(5) does: "+a,b" appends, "-a" removes,
 * "^a" puts first. Names this library does not implement are refused up front.
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

export interface AlgorithmLists {
  kex: string[];
  serverHostKey: string[];
  cipher: string[];
  mac: string[];
}

export function resolveAlgorithms(options: AlgorithmOptions = {}): AlgorithmLists {
  return {
    kex: resolve("kex", options.kex, DEFAULT_KEX, (a) => a in KEX_METHODS),
    serverHostKey: resolve("serverHostKey", options.serverHostKey, HOST_KEY_ALGORITHMS, (a) => keyTypeForAlgorithm(a) !== undefined),
    cipher: resolve("cipher", options.cipher, DEFAULT_CIPHERS, (a) => a in CIPHERS),
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
