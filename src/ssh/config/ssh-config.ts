/**
 * OpenSSH client configuration (ssh_config(5)), resolved for one host the way ssh(1) does it:
 * keywords are case-insensitive, `Key Value` or `Key=Value`, arguments may be quoted, and for
 * each option the first value obtained wins. `Host` and `Match` start blocks; `Include` reads
 * more files (relative paths are under ~/.ssh). Modelled on OpenSSH 9.x readconf.c.
 *
 * Differences from ssh(1): `Match exec` never runs its command; a Match line containing it never
 * matches. Keywords this module does not know are ignored rather than rejected, and algorithm
 * names are not checked. Hostname canonicalisation is not done. Errors are SshError
 * CONFIG_ERROR naming the file and line, for what ssh(1) itself refuses.
 */
import { SshError } from "../../errors.js";
import { env as platformEnv, homeDirectory, listDirectorySync, localUsername, readTextFileSync } from "../../platform/local.js";

export interface HostConfig {
  /** The name the caller asked for (`Host` patterns match this). */
  host: string;
  /** HostName with %h expanded, lowercased unless an address; `host` when unset. */
  hostname: string;
  port: number;
  user: string;
  /** Expanded paths; OpenSSH's default list when no IdentityFile applies. "none" is dropped. */
  identityFiles: string[];
  /** False when identityFiles is the default list (missing default files are not an error). */
  identityFilesConfigured: boolean;
  identitiesOnly: boolean;
  /** Expanded IdentityAgent: a path, "none", "SSH_AUTH_SOCK" or "$VAR" (see agentSocketPath). */
  identityAgent: string | undefined;
  /** Expanded paths; default ~/.ssh/known_hosts and ~/.ssh/known_hosts2; [] for "none". */
  userKnownHostsFile: string[];
  strictHostKeyChecking: "yes" | "no" | "accept-new" | "ask";
  /** Algorithm lists as written, including any +, - or ^ prefix; undefined when unset. */
  hostKeyAlgorithms: string | undefined;
  kexAlgorithms: string | undefined;
  ciphers: string | undefined;
  macs: string | undefined;
  pubkeyAcceptedAlgorithms: string | undefined;
  /** Seconds; undefined means the system TCP timeout ("none"). */
  connectTimeout: number | undefined;
  /**
   * Seconds (0: no keepalives); undefined when the config does not set it (ssh(1) then sends
   * none; connect() uses its own default), so an explicit 0 can still turn keepalives off.
   */
  serverAliveInterval: number | undefined;
  /** Unanswered keepalives before giving up. */
  serverAliveCountMax: number;
  /** `[user@]host[:port]` hops, comma-separated, as written; undefined when unset or "none". */
  proxyJump: string | undefined;
  /** The raw command (never run by this library); undefined when unset or "none". */
  proxyCommand: string | undefined;
  batchMode: boolean;
  passwordAuthentication: boolean;
  kbdInteractiveAuthentication: boolean;
  pubkeyAuthentication: boolean;
  /** Bytes and seconds before rekeying; 0 means the cipher's default / no time limit. */
  rekeyLimit: { bytes: number; seconds: number };
  /** Parsed for completeness; this library does not compress. */
  compression: boolean;
}

export interface ConfigContext {
  /** An explicit user (like `ssh -l`): overrides User in the config. */
  user?: string;
  /** An explicit port (like `ssh -p`): overrides Port in the config. */
  port?: number;
  localUser?: string;
  homeDir?: string;
  /** Name of the top-level text in error messages. */
  fileName?: string;
  /** Reads an Include'd file; undefined when missing. Defaults to the local file system. */
  readFile?: (path: string) => string | undefined;
  /** Lists a directory for Include globs; undefined when it cannot. */
  listDirectory?: (path: string) => string[] | undefined;
  env?: Env;
}

