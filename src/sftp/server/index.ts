/**
 * The embedded SFTP server: `createSftpServer` starts an SSH server (src/ssh/server/) whose
 * only subsystem is "sftp", served over a directory root that no path can leave (jail.ts).
 *
 *   const server = await createSftpServer({
 *     hostKeys: [generateEd25519Key()],
 *     root: "/srv/files",
 *     authenticate: (r) => r.method === "password" && r.username === "demo" && r.password === "secret",
 *   });
 *   // … connect({ host: "127.0.0.1", port: server.port,
 *   //             hostKeys: { fingerprints: server.hostKeyFingerprints } })
 *   await server.close();
 */
import type { AuthMethod, AuthRequest, Authenticate } from "../../ssh/server/auth.js";
import type { HostKeyInput } from "../../ssh/server/host-keys.js";
import { startSshServer, type ServerConnectionInfo, type SshServerLimits } from "../../ssh/server/server.js";
import type { AlgorithmOptions, AlgorithmPreset } from "../../ssh/algorithms.js";
import type { CryptoBackend } from "../../ssh/crypto/cipher.js";
import { DEFAULT_SFTP_LIMITS, type SftpServerLimits } from "./context.js";
import { Jail } from "./jail.js";
import { SftpServerSession } from "./session.js";

export type { AuthMethod, AuthRequest, Authenticate, HostKeyInput, ServerConnectionInfo, SftpServerLimits, SshServerLimits };

export interface SftpServerOptions {
  /** Host keys: PrivateKey objects or unencrypted key file texts (ed25519, ecdsa, rsa; one per type). */
  hostKeys: HostKeyInput | readonly HostKeyInput[];
  /** The directory clients see as "/". */
  root: string;
  /**
   * Decides each authentication attempt (password, publickey, keyboard-interactive). For
   * publickey, return whether the key may log in; the server verifies the signature itself.
   */
  authenticate?: Authenticate;
  /** authorized_keys text for every user, or per user name; listed keys need no callback. */
  authorizedKeys?: string | Readonly<Record<string, string>>;
  /** Default ["publickey", "password"]; add "keyboard-interactive" to offer it. */
  authMethods?: readonly AuthMethod[];
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port; read it from the result). */
  port?: number;
  /** kex, cipher and mac lists, or "hardened" (HARDENED_ALGORITHMS; see startSshServer). */
  algorithms?: Omit<AlgorithmOptions, "serverHostKey"> | AlgorithmPreset;
  crypto?: CryptoBackend;
  /** Connection and authentication limits (attempts, delays, timeouts, connection counts, rekey). */
  limits?: SshServerLimits;
  /** Per-session SFTP bounds (packet size, read length, open handles, READDIR batch). */
  sftpLimits?: Partial<SftpServerLimits>;
}

export interface SftpServer {
  readonly host: string;
  readonly port: number;
  /** `SHA256:…` of each host key, for clients to pin. */
  readonly hostKeyFingerprints: string[];
  /** Clients connected now. */
  readonly connectionCount: number;
  /**
   * A snapshot of the clients connected now: remote address, user once authenticated, and which
   * implementation protects each direction (`cryptoInfo`, as the client's SshConnection reports it).
   */
  readonly connections: ServerConnectionInfo[];
  /** Reply bytes held for clients that have not taken them yet (bounded by limits.outgoingBudget). */
  readonly outgoingBytes: number;
  /** Stops listening, disconnects every client and closes their files. */
  close(): Promise<void>;
}

export async function createSftpServer(options: SftpServerOptions): Promise<SftpServer> {
  const jail = await Jail.create(options.root);
  const sftpLimits: SftpServerLimits = { ...DEFAULT_SFTP_LIMITS, ...options.sftpLimits };
  const ssh = await startSshServer({
    hostKeys: options.hostKeys,
    host: options.host,
    port: options.port,
    authenticate: options.authenticate,
    authorizedKeys: options.authorizedKeys,
    authMethods: options.authMethods,
    algorithms: options.algorithms,
    crypto: options.crypto,
    limits: options.limits,
    subsystems: {
      sftp: (channel, ctx) => void SftpServerSession.start(channel, jail, ctx.username, sftpLimits, ctx.outgoing),
    },
  });
  return {
    host: ssh.host,
    port: ssh.port,
    hostKeyFingerprints: ssh.hostKeyFingerprints,
    get connectionCount() {
      return ssh.connectionCount;
    },
    get connections() {
      return ssh.connections;
    },
    get outgoingBytes() {
      return ssh.outgoingBytes;
    },
    close: () => ssh.close(),
  };
}
