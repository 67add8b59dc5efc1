/**
 * Where a command connects and how, with OpenSSH's habits: operands written `[user@]host:path`
 * (or `sftp://[user@]host[:port]/path`), `-p PORT`, `-i IDENTITY`, `-J JUMP`,
 * `-F CONFIG`, `-o Key=Value`, and ~/.ssh/config honoured by the library underneath. Command-line
 * values win over the config; as in ssh, the first value given for an option wins.
 *
 * Credentials: identity files (-i, IdentityFile, or the config's defaults), the password from
 * PURESFTP_PASSWORD, a key passphrase from PURESFTP_PASSPHRASE, and — only when stdin is a
 * terminal and BatchMode is off — prompts for a password, passphrase or keyboard-interactive
 * answers, never echoed.
 */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { connect } from "../connect.js";
import { AuthError, SshError } from "../errors.js";
import type { SftpClient } from "../sftp/client.js";
import { resolveAlgorithms, type AlgorithmOptions } from "../ssh/algorithms.js";
import type { Prompt } from "../ssh/auth/userauth.js";
import type { SshConnectOptions } from "../ssh/client.js";
import { parsePrivateKey } from "../ssh/keys/private-key.js";
import type { HostKeyOptions } from "../ssh/trust/host-key-policy.js";
import { parseCount, type Args, type OptionSpec } from "./args.js";
import { CliError, EXIT, UsageError } from "./errors.js";
import { canPrompt, readLine, type PromptIO } from "./prompt.js";

/** A path on a server. */
export interface RemotePath {
  user?: string;
  host: string;
  /** Only from an sftp:// URI; otherwise -p / -o Port / the config decide. */
  port?: number;
  /** As given: relative paths are relative to the login directory; "" means that directory. */
  path: string;
}

export type Operand = { kind: "local"; path: string } | { kind: "remote"; remote: RemotePath };

/** The connection options every command accepts. */
export const CONNECTION_OPTIONS: OptionSpec[] = [
  { name: "port", short: "p", value: true, valueName: "PORT", help: "server port, also -P (default: ssh_config Port, else 22)" },
  { name: "port", short: "P", value: true, valueName: "PORT" },
  { name: "identity", short: "i", value: true, valueName: "FILE", help: "private key file (repeatable)" },
  { name: "jump", short: "J", value: true, valueName: "JUMP", help: "jump host(s) [user@]host[:port],… (ProxyJump)" },
  { name: "config", short: "F", value: true, valueName: "FILE", help: "ssh_config file (default ~/.ssh/config; \"none\" for none)" },
  { name: "option", short: "o", value: true, valueName: "KEY=VALUE", help: "ssh option, see \"puresftp --help\"" },
];

/** The -o keys understood (lower-case), with what they do, for help texts. */
export const SSH_OPTIONS: Record<string, string> = {
  stricthostkeychecking: "StrictHostKeyChecking yes|ask (strict, default) | accept-new | no (= accept-new: changed keys are never trusted)",
  userknownhostsfile: "UserKnownHostsFile FILE",
  ciphers: "Ciphers LIST (\"+a,b\" appends, \"-a\" removes, \"^a\" puts first)",
  kexalgorithms: "KexAlgorithms LIST",
  macs: "MACs LIST",
  hostkeyalgorithms: "HostKeyAlgorithms LIST",
  port: "Port N",
  user: "User NAME",
  identityfile: "IdentityFile FILE (repeatable)",
  proxyjump: "ProxyJump [user@]host[:port],…",
  connecttimeout: "ConnectTimeout SECONDS",
  serveraliveinterval: "ServerAliveInterval SECONDS",
  batchmode: "BatchMode yes|no (yes: never prompt)",
};

