/** `connect()`: one call from options to a ready SFTP client (shared/API.md). */
import { ConnectionError } from "./errors.js";
import { connectSsh, type SshConnectOptions } from "./ssh/client.js";
import { SftpClient } from "./sftp/client.js";
import type { SftpSessionOptions } from "./sftp/session.js";

/** The SSH options, and the SFTP session's (requestTimeoutMs). */
export type ConnectOptions = SshConnectOptions & SftpSessionOptions;

/**
 * Connects, authenticates, starts the sftp subsystem and returns the client. The SFTP start is
 * bounded like each SSH hop, by the connection's ready timeout (`readyTimeoutMs`, else
 * ssh_config's ConnectTimeout, else 20 s), and by `signal`: a server that never opens its
 * channel window or never answers INIT cannot hang the caller.
 */
export async function connect(options: ConnectOptions): Promise<SftpClient> {
  const ssh = await connectSsh(options);
  const timeoutMs = ssh.readyTimeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort = () => {};
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectionError("TIMEOUT", `not ready within ${timeoutMs} ms (starting SFTP)`)), timeoutMs);
    onAbort = () => {
      const reason = options.signal?.reason as Error | undefined;
      reject(new ConnectionError("ABORTED", `connect aborted: ${reason?.message ?? reason}`, { cause: reason }));
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
  });
  stopped.catch(() => {}); // raced below; never left unhandled
  try {
    return await Promise.race([SftpClient.open(ssh, { requestTimeoutMs: options.requestTimeoutMs }), stopped]);
  } catch (e) {
    await ssh.close().catch(() => {});
    throw e;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}
