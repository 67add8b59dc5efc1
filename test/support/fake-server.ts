/**
 * A scripted SSH server for tests, built from the library's own pieces (packet codec, KEXINIT
 * codec and negotiation, the methods' server role, key derivation, cipher registry): the mirror
 * image of the client's transport, one step at a time, so a script can follow the protocol
 * faithfully or break it exactly where it wants. Every payload the script reads from the client
 * is recorded in `peer.received`.
 *
 *   await FakeSshServer.start(async (peer) => {
 *     void peer.sendBanner();
 *     await peer.readClientVersion();
 *     await peer.doKex({ strict: true });
 *     await peer.authAcceptPassword("secret");
 *     const ch = await peer.acceptSession();     // a session channel and its "sftp" subsystem
 *     await ch.nextSftp();                       // SFTP INIT
 *   });
 *
 * `ScriptedPeer` (raw bytes, packets, versions) and `ScriptedChannel` (one channel with its
 * windows and SFTP framing) serve both roles: test/server/raw-client.ts builds the scripted
 * hostile client from them.
 */
import { createServer, type Server, type Socket } from "node:net";
import { CIPHERS, MACS } from "../../src/ssh/crypto/algorithms.js";
import type { PacketOpener, PacketSealer } from "../../src/ssh/crypto/cipher.js";
import type { ExchangeInputs, KexHostKey, KexIO, KexMethod } from "../../src/ssh/kex/kex.js";
import { KEX_METHODS } from "../../src/ssh/kex/methods.js";
import { generateEd25519Key, type PrivateKey } from "../../src/ssh/keys/private-key.js";
import { MSG } from "../../src/ssh/messages.js";
import { PacketDecoder, PacketEncoder } from "../../src/ssh/transport/framing.js";
import { deriveKey, type KeyLetter } from "../../src/ssh/transport/key-derivation.js";
import { EXT_INFO_C, EXT_INFO_S, STRICT_KEX_C, STRICT_KEX_S, decodeKexInit, encodeKexInit, negotiate } from "../../src/ssh/transport/kexinit.js";
import type { KexInit, Negotiated } from "../../src/ssh/transport/kexinit.js";
import { scanVersion } from "../../src/ssh/transport/version.js";
import { SshReader } from "../../src/ssh/wire/reader.js";
import { SshWriter, concat } from "../../src/ssh/wire/writer.js";
import { NOBLE_SUITE } from "../../src/ssh/crypto/noble-primitives.js";
import { ScriptedChannel } from "./scripted-channel.js";

export { ScriptedChannel };

export const SERVER_VERSION = "SSH-2.0-FakeSshServer_1.0";

export interface KexInitOptions {
  /** What our KEXINIT offers; each list has a modern, fast default. */
  kex?: string[];
  hostKey?: string[];
  ciphers?: string[];
  macs?: string[];
  compression?: string[];
  /** Offer our kex-strict marker (in force when the other side offers its marker too). */
  strict?: boolean;
  /** Offer our ext-info marker (a server then sends EXT_INFO right after its first NEWKEYS). */
  extInfo?: boolean;
}

export interface ServerKexOptions extends KexInitOptions {
  /** Flip one bit of the host key's signature over H. */
  corruptSignature?: boolean;
  /** Present our host key but sign H with this one (an impostor knowing only the public key). */
  signWith?: PrivateKey;
  /** Present this host key, and sign with it (a re-exchange with a different key). */
  presentKey?: PrivateKey;
  /**
   * What H is computed over, changed (a man in the middle that edited a KEXINIT in flight: the
   * two sides then hash different transcripts).
   */
  hashInputs?: (inputs: ExchangeInputs) => ExchangeInputs;
  /** Runs after the method's reply is sent and before our NEWKEYS. */
  beforeNewKeys?: () => void | Promise<void>;
  /** Do not send a KEXINIT: the script already sent one (with sendKexInit). */
  kexInitSent?: { payload: Uint8Array; init: KexInit };
}

export type Script = (peer: ServerPeer) => Promise<void>;