const URI = /^sftp:\/\/(?:([^@/]*)@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?(\/.*)?$/i;

/**
 * Classifies an operand as scp does: `[user@]host:path` is remote when no "/" comes before the
 * first ":"; `[user@][v6addr]:path` for IPv6; `sftp://[user@]host[:port][/path]` (a path of
 * `/abs` is absolute, `/~/rel` relative to the login directory, as the sftp URI draft says).
 * Everything else — including paths starting with "/" or "./" — is local.
 */
export function parseOperand(arg: string): Operand {
  const uri = URI.exec(arg);
  if (uri) {
    const [, user, hostRaw, port, path] = uri;
    const host = hostRaw!.startsWith("[") ? hostRaw!.slice(1, -1) : hostRaw!;
    const remote: RemotePath = { host: checkHost(host, arg), path: uriPath(path ?? "") };
    if (user) remote.user = decodeURIComponent(user.split(";")[0]!);
    if (port) remote.port = parseCount(port, "the port", undefined, { min: 1, max: 65535 });
    return { kind: "remote", remote };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) throw new UsageError(`unsupported URI ${JSON.stringify(arg)}: only sftp:// URIs are understood`);
  let rest = arg;
  let user: string | undefined;
  const at = bracketAwareAt(arg);
  if (at >= 0) {
    user = arg.slice(0, at);
    rest = arg.slice(at + 1);
  }
  let host: string;
  let path: string;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0 || rest[close + 1] !== ":") return { kind: "local", path: arg };
    host = rest.slice(1, close);
    path = rest.slice(close + 2);
  } else {
    const colon = rest.indexOf(":");
    const slash = rest.indexOf("/");
    if (colon <= 0 || (slash >= 0 && slash < colon)) return { kind: "local", path: arg };
    host = rest.slice(0, colon);
    path = rest.slice(colon + 1);
  }
  if (user !== undefined && user === "") throw new UsageError(`empty user name in ${JSON.stringify(arg)}`);
  const remote: RemotePath = { host: checkHost(host, arg), path };
  if (user !== undefined) remote.user = user;
  return { kind: "remote", remote };
}

/** The "@" separating the user, when it comes before the host part's ":" (and outside brackets). */
function bracketAwareAt(arg: string): number {
  const colon = arg.startsWith("[") ? -1 : arg.indexOf(":");
  const slash = arg.indexOf("/");
  const at = arg.lastIndexOf("@", colon < 0 ? undefined : colon);
  if (at < 0 || (slash >= 0 && slash < at)) return -1;
  if (colon < 0 && !arg.slice(at + 1).startsWith("[")) return -1;
  return at;
}

function uriPath(path: string): string {
  if (path === "" || path === "/") return "";
  if (path === "/~" || path === "/~/") return "";
  if (path.startsWith("/~/")) return decodeURIComponent(path.slice(3));
  return decodeURIComponent(path);
}

function checkHost(host: string, arg: string): string {
  if (host === "" || host.startsWith("-") || /[\s\0/]/.test(host)) throw new UsageError(`bad host name in ${JSON.stringify(arg)}`);
  return host;
}

/** `user@host:path` back as text, for messages. */
export function formatRemote(r: RemotePath): string {
  const host = r.host.includes(":") ? `[${r.host}]` : r.host;
  return `${r.user ? `${r.user}@` : ""}${host}${r.port ? `#${r.port}` : ""}:${r.path}`;
}

/** True when two remote paths are on the same server account. */
export function sameServer(a: RemotePath, b: RemotePath): boolean {
  return a.host === b.host && a.user === b.user && a.port === b.port;
}

/** Splits `-o Key=Value` (also `Key Value`, `Key = Value`); the key is lower-cased. */
export function parseSshOption(text: string): [key: string, value: string] {
  const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*?)\s*$/.exec(text);
  if (!m || m[2] === "") throw new UsageError(`bad -o option ${JSON.stringify(text)}: write -o Key=Value`);
  return [m[1]!.toLowerCase(), m[2]!];
}

function yesNo(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === "yes" || v === "true") return true;
  if (v === "no" || v === "false") return false;
  throw new UsageError(`-o ${key} must be yes or no, got ${JSON.stringify(value)}`);
}

function strictness(value: string): NonNullable<HostKeyOptions["policy"]> {
  switch (value.toLowerCase()) {
    case "yes":
    case "ask":
    case "true":
      return "strict";
    case "accept-new":
    // ssh's "no" would also trust a changed key; this library never does, so it means accept-new.
    case "no":
    case "off":
    case "false":
      return "accept-new";
    default:
      throw new UsageError(`-o StrictHostKeyChecking must be yes, ask, accept-new or no, got ${JSON.stringify(value)}`);
  }
}

const ALGORITHM_KEYS: Record<string, keyof AlgorithmOptions> = {
  ciphers: "cipher",
  kexalgorithms: "kex",
  macs: "mac",
  hostkeyalgorithms: "serverHostKey",
};

/** How to connect, from the command line alone (the host comes from the operands). */
export interface ConnectionSettings {
  port?: number;
  user?: string;
  identityFiles: string[];
  jumpHosts?: string;
  /** -F: a path, or false for "none"; undefined = the library default (~/.ssh/config). */
  sshConfig?: string | false;
  hostKeys: HostKeyOptions;
  algorithms: AlgorithmOptions;
  readyTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  /** BatchMode=yes: never prompt. */
  batchMode: boolean;
}

