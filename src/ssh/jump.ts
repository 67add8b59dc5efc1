/**
 * Jump hosts (ssh -J / ProxyJump): connect to the first hop, open a direct-tcpip channel from
 * each hop to the next, and run the next SSH connection inside it. Every hop is a full SSH
 * connection with its own host-key check (known_hosts entry under the hop's own name) and its
 * own ssh_config resolution, as ssh(1) does; the final connection owns the chain and closes it.
 */
import { SshError } from "../errors.js";
import type { SshConnectOptions, SshConnection } from "./client.js";
import { resolveAddress } from "./connect-options.js";

export interface Hop {
  user: string | undefined;
  host: string;
  port: number | undefined;
}

/** Parses `[user@]host[:port]`, `[user@][v6addr]:port` or `ssh://[user@]host[:port]`. */
export function parseHop(text: string): Hop {
  const s = text.startsWith("ssh://") ? text.slice(6) : text;
  const at = s.lastIndexOf("@");
  const user = at >= 0 ? s.slice(0, at) : undefined;
  const rest = at >= 0 ? s.slice(at + 1) : s;
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest) ?? /^([^:[\]]+)(?::(\d+))?$/.exec(rest);
  if (!m || !m[1] || user === "") throw new SshError("CONFIG_ERROR", `invalid jump host ${JSON.stringify(text)}: expected [user@]host[:port]`);
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) throw new SshError("CONFIG_ERROR", `invalid port in jump host ${JSON.stringify(text)}`);
  return { user, host: m[1], port };
}

/**
 * Connects through `hops` to the final host. `connectOne` is connectSsh itself: each hop, and
 * the final host, are connected with the caller's credentials and trust settings, but with the
 * previous hop's channel as their byte stream and with no further jump hosts of their own.
 */
export async function connectThroughJumps(
  hops: Hop[],
  options: SshConnectOptions,
  connectOne: (o: SshConnectOptions) => Promise<SshConnection>,
): Promise<SshConnection> {
  const chain: SshConnection[] = [];
  const closeChain = async () => {
    for (const c of chain.reverse()) await c.close().catch(() => {});
  };
  // Each hop's own ssh_config entry applies (its HostName, Port, User, keys), but it never jumps again.
  const targets: SshConnectOptions[] = [
    ...hops.map((hop) => ({ ...options, host: hop.host, port: hop.port, username: hop.user, jumpHosts: "" })),
    { ...options, jumpHosts: "" },
  ];
  try {
    for (const target of targets) {
      const prev = chain.at(-1);
      let sock;
      if (prev) {
        const { host, port } = await resolveAddress(target);
        sock = await prev.forwardOut(host, port);
      }
      chain.push(await connectOne({ ...target, sock }));
    }
    const conn = chain.pop()!;
    conn.onClose(() => void closeChain());
    return conn;
  } catch (e) {
    await closeChain();
    throw e;
  }
}
