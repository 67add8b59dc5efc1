/**
 * The client against scripted hostile servers after the first key exchange and around it:
 * tampered ciphertext, absurd lengths under encryption, servers that hang up, stall or trickle
 * one byte at a time (ended by readyTimeoutMs before login, by keepalives after it), and 200
 * servers that never answer. Each ends in a typed SshError and a closed socket, within a bound.
 */
import { describe, expect, it } from "vitest";
import { ConnectionError, ProtocolError, type SshError } from "../../src/errors.js";
import { connectSsh } from "../../src/ssh/client.js";
import { DISCONNECT_REASON, MSG } from "../../src/ssh/messages.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import {
  PASSWORD, PROMPTLY_MS, afterBanners, afterLogin, closedAfterLogin, hostile, optionsFor, serviceAccept, startFake, u32, useFakeServer,
  webStreamTo, within,
} from "./helpers.js";

useFakeServer();

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
    const server = await startFake(async (peer) => {
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
    });
    const conn = await connectSsh(optionsFor(server));
    const closed = new Promise<SshError | undefined>((resolve) => conn.onClose(resolve));
    const started = performance.now();
    await corrupt();
    const err = await within(closed, PROMPTLY_MS, "the connection should fail");
    expect(performance.now() - started).toBeLessThan(PROMPTLY_MS);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err?.code).toBe("BAD_MAC");
    expect(conn.closed).toBe(true);
    await expect(conn.openSession()).rejects.toMatchObject({ code: "BAD_MAC" });
    await within((await server.firstPeer()).clientGone, PROMPTLY_MS, "the client should close its socket");
  });
});

describe("absurd lengths after NEWKEYS", () => {
  // With EtM MACs and AES-GCM the length travels in the clear: a hostile server can set it exactly.
  const modes: [string, string | undefined][] = [["aes128-ctr", "hmac-sha2-256-etm@openssh.com"], ["aes128-gcm@openssh.com", undefined]];
  for (const [cipher, mac] of modes) {
    for (const [length, why] of [[2 ** 31, "out of bounds"], [0xffffffff, "out of bounds"], [1001, "not a multiple"]] as const) {
      it(`${cipher}: packet_length ${length} (${why})`, async () => {
        const { error, peer } = await hostile(afterBanners(async (p) => {
          await p.doKex({ strict: true, ciphers: [cipher], macs: mac ? [mac] : undefined });
          await p.expect(MSG.SERVICE_REQUEST);
          await p.sendRaw(Uint8Array.from([...u32(length), ...new Uint8Array(60)]));
        }));
        expect(error).toBeInstanceOf(ProtocolError);
        expect(error.code).toBe("BAD_PACKET_LENGTH");
        expect(error.message).toContain(why);
        expect(await peer.clientDisconnect()).toMatchObject({ reason: DISCONNECT_REASON.PROTOCOL_ERROR });
      });
    }
  }

  it("a name-list length of 2^32-1 inside USERAUTH_FAILURE", async () => {
    const { error } = await hostile(afterBanners(async (p) => {
      await p.doKex({ strict: true });
      await p.expect(MSG.SERVICE_REQUEST);
      await p.sendPacket(serviceAccept());
      await p.expect(MSG.USERAUTH_REQUEST);
      await p.sendPacket(Uint8Array.from([MSG.USERAUTH_FAILURE, 0xff, 0xff, 0xff, 0xff, ...new TextEncoder().encode("password"), 0]));
    }));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe("PROTOCOL_ERROR");
    expect(error.message).toMatch(/truncated USERAUTH_FAILURE/);
  });

  it("a SERVICE_ACCEPT for another service", async () => {
    const { error } = await hostile(afterBanners(async (p) => {
      await p.doKex({ strict: true });
      await p.expect(MSG.SERVICE_REQUEST);
      await p.sendPacket(new SshWriter(32).byte(MSG.SERVICE_ACCEPT).string("ssh-connection").finish().slice());
    }));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(/SERVICE_ACCEPT for "ssh-connection"/);
  });

  it("a DISCONNECT whose description claims 2^31 bytes", async () => {
    const { error } = await hostile(afterBanners(async (p) => {
      await p.doKex({ strict: true });
      await p.expect(MSG.SERVICE_REQUEST);
      await p.sendPacket(Uint8Array.from([MSG.DISCONNECT, 0, 0, 0, 2, 0x80, 0, 0, 0, 65, 66]));
    }));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(/truncated/);
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

  it("the KEXINIT trickled one byte every 20 ms: readyTimeoutMs ends it", async () => {
    const { error, elapsed } = await hostile(afterBanners(async (p) => {
      await p.trickle(await p.encodePacket(p.kexInit({ strict: true }).payload), 20);
    }), { readyTimeoutMs: 500 });
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.code).toBe("TIMEOUT");
    expect(elapsed).toBeGreaterThanOrEqual(490);
  });

  it("the key-exchange reply never comes: readyTimeoutMs ends it", async () => {
    const { error, elapsed } = await hostile(afterBanners(async (p) => {
      p.sendKexInit({ strict: true });
      await p.expect(MSG.KEXINIT);
      await p.expect(30); // KEX_ECDH_INIT, never answered
    }), { readyTimeoutMs: 300 });
    expect(error.code).toBe("TIMEOUT");
    expect(elapsed).toBeGreaterThanOrEqual(290);
  });

  it("after login, a packet trickled one byte every 20 ms and keepalives unanswered: KEEPALIVE_TIMEOUT", async () => {
    const { error, elapsed } = await closedAfterLogin(afterLogin(async (p) => {
      await p.trickle(await p.encodePacket(new SshWriter(2048).byte(MSG.IGNORE).string(new Uint8Array(2000)).finish().slice()), 20);
    }), { keepaliveIntervalMs: 100 });
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error?.code).toBe("KEEPALIVE_TIMEOUT");
    expect(elapsed).toBeGreaterThanOrEqual(350);
  });

  it("after login without keepalives, a trickling server holds the connection until close(), which ends it", async () => {
    // As ssh(1) with ServerAliveInterval 0: nothing is wrong with a slow server as such. The
    // caller's close() (or keepaliveIntervalMs, above) is what bounds it.
    const server = await startFake(afterLogin(async (p) => {
      await p.trickle(await p.encodePacket(new SshWriter(2048).byte(MSG.IGNORE).string(new Uint8Array(2000)).finish().slice()), 20);
    }));
    const conn = await connectSsh(optionsFor(server));
    const opening = conn.openSession().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 300));
    expect(conn.closed).toBe(false);
    const started = performance.now();
    await conn.close();
    const err = (await within(opening, PROMPTLY_MS, "the pending open should fail")) as SshError;
    expect(performance.now() - started).toBeLessThan(PROMPTLY_MS);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.code).toBe("CONNECTION_CLOSED");
    await within((await server.firstPeer()).clientGone, PROMPTLY_MS, "the client should close its socket");
  });

  it("200 connections to a server that accepts and never speaks: each ends with TIMEOUT and closes", async () => {
    const server = await startFake(async (peer) => void (await peer.clientGone));
    const started = performance.now();
    const errors = await Promise.all(Array.from({ length: 200 }, () =>
      connectSsh(optionsFor(server, { readyTimeoutMs: 500 })).then(() => undefined, (e: unknown) => e as SshError)));
    // Concurrently: one after another they would take 100 s. (2 s, once, took 2.5 s at load average 9.)
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(new Set(errors.map((e) => e?.code))).toEqual(new Set(["TIMEOUT"]));
    // Every connection reaches the server, but a busy event loop can accept the last of them
    // after their clients gave up (107 of 200 were in when the clients were done, once).
    await expect.poll(() => server.peers.length).toBe(200);
    await within(Promise.all(server.peers.map((p) => p.clientGone)), PROMPTLY_MS, "every client socket should close");
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
    const server = await startFake(async (peer) => void peer.sendBanner());
    const started = performance.now();
    const err = await connectSsh(optionsFor(server, { signal: AbortSignal.abort() })).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(PROMPTLY_MS);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe("ABORTED");
  });
});

