/**
 * Client side of the ssh-agent protocol (draft-miller-ssh-agent, now RFC 9987; OpenSSH
 * PROTOCOL.agent): list the agent's keys and have it sign with them, so private keys never enter
 * this process. Messages are `uint32 length, byte type, contents`; replies are bounded.
 *
 * Errors: SshError AGENT_UNAVAILABLE (no socket configured, or cannot connect), AGENT_REFUSED
 * (the agent answered SSH_AGENT_FAILURE), UNSUPPORTED_ALGORITHM (sign() with an algorithm the key
 * cannot use); ConnectionError AGENT_CLOSED (the agent hung up before replying) or
 * CONNECTION_LOST; ProtocolError for malformed, oversized or unexpected replies, with code
 * AGENT_WRONG_ALGORITHM when a signature names another algorithm than the one asked for.
 */
import { ConnectionError, ProtocolError, SshError } from "../../errors.js";
import { env as platformEnv } from "../../platform/local.js";
import { fingerprintSha256 } from "../keys/fingerprint.js";
import type { PrivateKey } from "../keys/private-key.js";
import { isCertificateBlob } from "../keys/certificate.js";
import { parsePublicKey, type PublicKey } from "../keys/public-key.js";
import type { ByteChannel } from "../socket/byte-channel.js";
import { connectUnix } from "../socket/unix.js";
import { SshReader } from "../wire/reader.js";
import { SshWriter, concat } from "../wire/writer.js";

/** Message numbers (draft-miller-ssh-agent §5.1). */
export const AGENT_MSG = {
  FAILURE: 5,
  REQUEST_IDENTITIES: 11,
  IDENTITIES_ANSWER: 12,
  SIGN_REQUEST: 13,
  SIGN_RESPONSE: 14,
} as const;

/** SSH_AGENTC_SIGN_REQUEST flags (draft-miller-ssh-agent §5.3): RSA signature hash selection. */
export const SSH_AGENT_RSA_SHA2_256 = 2;
export const SSH_AGENT_RSA_SHA2_512 = 4;

/** Largest reply accepted; OpenSSH's own client limit (AGENT_MAX_LEN) is the same 256 KiB. */
export const AGENT_MAX_REPLY = 256 * 1024;

export interface AgentIdentity {
  publicKey: PublicKey;
  comment: string;
}

const lenientUtf8 = new TextDecoder("utf-8");

/**
 * One connection to an agent. Requests are sent one at a time (the protocol has no request ids);
 * concurrent calls queue. After any transport or protocol error the client is unusable.
 */
export class AgentClient {
  private leftover: Uint8Array | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private broken: Error | undefined;

  constructor(private readonly channel: ByteChannel) {}