export const MAX_INCLUDE_DEPTH = 16;
/** Bounds on everything read for one resolution, Includes (and the final pass) counted. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
export const MAX_CONFIG_FILES = 256;

type Bad = (message: string) => never;
type Env = (name: string) => string | undefined;
type Parser = (args: string[], bad: Bad, env: Env) => unknown;

const one: Parser = (args, bad) => {
  if (args.length > 1) bad("extra arguments at end of line");
  return args[0] || bad("missing argument");
};
const choice = (table: Record<string, unknown>): Parser => (args, bad, env) => {
  const a = one(args, bad, env) as string;
  return own(table, a.toLowerCase()) ?? bad(`unsupported value "${a}"`);
};
const time: Parser = (args, bad, env) => {
  const a = one(args, bad, env) as string;
  return a === "none" ? undefined : parseTime(a) ?? bad(`invalid time value "${a}"`);
};
const FLAG = choice({ yes: true, true: true, no: false, false: false });
const PUBKEY = choice({ yes: true, true: true, no: false, false: false, unbound: true, "host-bound": true });
const KBD = ["kbdInteractiveAuthentication", FLAG] as const;

/** The keywords kept, by lowercase name (aliases included): the field they set and its parser. */
const OPTIONS: Record<string, readonly [keyof HostConfig, Parser]> = {
  hostname: ["hostname", one], user: ["user", one], identitiesonly: ["identitiesOnly", FLAG],
  port: ["port", (args, bad, env) => {
    const p = one(args, bad, env) as string;
    return /^\d{1,5}$/.test(p) && +p >= 1 && +p <= 65535 ? +p : bad(`bad port "${p}"`);
  }],
  identityagent: ["identityAgent", (args, bad, env) => {
    const a = one(args, bad, env) as string;
    if (/^\$(?!\{)/.test(a) && !/^[A-Za-z_]\w*$/.test(a.slice(1))) bad(`invalid environment name ${a}`);
    expand(a, {}, env, bad, false); // as ssh(1): a ${VAR} must be set when the line is read
    return a;
  }],
  userknownhostsfile: ["userKnownHostsFile", (args, bad) => {
    const none = args.some((a) => a.toLowerCase() === "none");
    return args.length > 32 || args.includes("") || (none && args.length > 1) ? bad("bad list") : args;
  }],
  stricthostkeychecking: ["strictHostKeyChecking",
    choice({ yes: "yes", true: "yes", no: "no", false: "no", off: "no", ask: "ask", "accept-new": "accept-new" })],
  hostkeyalgorithms: ["hostKeyAlgorithms", one], kexalgorithms: ["kexAlgorithms", one], ciphers: ["ciphers", one],
  macs: ["macs", one], pubkeyacceptedalgorithms: ["pubkeyAcceptedAlgorithms", one],
  pubkeyacceptedkeytypes: ["pubkeyAcceptedAlgorithms", one],
  connecttimeout: ["connectTimeout", time], serveraliveinterval: ["serverAliveInterval", time],
  serveralivecountmax: ["serverAliveCountMax", (args, bad, env) => {
    const a = one(args, bad, env) as string;
    return /^\d{1,10}$/.test(a) && +a <= 0x7fffffff ? +a : bad(`bad integer "${a}"`);
  }],
  batchmode: ["batchMode", FLAG], passwordauthentication: ["passwordAuthentication", FLAG],
  kbdinteractiveauthentication: KBD, challengeresponseauthentication: KBD, skeyauthentication: KBD, tisauthentication: KBD,
  pubkeyauthentication: ["pubkeyAuthentication", PUBKEY], dsaauthentication: ["pubkeyAuthentication", PUBKEY],
  compression: ["compression", choice({ yes: true, no: false })],
};

const DEFAULTS = {
  identitiesOnly: false, strictHostKeyChecking: "ask", serverAliveCountMax: 3, batchMode: false,
  passwordAuthentication: true, kbdInteractiveAuthentication: true, pubkeyAuthentication: true, compression: false,
} as const;
const DEFAULT_IDENTITY_FILES = ["rsa", "ecdsa", "ecdsa_sk", "ed25519", "ed25519_sk", "xmss", "dsa"].map((t) => `~/.ssh/id_${t}`);

class Resolver {
  /** First-obtained values of the OPTIONS keywords, unexpanded. */
  readonly raw: Partial<Record<keyof HostConfig, unknown>> = {};
  readonly identityFiles: string[] = [];
  proxyJump: string | undefined;
  proxyCommand: string | undefined;
  rekey: { bytes?: number; seconds?: number } = {};
  active = true;
  final = false;
  /**
   * What `Host` lines match: the host as given, and in the final pass the final hostname
   * (ssh.c re-reads the files with `host` set to the expanded HostName).
   */
  hostLineName: string;
  wantFinal = false;
  private bytes = 0;
  private files = 0;
  readonly home: string;
  readonly localUser: string;
  readonly env: Env;

  constructor(readonly host: string, readonly ctx: ConfigContext) {
    this.hostLineName = host;
    this.home = ctx.homeDir ?? homeDirectory();
    this.localUser = ctx.localUser ?? localUsername();
    this.env = ctx.env ?? platformEnv;
  }

  parse(text: string, file: string, depth: number, neverMatch: boolean): void {
    this.bytes += text.length;
    if (++this.files > MAX_CONFIG_FILES) fail(file, 0, `more than ${MAX_CONFIG_FILES} configuration files`);
    if (this.bytes > MAX_CONFIG_BYTES) fail(file, 0, `configuration larger than ${MAX_CONFIG_BYTES} bytes`);
    text.split("\n").forEach((line, i) => this.line(line, file, i + 1, depth, neverMatch));
  }

  private line(line: string, file: string, n: number, depth: number, neverMatch: boolean): void {
    let end = line.length;
    while (end > 0 && " \t\r\n\f".includes(line[end - 1]!)) end--;
    const m = /^[ \t\r\n]*([^ \t\r\n"=]*)[ \t\r\n]*(?:=[ \t\r\n]*)?/.exec(line.slice(0, end))!;
    const keyword = m[1]!.toLowerCase();
    const rest = line.slice(m[0].length, end);
    if (keyword.startsWith("#") || (keyword === "" && rest === "")) return;
    const bad = (message: string): never => fail(file, n, keyword ? `${keyword}: ${message}` : message);
    if (keyword === "") bad("missing keyword");
    if (rest === "") bad("no argument after keyword");
    const args = splitArgs(rest) ?? bad("invalid quotes");
    const option = own(OPTIONS, keyword);
    if (option) {
      // Values are checked even in inactive blocks, as ssh(1) does.
      const value = option[1](args, bad, this.env);
      if (this.active && this.raw[option[0]] === undefined) this.raw[option[0]] = value;
      return;
    }
    switch (keyword) {
      case "host":
        this.active = false;
        for (const a of args) {
          if (a === "") bad("empty pattern");
          if (neverMatch) break;
          const negated = a.startsWith("!");
          if (matchPattern(this.hostLineName, negated ? a.slice(1) : a)) {
            this.active = !negated;
            if (negated) break;
          }
        }
        return;
      case "match":
        this.active = this.match(args, bad) && !neverMatch;
        return;
      case "include":
        return this.include(args, bad, depth, neverMatch);
      case "identityfile":
      case "identityfile2":
        one(args, bad, this.env);
        if (this.active && this.identityFiles.length >= 100) bad("too many identity files (max 100)");
        if (this.active && !this.identityFiles.includes(args[0]!)) this.identityFiles.push(args[0]!); // ssh drops duplicates
        return;
      case "rekeylimit": {
        if (!args[0] || args.length > 2) bad("expected a size and an optional time");
        const bytes = args[0] === "default" ? 0 : parseSize(args[0]!) ?? bad(`bad size "${args[0]}"`);
        if (bytes !== 0 && bytes < 16) bad("RekeyLimit too small");
        const t = args[1];
        const seconds = t === undefined || t === "none" ? undefined : parseTime(t) ?? bad(`invalid time value "${t}"`);
        if (this.active) this.rekey = { bytes: this.rekey.bytes ?? bytes, seconds: this.rekey.seconds ?? seconds };
        return;
      }
      case "proxyjump": {
        // ProxyJump and ProxyCommand: the first of them wins; "ProxyJump none" only stops later
        // ProxyJumps (OpenSSH ≥ 10.3, and Debian's 9.2p1 backport).
        const v = (rest.split("#")[0] ?? "").replace(/^[ \t\r\n=]+|[ \t\r\n]+$/g, "");
        if (v === "") bad("missing argument"); // hops are kept as written, checked where used
        const none = v.toLowerCase() === "none";
        if (!this.active || this.proxyJump !== undefined || (this.proxyCommand !== undefined && !none)) return;
        this.proxyJump = v;
        if (!none) this.proxyCommand = "none";
        return;
      }
      case "proxycommand":
        if (this.active) this.proxyCommand ??= rest.replace(/^[ \t\r\n=]+/, "");
        return;
    }
  }

  /** `Match` criteria, all of which must hold (readconf.c match_cfg_line). */
  private match(args: string[], bad: Bad): boolean {
    let result = true;
    let attributes = 0;
    const configured = this.raw.hostname as string | undefined;
    const host = this.final || configured === undefined ? configured ?? this.host : expandHostname(configured, this.host, bad);
    for (let i = 0; i < args.length; i++) {
      const negate = args[i]!.startsWith("!");
      const attr = args[i]!.slice(negate ? 1 : 0).toLowerCase();
      if (attr === "all") {
        if (attributes > 1 || i + 1 < args.length) bad("'all' cannot be combined with other Match attributes");
        return result && !negate;
      }
      attributes++;
      let r: boolean;
      if (attr === "canonical" || attr === "final") {
        if (attr === "final") this.wantFinal = true;
        r = this.final;
      } else {
        const pattern = args[++i] || bad(`missing Match criteria for ${attr}`);
        const user = this.ctx.user ?? (this.raw.user as string | undefined) ?? this.localUser;
        if (attr === "host") r = matchList(host.toLowerCase(), pattern, true) === 1;
        else if (attr === "originalhost") r = matchList(this.host.toLowerCase(), pattern, true) === 1;
        else if (attr === "user") r = matchList(user, pattern, false) === 1;
        else if (attr === "localuser") r = matchList(this.localUser, pattern, false) === 1;
        // Never run commands from a config file. The command's outcome is unknown, so the
        // block is skipped whether `exec` is negated or not.
        else if (attr === "exec") return false;
        else bad(`unsupported Match attribute ${attr}`);
      }
      if (r === negate) result = false;
    }
    return attributes > 0 ? result : bad("one or more attributes required for Match");
  }

  private include(args: string[], bad: Bad, depth: number, neverMatch: boolean): void {
    const readFile = this.ctx.readFile ?? readTextFileSync;
    for (const a of args) {
      if (a === "") bad("empty path");
      const outer = this.active;
      for (const path of this.glob(expandTilde(/^[/~]/.test(a) ? a : `~/.ssh/${a}`, this.home, bad), bad)) {
        let text: string | undefined;
        try {
          text = readFile(path);
        } catch (e) {
          bad(`cannot read ${path}: ${(e as Error)?.message ?? e}`);
        }
        if (text === undefined) continue;
        if (depth >= MAX_INCLUDE_DEPTH) bad("too many recursive configuration includes");
        this.parse(text, path, depth + 1, neverMatch || !outer);
        this.active = outer; // a Host or Match inside an Include does not leak out of it
      }
    }
  }

  /** glob(3) with `*` and `?` in any path component, sorted; hidden names need an explicit dot. */
  private glob(pattern: string, bad: Bad): string[] {
    if (!/[*?]/.test(pattern)) return [pattern];
    const list = this.ctx.listDirectory ?? listDirectorySync;
    const [first, ...parts] = pattern.split("/");
    let paths = [first!];
    for (const part of parts) {
      const next: string[] = [];
      for (const base of paths) {
        if (!/[*?]/.test(part)) next.push(`${base}/${part}`);
        else for (const name of [...(list(base || "/") ?? [])].sort()) {
          if ((name[0] !== "." || part[0] === ".") && matchPattern(name, part)) next.push(`${base}/${name}`);
        }
      }
      if (next.length > MAX_CONFIG_FILES) bad(`${pattern} matches too many files`);
      paths = next;
    }
    return paths;
  }
}

/**
 * Resolves the configuration for `host` from ssh_config text, with ssh(1)'s defaults filled in
 * and %-tokens (%d %h %n %p %r %u %%), ${ENV} and ~ expanded in IdentityFile,
 * UserKnownHostsFile and IdentityAgent. Throws SshError CONFIG_ERROR only.
 */
export function resolveHostConfig(text: string, host: string, ctx: ConfigContext = {}): HostConfig {
  const r = new Resolver(host, ctx);
  const file = ctx.fileName ?? "ssh_config";
  const bad = (message: string): never => fail(file, 0, message);
  r.parse(text, file, 0, false);
  const raw = r.raw;
  let hostname = raw.hostname === undefined ? host : expandHostname(raw.hostname as string, host, bad);
  if (!/^[\d.]+$|:/.test(hostname)) hostname = hostname.toLowerCase();
  if (r.wantFinal) {
    // `Match final` asks for a second pass with the final hostname; values already set stay.
    raw.hostname = hostname;
    r.hostLineName = hostname;
    r.final = true;
    r.active = true;
    r.parse(text, file, 0, false);
  }
  const user = ctx.user ?? (raw.user as string | undefined) ?? r.localUser;
  const port = ctx.port ?? (raw.port as number | undefined) ?? 22;
  const tokens = { d: r.home, h: hostname, n: host, p: String(port), r: user, u: r.localUser };
  const path = (p: string) => expand(expandTilde(p, r.home, bad), tokens, r.env, bad, true);
  const configured = r.identityFiles.length > 0;
  const knownHosts = (raw.userKnownHostsFile as string[] | undefined) ?? ["~/.ssh/known_hosts", "~/.ssh/known_hosts2"];
  const unlessNone = (v: string | undefined) => (v?.toLowerCase() === "none" ? undefined : v);
  return {
    hostKeyAlgorithms: undefined, kexAlgorithms: undefined, ciphers: undefined, macs: undefined,
    pubkeyAcceptedAlgorithms: undefined, connectTimeout: undefined, serverAliveInterval: undefined,
    ...DEFAULTS,
    ...(raw as Partial<HostConfig>),
    host,
    hostname,
    port,
    user,
    identityFiles: (configured ? r.identityFiles : DEFAULT_IDENTITY_FILES).filter((f) => f.toLowerCase() !== "none").map(path),
    identityFilesConfigured: configured,
    identityAgent: raw.identityAgent === undefined ? undefined : path(raw.identityAgent as string),
    userKnownHostsFile: knownHosts[0]?.toLowerCase() === "none" ? [] : knownHosts.map(path),
    proxyJump: unlessNone(r.proxyJump),
    proxyCommand: unlessNone(r.proxyCommand),
    rekeyLimit: { bytes: r.rekey.bytes ?? 0, seconds: r.rekey.seconds ?? 0 },
  };
}

/** rec[key] for the record's own keys only (a keyword like "constructor" is not a key). */
function own<T>(rec: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(rec, key) ? rec[key] : undefined;
}

function fail(file: string, line: number, message: string): never {
  throw new SshError("CONFIG_ERROR", line > 0 ? `${file} line ${line}: ${message}` : `${file}: ${message}`);
}

/** misc.c argv_split: whitespace-separated, '…' and "…" quoting, \ escapes, # starts a comment. */
export function splitArgs(s: string): string[] | undefined {
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === " " || s[i] === "\t") continue;
    if (s[i] === "#") break;
    let arg = "";
    let quote = "";
    for (; i < s.length; i++) {
      const [c, next] = [s[i]!, s[i + 1]];
      if (c === "\\" && (next === "'" || next === '"' || next === "\\" || (!quote && next === " "))) arg += s[++i];
      else if (!quote && (c === " " || c === "\t")) break;
      else if (!quote && (c === '"' || c === "'")) quote = c;
      else if (quote && c === quote) quote = "";
      else arg += c;
    }
    if (quote) return undefined;
    out.push(arg);
  }
  return out;
}

/** match.c match_pattern: `*` any run, `?` any one character; O(n·m), never exponential. */
export function matchPattern(s: string, p: string): boolean {
  let [si, pi, star, mark] = [0, 0, -1, 0];
  while (si < s.length) {
    if (p[pi] === "*") [star, mark] = [pi++, si];
    else if (pi < p.length && (p[pi] === "?" || p[pi] === s[si])) [si, pi] = [si + 1, pi + 1];
    else if (star >= 0) [pi, si] = [star + 1, ++mark];
    else return false;
  }
  while (p[pi] === "*") pi++;
  return pi === p.length;
}

/** match.c match_pattern_list: 1 on a positive match, -1 when a !negated pattern matches, else 0. */
function matchList(s: string, list: string, lower: boolean): number {
  let positive = 0;
  for (const item of list.split(",")) {
    const negated = item.startsWith("!");
    const pattern = (negated ? item.slice(1) : item).slice(0, 1023);
    if (matchPattern(s, lower ? pattern.toLowerCase() : pattern)) {
      if (negated) return -1;
      positive = 1;
    }
  }
  return positive;
}

function expandHostname(hostname: string, host: string, bad: Bad): string {
  return expand(hostname, { h: host }, () => undefined, bad, true, false);
}

function expandTilde(path: string, home: string, bad: Bad): string {
  if (path === "~") return home;
  if (path.startsWith("~/")) return home.replace(/\/$/, "") + path.slice(1);
  if (path.startsWith("~")) bad(`~user paths are not supported: ${path}`);
  return path;
}

/** misc.c percent_dollar_expand: %x tokens (when `percent`) and ${ENV} (when `dollar`). */
function expand(s: string, tokens: Record<string, string>, env: Env, bad: Bad, percent: boolean, dollar = true): string {
  // One pass, as OpenSSH does: a token's value is never expanded again. `(?!)` never matches.
  const re = dollar ? /\$\{([^}]*)\}?|%(.?)/gs : /(?!)(x)|%(.?)/gs;
  return s.replace(re, (whole, name: string | undefined, key: string | undefined) => {
    if (name !== undefined) {
      if (!whole.endsWith("}") || !/^[A-Za-z_]\w*$/.test(name)) bad(`invalid environment expansion ${whole}`);
      return env(name) ?? bad(`environment variable \${${name}} is not set`);
    }
    if (!percent) return whole;
    if (key === "%") return "%";
    if (key === "") bad(`invalid format: trailing % in "${s}"`);
    return own(tokens, key!) ?? bad(`unknown token %${key} in "${s}"`);
  });
}

/** misc.c convtime: 90, 1h30m, 2d, …; undefined when malformed or above INT_MAX seconds. */
function parseTime(s: string): number | undefined {
  if (!/^(?:\+?\d+[smhdw])*(?:\+?\d+)?$/i.test(s) || s === "") return undefined;
  const unit: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0;
  for (const [, n, u] of s.matchAll(/\+?(\d+)([smhdw]?)/gi)) total += Number(n) * unit[u!.toLowerCase()]!;
  return total > 0x7fffffff ? undefined : total;
}

/** scan_scaled: 1G, 512M, 1.5K (binary multiples, optional B suffix); below 2^63 like ssh(1). */
function parseSize(s: string): number | undefined {
  const m = /^(\d+)(?:\.(\d*))?([bkmgtpe]?)$/i.exec(s);
  if (!m) return undefined;
  const scale = 1024 ** "bkmgtpe".indexOf(m[3]!.toLowerCase() || "b");
  const v = Number(m[1]) * scale + Math.floor(Number(`0.${m[2] || "0"}`) * scale);
  return v < 2 ** 63 ? v : undefined;
}
