/**
 * A client transport driven message by message, for tests that must send what our SftpClient
 * never would (wrong signatures, endless password guesses, hostile SFTP packets).
 */
import type { SshError } from "../../src/errors.js";
import { resolveAlgorithms } from "../../src/ssh/algorithms.js";
import { MSG } from "../../src/ssh/messages.js";
import { connectTcp } from "../../src/ssh/socket/tcp.js";
import { Transport } from "../../src/ssh/transport/transport.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import { AsyncQueue } from "../../src/util/async-queue.js";

export interface RawSession {
  transport: Transport;
  send(payload: Uint8Array): void;
  next(): Promise<Uint8Array>;
  /** Resolves with the close error (DISCONNECTED carries the reason) when the connection ends. */
  closed: Promise<SshError | undefined>;
}

/** Connects, completes key exchange and (unless told not to) asks for ssh-userauth. */
export async function rawSession(port: number, requestAuth = true): Promise<RawSession> {
  const transport = new Transport(await connectTcp("127.0.0.1", port), {
    ...resolveAlgorithms(),
    backend: "auto",
    verifyHostKey: async () => {},
  });
  const inbox = new AsyncQueue<Uint8Array>();
  transport.onMessage = (m) => inbox.push(m.slice());
  const closed = new Promise<SshError | undefined>((resolve) => transport.onClose((e) => {
    inbox.fail(e ?? new Error("closed"));
    resolve(e);
  }));
  await transport.start();
  const s: RawSession = { transport, send: (p) => transport.send(p), next: () => inbox.shift(), closed };
  if (requestAuth) {
    s.send(new SshWriter(32).byte(MSG.SERVICE_REQUEST).string("ssh-userauth").finish().slice());
    const accept = await s.next();
    if (accept[0] !== MSG.SERVICE_ACCEPT) throw new Error(`expected SERVICE_ACCEPT, got ${accept[0]}`);
  }
  return s;
}

export function passwordRequest(user: string, password: string): Uint8Array {
  return new SshWriter(64).byte(MSG.USERAUTH_REQUEST).string(user).string("ssh-connection").string("password")
    .boolean(false).string(password).finish().slice();
}
