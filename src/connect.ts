/** `connect()`: one call from options to a ready SFTP client (shared/API.md). */
import { connectSsh, type SshConnectOptions } from "./ssh/client.js";
import { SftpClient } from "./sftp/client.js";

export type ConnectOptions = SshConnectOptions;

/** Connects, authenticates, starts the sftp subsystem and returns the client. */
export async function connect(options: ConnectOptions): Promise<SftpClient> {
  const ssh = await connectSsh(options);
  try {
    return await SftpClient.open(ssh);
  } catch (e) {
    await ssh.close().catch(() => {});
    throw e;
  }
}
