/**
 * The client against scripted hostile servers (test/support/fake-server.ts). Whatever a server
 * does — garbage instead of a banner, absurd packet lengths, broken key exchanges, forged
 * signatures, tampered ciphertext, stalling — connectSsh must end quickly (under a second, well
 * before its ready timeout) with a typed SshError carrying a meaningful code, and close its
 * socket. A positive test first shows the fake server is faithful, so the failures mean something.
 */
import { once } from "node:events";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { ConnectionError, HostKeyError, ProtocolError, SshError } from "../src/errors.js";
import { connectSsh, type SshConnectOptions } from "../src/ssh/client.js";
import { generateEd25519Key } from "../src/ssh/keys/private-key.js";
import { DISCONNECT_REASON, MSG } from "../src/ssh/messages.js";
import { MAX_PACKET_LENGTH } from "../src/ssh/transport/framing.js";
import { STRICT_KEX_C } from "../src/ssh/transport/kexinit.js";
import { CLIENT_VERSION } from "../src/ssh/transport/version.js";
import { SshWriter } from "../src/ssh/wire/writer.js";
import { FakeSshServer, type Script, type ServerPeer } from "./support/fake-server.js";

const PASSWORD = "correct horse";
const serverKey = generateEd25519Key("hostile-test-server");
/** A known_hosts path that does not exist, so the user's own file never matters. */
const NO_KNOWN_HOSTS = join(tmpdir(), `pure-sftp-hostile-${process.pid}-no-known-hosts`);

