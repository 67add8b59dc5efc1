/** Shared pieces of the conformance suites: skip rules and running a command over our client. */
import { describeUnless } from "../test/support/tools.js";
import { connectSsh, type SshConnectOptions, type SshConnection } from "../src/ssh/client.js";
import { CIPHERS, MACS } from "../src/ssh/crypto/algorithms.js";
import { DEFAULT_KEX, LEGACY_KEX } from "../src/ssh/kex/methods.js";
import { HOST_KEY_ALGORITHMS, LEGACY_HOST_KEY_ALGORITHMS } from "../src/ssh/keys/public-key.js";
import { sshdAvailable, type SshdServer, type SupportedAlgorithms } from "./sshd.js";

const avail = sshdAvailable();

/** A describe block that needs a real sshd: skipped locally without one, failing in CI. */
export const describeSshd = describeUnless(avail.ok ? undefined : avail.reason, "conformance against OpenSSH");

/** Options that reach the test server with strict host-key checking against its known_hosts. */
export function baseOptions(s: SshdServer, extra: Partial<SshConnectOptions> = {}): SshConnectOptions {
  return {
    host: s.host,
    port: s.port,
    username: s.username,
    password: s.password,
    hostKeys: { policy: "strict", knownHostsFile: s.knownHostsPath },
    readyTimeoutMs: 30_000,
    ...extra,
  };
}

export async function connectTo(s: SshdServer, extra: Partial<SshConnectOptions> = {}): Promise<SshConnection> {
  return connectSsh(baseOptions(s, extra));
}

/**
 * Runs a command on the server (test fixture only: the library itself never runs commands),
 * feeding `input` to its stdin, and collects stdout.
 */
export async function run(conn: SshConnection, command: string, input?: Uint8Array): Promise<{ stdout: Uint8Array; status: number | undefined }> {
  const ch = await conn.openSession();
  const parts: Uint8Array[] = [];
  ch.onData = (d) => parts.push(d.slice());
  await ch.exec(command);
  if (input) await ch.write(input);
  ch.eof();
  await ch.whenClosed;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return { stdout: out, status: ch.exitStatus };
}

/**
 * The algorithms both we and an OpenSSH build implement, for the algorithm matrices: kex
 * methods, host key algorithms, and cipher/MAC pairs ("" as the MAC of an AEAD cipher).
 */
export function sharedAlgorithms(sup: SupportedAlgorithms): { kexes: string[]; hostKeys: string[]; cipherMacs: [string, string][] } {
  const kexes = [...DEFAULT_KEX, ...LEGACY_KEX].filter((k) => sup.kex.includes(k));
  const hostKeys = [...HOST_KEY_ALGORITHMS, ...LEGACY_HOST_KEY_ALGORITHMS].filter((a) => sup.sig.includes(a));
  const cipherMacs: [string, string][] = [];
  for (const c of Object.keys(CIPHERS).filter((c) => sup.cipher.includes(c))) {
    if (CIPHERS[c]!.aead) cipherMacs.push([c, ""]);
    else for (const m of Object.keys(MACS).filter((m) => sup.mac.includes(m))) cipherMacs.push([c, m]);
  }
  return { kexes, hostKeys, cipherMacs };
}
