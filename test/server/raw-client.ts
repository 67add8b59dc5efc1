/**
 * Clients for tests that must send what our SftpClient never would (wrong signatures, endless
 * password guesses, hostile SFTP packets, broken key exchanges, tampered ciphertext).
 *
 * `rawSession` drives our own client Transport message by message: the transport layer is
 * faithful, only the messages above it are hostile. `ScriptedClient` is the scripted mirror of
 * test/support/fake-server.ts: every byte from the version line on is the script's to choose.
 */
import { connect as netConnect } from "node:net";
import type { SshError } from "../../src/errors.js";
import { resolveAlgorithms } from "../../src/ssh/algorithms.js";
import type { PrivateKey } from "../../src/ssh/keys/private-key.js";
import { MSG } from "../../src/ssh/messages.js";
import { connectTcp } from "../../src/ssh/socket/tcp.js";
import { runKex } from "../../src/ssh/transport/key-exchange.js";
import { EXT_INFO_C, STRICT_KEX_C, STRICT_KEX_S, decodeKexInit, type KexInit, type Negotiated } from "../../src/ssh/transport/kexinit.js";
import { Transport } from "../../src/ssh/transport/transport.js";
import { SshReader } from "../../src/ssh/wire/reader.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import { AsyncQueue } from "../../src/util/async-queue.js";
import { ScriptedChannel, ScriptedPeer, type KexInitOptions } from "../support/fake-server.js";

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

export const SCRIPTED_CLIENT_VERSION = "SSH-2.0-ScriptedClient_1.0";

export interface ClientKexOptions extends KexInitOptions {
  /** Runs after our method message is sent and before our NEWKEYS. */
  beforeNewKeys?: () => void | Promise<void>;
  /** Do not send a KEXINIT: the script already sent one (with sendKexInit). */
  kexInitSent?: { payload: Uint8Array; init: KexInit };
}

/** A TCP connection to a server, driven by the test step by step. */
export class ScriptedClient extends ScriptedPeer {
  readonly clientVersion = SCRIPTED_CLIENT_VERSION;

  static async connect(port: number): Promise<ScriptedClient> {
    const socket = netConnect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new ScriptedClient(socket);
  }

  /** Resolves when the server's side is gone. */
  get serverGone(): Promise<void> {
    return this.peerGone;
  }

  /** Sends our version line and reads the server's. */
  async exchangeVersions(): Promise<void> {
    void this.sendRaw(this.clientVersion + "\r\n");
    await this.readVersion();
  }

  kexInit(opts: KexInitOptions = {}): { payload: Uint8Array; init: KexInit } {
    return this.buildKexInit(opts, { extInfo: EXT_INFO_C, strict: STRICT_KEX_C });
  }

  sendKexInit(opts: KexInitOptions = {}): { payload: Uint8Array; init: KexInit } {
    const k = this.kexInit(opts);
    void this.sendPacket(k.payload);
    return k;
  }

  /** The client side of one key exchange, NEWKEYS both ways included. */
  async doKex(opts: ClientKexOptions = {}): Promise<Negotiated> {
    const ours = opts.kexInitSent ?? this.sendKexInit(opts);
    let theirsPayload = await this.readPacket();
    while (theirsPayload[0] === MSG.IGNORE) theirsPayload = await this.readPacket();
    if (theirsPayload[0] !== MSG.KEXINIT) throw new Error(`expected KEXINIT, got ${theirsPayload[0]}`);
    const theirs = decodeKexInit(theirsPayload);
    this.peerKexInit = theirs;
    if (this.sessionId === undefined) this.strictKex = ours.init.kex.includes(STRICT_KEX_C) && theirs.kex.includes(STRICT_KEX_S);
    const outcome = await runKex({
      clientVersion: this.clientVersion,
      serverVersion: this.peerVersion!,
      ours: ours.init,
      oursPayload: ours.payload,
      theirsPayload,
      io: { send: (p) => void this.sendPacket(p.slice()), receive: () => this.readPacket() },
      backend: "pure",
      sessionId: this.sessionId,
      side: { role: "client", previousHostKey: undefined, verifyHostKey: async () => {} },
    }, theirs);
    this.negotiated = outcome.negotiated;
    this.sessionId ??= outcome.sessionId;
    await opts.beforeNewKeys?.();
    this.switchOutbound(outcome.sealer);
    await this.switchInbound(outcome.opener);
    return outcome.negotiated;
  }

  /** Versions, a strict key exchange and the ssh-userauth service. */
  async handshake(opts: ClientKexOptions = { strict: true }): Promise<void> {
    await this.exchangeVersions();
    await this.doKex(opts);
    await this.sendPacket(new SshWriter(32).byte(MSG.SERVICE_REQUEST).string("ssh-userauth").finish().slice());
    await this.expect(MSG.SERVICE_ACCEPT);
  }

  /** One password attempt; resolves with the answer's message number. */
  async password(user: string, password: string): Promise<number> {
    await this.sendPacket(passwordRequest(user, password));
    return (await this.readPacket())[0]!;
  }

  /**
   * One signed publickey attempt (RFC 4252 §7) presenting `key`'s public half, signed by
   * `signer` (default the same key), optionally with one bit of the signature flipped.
   */
  async publickey(user: string, key: PrivateKey, opts: { signer?: PrivateKey; corrupt?: boolean } = {}): Promise<number> {
    const alg = key.type === "ssh-rsa" ? "rsa-sha2-256" : key.type;
    const body = new SshWriter(256).byte(MSG.USERAUTH_REQUEST).string(user).string("ssh-connection").string("publickey")
      .boolean(true).string(alg).string(key.publicKey.blob).finish().slice();
    const signed = new SshWriter(64 + body.length).string(this.sessionId!).raw(body).finish();
    const sig = await (opts.signer ?? key).sign(alg, signed);
    if (opts.corrupt) sig[sig.length - 1]! ^= 0x01;
    await this.sendPacket(new SshWriter(body.length + sig.length + 8).raw(body).string(sig).finish().slice());
    return (await this.readPacket())[0]!;
  }

  /** Opens a session channel granting the server `window` bytes, and starts "sftp". */
  async openSftp(opts: { window?: number; maxPacket?: number } = {}): Promise<ScriptedChannel> {
    const window = opts.window ?? 2 * 1024 * 1024;
    await this.sendPacket(new SshWriter(64).byte(MSG.CHANNEL_OPEN).string("session").uint32(0).uint32(window)
      .uint32(opts.maxPacket ?? 32 * 1024).finish().slice());
    const r = new SshReader(await this.expect(MSG.CHANNEL_OPEN_CONFIRMATION), "CHANNEL_OPEN_CONFIRMATION");
    r.byte();
    r.uint32();
    const theirId = r.uint32();
    const ch = new ScriptedChannel(this, 0, theirId, r.uint32(), r.uint32(), window);
    await this.sendPacket(new SshWriter(64).byte(MSG.CHANNEL_REQUEST).uint32(theirId).string("subsystem").boolean(true)
      .string("sftp").finish().slice());
    const reply = await ch.nextMessage();
    if (reply[0] !== MSG.CHANNEL_SUCCESS) throw new Error(`the server refused the sftp subsystem (${reply[0]})`);
    return ch;
  }
}
