/**
 * The server role of the transport against our own client: every host key type and signature
 * algorithm, every key exchange method and cipher/MAC, strict kex, ext-info with
 * server-sig-algs, and key re-exchange started by either side.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

  async function roundTrip(t: TestServer, rekeyAfterBytes?: number) {
    const c = await t.connect(rekeyAfterBytes ? { rekeyAfterBytes } : {});
    const data = randomBytes(8 * MiB);
    await c.writeFile("/big", data);
    expect(sha256(await c.readFile("/big"))).toBe(sha256(data));
    c.ssh.rekey();
    expect(await c.exists("/big")).toBe(true);
    const count = c.ssh.keyExchanges;
    await c.close();
    return count;
  }

  it("the client starts one after rekeyAfterBytes, the server follows", { timeout: 60_000 }, async () => {
    const t = await startTestServer();
    try {
      expect(await roundTrip(t, 1 * MiB)).toBeGreaterThanOrEqual(8);
    } finally {
      await t.stop();
    }
  });

  it("the server starts one after its own byte limit, the client follows", { timeout: 60_000 }, async () => {
    const t = await startTestServer({ limits: { rekeyAfterBytes: 1 * MiB, authFailureDelayMs: 20 } });
    try {
      // The client's own limit is 1 GiB: every exchange beyond the first two came from the server.
      expect(await roundTrip(t)).toBeGreaterThanOrEqual(8);
    } finally {
      await t.stop();
    }
  });
});
