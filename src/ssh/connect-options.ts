/**
 * What a connection will actually use: the caller's options, completed from ~/.ssh/config the
 * way ssh(1) does (explicit options win, then the config, then defaults), plus the identities to
 * offer in OpenSSH's order: agent keys, explicit keys, identity files.
 */
import { SshError } from "../errors.js";
import { env, expandHome, localUsername, readTextFile } from "../platform/local.js";
import type { AlgorithmOptions } from "./algorithms.js";
import { agentKeys, agentSocketPath } from "./auth/agent.js";
import { resolveHostConfig, type HostConfig } from "./config/ssh-config.js";
import { parsePrivateKey, type PrivateKey } from "./keys/private-key.js";
import type { SshConnectOptions } from "./client.js";
import type { HostKeyOptions } from "./trust/host-key-policy.js";

export interface ResolvedConnectOptions {
  host: string;
  port: number;
  username: string;
  hostKeys: HostKeyOptions;
  algorithms: AlgorithmOptions;
  readyTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  keys: PrivateKey[];
  /** `[user@]host[:port]` hops from the caller or ProxyJump, first hop first. */
  jumpHosts: string[];
  /** The resolved config, when one was read. */
  config: HostConfig | undefined;
}

/** Reads ~/.ssh/config (or the given path) for a TCP host; undefined when not wanted or missing. */
async function loadConfig(options: SshConnectOptions): Promise<HostConfig | undefined> {
  const want = options.sshConfig ?? options.stream === undefined;
  if (want === false) return undefined;
  const path = want === true ? "~/.ssh/config" : want;
  const text = await readTextFile(path);
  if (text === undefined) {
    if (want !== true) throw new SshError("CONFIG_ERROR", `ssh config file ${path} does not exist`);
    return undefined;
  }
  return resolveHostConfig(text, options.host, { user: options.username, port: options.port, fileName: path });
}

/** Where a connection goes after ssh_config's HostName and Port (for forwarding to a hop). */
export async function resolveAddress(options: SshConnectOptions): Promise<{ host: string; port: number }> {
  const cfg = await loadConfig(options);
  return { host: cfg?.hostname ?? options.host, port: options.port ?? cfg?.port ?? 22 };
}

export async function resolveConnectOptions(options: SshConnectOptions): Promise<ResolvedConnectOptions> {
  const cfg = await loadConfig(options);
  const hostKeys: HostKeyOptions = { ...options.hostKeys };
  if (cfg) {
    hostKeys.knownHostsFile ??= cfg.userKnownHostsFile[0];
    // StrictHostKeyChecking=no would trust changed keys; this library never does, so it means
    // accept-new here. "ask" cannot prompt, so it is strict.
    hostKeys.policy ??= cfg.strictHostKeyChecking === "yes" || cfg.strictHostKeyChecking === "ask" ? "strict" : "accept-new";
  }
  const algorithms: AlgorithmOptions = {
    kex: options.algorithms?.kex ?? cfg?.kexAlgorithms,
    serverHostKey: options.algorithms?.serverHostKey ?? cfg?.hostKeyAlgorithms,
    cipher: options.algorithms?.cipher ?? cfg?.ciphers,
    mac: options.algorithms?.mac ?? cfg?.macs,
  };
  return {
    host: cfg?.hostname ?? options.host,
    port: options.port ?? cfg?.port ?? 22,
    username: options.username ?? cfg?.user ?? localUsername(),
    hostKeys,
    algorithms,
    readyTimeoutMs: options.readyTimeoutMs ?? (cfg?.connectTimeout ? cfg.connectTimeout * 1000 : 20_000),
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? (cfg?.serverAliveInterval ?? 0) * 1000,
    keepaliveCountMax: cfg?.serverAliveCountMax ?? 3,
    keys: await collectKeys(options, cfg),
    jumpHosts: (options.jumpHosts ?? cfg?.proxyJump ?? "").split(",").map((h) => h.trim()).filter(Boolean),
    config: cfg,
  };
}

/**
 * Identities in ssh(1)'s order. The agent is asked when the caller says so, or when the config
 * is in effect and an agent is reachable (as ssh does), unless IdentitiesOnly. Identity files
 * from the config (or the default ~/.ssh/id_* list) are used when the caller gave no key; files
 * that are missing, encrypted without a matching passphrase, or unreadable are skipped, as ssh
 * skips them without a terminal to prompt on.
 */
async function collectKeys(options: SshConnectOptions, cfg: HostConfig | undefined): Promise<PrivateKey[]> {
  const keys: PrivateKey[] = [];
  const explicitAgent = options.agent;
  const configAgent = cfg && !cfg.identitiesOnly && cfg.pubkeyAuthentication ? agentSocketPath(cfg.identityAgent, env) : undefined;
  if (explicitAgent) keys.push(...(await agentKeys(explicitAgent === true ? true : expandHome(explicitAgent))));
  else if (configAgent) keys.push(...(await agentKeys(configAgent).catch(() => [])));

  const given = options.privateKey === undefined ? [] : Array.isArray(options.privateKey) ? options.privateKey : [options.privateKey];
  for (const k of given) keys.push(parsePrivateKey(k, options.passphrase));

  if (given.length === 0 && cfg?.pubkeyAuthentication) {
    for (const file of cfg.identityFiles) {
      const text = await readTextFile(file).catch(() => undefined);
      if (text === undefined) continue;
      try {
        keys.push(parsePrivateKey(text, options.passphrase));
      } catch {
        // Encrypted with another passphrase, or not a key we can read: ssh would prompt or warn.
      }
    }
  }
  // The same key from the agent and a file is offered once.
  const seen = new Set<string>();
  return keys.filter((k) => !seen.has(k.publicKey.fingerprint) && !!seen.add(k.publicKey.fingerprint));
}