const expandTilde = (p: string) => (p === "~" ? homedir() : p.startsWith("~/") ? homedir() + p.slice(1) : p);

/** Maps -p, -l, -i, -J, -F and -o onto settings; throws UsageError for bad values. Pure. */
export function connectionSettings(args: Args, command?: string): ConnectionSettings {
  const s: ConnectionSettings = { identityFiles: [], hostKeys: {}, algorithms: {}, batchMode: false };
  const port = args.value("port");
  if (port !== undefined) s.port = parseCount(port, "the port (-p)", command, { min: 1, max: 65535 });
  s.identityFiles.push(...args.all("identity").map(expandTilde));
  const jump = args.value("jump");
  if (jump !== undefined) s.jumpHosts = jump;
  const config = args.value("config");
  if (config !== undefined) s.sshConfig = config.toLowerCase() === "none" ? false : expandTilde(config);

  const seen = new Set<string>();
  for (const text of args.all("option")) {
    const [key, value] = parseSshOption(text);
    if (!(key in SSH_OPTIONS)) {
      throw new UsageError(`unsupported -o option ${JSON.stringify(text.split(/[=\s]/)[0])}; supported: ${Object.values(SSH_OPTIONS).map((d) => d.split(" ")[0]).join(", ")}`, command);
    }
    if (key === "identityfile") {
      s.identityFiles.push(expandTilde(value));
      continue;
    }
    if (seen.has(key)) continue; // ssh: the first value obtained wins
    seen.add(key);
    switch (key) {
      case "stricthostkeychecking":
        s.hostKeys.policy = strictness(value);
        break;
      case "userknownhostsfile": {
        const first = value.split(/\s+/)[0]!;
        s.hostKeys.knownHostsFile = first.toLowerCase() === "none" ? "/dev/null" : expandTilde(first);
        break;
      }
      case "port":
        s.port ??= parseCount(value, "-o Port", command, { min: 1, max: 65535 });
        break;
      case "user":
        s.user ??= value;
        break;
      case "proxyjump":
        s.jumpHosts ??= value.toLowerCase() === "none" ? undefined : value;
        break;
      case "connecttimeout":
        s.readyTimeoutMs = parseCount(value, "-o ConnectTimeout", command, { min: 1 }) * 1000;
        break;
      case "serveraliveinterval":
        s.keepaliveIntervalMs = parseCount(value, "-o ServerAliveInterval", command) * 1000;
        break;
      case "batchmode":
        s.batchMode = yesNo("BatchMode", value);
        break;
      default: {
        const which = ALGORITHM_KEYS[key]!;
        try {
          resolveAlgorithms({ [which]: value });
        } catch (e) {
          throw new UsageError(`-o ${text}: ${(e as Error).message}`, command);
        }
        s.algorithms[which] = value;
      }
    }
  }
  return s;
}

/** The library's connect options for `remote` (identities and secrets are added by openSftp). Pure. */
export function connectOptionsFor(remote: RemotePath, s: ConnectionSettings): SshConnectOptions {
  const o: SshConnectOptions = { host: remote.host };
  const port = remote.port ?? s.port;
  if (port !== undefined) o.port = port;
  const user = remote.user ?? s.user;
  if (user !== undefined) o.username = user;
  if (s.jumpHosts !== undefined) o.jumpHosts = s.jumpHosts;
  if (s.sshConfig !== undefined) o.sshConfig = s.sshConfig;
  if (Object.keys(s.hostKeys).length > 0) o.hostKeys = { ...s.hostKeys };
  if (Object.keys(s.algorithms).length > 0) o.algorithms = { ...s.algorithms };
  if (s.readyTimeoutMs !== undefined) o.readyTimeoutMs = s.readyTimeoutMs;
  if (s.keepaliveIntervalMs !== undefined) o.keepaliveIntervalMs = s.keepaliveIntervalMs;
  return o;
}

/** What openSftp needs from the process: environment, terminal, and where to talk. */
export interface SessionIO {
  env: Record<string, string | undefined>;
  prompt: PromptIO;
  /** Banners and notices. */
  notice: (text: string) => void;
}