/** The sealer and opener of one side after a key exchange (RFC 4253 §7.2). */
export function cipherStates(role: "client" | "server", method: KexMethod, sharedSecret: Uint8Array, exchangeHash: Uint8Array,
  sessionId: Uint8Array, negotiated: Negotiated): { sealer: PacketSealer; opener: PacketOpener } {
  const derive = (letter: KeyLetter, len: number) => deriveKey(method.hash, sharedSecret, exchangeHash, letter, sessionId, len);
  const direction = (cipherName: string, macName: string, [iv, key, mac]: [KeyLetter, KeyLetter, KeyLetter]) => {
    const cipher = CIPHERS[cipherName]!;
    const macAlg = macName ? MACS[macName] : undefined;
    const k = { iv: derive(iv, cipher.ivLength), key: derive(key, cipher.keyLength), macKey: macAlg ? derive(mac, macAlg.keyLength) : new Uint8Array(0) };
    return { cipher, macAlg, k };
  };
  const c2s = direction(negotiated.cipherC2S, negotiated.macC2S, ["A", "C", "E"]);
  const s2c = direction(negotiated.cipherS2C, negotiated.macS2C, ["B", "D", "F"]);
  const [out, inc] = role === "client" ? [c2s, s2c] : [s2c, c2s];
  return {
    sealer: out.cipher.createSealer(out.k, out.macAlg, NOBLE_SUITE),
    opener: inc.cipher.createOpener(inc.k, inc.macAlg, NOBLE_SUITE),
  };
}

/** One TCP connection driven by a script, in either role: bytes, versions, packets. */
export class ScriptedPeer {
  /** Every packet payload read from the other side, in order (copies). */
  readonly received: Uint8Array[] = [];
  /** The other side's identification string, once read. */
  peerVersion: string | undefined;
  /** The other side's KEXINIT of the last exchange, and what the two sides agreed on. */
  peerKexInit: KexInit | undefined;
  negotiated: Negotiated | undefined;
  sessionId: Uint8Array | undefined;
  /** True once strict kex is in force (both sides offered it in the first exchange). */
  strictKex = false;
  /** Resolves when the other side is gone: FIN, reset or close. */
  readonly peerGone: Promise<void>;
  /** Why the script failed, if it did (hostile scripts often fail once the peer hangs up). */
  scriptError: unknown;
  /** Resolves when the script has returned or failed. */
  done: Promise<void> = Promise.resolve();

  protected readonly decoder = new PacketDecoder();
  protected readonly encoder = new PacketEncoder();
  private readonly chunks: Uint8Array[] = [];
  private ended = false;
  private wake: (() => void) | undefined;
  private writes: Promise<void> = Promise.resolve();

  constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    let markGone!: () => void;
    this.peerGone = new Promise((resolve) => (markGone = resolve));
    const end = () => {
      this.ended = true;
      markGone();
      this.wakeReader();
    };
    socket.on("data", (b: Buffer) => {
      this.chunks.push(new Uint8Array(b));
      this.wakeReader();
    });
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  /** True once the other side has hung up. */
  get gone(): boolean {
    return this.ended;
  }

  // ---- raw bytes ----

  /** Writes bytes as they are, after everything queued before. */
  sendRaw(bytes: Uint8Array | string): Promise<void> {
    const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
    return this.queueWrite(Promise.resolve(data));
  }

  /** Reads the other side's identification line; bytes after it go to the packet decoder. */
  async readVersion(): Promise<string> {
    let buf: Uint8Array = new Uint8Array(0);
    for (;;) {
      const found = scanVersion(buf);
      if (found) {
        this.peerVersion = found.version.line;
        this.decoder.push(buf.subarray(found.consumed));
        return found.version.line;
      }
      const chunk = await this.nextChunk();
      if (!chunk) throw new Error("the peer closed before sending its version");
      buf = concat(buf, chunk);
    }
  }