  /** Connects to the agent listening on the Unix-domain socket `path`. */
  static async connect(path: string, signal?: AbortSignal): Promise<AgentClient> {
    try {
      return new AgentClient(await connectUnix(path, signal));
    } catch (e) {
      throw new SshError("AGENT_UNAVAILABLE", `cannot connect to ssh-agent at ${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * SSH_AGENTC_REQUEST_IDENTITIES. Keys of types this library does not handle (certificates,
   * security keys, DSA) are left out of the result.
   */
  async listIdentities(): Promise<AgentIdentity[]> {
    const reply = await this.request(new Uint8Array([AGENT_MSG.REQUEST_IDENTITIES]));
    if (reply[0] === AGENT_MSG.FAILURE) throw new SshError("AGENT_REFUSED", "ssh-agent refused to list its keys");
    if (reply[0] !== AGENT_MSG.IDENTITIES_ANSWER) throw unexpected(reply[0], "IDENTITIES_ANSWER");
    const r = new SshReader(reply, "ssh-agent IDENTITIES_ANSWER");
    r.byte();
    const count = r.uint32();
    // Each identity is at least two empty strings: 8 bytes. A larger count is a lie.
    if (count > r.remaining / 8) throw new ProtocolError(`ssh-agent claims ${count} keys in a ${reply.length}-byte reply`);
    const identities: AgentIdentity[] = [];
    for (let i = 0; i < count; i++) {
      const blob = r.string();
      const comment = lenientUtf8.decode(r.string());
      // Certificates are left out (see above): signing through the agent takes the plain key.
      if (isCertificateBlob(blob)) continue;
      try {
        identities.push({ publicKey: parsePublicKey(blob), comment });
      } catch (e) {
        if (!(e instanceof ProtocolError && e.code === "UNSUPPORTED_KEY_TYPE")) throw e;
      }
    }
    r.end();
    return identities;
  }

  /**
   * SSH_AGENTC_SIGN_REQUEST: the agent signs `data` with the key whose public blob is
   * `publicKeyBlob`. Returns the RFC 4253 §6.6 signature blob (string algorithm, string signature).
   * `flags`: SSH_AGENT_RSA_SHA2_256 or SSH_AGENT_RSA_SHA2_512 for RSA keys, else 0.
   */
  async sign(publicKeyBlob: Uint8Array, data: Uint8Array, flags = 0): Promise<Uint8Array> {
    const req = new SshWriter(data.length + publicKeyBlob.length + 16)
      .byte(AGENT_MSG.SIGN_REQUEST)
      .string(publicKeyBlob)
      .string(data)
      .uint32(flags)
      .finish();
    const reply = await this.request(req);
    if (reply[0] === AGENT_MSG.FAILURE) {
      throw new SshError("AGENT_REFUSED", `ssh-agent refused to sign with key ${fingerprintSha256(publicKeyBlob)} (flags ${flags})`);
    }
    if (reply[0] !== AGENT_MSG.SIGN_RESPONSE) throw unexpected(reply[0], "SIGN_RESPONSE");
    const r = new SshReader(reply, "ssh-agent SIGN_RESPONSE");
    r.byte();
    const signature = r.string().slice();
    r.end();
    return signature;
  }

  /** Closes the connection; pending and later requests fail. Idempotent. */
  close(): void {
    this.broken ??= new ConnectionError("AGENT_CLOSED", "the ssh-agent connection is closed");
    this.channel.close();
  }

  /** Sends one request and returns the reply message (type byte first), one at a time. */
  private request(payload: Uint8Array): Promise<Uint8Array> {
    const run = async () => {
      if (this.broken) throw this.broken;
      try {
        await this.channel.write(new SshWriter(payload.length + 4).string(payload).finish());
        return await this.readReply();
      } catch (e) {
        this.broken ??= e as Error;
        this.channel.close();
        throw e;
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => {});
    return result;
  }

  private async readReply(): Promise<Uint8Array> {
    const header = await this.readExactly(4);
    const length = new DataView(header.buffer, header.byteOffset, 4).getUint32(0);
    if (length === 0) throw new ProtocolError("ssh-agent sent an empty message");
    if (length > AGENT_MAX_REPLY) {
      throw new ProtocolError(`ssh-agent reply of ${length} bytes exceeds the ${AGENT_MAX_REPLY}-byte limit`);
    }
    return this.readExactly(length);
  }

  private async readExactly(n: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let have = 0;
    while (have < n) {
      let chunk = this.leftover ?? (await this.channel.read());
      this.leftover = undefined;
      if (chunk === null) throw new ConnectionError("AGENT_CLOSED", "ssh-agent closed the connection before replying");
      const need = n - have;
      if (chunk.length > need) {
        this.leftover = chunk.subarray(need);
        chunk = chunk.subarray(0, need);
      }
      parts.push(chunk);
      have += chunk.length;
    }
    return parts.length === 1 ? parts[0]! : concat(...parts);
  }
}

function unexpected(type: number | undefined, expected: string): ProtocolError {
  return new ProtocolError(`ssh-agent replied with message ${type} where ${expected} was expected`);
}

/**
 * The SIGN_REQUEST flags for signing with `algorithm` using a key of type `keyType`; throws
 * UNSUPPORTED_ALGORITHM when the key cannot sign that way (RFC 8332 §3 for the rsa-sha2 names).
 */
export function agentSignFlags(keyType: string, algorithm: string): number {
  if (keyType === "ssh-rsa") {
    if (algorithm === "rsa-sha2-512") return SSH_AGENT_RSA_SHA2_512;
    if (algorithm === "rsa-sha2-256") return SSH_AGENT_RSA_SHA2_256;
    if (algorithm === "ssh-rsa") return 0;
  } else if (algorithm === keyType) {
    return 0;
  }
  throw new SshError("UNSUPPORTED_ALGORITHM", `a ${keyType} key cannot sign with "${algorithm}"`);
}

/**
 * The agent socket path for an ssh_config IdentityAgent value (ssh_config(5)): "SSH_AUTH_SOCK"
 * or absent means $SSH_AUTH_SOCK, "$NAME" reads that variable, "none" means no agent
 * (undefined); anything else is the path itself.
 */
export function agentSocketPath(identityAgent: string | undefined, env: (name: string) => string | undefined = platformEnv): string | undefined {
  if (identityAgent === undefined || identityAgent === "SSH_AUTH_SOCK") return env("SSH_AUTH_SOCK") || undefined;
  if (identityAgent === "none") return undefined;
  if (identityAgent.startsWith("$") && !identityAgent.startsWith("${")) return env(identityAgent.slice(1)) || undefined;
  return identityAgent;
}

/**
 * The agent's keys as PrivateKey objects. `agent` is a socket path, or `true` for
 * $SSH_AUTH_SOCK (read through `env`). Each sign() opens a short connection to the agent, asks
 * for the signature with the rsa-sha2 flag matching the algorithm, and checks that the agent
 * signed with exactly that algorithm (an old agent answering rsa-sha2-512 with an ssh-rsa SHA-1
 * signature is refused rather than sent to the server).
 */
export async function agentKeys(
  agent: true | string,
  env: (name: string) => string | undefined = platformEnv,
): Promise<PrivateKey[]> {
  const path = agent === true ? env("SSH_AUTH_SOCK") : agent;
  if (!path) {
    throw new SshError("AGENT_UNAVAILABLE", agent === true
      ? "agent: true, but SSH_AUTH_SOCK is not set: start ssh-agent (eval $(ssh-agent)) and ssh-add a key, or pass the agent's socket path"
      : "the ssh-agent socket path is empty");
  }
  const client = await AgentClient.connect(path);
  let identities: AgentIdentity[];
  try {
    identities = await client.listIdentities();
  } finally {
    client.close();
  }
  return identities.map(({ publicKey, comment }) => ({
    type: publicKey.type,
    publicKey,
    comment,
    async sign(algorithm: string, data: Uint8Array): Promise<Uint8Array> {
      const flags = agentSignFlags(publicKey.type, algorithm);
      const signer = await AgentClient.connect(path);
      let blob: Uint8Array;
      try {
        blob = await signer.sign(publicKey.blob, data, flags);
      } finally {
        signer.close();
      }
      const name = new SshReader(blob, "ssh-agent signature blob").ascii();
      if (name !== algorithm) {
        throw new ProtocolError(`ssh-agent signed with "${name}" when "${algorithm}" was requested`, "AGENT_WRONG_ALGORITHM");
      }
      return blob;
    },
  }));
}
