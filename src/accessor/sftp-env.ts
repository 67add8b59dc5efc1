/**
 * SFTPAccessor options from environment variables: the five the Python package read, plus key,
 * agent and host-key pinning. Host keys stay strict unless the environment pins a fingerprint
 * or asks for "accept-new"; accepting any key cannot be configured from the environment.
 *
 * | variable                                   | meaning                                            |
 * |--------------------------------------------|----------------------------------------------------|
 * | FTRACK_SFTP_ACCESSOR_HOSTNAME              | server host name (required)                        |
 * | FTRACK_SFTP_ACCESSOR_PORT                  | port, default 22                                   |
 * | FTRACK_SFTP_ACCESSOR_USERNAME              | login, default the local user name                 |
 * | FTRACK_SFTP_ACCESSOR_PASSWORD              | password                                           |
 * | FTRACK_SFTP_ACCESSOR_FOLDER                | root folder of the location (relative = from home) |
 * | FTRACK_SFTP_ACCESSOR_PRIVATE_KEY           | private key text, or the path of a key file        |
 * | FTRACK_SFTP_ACCESSOR_PASSPHRASE            | passphrase of an encrypted private key             |
 * | FTRACK_SFTP_ACCESSOR_AGENT                 | "1" = use $SSH_AUTH_SOCK, or an agent socket path  |
 * | FTRACK_SFTP_ACCESSOR_KNOWN_HOSTS           | known_hosts file (default ~/.ssh/known_hosts)      |
 * | FTRACK_SFTP_ACCESSOR_HOST_KEY_FINGERPRINT  | pinned "SHA256:…" fingerprints, comma separated    |
 * | FTRACK_SFTP_ACCESSOR_HOST_KEY_POLICY       | "strict" (default) or "accept-new"                 |
 */
import { readTextFileSync } from "../platform/local.js";
import type { HostKeyOptions } from "../ssh/trust/host-key-policy.js";
import { AccessorError } from "./accessor.js";
import type { SFTPAccessorOptions } from "./sftp-accessor.js";

export const ENV_PREFIX = "FTRACK_SFTP_ACCESSOR_";

export type Env = Record<string, string | undefined>;

function configError(message: string): AccessorError {
  return new AccessorError("ACCESSOR_CONFIGURATION", message, { operation: "fromEnv" });
}

/** True when the value is key material rather than a path. */
export function looksLikeKeyText(value: string): boolean {
  return /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(value) || value.startsWith("PuTTY-User-Key-File-");
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const port = Number(value.trim());
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw configError(`${ENV_PREFIX}PORT must be a port number (1-65535), got ${JSON.stringify(value)}`);
  }
  return port;
}

function parseAgent(value: string | undefined): boolean | string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (v === "" || /^(0|false|no|off)$/i.test(v)) return undefined;
  return v;
}

function parseHostKeys(env: Env): HostKeyOptions | undefined {
  const hostKeys: HostKeyOptions = { policy: "strict" };
  const knownHosts = env[`${ENV_PREFIX}KNOWN_HOSTS`]?.trim();
  if (knownHosts) hostKeys.knownHostsFile = knownHosts;
  const pins = (env[`${ENV_PREFIX}HOST_KEY_FINGERPRINT`] ?? "").split(/[\s,]+/).filter(Boolean);
  for (const pin of pins) {
    if (!/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(pin)) {
      throw configError(`${ENV_PREFIX}HOST_KEY_FINGERPRINT must list "SHA256:…" fingerprints as ssh-keygen -lf prints them, got ${JSON.stringify(pin)}`);
    }
  }
  if (pins.length) hostKeys.fingerprints = pins.map((p) => p.replace(/=$/, ""));
  const policy = env[`${ENV_PREFIX}HOST_KEY_POLICY`]?.trim();
  if (policy) {
    if (policy !== "strict" && policy !== "accept-new") {
      throw configError(`${ENV_PREFIX}HOST_KEY_POLICY must be "strict" or "accept-new", got ${JSON.stringify(policy)}`);
    }
    hostKeys.policy = policy;
  }
  return hostKeys;
}

/**
 * True when a PRIVATE_KEY value is plainly a path (absolute, ~/, ./ or ../, or a Windows drive),
 * so messages may show it. Anything else may be key material that looksLikeKeyText() did not
 * recognise (a bare base64 body, escaped newlines, …) and is never echoed.
 */
function plainlyAPath(value: string): boolean {
  return value.length <= 4096 && !/[\r\n]/.test(value) && /^(?:~|\.{1,2})?\/|^[A-Za-z]:[\\/]/.test(value);
}

function loadPrivateKey(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  if (looksLikeKeyText(value)) return value;
  const path = value.trim();
  const shown = plainlyAPath(path) ? `file ${JSON.stringify(path)}` : `value (${path.length} characters, not shown: it may be key material)`;
  let text: string | undefined;
  try {
    text = readTextFileSync(path);
  } catch (e) {
    // The platform's message and the error itself name the path: keep them only for a real path.
    const code = (e as { code?: unknown }).code;
    const detail = plainlyAPath(path) ? (e as Error).message : typeof code === "string" ? code : "unreadable";
    throw new AccessorError("ACCESSOR_CONFIGURATION", `cannot read the ${ENV_PREFIX}PRIVATE_KEY ${shown}: ${detail}`, {
      operation: "fromEnv",
      ...(plainlyAPath(path) ? { cause: e } : {}),
    });
  }
  if (text === undefined) {
    throw configError(`${ENV_PREFIX}PRIVATE_KEY is neither private key text (-----BEGIN … PRIVATE KEY----- or PuTTY-User-Key-File-) nor an existing file: ${shown}`);
  }
  return text;
}

/** Reads SFTPAccessor options from `env`; throws ACCESSOR_CONFIGURATION naming the bad variable. */
export function sftpOptionsFromEnv(env: Env): SFTPAccessorOptions {
  const host = env[`${ENV_PREFIX}HOSTNAME`]?.trim();
  if (!host) throw configError(`${ENV_PREFIX}HOSTNAME is not set: it names the SFTP server`);
  const options: SFTPAccessorOptions = { host, hostKeys: parseHostKeys(env) };
  const port = parsePort(env[`${ENV_PREFIX}PORT`]);
  if (port !== undefined) options.port = port;
  const username = env[`${ENV_PREFIX}USERNAME`];
  if (username) options.username = username;
  const password = env[`${ENV_PREFIX}PASSWORD`];
  if (password) options.password = password;
  const folder = env[`${ENV_PREFIX}FOLDER`];
  if (folder && folder.trim()) options.folder = folder.trim();
  const privateKey = loadPrivateKey(env[`${ENV_PREFIX}PRIVATE_KEY`]);
  if (privateKey !== undefined) options.privateKey = privateKey;
  const passphrase = env[`${ENV_PREFIX}PASSPHRASE`];
  if (passphrase) options.passphrase = passphrase;
  const agent = parseAgent(env[`${ENV_PREFIX}AGENT`]);
  if (agent !== undefined) options.agent = agent;
  return options;
}