  /** Sends one byte every `intervalMs` until the bytes run out or the peer hangs up. */
  async trickle(bytes: Uint8Array, intervalMs: number): Promise<void> {
    for (const b of bytes) {
      if (this.ended) return;
      await this.sendRaw(Uint8Array.of(b));
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** Half-closes our side (FIN); the peer sees end of stream. */
  end(): void {
    this.socket.end();
  }

  // ---- packets ----

  /** Frames and protects a payload with the current keys without sending it (for tampering). */
  encodePacket(payload: Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(this.encoder.encode(payload));
  }

  /** Sends one payload with the current keys, in order with everything sent before. */
  sendPacket(payload: Uint8Array): Promise<void> {
    return this.queueWrite(this.encodePacket(payload));
  }

  /** Reads the next payload from the peer (recorded in `received`). */
  async readPacket(): Promise<Uint8Array> {
    for (;;) {
      const next = this.decoder.next();
      if (next !== undefined) {
        const payload = (await next).slice();
        this.received.push(payload);
        return payload;
      }
      const chunk = await this.nextChunk();
      if (!chunk) throw new Error("the peer closed the connection");
      this.decoder.push(chunk);
    }
  }

  /** Reads the next payload and checks its message number. */
  async expect(type: number): Promise<Uint8Array> {
    const p = await this.readPacket();
    if (p[0] !== type) throw new Error(`expected message ${type} from the peer, got ${p[0]}`);
    return p;
  }

  /** DISCONNECT (RFC 4253 §11.1). */
  sendDisconnect(reason: number, description: string): Promise<void> {
    return this.sendPacket(new SshWriter(64).byte(MSG.DISCONNECT).uint32(reason).string(description).string("").finish().slice());
  }

  sendIgnore(data: Uint8Array | string = ""): Promise<void> {
    return this.sendPacket(new SshWriter(32).byte(MSG.IGNORE).string(data).finish().slice());
  }

  /**
   * The peer's DISCONNECT, if it sent one: waits for the script to end, then reads what is
   * left until the peer hangs up.
   */
  async peerDisconnect(): Promise<{ reason: number; description: string } | undefined> {
    await this.done;
    try {
      while (!this.received.some((p) => p[0] === MSG.DISCONNECT)) await this.readPacket();
    } catch {
      // End of stream, or bytes we cannot decode: no DISCONNECT then.
    }
    const d = this.received.find((p) => p[0] === MSG.DISCONNECT);
    if (!d) return undefined;
    const r = new SshReader(d, "DISCONNECT");
    r.byte();
    return { reason: r.uint32(), description: r.utf8() };
  }

  // ---- key exchange ----

  /** Our KEXINIT for these options (`markers`: our role's ext-info and strict names). */
  protected buildKexInit(opts: KexInitOptions, markers: { extInfo: string; strict: string }): { payload: Uint8Array; init: KexInit } {
    const ciphers = opts.ciphers ?? ["chacha20-poly1305@openssh.com", "aes128-ctr", "aes128-gcm@openssh.com"];
    const macs = opts.macs ?? ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-256"];
    const first = this.sessionId === undefined;
    const init: KexInit = {
      cookie: crypto.getRandomValues(new Uint8Array(16)),
      kex: [
        ...(opts.kex ?? ["curve25519-sha256"]),
        ...(first && opts.extInfo ? [markers.extInfo] : []),
        ...(first && opts.strict ? [markers.strict] : []),
      ],
      serverHostKey: opts.hostKey ?? ["ssh-ed25519"],
      cipherC2S: ciphers,
      cipherS2C: ciphers,
      macC2S: macs,
      macS2C: macs,
      compressionC2S: opts.compression ?? ["none"],
      compressionS2C: opts.compression ?? ["none"],
      languagesC2S: [],
      languagesS2C: [],
      firstKexPacketFollows: false,
    };
    return { payload: encodeKexInit(init), init };
  }

  /** Our NEWKEYS: seal with the new keys from here on (§7.3). */
  protected switchOutbound(sealer: PacketSealer): void {
    void this.sendPacket(Uint8Array.of(MSG.NEWKEYS));
    this.encoder.sealer = sealer;
    if (this.strictKex) this.encoder.seq = 0;
  }

  /** The peer's NEWKEYS: open with the new keys from here on. */
  protected async switchInbound(opener: PacketOpener): Promise<void> {
    await this.expect(MSG.NEWKEYS);
    this.decoder.opener = opener;
    if (this.strictKex) this.decoder.seq = 0;
  }

  // ---- plumbing ----

  private queueWrite(data: Promise<Uint8Array>): Promise<void> {
    const write = this.writes.then(async () => {
      const bytes = await data;
      if (this.socket.destroyed || this.socket.writableEnded) return;
      await new Promise<void>((resolve) => this.socket.write(bytes, () => resolve()));
    });
    this.writes = write.catch(() => {});
    return write;
  }

  private wakeReader(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async nextChunk(): Promise<Uint8Array | null> {
    for (;;) {
      const c = this.chunks.shift();
      if (c) return c;
      if (this.ended) return null;
      await new Promise<void>((r) => (this.wake = r));
    }
  }
}

/** One accepted connection and the helpers a server script drives it with. */
export class ServerPeer extends ScriptedPeer {
  serverVersion = SERVER_VERSION;

  constructor(
    socket: Socket,
    readonly hostKey: PrivateKey,
  ) {
    super(socket);
  }

  /** The client's identification string, once read. */
  get clientVersion(): string | undefined {
    return this.peerVersion;
  }

  /** The client's KEXINIT of the last exchange. */
  get clientKexInit(): KexInit | undefined {
    return this.peerKexInit;
  }

  /** Resolves when the client's side is gone: FIN, reset or close. */
  get clientGone(): Promise<void> {
    return this.peerGone;
  }

  /** Sends an identification line (CR LF appended) and remembers it as V_S. */
  sendBanner(line = SERVER_VERSION): Promise<void> {
    this.serverVersion = line;
    return this.sendRaw(line + "\r\n");
  }

  readClientVersion(): Promise<string> {
    return this.readVersion();
  }

  clientDisconnect(): Promise<{ reason: number; description: string } | undefined> {
    return this.peerDisconnect();
  }

  /** Our KEXINIT for these options, and its payload. */
  kexInit(opts: KexInitOptions = {}): { payload: Uint8Array; init: KexInit } {
    return this.buildKexInit(opts, { extInfo: EXT_INFO_S, strict: STRICT_KEX_S });
  }

  /** Sends our KEXINIT; pass the result to doKex({ kexInitSent }) to go on from there. */
  sendKexInit(opts: KexInitOptions = {}): { payload: Uint8Array; init: KexInit } {
    const k = this.kexInit(opts);
    void this.sendPacket(k.payload);
    return k;
  }

  /**
   * The server side of one key exchange (RFC 4253 §7-8): KEXINITs, the method's server role,
   * NEWKEYS both ways, and the key switch. Returns the negotiated algorithms.
   */
  async doKex(opts: ServerKexOptions = {}): Promise<Negotiated> {
    const ours = opts.kexInitSent ?? this.sendKexInit(opts);
    const theirsPayload = await this.expect(MSG.KEXINIT);
    const theirs = decodeKexInit(theirsPayload);
    this.peerKexInit = theirs;
    const first = this.sessionId === undefined;
    if (first) this.strictKex = ours.init.kex.includes(STRICT_KEX_S) && theirs.kex.includes(STRICT_KEX_C);
    const negotiated = negotiate(theirs, ours.init, (c) => CIPHERS[c]?.aead ?? false);
    this.negotiated = negotiated;
    const method = KEX_METHODS[negotiated.kex]!;
    const presented = opts.presentKey ?? this.hostKey;
    const signer = opts.signWith ?? presented;
    const io: KexIO = { send: (p) => void this.sendPacket(p.slice()), receive: () => this.readPacket() };
    const hostKey: KexHostKey = {
      blob: presented.publicKey.blob,
      sign: async (h) => {
        const sig = await signer.sign(negotiated.serverHostKey, h);
        if (opts.corruptSignature) sig[sig.length - 1]! ^= 0x01;
        return sig;
      },
    };
    const inputs: ExchangeInputs = {
      clientVersion: this.clientVersion!,
      serverVersion: this.serverVersion,
      clientKexInit: theirsPayload,
      serverKexInit: ours.payload,
    };
    const { sharedSecret, exchangeHash } = await method.server(io, opts.hashInputs?.(inputs) ?? inputs, hostKey);
    const sessionId = (this.sessionId ??= exchangeHash);
    const { sealer, opener } = cipherStates("server", method, sharedSecret, exchangeHash, sessionId, negotiated);

    await opts.beforeNewKeys?.();
    this.switchOutbound(sealer);
    if (first && opts.extInfo && theirs.kex.includes(EXT_INFO_C)) {
      void this.sendPacket(new SshWriter(64).byte(MSG.EXT_INFO).uint32(1).string("server-sig-algs")
        .string("ssh-ed25519,rsa-sha2-512,rsa-sha2-256").finish().slice());
    }
    await this.switchInbound(opener);
    return negotiated;
  }

  // ---- user authentication ----

  /**
   * Accepts the ssh-userauth service, refuses "none" (offering only "password") and accepts
   * `password`; returns the user name. Wrong passwords are refused, up to 5 times.
   */
  async authAcceptPassword(password: string): Promise<string> {
    const req = new SshReader(await this.expect(MSG.SERVICE_REQUEST), "SERVICE_REQUEST");
    req.byte();
    const service = req.ascii();
    if (service !== "ssh-userauth") throw new Error(`client asked for service ${service}`);
    void this.sendPacket(new SshWriter(32).byte(MSG.SERVICE_ACCEPT).string(service).finish().slice());
    for (let attempt = 0; attempt < 6; attempt++) {
      const r = new SshReader(await this.expect(MSG.USERAUTH_REQUEST), "USERAUTH_REQUEST");
      r.byte();
      const user = r.utf8();
      r.ascii(); // service: ssh-connection
      const method = r.ascii();
      if (method === "password" && !r.boolean() && r.utf8() === password) {
        await this.sendPacket(Uint8Array.of(MSG.USERAUTH_SUCCESS));
        return user;
      }
      void this.sendPacket(new SshWriter(32).byte(MSG.USERAUTH_FAILURE).nameList(["password"]).boolean(false).finish().slice());
    }
    throw new Error("too many authentication attempts");
  }

  // ---- connection protocol ----

  /**
   * Accepts the client's session channel, granting it `window` bytes (and this max packet), and
   * its "sftp" subsystem request. The returned channel has not read the SFTP INIT yet.
   */
  async acceptSession(opts: { window?: number; maxPacket?: number } = {}): Promise<ScriptedChannel> {
    const r = new SshReader(await this.expect(MSG.CHANNEL_OPEN), "CHANNEL_OPEN");
    r.byte();
    if (r.ascii() !== "session") throw new Error("expected a session channel");
    const theirId = r.uint32();
    const theirWindow = r.uint32();
    const theirMaxPacket = r.uint32();
    const window = opts.window ?? 2 * 1024 * 1024;
    const maxPacket = opts.maxPacket ?? 32 * 1024;
    void this.sendPacket(new SshWriter(32).byte(MSG.CHANNEL_OPEN_CONFIRMATION).uint32(theirId).uint32(0)
      .uint32(window).uint32(maxPacket).finish().slice());
    const ch = new ScriptedChannel(this, 0, theirId, theirWindow, theirMaxPacket, window);
    const req = await ch.nextMessage();
    const rr = new SshReader(req, "CHANNEL_REQUEST");
    rr.byte();
    rr.uint32();
    const type = rr.ascii();
    const wantReply = rr.boolean();
    if (type !== "subsystem" || rr.utf8() !== "sftp") throw new Error(`unexpected channel request ${type}`);
    if (wantReply) void this.sendPacket(new SshWriter(8).byte(MSG.CHANNEL_SUCCESS).uint32(theirId).finish().slice());
    return ch;
  }
}

/** A TCP listener on 127.0.0.1 that runs the script for every connection. */
export class FakeSshServer {
  readonly host = "127.0.0.1";
  readonly peers: ServerPeer[] = [];
  private readonly waiting: ((p: ServerPeer) => void)[] = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly hostKey: PrivateKey,
  ) {}

  static async start(script: Script, options: { hostKey?: PrivateKey } = {}): Promise<FakeSshServer> {
    const hostKey = options.hostKey ?? generateEd25519Key("fake-server");
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    const fake = new FakeSshServer(server, address.port, hostKey);
    server.on("connection", (socket) => {
      const peer = new ServerPeer(socket, hostKey);
      peer.done = script(peer).catch((e: unknown) => {
        peer.scriptError = e;
      });
      fake.peers.push(peer);
      fake.waiting.shift()?.(peer);
    });
    return fake;
  }

  /** The first connection's peer (waits for it). */
  firstPeer(): Promise<ServerPeer> {
    const p = this.peers[0];
    return p ? Promise.resolve(p) : new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    for (const p of this.peers) p.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
