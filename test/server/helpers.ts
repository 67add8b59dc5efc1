/** Starting the embedded server on a fresh temporary root, and connecting our client to it. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../../src/connect.js";
import type { SftpClient } from "../../src/sftp/client.js";
import { createSftpServer, type SftpServer, type SftpServerOptions } from "../../src/sftp/server/index.js";
import type { SshConnectOptions } from "../../src/ssh/client.js";
import { generateEd25519Key, type PrivateKey } from "../../src/ssh/keys/private-key.js";

export const USER = "alice";
export const PASSWORD = "correct horse battery staple";

export interface TestServer {
  server: SftpServer;
  /** The jail's host directory (inside `base`). */
  root: string;
  /** A temporary directory holding `root`, for files "outside" the jail. */
  base: string;
  hostKey: PrivateKey;
  options(extra?: Partial<SshConnectOptions>): SshConnectOptions;
  connect(extra?: Partial<SshConnectOptions>): Promise<SftpClient>;
  stop(): Promise<void>;
}

export async function startTestServer(extra: Partial<SftpServerOptions> = {}): Promise<TestServer> {
  const base = await mkdtemp(join(tmpdir(), "sftp-server-"));
  const root = join(base, "root");
  await import("node:fs/promises").then((fs) => fs.mkdir(root));
  const hostKey = generateEd25519Key("test-host");
  const server = await createSftpServer({
    hostKeys: [hostKey],
    root,
    authenticate: (r) => r.method === "password" && r.username === USER && r.password === PASSWORD,
    limits: { authFailureDelayMs: 20 },
    ...extra,
  });
  const options = (more: Partial<SshConnectOptions> = {}): SshConnectOptions => ({
    host: "127.0.0.1",
    port: server.port,
    username: USER,
    password: PASSWORD,
    hostKeys: { fingerprints: server.hostKeyFingerprints, knownHostsFile: join(base, "no-known-hosts") },
    readyTimeoutMs: 10_000,
    ...more,
  });
  return {
    server,
    root,
    base,
    hostKey,
    options,
    connect: (more) => connect(options(more)),
    async stop() {
      await server.close();
      await rm(base, { recursive: true, force: true });
    },
  };
}

export { randomBytes } from "../sftp/client-contract.js";