let server: FakeSshServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function optionsFor(s: FakeSshServer, extra: Partial<SshConnectOptions> = {}): SshConnectOptions {
  return {
    host: s.host,
    port: s.port,
    username: "alice",
    password: PASSWORD,
    hostKeys: { fingerprints: [serverKey.publicKey.fingerprint], knownHostsFile: NO_KNOWN_HOSTS },
    // Far above the one-second budget: a failure that only comes from this timeout fails the test.
    readyTimeoutMs: 5000,
    ...extra,
  };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Starts a server running `script`, connects, and checks the common contract: the connect fails
 * with an SshError in under a second, and the server sees the client's socket close.
 */
async function hostile(script: Script, extra: Partial<SshConnectOptions> = {}, hostKey = serverKey) {
  server = await FakeSshServer.start(script, { hostKey });
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
  await within(peer.clientGone, 1000, "the client should close its socket");
  expect(error).toBeInstanceOf(SshError);
  expect(elapsed).toBeLessThan(1000);
  return { error: error as SshError, elapsed, peer };
}

/** Banner, client banner, then `rest`; keeps the connection open until the client hangs up. */
const afterBanners = (rest: (peer: ServerPeer) => Promise<unknown>): Script => async (peer) => {
  void peer.sendBanner();
  await peer.readClientVersion();
  await rest(peer);
  await peer.clientGone;
};

/** A TCP connection to the fake server as a Web Streams pair, for the `stream` option. */
async function webStreamTo(s: FakeSshServer): Promise<NonNullable<SshConnectOptions["stream"]>> {
  const socket = connect(s.port, s.host);
  await once(socket, "connect");
  return Duplex.toWeb(socket) as unknown as NonNullable<SshConnectOptions["stream"]>;
}

const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
const serviceAccept = () => new SshWriter(32).byte(MSG.SERVICE_ACCEPT).string("ssh-userauth").finish().slice();

describe("the fake server is faithful", () => {
  const combos: [string, string, string | undefined][] = [
    ["curve25519-sha256", "chacha20-poly1305@openssh.com", undefined],
    ["mlkem768x25519-sha256", "aes128-gcm@openssh.com", undefined],
    ["ecdh-sha2-nistp256", "aes128-ctr", "hmac-sha2-256-etm@openssh.com"],
    ["diffie-hellman-group14-sha256", "aes256-ctr", "hmac-sha2-512"],
  ];
  for (const [kex, cipher, mac] of combos) {
    it(`completes ${kex} + ${cipher}${mac ? ` + ${mac}` : ""}, strict kex, ext-info and password auth`, async () => {
      let user: string | undefined;
      server = await FakeSshServer.start(async (peer) => {
        void peer.sendBanner();
        await peer.readClientVersion();
        await peer.doKex({ strict: true, extInfo: true, kex: [kex], ciphers: [cipher], macs: mac ? [mac] : undefined });
        user = await peer.authAcceptPassword(PASSWORD);
        await peer.clientGone;
      }, { hostKey: serverKey });
      const conn = await connectSsh(optionsFor(server));
      expect(conn.strictKex).toBe(true);
      expect(conn.serverVersion).toBe("SSH-2.0-FakeSshServer_1.0");
      expect(conn.hostKey.fingerprint).toBe(serverKey.publicKey.fingerprint);
      expect(conn.algorithms).toMatchObject({ kex, cipherClientToServer: cipher, cipherServerToClient: cipher, macServerToClient: mac ?? "" });
      const peer = await server.firstPeer();
      expect(user).toBe("alice");
      expect(peer.clientVersion).toBe(CLIENT_VERSION);
      expect(peer.clientKexInit?.kex).toContain(STRICT_KEX_C);
      expect(peer.strictKex).toBe(true);
      await conn.close();
      await within(peer.clientGone, 1000, "the client should close its socket");
      expect(await peer.clientDisconnect()).toMatchObject({ reason: DISCONNECT_REASON.BY_APPLICATION });
      expect(peer.scriptError).toBeUndefined();
    });
  }

  it("tolerates IGNORE before NEWKEYS, and before KEXINIT, without strict kex", async () => {
    server = await FakeSshServer.start(async (peer) => {
      void peer.sendBanner();
      await peer.readClientVersion();
      void peer.sendIgnore("before kexinit");
      await peer.doKex({ strict: false, beforeNewKeys: () => void peer.sendIgnore("before newkeys") });
      await peer.authAcceptPassword(PASSWORD);
      await peer.clientGone;
    }, { hostKey: serverKey });
    const conn = await connectSsh(optionsFor(server));
    expect(conn.strictKex).toBe(false);
    await conn.close();
    expect((await server.firstPeer()).scriptError).toBeUndefined();
  });
});

describe("garbage instead of a banner", () => {
  it("an HTTP response, then close", async () => {
    const { error } = await hostile(async (peer) => {
      await peer.sendRaw("HTTP/1.1 400 Bad Request\r\n\r\n");
      peer.end();
    });
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.code).toBe("CONNECTION_LOST");
  });

  it("300 bytes without a newline", async () => {
    const { error } = await hostile(async (peer) => {
      await peer.sendRaw("A".repeat(300));
      await peer.clientGone;
    });
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe("BAD_BANNER");
  });

  it("endless short lines before any banner", async () => {
    const { error } = await hostile(async (peer) => {
      await peer.sendRaw("hello\r\n".repeat(200));
      await peer.clientGone;
    });
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe("BAD_BANNER");
  });

  it("an SSH-1.5 banner", async () => {
    const { error } = await hostile(async (peer) => {
      await peer.sendRaw("SSH-1.5-old\r\n");
      await peer.clientGone;
    });
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe("PROTOCOL_VERSION");
    expect(error.message).toContain("1.5");
  });

  it("nothing at all, then close", async () => {
    const { error } = await hostile(async (peer) => peer.end());
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.code).toBe("CONNECTION_LOST");
  });
});