/** Reads the -i files; asks for (or takes from PURESFTP_PASSPHRASE) a passphrase when one is encrypted. */
async function loadIdentities(s: ConnectionSettings, io: SessionIO, interactive: boolean): Promise<{ keys: string[]; passphrase?: string }> {
  const keys: string[] = [];
  let passphrase = io.env.PURESFTP_PASSPHRASE;
  for (const file of s.identityFiles) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(`identity file ${file}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`);
    }
    for (let attempt = 1; ; attempt++) {
      try {
        parsePrivateKey(text, passphrase);
        break;
      } catch (e) {
        const code = e instanceof SshError ? e.code : "";
        if (code !== "PASSPHRASE_REQUIRED" && code !== "BAD_PASSPHRASE") {
          throw new CliError("BAD_KEY", `identity file ${file}: ${(e as Error).message}`, EXIT.USAGE, { cause: e });
        }
        if (!interactive || attempt > 3) {
          throw new CliError(code, `identity file ${file} is encrypted: ${code === "BAD_PASSPHRASE" ? "wrong passphrase" : "set PURESFTP_PASSPHRASE or run in a terminal to be asked"}`, EXIT.AUTH, { cause: e });
        }
        passphrase = await readLine(`Enter passphrase for key '${file}': `, {}, io.prompt);
      }
    }
    keys.push(text);
  }
  return passphrase === undefined ? { keys } : { keys, passphrase };
}

/**
 * ssh-agent, as ssh uses it by default: the library asks the agent itself when an ssh_config
 * file is in effect (honouring IdentitiesOnly there); without one, $SSH_AUTH_SOCK is passed
 * explicitly — only when it names a live socket, so a stale variable does not break a login.
 */
export function agentSocket(s: ConnectionSettings, env: Record<string, string | undefined>): string | undefined {
  const sock = env.SSH_AUTH_SOCK;
  if (!sock) return undefined;
  const config = s.sshConfig === false ? undefined : s.sshConfig ?? expandTilde("~/.ssh/config");
  if (config !== undefined && existsSync(config)) return undefined;
  try {
    return statSync(sock).isSocket() ? sock : undefined;
  } catch {
    return undefined;
  }
}

/** Answers keyboard-interactive prompts at the terminal; a lone password prompt takes the known password. */
function keyboardInteractive(io: SessionIO, state: { password?: string; prompted: boolean }) {
  return async (prompts: Prompt[], info: { name: string; instructions: string }): Promise<string[]> => {
    if (prompts.length === 1 && !prompts[0]!.echo && /password/i.test(prompts[0]!.prompt) && state.password !== undefined) {
      const p = state.password;
      state.password = undefined; // offer it once; a second round asks the person
      return [p];
    }
    if (prompts.length === 0) return [];
    state.prompted = true;
    if (info.name) io.notice(`${info.name}\n`);
    if (info.instructions) io.notice(`${info.instructions}\n`);
    const answers: string[] = [];
    for (const p of prompts) answers.push(await readLine(p.prompt, { echo: p.echo }, io.prompt));
    return answers;
  };
}

/**
 * Connects and starts SFTP. Password from PURESFTP_PASSWORD; on a terminal (and without
 * BatchMode) a failed login asks for the password, up to three tries, as ssh does. Without a
 * terminal, a failed login is exit 5 with advice.
 */
export async function openSftp(remote: RemotePath, s: ConnectionSettings, io: SessionIO): Promise<SftpClient> {
  const interactive = !s.batchMode && canPrompt(io.prompt);
  const base = connectOptionsFor(remote, s);
  const ids = await loadIdentities(s, io, interactive);
  if (ids.keys.length > 0) base.privateKey = ids.keys;
  if (ids.passphrase !== undefined) base.passphrase = ids.passphrase;
  base.onBanner = (text) => io.notice(text.endsWith("\n") ? text : `${text}\n`);
  const agent = agentSocket(s, io.env);
  if (agent !== undefined) base.agent = agent;

  let password = io.env.PURESFTP_PASSWORD;
  const user = remote.user ?? s.user;
  const who = `${user !== undefined ? `${user}@` : ""}${remote.host}`;
  let asked = 0;
  for (;;) {
    const state: { password?: string; prompted: boolean } = { prompted: false };
    if (password !== undefined) state.password = password;
    const options: SshConnectOptions = { ...base };
    if (password !== undefined) options.password = password;
    if (interactive) options.keyboardInteractive = keyboardInteractive(io, state);
    try {
      return await connect(options);
    } catch (e) {
      if (state.prompted) asked++;
      if (!(e instanceof AuthError) || e.code !== "AUTH_FAILED" || !interactive || asked >= 3) throw e;
      const canPassword = e.methodsAllowed.includes("password");
      if (!canPassword && !state.prompted) throw e;
      if (password !== undefined || state.prompted) io.notice("Permission denied, please try again.\n");
      if (canPassword) {
        password = await readLine(`${who}'s password: `, {}, io.prompt);
        asked++;
      }
    }
  }
}
