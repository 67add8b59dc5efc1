/**
 * What the hostile-peer tests share. Client side: connect options for a scripted fake server
 * (test/support/fake-server.ts), and `hostile`, which checks the common contract — the connect
 * fails with a typed SshError within a bound, and the client closes its socket. Server side:
 * `whileServing`, a well-behaved client kept busy while a scripted hostile client attacks.
 */
import { once } from "node:events";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex } from "node:stream";
import { afterEach, expect } from "vitest";
import { SshError } from "../../src/errors.js";
import { connectSsh, type SshConnection, type SshConnectOptions } from "../../src/ssh/client.js";
import { generateEd25519Key } from "../../src/ssh/keys/private-key.js";
import { MSG } from "../../src/ssh/messages.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import type { TestServer } from "../server/helpers.js";
import { FakeSshServer, type Script, type ScriptedPeer, type ServerPeer } from "../support/fake-server.js";

export const PASSWORD = "correct horse";
export const serverKey = generateEd25519Key("hostile-test-server");
/** A known_hosts path that does not exist, so the user's own file never matters. */
export const NO_KNOWN_HOSTS = join(tmpdir(), `pure-sftp-hostile-${process.pid}-no-known-hosts`);

let current: FakeSshServer | undefined;

/** Registers the afterEach that stops the file's fake server; call once per test file. */
export function useFakeServer(): void {
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
}

/** Starts the fake server for this test (stopped after it). */
export async function startFake(script: Script, hostKey = serverKey): Promise<FakeSshServer> {
  current = await FakeSshServer.start(script, { hostKey });
  return current;
}

/**
 * The suite's "at once": an error, a close or a hang-up that should follow in a few milliseconds
 * must come within this. Any bound tells that from "only by a timeout" or "never", so it is
 * generous: CI runs three runtimes on two cores beside other jobs, where a load average of 9
 * stretched work budgeted at one second past it.
 */
export const PROMPTLY_MS = 3000;

export function optionsFor(s: FakeSshServer, extra: Partial<SshConnectOptions> = {}): SshConnectOptions {
  return {
    host: s.host,
    port: s.port,
    username: "alice",
    password: PASSWORD,
    hostKeys: { fingerprints: [serverKey.publicKey.fingerprint], knownHostsFile: NO_KNOWN_HOSTS },
    // Far above PROMPTLY_MS: a failure that only comes from this timeout fails the test.
    readyTimeoutMs: 15_000,
    sshConfig: false,
    ...extra,
  };
}

export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Starts a server running `script`, connects, and checks the common contract: the connect fails
 * with an SshError in under `budgetMs` (default PROMPTLY_MS), and the server sees the client's
 * socket close.
 */
export async function hostile(script: Script, extra: Partial<SshConnectOptions> = {}, hostKey = serverKey, budgetMs = PROMPTLY_MS) {
  const server = await startFake(script, hostKey);
  const started = performance.now();
  const error: unknown = await connectSsh(optionsFor(server, extra)).then(
    async (c) => {
      await c.close();
      return new Error("connected to a hostile server");
    },
    (e: unknown) => e,
  );
  const elapsed = performance.now() - started;
  const peer = await server.firstPeer();
  await within(peer.clientGone, PROMPTLY_MS, "the client should close its socket");
  expect(error).toBeInstanceOf(SshError);
  expect(elapsed).toBeLessThan(budgetMs);
  return { error: error as SshError, elapsed, peer };
}

/** Banner, client banner, then `rest`; keeps the connection open until the client hangs up. */
export const afterBanners = (rest: (peer: ServerPeer) => Promise<unknown>): Script => async (peer) => {
  void peer.sendBanner();
  await peer.readClientVersion();
  await rest(peer);
  await peer.clientGone;
};

/** Banners, a strict key exchange and password auth, then `rest`. */
export const afterLogin = (rest: (peer: ServerPeer) => Promise<unknown>): Script => afterBanners(async (peer) => {
  await peer.doKex({ strict: true });
  await peer.authAcceptPassword(PASSWORD);
  await rest(peer);
});

/**
 * Connects to a server running `script` (which must let the client log in), then waits for the
 * connection to end by itself; returns the close error and how long that took after login.
 */
export async function closedAfterLogin(script: Script, extra: Partial<SshConnectOptions> = {}, budgetMs = PROMPTLY_MS) {
  const server = await startFake(script);
  const conn: SshConnection = await connectSsh(optionsFor(server, extra));
  const started = performance.now();
  const err = await within(new Promise<SshError | undefined>((resolve) => conn.onClose(resolve)), budgetMs, "the connection should fail");
  const elapsed = performance.now() - started;
  const peer = await server.firstPeer();
  await within(peer.clientGone, PROMPTLY_MS, "the client should close its socket");
  expect(conn.closed).toBe(true);
  return { error: err, elapsed, peer, conn };
}

/** A TCP connection to the fake server as a Web Streams pair, for the `stream` option. */
export async function webStreamTo(s: FakeSshServer): Promise<NonNullable<SshConnectOptions["stream"]>> {
  const socket = connect(s.port, s.host);
  await once(socket, "connect");
  return Duplex.toWeb(socket) as unknown as NonNullable<SshConnectOptions["stream"]>;
}

export const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
export const serviceAccept = () => new SshWriter(32).byte(MSG.SERVICE_ACCEPT).string("ssh-userauth").finish().slice();

// ---- the embedded server against scripted hostile clients ----

/**
 * Runs `attack` while a well-behaved client (our SftpClient, connected before the attack starts)
 * keeps writing and reading a file on the same server; any failure of that client fails the
 * test. Afterwards it must still work, and so must a fresh connection.
 */
export async function whileServing<T>(t: TestServer, attack: () => Promise<T>): Promise<T> {
  const c = await t.connect();
  const name = `/bystander-${crypto.randomUUID()}`;
  const roundTrip = async (text: string) => {
    await c.writeFile(name, text);
    expect(new TextDecoder().decode(await c.readFile(name))).toBe(text);
  };
  let stop = false;
  let rounds = 0;
  const loop = (async () => {
    while (!stop) {
      await roundTrip(`round ${rounds++}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  let result: T;
  try {
    result = await attack();
  } finally {
    stop = true;
    await loop;
  }
  await roundTrip("after");
  await c.close();
  const fresh = await t.connect();
  expect(await fresh.exists(name)).toBe(true);
  await fresh.remove(name);
  await fresh.close();
  return result;
}

/** Resolves with how long the server took to hang up on `client` (fails after `ms`). */
export async function hangsUpWithin(client: ScriptedPeer, ms: number, from = performance.now()): Promise<number> {
  await within(client.peerGone, ms, "the server should close the connection");
  return performance.now() - from;
}
