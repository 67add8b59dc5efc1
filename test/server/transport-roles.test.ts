/**
 * The server role of the transport against our own client: every host key type and signature
 * algorithm, every key exchange method and cipher/MAC, strict kex, ext-info with
 * server-sig-algs, and key re-exchange started by either side.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { CIPHERS, DEFAULT_MACS } from "../../src/ssh/crypto/algorithms.js";
import { KEX_METHODS } from "../../src/ssh/kex/methods.js";
import { generateEd25519Key, parsePrivateKey } from "../../src/ssh/keys/private-key.js";
import type { Transport } from "../../src/ssh/transport/transport.js";
import { VECTORS } from "../keys/fixtures.js";
import { randomBytes, startTestServer, type TestServer } from "./helpers.js";

const ecdsa = parsePrivateKey(readFileSync(join(VECTORS, "base", "ecdsa256"), "utf8"));
const rsa = parsePrivateKey(readFileSync(join(VECTORS, "base", "rsa2048"), "utf8"));
const ed = generateEd25519Key("host");
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const transportOf = (ssh: object) => (ssh as unknown as { transport: Transport }).transport;

describe("server transport role", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      hostKeys: [ed, ecdsa, readFileSync(join(VECTORS, "base", "rsa2048"), "utf8")],
      algorithms: { kex: Object.keys(KEX_METHODS), cipher: Object.keys(CIPHERS), mac: [...DEFAULT_MACS, "hmac-sha1", "hmac-sha1-etm@openssh.com"] },
    });
  });
  afterAll(() => t?.stop());

  it("reports one fingerprint per host key", () => {
    expect(t.server.hostKeyFingerprints).toEqual([ed.publicKey.fingerprint, ecdsa.publicKey.fingerprint, rsa.publicKey.fingerprint]);
  });

  for (const [alg, key] of [["ssh-ed25519", ed], ["ecdsa-sha2-nistp256", ecdsa], ["rsa-sha2-256", rsa], ["rsa-sha2-512", rsa]] as const) {
    it(`signs the exchange hash with ${alg}`, async () => {
      const c = await t.connect({ algorithms: { serverHostKey: [alg] }, hostKeys: { fingerprints: [key.publicKey.fingerprint] } });
      expect(c.ssh.algorithms.serverHostKey).toBe(alg);
      expect(c.ssh.hostKey.fingerprint).toBe(key.publicKey.fingerprint);
      expect(await c.realpath(".")).toBe("/");
      await c.close();
    });
  }

  it("refuses a client that trusts none of its keys", async () => {
    const other = generateEd25519Key();
    const err = await t.connect({ hostKeys: { fingerprints: [other.publicKey.fingerprint] } }).catch((e) => e);
    expect(err.code).toBe("HOST_KEY_MISMATCH");
  });

  for (const kex of Object.keys(KEX_METHODS)) {
    it(`runs key exchange ${kex}`, { timeout: 30_000 }, async () => {
      const c = await t.connect({ algorithms: { kex: [kex] } });
      expect(c.ssh.algorithms.kex).toBe(kex);
      await c.writeFile("/kex.txt", kex);
      expect(new TextDecoder().decode(await c.readFile("/kex.txt"))).toBe(kex);
      await c.close();
    });
  }

  for (const cipher of Object.keys(CIPHERS)) {
    it(`carries data with ${cipher}`, async () => {
      const c = await t.connect({ algorithms: { cipher: [cipher] } });
      expect(c.ssh.algorithms.cipherClientToServer).toBe(cipher);
      const data = randomBytes(300_000);
      await c.writeFile(`/${cipher}`, data);
      expect(sha256(await c.readFile(`/${cipher}`))).toBe(sha256(data));
      await c.close();
    });
  }

  for (const mac of [...DEFAULT_MACS, "hmac-sha1"]) {
    it(`carries data with aes128-ctr and ${mac}`, async () => {
      const c = await t.connect({ algorithms: { cipher: ["aes128-ctr"], mac: [mac] } });
      expect(c.ssh.algorithms.macServerToClient).toBe(mac);
      await c.writeFile(`/${mac}`, "m");
      expect(new TextDecoder().decode(await c.readFile(`/${mac}`))).toBe("m");
      await c.close();
    });
  }

  it("negotiates strict kex and sends server-sig-algs in EXT_INFO", async () => {
    const c = await t.connect();
    expect(c.ssh.strictKex).toBe(true);
    expect(transportOf(c.ssh).serverSigAlgs).toEqual(expect.arrayContaining(["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256", "ecdsa-sha2-nistp256"]));
    expect(transportOf(c.ssh).serverSigAlgs).not.toContain("ssh-rsa");
    await c.close();
  });
});

describe("re-exchange", () => {
  const MiB = 1024 * 1024;
  const LIMIT = 1 * MiB;
  const SIZE = 8 * MiB;
  const CHUNK = 256 * 1024;

  /**
   * SIZE up then SIZE down, one CHUNK at a time. The side with the byte limit starts an exchange
   * once LIMIT bytes went one way under the current keys; the bytes that still use those keys
   * after that are what the peer had already sent before it saw our KEXINIT, plus what was held
   * back. With one CHUNK outstanding that is at most a CHUNK each, so no key carries more than
   * LIMIT + 2 * CHUNK in a direction and each direction needs ceil(SIZE / that) keys, sharing at
   * most one at the turn. (Pipelined, both amounts are bounded only by the channel window, and
   * they depend on how the runtime batches socket and file I/O: a key carried up to 5 MiB on
   * Bun against about 2.5 MiB on Node, so a count there would measure the runtime.)
   */
  async function serialRoundTrip(t: TestServer, rekeyAfterBytes?: number): Promise<number> {
    const c = await t.connect(rekeyAfterBytes ? { rekeyAfterBytes } : {});
    const data = randomBytes(SIZE);
    const f = await c.open("/serial", "w+");
    for (let o = 0; o < SIZE; o += CHUNK) await f.write(data.subarray(o, o + CHUNK), o);
    const back = new Uint8Array(SIZE);
    for (let o = 0; o < SIZE; o += CHUNK) back.set(await f.read(o, CHUNK), o);
    await f.close();
    expect(sha256(back)).toBe(sha256(data));
    const count = c.ssh.keyExchanges;
    c.ssh.rekey();
    expect(await c.exists("/serial")).toBe(true);
    expect(c.ssh.keyExchanges).toBeGreaterThan(count);
    await c.close();
    return count;
  }
  const leastKeys = 2 * Math.ceil(SIZE / (LIMIT + 2 * CHUNK)) - 1;

  it("the client starts one after rekeyAfterBytes, the server follows", { timeout: 60_000 }, async () => {
    const t = await startTestServer();
    try {
      expect(await serialRoundTrip(t, LIMIT)).toBeGreaterThanOrEqual(leastKeys);
    } finally {
      await t.stop();
    }
  });

  it("the server starts one after its own byte limit, the client follows", { timeout: 60_000 }, async () => {
    const t = await startTestServer({ limits: { rekeyAfterBytes: LIMIT, authFailureDelayMs: 20 } });
    try {
      // The client's own limit is 1 GiB: every exchange after the first came from the server.
      expect(await serialRoundTrip(t)).toBeGreaterThanOrEqual(leastKeys);
    } finally {
      await t.stop();
    }
  });

  it("pipelined transfers carry on across exchanges either side starts", { timeout: 60_000 }, async () => {
    const t = await startTestServer({ limits: { rekeyAfterBytes: LIMIT, authFailureDelayMs: 20 } });
    try {
      const c = await t.connect({ rekeyAfterBytes: LIMIT });
      const data = randomBytes(SIZE);
      await c.writeFile("/big", data);
      const afterUpload = c.ssh.keyExchanges;
      expect(afterUpload).toBeGreaterThan(1);
      expect(sha256(await c.readFile("/big"))).toBe(sha256(data));
      expect(c.ssh.keyExchanges).toBeGreaterThan(afterUpload);
      await c.close();
    } finally {
      await t.stop();
    }
  });

  it("counts what an exchange held back against the keys it was sent with", async () => {
    const t = await startTestServer();
    try {
      const c = await t.connect({ rekeyAfterBytes: LIMIT });
      const transport = transportOf(c.ssh);
      const before = c.ssh.keyExchanges;
      c.ssh.rekey();
      // SSH_MSG_IGNORE, 2 MiB in all, sent while the exchange runs: held back, then sent under
      // the new keys, which have therefore carried more than the limit before they are a
      // microsecond old. The next packet must start another exchange.
      const ignore = new Uint8Array(5 + 32_000);
      ignore[0] = 2;
      new DataView(ignore.buffer).setUint32(1, 32_000);
      for (let sent = 0; sent < 2 * LIMIT; sent += ignore.length) transport.send(ignore);
      // Key exchanges run real crypto: vi.waitFor's 1 s default is tight on two loaded cores.
      await vi.waitFor(() => expect(c.ssh.keyExchanges).toBeGreaterThan(before), { timeout: 10_000 });
      // (A transport that checks its limits only when a packet moves gets one here.)
      expect(await c.exists("/")).toBe(true);
      await vi.waitFor(() => expect(c.ssh.keyExchanges).toBe(before + 2), { timeout: 10_000 });
      await c.close();
    } finally {
      await t.stop();
    }
  });
});
