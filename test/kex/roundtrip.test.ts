import { describe, expect, it } from "vitest";
import { KEX_METHODS, DEFAULT_KEX, LEGACY_KEX } from "../../src/ssh/kex/methods.js";
import { dhGroupExchangeMethod } from "../../src/ssh/kex/dh-gex.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { KexMethod } from "../../src/ssh/kex/kex.js";
import { HOST_KEY_BLOB, INPUTS, SIGNATURE, dummyHostKey, ioPair } from "./helpers.js";

async function runPair(method: KexMethod) {
  const [cio, sio] = ioPair();
  const hostKey = dummyHostKey();
  const start = performance.now();
  const [client, server] = await Promise.all([method.client(cio, INPUTS), method.server(sio, INPUTS, hostKey)]);
  return { client, server, hostKey, ms: performance.now() - start, cio, sio };
}

describe("key exchange client ↔ server", () => {
  it("registers exactly the default and legacy methods", () => {
    expect(Object.keys(KEX_METHODS).sort()).toEqual([...DEFAULT_KEX, ...LEGACY_KEX].sort());
    for (const [name, m] of Object.entries(KEX_METHODS)) expect(m.name).toBe(name);
    expect(DEFAULT_KEX[0]).toBe("mlkem768x25519-sha256");
    for (const legacy of LEGACY_KEX) expect(DEFAULT_KEX).not.toContain(legacy);
  });

  for (const name of Object.keys(KEX_METHODS)) {
    it(`${name}: both sides agree and the client gets K_S and the signature`, async () => {
      const { client, server, hostKey, ms } = await runPair(KEX_METHODS[name]!);
      expect(Buffer.from(client.sharedSecret)).toEqual(Buffer.from(server.sharedSecret));
      expect(Buffer.from(client.exchangeHash)).toEqual(Buffer.from(server.exchangeHash));
      expect(Buffer.from(client.hostKey)).toEqual(HOST_KEY_BLOB);
      expect(Buffer.from(client.signature)).toEqual(SIGNATURE);
      expect(hostKey.signed).toHaveLength(1);
      expect(Buffer.from(hostKey.signed[0]!)).toEqual(Buffer.from(server.exchangeHash));
      expect(client.exchangeHash.length).toBe(KEX_METHODS[name]!.hash(new Uint8Array(0)).length);
      if (/group1[468]|group-exchange/.test(name)) console.log(`[timing] ${name}: ${ms.toFixed(0)} ms (both sides)`);
    });
  }

  it("two runs of the same method give different secrets", async () => {
    const a = await runPair(KEX_METHODS["curve25519-sha256"]!);
    const b = await runPair(KEX_METHODS["curve25519-sha256"]!);
    expect(Buffer.from(a.client.sharedSecret)).not.toEqual(Buffer.from(b.client.sharedSecret));
  });

  for (const n of [2048, 4096, 8192]) {
    it(`group exchange with n=${n} uses a ${n}-bit group`, async () => {
      const m = dhGroupExchangeMethod("diffie-hellman-group-exchange-sha256", (d) => sha256(d), { n });
      const { client, server, ms, sio } = await runPair(m);
      expect(Buffer.from(client.exchangeHash)).toEqual(Buffer.from(server.exchangeHash));
      // GROUP message: byte 31, mpint p (n/8 bytes + sign byte), mpint g.
      const pLen = Buffer.from(sio.sent[0]!).readUInt32BE(1);
      expect(pLen).toBe(n / 8 + 1);
      console.log(`[timing] gex n=${n}: ${ms.toFixed(0)} ms (both sides)`);
    });
  }
});