describe("absurd packet lengths in the first packet", () => {
  // Only the 4-byte length (and a few bytes) is ever sent and the connection stays open: a client
  // that trusted the length would wait to buffer gigabytes and hit the 5 s ready timeout instead.
  for (const length of [2 ** 31, 0xffffffff, MAX_PACKET_LENGTH + 1, 0, 4]) {
    it(`packet_length ${length}`, async () => {
      const { error, peer } = await hostile(async (p) => {
        await p.sendBanner();
        await p.sendRaw(Uint8Array.from([...u32(length), 10, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        await p.clientGone;
      });
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error.code).toBe("BAD_PACKET_LENGTH");
      expect(error.message).toContain(String(length));
      // The client's own KEXINIT came before its (unencrypted) DISCONNECT.
      await peer.readClientVersion();
      expect(await peer.clientDisconnect()).toMatchObject({ reason: DISCONNECT_REASON.PROTOCOL_ERROR });
    });
  }
});

describe("broken key exchanges", () => {
  it("no common cipher: the error lists both sides' offers", async () => {
    const { error, peer } = await hostile(afterBanners(async (p) => p.sendKexInit({ ciphers: ["3des-cbc", "blowfish-cbc"] })));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe("KEX_NO_COMMON_ALGORITHM");
    expect(error.message).toContain("chacha20-poly1305@openssh.com");
    expect(error.message).toContain("3des-cbc,blowfish-cbc");
    expect(await peer.clientDisconnect()).toBeDefined();
  });

  it("a bad host-key signature over H", async () => {
    const { error, peer } = await hostile(afterBanners((p) => p.doKex({ corruptSignature: true })));
    expect(error).toBeInstanceOf(HostKeyError);
    expect(error.code).toBe("HOST_KEY_BAD_SIGNATURE");
    expect((error as HostKeyError).fingerprint).toBe(serverKey.publicKey.fingerprint);
    expect(await peer.clientDisconnect()).toMatchObject({ reason: DISCONNECT_REASON.HOST_KEY_NOT_VERIFIABLE });
  });

  it("the pinned host key, but H signed by another key", async () => {
    const impostor = generateEd25519Key("impostor");
    const { error } = await hostile(afterBanners((p) => p.doKex({ signWith: impostor })));
    expect(error).toBeInstanceOf(HostKeyError);
    expect(error.code).toBe("HOST_KEY_BAD_SIGNATURE");
  });

  it("a host key that is not the pinned one", async () => {
    const other = generateEd25519Key("impostor");
    const { error } = await hostile(afterBanners((p) => p.doKex()), {}, other);
    expect(error).toBeInstanceOf(HostKeyError);
    expect(error.code).toBe("HOST_KEY_MISMATCH");
    expect((error as HostKeyError).fingerprint).toBe(other.publicKey.fingerprint);
    expect(error.message).toContain(other.publicKey.fingerprint);
  });

  it("a host key that is not known at all", async () => {
    const { error } = await hostile(afterBanners((p) => p.doKex()), { hostKeys: { knownHostsFile: NO_KNOWN_HOSTS } });
    expect(error).toBeInstanceOf(HostKeyError);
    expect(error.code).toBe("HOST_KEY_UNKNOWN");
    expect((error as HostKeyError).fingerprint).toBe(serverKey.publicKey.fingerprint);
    expect(error.message).toContain(serverKey.publicKey.fingerprint);
  });

  it("strict kex: an IGNORE before the first NEWKEYS", async () => {
    const { error } = await hostile(afterBanners((p) => p.doKex({ strict: true, beforeNewKeys: () => void p.sendIgnore("terrapin") })));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(["STRICT_KEX_VIOLATION", "UNEXPECTED_MESSAGE"]).toContain(error.code);
  });

  it("strict kex: the server's KEXINIT is not its first packet", async () => {
    const { error } = await hostile(afterBanners(async (p) => {
      void p.sendIgnore("before kexinit");
      await p.doKex({ strict: true });
    }));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe("STRICT_KEX_VIOLATION");
  });

  it("NEWKEYS before any KEXINIT", async () => {
    const { error } = await hostile(afterBanners((p) => p.sendPacket(Uint8Array.of(MSG.NEWKEYS))));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(/NEWKEYS outside a key exchange/);
  });

  it("NEWKEYS after KEXINIT but before the key-exchange reply", async () => {
    const { error } = await hostile(afterBanners(async (p) => {
      p.sendKexInit();
      await p.expect(MSG.KEXINIT);
      await p.expect(30); // KEX_ECDH_INIT
      await p.sendPacket(Uint8Array.of(MSG.NEWKEYS));
    }));
    // Before the fix the read loop waited at NEWKEYS for a reply that could never be read.
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe("UNEXPECTED_MESSAGE");
    expect(error.message).toMatch(/NEWKEYS before completing the key exchange/);
  });

  it("a second KEXINIT during the key exchange", async () => {
    const { error } = await hostile(afterBanners(async (p) => {
      p.sendKexInit({ strict: true });
      p.sendKexInit({ strict: true });
    }));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(/second KEXINIT/);
  });

  it("a kex message (31) before any KEXINIT", async () => {
    const { error } = await hostile(afterBanners((p) => p.sendPacket(Uint8Array.of(31, 0, 0, 0, 0))));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(/key-exchange message 31 outside a key exchange/);
  });

  it("a kex message (31) after the key exchange is over", async () => {
    const { error } = await hostile(afterBanners(async (p) => {
      await p.doKex({ strict: true });
      await p.expect(MSG.SERVICE_REQUEST);
      await p.sendPacket(Uint8Array.of(31, 0, 0, 0, 0));
    }));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(/key-exchange message 31 outside a key exchange/);
  });
});

describe("tampered packets after NEWKEYS", () => {
  const modes: [string, string | undefined][] = [
    ["chacha20-poly1305@openssh.com", undefined],
    ["aes128-ctr", "hmac-sha2-256-etm@openssh.com"],
    ["aes128-gcm@openssh.com", undefined],
  ];
  for (const [cipher, mac] of modes) {
    for (const where of ["ciphertext", "tag"] as const) {
      it(`${cipher}${mac ? ` + ${mac}` : ""}: one flipped bit in the ${where}`, async () => {
        const { error, peer } = await hostile(afterBanners(async (p) => {
          await p.doKex({ strict: true, ciphers: [cipher], macs: mac ? [mac] : undefined });
          await p.expect(MSG.SERVICE_REQUEST);
          const wire = await p.encodePacket(serviceAccept());
          // Byte 6 is encrypted payload in every mode (bytes 0-3 are the length, clear or not).
          const at = where === "tag" ? wire.length - 1 : 6;
          wire[at] = wire[at]! ^ 0x10;
          await p.sendRaw(wire);
        }));
        expect(peer.negotiated?.cipherS2C).toBe(cipher);
        expect(error).toBeInstanceOf(ProtocolError);
        expect(error.code).toBe("BAD_MAC");
        expect(await peer.clientDisconnect()).toMatchObject({ reason: DISCONNECT_REASON.MAC_ERROR });
      });
    }
  }

  it("a later operation fails once a tampered packet arrives after login", async () => {
    let corrupt!: () => Promise<void>;
    server = await FakeSshServer.start(async (peer) => {
      void peer.sendBanner();
      await peer.readClientVersion();
      await peer.doKex({ strict: true });
      await peer.authAcceptPassword(PASSWORD);
      corrupt = async () => {
        const wire = await peer.encodePacket(new SshWriter(16).byte(MSG.IGNORE).string("x").finish().slice());
        wire[6] = wire[6]! ^ 1;
        await peer.sendRaw(wire);
      };
      await peer.clientGone;
    }, { hostKey: serverKey });
    const conn = await connectSsh(optionsFor(server));
    const closed = new Promise<SshError | undefined>((resolve) => conn.onClose(resolve));
    const started = performance.now();
    await corrupt();
    const err = await within(closed, 1000, "the connection should fail");
    expect(performance.now() - started).toBeLessThan(1000);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err?.code).toBe("BAD_MAC");
    expect(conn.closed).toBe(true);
    await expect(conn.openSession()).rejects.toMatchObject({ code: "BAD_MAC" });
    await within((await server.firstPeer()).clientGone, 1000, "the client should close its socket");
  });
});

describe("servers that hang up or stall", () => {
  it("DISCONNECT with reason 2 before the key exchange", async () => {
    const { error } = await hostile(afterBanners((p) => p.sendDisconnect(DISCONNECT_REASON.PROTOCOL_ERROR, "go away, you smell of tests")));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.code).toBe("DISCONNECTED");
    expect((error as ConnectionError).reason).toBe(2);
    expect(error.message).toContain("go away, you smell of tests");
  });

  it("DISCONNECT with reason 2 after the key exchange (encrypted)", async () => {
    const { error } = await hostile(afterBanners(async (p) => {
      await p.doKex({ strict: true });
      await p.expect(MSG.SERVICE_REQUEST);
      await p.sendDisconnect(DISCONNECT_REASON.PROTOCOL_ERROR, "no service for you");
    }));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.code).toBe("DISCONNECTED");
    expect((error as ConnectionError).reason).toBe(2);
    expect(error.message).toContain("no service for you");
  });

  it("closing the socket in the middle of the key exchange", async () => {
    const { error } = await hostile(afterBanners(async (p) => {
      p.sendKexInit();
      await p.expect(MSG.KEXINIT);
      await p.expect(30); // KEX_ECDH_INIT
      p.end();
    }));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.code).toBe("CONNECTION_LOST");
  });

  it("one byte every 200 ms, forever: readyTimeoutMs ends it", async () => {
    const banner = new TextEncoder().encode(`SSH-2.0-${"slow".repeat(60)}\r\n`);
    const { error, elapsed } = await hostile((p) => p.trickle(banner, 200), { readyTimeoutMs: 500 });
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.code).toBe("TIMEOUT");
    expect(elapsed).toBeGreaterThanOrEqual(490);
  });

  it("an AbortSignal aborted during the handshake", async () => {
    const ac = new AbortController();
    const { error } = await hostile(afterBanners(async (p) => {
      await p.expect(MSG.KEXINIT);
      ac.abort();
    }), { signal: ac.signal });
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.code).toBe("ABORTED");
  });

  it("an AbortSignal aborted before connecting", async () => {
    server = await FakeSshServer.start(async (peer) => void peer.sendBanner(), { hostKey: serverKey });
    const started = performance.now();
    const err = await connectSsh(optionsFor(server, { signal: AbortSignal.abort() })).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe("ABORTED");
  });
});