describe("over a caller-supplied stream (the `stream` option)", () => {
  it("connects to the faithful fake server", async () => {
    const server = await startFake(async (peer) => {
      void peer.sendBanner();
      await peer.readClientVersion();
      await peer.doKex({ strict: true });
      await peer.authAcceptPassword(PASSWORD);
      await peer.clientGone;
    });
    const conn = await connectSsh(optionsFor(server, { stream: await webStreamTo(server) }));
    expect(conn.strictKex).toBe(true);
    await conn.close();
    await within((await server.firstPeer()).clientGone, PROMPTLY_MS, "the client should close its stream");
  });

  it("a tampered packet fails the connect with BAD_MAC", async () => {
    const server = await startFake(afterBanners(async (p) => {
      await p.doKex({ strict: true });
      await p.expect(MSG.SERVICE_REQUEST);
      const wire = await p.encodePacket(serviceAccept());
      wire[6] = wire[6]! ^ 1;
      await p.sendRaw(wire);
    }));
    const stream = await webStreamTo(server);
    const started = performance.now();
    const err = await connectSsh(optionsFor(server, { stream })).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(PROMPTLY_MS);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe("BAD_MAC");
    await within((await server.firstPeer()).clientGone, PROMPTLY_MS, "the client should close its stream");
  });

  it("an AbortSignal aborted before connecting: ABORTED, and nothing is sent", async () => {
    const server = await startFake(async (peer) => {
      void peer.sendBanner();
      await peer.clientGone;
    });
    const stream = await webStreamTo(server);
    // Before the fix this was ProtocolError INTERNAL: the abort listener was added too late.
    const err = await connectSsh(optionsFor(server, { stream, signal: AbortSignal.abort() })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe("ABORTED");
    const peer = await server.firstPeer();
    await within(peer.clientGone, PROMPTLY_MS, "the client should close its stream");
    await expect(peer.readClientVersion()).rejects.toThrow(/closed before sending its version/);
  });
});
