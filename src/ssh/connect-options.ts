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
import { certifyPrivateKey, parseCertificateFile } from "./keys/certificate.js";
import { parsePrivateKey, type PrivateKey } from "./keys/private-key.js";
import type { PublicKey } from "./keys/public-key.js";
import { encodeBase64 } from "./wire/base64.js";
import { bytesEqual } from "../util/bytes.js";
import type { SshConnectOptions } from "./client.js";
import type { HostKeyOptions } from "./trust/host-key-policy.js";

/**
 * Keepalive checks when neither the caller nor ssh_config sets an interval: with the default
 * count of 3, a server that goes silent (a cut nobody reset, a stalled proxy, a dead NAT entry)
 * fails the connection with KEEPALIVE_TIMEOUT within 25 s instead of hanging forever. An idle
 * connection sends one keepalive per interval; a busy one none (see startKeepalive).
 */
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 5_000;

/**
 * ssh_config's ServerAliveInterval when it sets one (an explicit 0 means off, as in ssh_config(5)),
 * else our default: the config's silence is not a request for no keepalives.
 */
function keepaliveFromConfig(cfg: HostConfig | undefined): number {
  const seconds = cfg?.serverAliveInterval;
  return seconds === undefined ? DEFAULT_KEEPALIVE_INTERVAL_MS : seconds * 1000;
}

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
  // A preset (algorithms: "hardened") is resolved by connectSsh and overrides the config.
  const given = typeof options.algorithms === "object" ? options.algorithms : undefined;
  const algorithms: AlgorithmOptions = {
    kex: given?.kex ?? cfg?.kexAlgorithms,
    serverHostKey: given?.serverHostKey ?? cfg?.hostKeyAlgorithms,
    cipher: given?.cipher ?? cfg?.ciphers,
    mac: given?.mac ?? cfg?.macs,
  };
  return {
    host: cfg?.hostname ?? options.host,
    port: options.port ?? cfg?.port ?? 22,
    username: options.username ?? cfg?.user ?? localUsername(),
    hostKeys,
    algorithms,
    readyTimeoutMs: options.readyTimeoutMs ?? (cfg?.connectTimeout ? cfg.connectTimeout * 1000 : 20_000),
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? keepaliveFromConfig(cfg),
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
 *
 * Certificates: each `certificate` option is paired with the key it certifies (SshError
 * CERT_MISMATCH when none); without that option an identity file's `<file>-cert.pub` is
 * picked up when it certifies that file's key (ssh does the same; a mismatched or unreadable
 * one is skipped). A certificate is offered just before its plain key.
 */
async function collectKeys(options: SshConnectOptions, cfg: HostConfig | undefined): Promise<PrivateKey[]> {
  const keys: PrivateKey[] = [];
  const explicitAgent = options.agent;
  const configAgent = cfg && !cfg.identitiesOnly && cfg.pubkeyAuthentication ? agentSocketPath(cfg.identityAgent, env) : undefined;
  if (explicitAgent) keys.push(...(await agentKeys(explicitAgent === true ? true : expandHome(explicitAgent))));
  else if (configAgent) keys.push(...(await agentKeys(configAgent).catch(() => [])));

  const given = options.privateKey === undefined ? [] : Array.isArray(options.privateKey) ? options.privateKey : [options.privateKey];
  for (const k of given) keys.push(parsePrivateKey(k, options.passphrase));

  const certInputs = options.certificate === undefined ? [] : Array.isArray(options.certificate) ? options.certificate : [options.certificate];
  const certs: PublicKey[] = certInputs.map((c) => parseCertificateFile(c));

  if (given.length === 0 && cfg?.pubkeyAuthentication) {
    for (const file of cfg.identityFiles) {
      const text = await readTextFile(file).catch(() => undefined);
      if (text === undefined) continue;
      let key: PrivateKey;
      try {
        key = parsePrivateKey(text, options.passphrase);
      } catch {
        // Encrypted with another passphrase, or not a key we can read: ssh would prompt or warn.
        continue;
      }
      keys.push(key);
      if (certInputs.length > 0) continue;
      const certText = await readTextFile(`${file}-cert.pub`).catch(() => undefined);
      if (certText === undefined) continue;
      try {
        const cert = parseCertificateFile(certText);
        if (bytesEqual(cert.certificate.key.blob, key.publicKey.blob)) certs.push(cert);
      } catch {
        // Not a certificate we can read: ssh warns and carries on with the plain key.
      }
    }
  }
  // The same key from the agent and a file is offered once.
  const seen = new Set<string>();
  const unique = keys.filter((k) => {
    const id = encodeBase64(k.publicKey.blob);
    return !seen.has(id) && !!seen.add(id);
  });
  const certified = new Map<PrivateKey, PrivateKey[]>();
  for (const cert of certs) {
    const base = unique.find((k) => bytesEqual(k.publicKey.blob, cert.certificate!.key.blob));
    if (!base) {
      const c = cert.certificate!;
      throw new SshError("CERT_MISMATCH", `certificate "${c.keyId}" (${cert.type}) certifies key ${c.key.fingerprint}, ` +
        `which is not among the private keys given (${unique.map((k) => k.publicKey.fingerprint).join(", ") || "none"})`);
    }
    const id = encodeBase64(cert.blob);
    if (seen.has(id)) continue;
    seen.add(id);
    certified.set(base, [...(certified.get(base) ?? []), certifyPrivateKey(base, cert)]);
  }
  return unique.flatMap((k) => [...(certified.get(k) ?? []), k]);
}