describe("over a caller-supplied stream (the `stream` option)", () => {
  it("connects to the faithful fake server", async () => {
    server = await FakeSshServer.start(async (peer) => {
      void peer.sendBanner();
      await peer.readClientVersion();
      await peer.doKex({ strict: true });
      await peer.authAcceptPassword(PASSWORD);
      await peer.clientGone;
    }, { hostKey: serverKey });
    const conn = await connectSsh(optionsFor(server, { stream: await webStreamTo(server) }));
    expect(conn.strictKex).toBe(true);
    await conn.close();
    await within((await server.firstPeer()).clientGone, 1000, "the client should close its stream");
  });

  it("a tampered packet fails the connect with BAD_MAC", async () => {
    server = await FakeSshServer.start(afterBanners(async (p) => {
      await p.doKex({ strict: true });
      await p.expect(MSG.SERVICE_REQUEST);
      const wire = await p.encodePacket(serviceAccept());
      wire[6] = wire[6]! ^ 1;
      await p.sendRaw(wire);
    }), { hostKey: serverKey });
    const stream = await webStreamTo(server);
    const started = performance.now();
    const err = await connectSsh(optionsFor(server, { stream })).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe("BAD_MAC");
    await within((await server.firstPeer()).clientGone, 1000, "the client should close its stream");
  });

  it("an AbortSignal aborted before connecting: ABORTED, and nothing is sent", async () => {
    server = await FakeSshServer.start(async (peer) => {
      void peer.sendBanner();
      await peer.clientGone;
    }, { hostKey: serverKey });
    const stream = await webStreamTo(server);
    // Before the fix this was ProtocolError INTERNAL: the abort listener was added too late.
    const err = await connectSsh(optionsFor(server, { stream, signal: AbortSignal.abort() })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe("ABORTED");
    const peer = await server.firstPeer();
    await within(peer.clientGone, 1000, "the client should close its stream");
    await expect(peer.readClientVersion()).rejects.toThrow(/closed before sending its version/);
  });
});
