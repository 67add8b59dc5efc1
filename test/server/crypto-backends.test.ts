/**
 * The embedded server and the client on different crypto backends: a pure (noble) server with a
 * native client and a native server with a pure client carry data with every cipher, each side
 * computing its own way (each reports its own implementations: the client's SshConnection.cryptoInfo,
 * the server's connections[].cryptoInfo), and `crypto: "native"` refuses with a typed error what the runtime lacks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CIPHERS } from "../../src/ssh/crypto/algorithms.js";
import { cryptoSupport } from "../../src/ssh/crypto/suite.js";
import { randomBytes, startTestServer, type TestServer } from "./helpers.js";

const everyCipher = { cipher: Object.keys(CIPHERS) };

describe.each([
  ["pure", "native"],
  ["native", "pure"],
] as const)("a %s server with a %s client", (serverCrypto, clientCrypto) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ crypto: serverCrypto, algorithms: everyCipher });
  });
  afterAll(() => t?.stop());

  for (const cipher of Object.keys(CIPHERS)) {
    it(`carries data with ${cipher}`, async () => {
      const support = await cryptoSupport();
      const nativeLacks = cipher.startsWith("chacha20") && !support.native.chacha20;
      const connecting = t.connect({ crypto: clientCrypto, algorithms: { cipher: [cipher] } });
      if (nativeLacks) {
        // Whichever side insists on native fails the key exchange; the client sees an SshError.
        await expect(connecting).rejects.toMatchObject({ name: expect.stringMatching(/Error$/) });
        if (clientCrypto === "native") await expect(connecting).rejects.toMatchObject({ code: "NATIVE_CRYPTO_UNAVAILABLE" });
        return;
      }
      const c = await connecting;
      try {
        const info = c.ssh.cryptoInfo;
        expect(info.backend).toBe(clientCrypto);
        for (const side of [info.clientToServer, info.serverToClient]) {
          if (clientCrypto === "pure") expect(side).not.toMatch(/node:crypto|webcrypto/);
          else expect(side).toMatch(/^[a-z0-9-]+: node:crypto/);
        }
        // The server reports its own implementations for the same directions.
        await expect.poll(() => t.server.connections.length).toBe(1); // the previous client's is gone
        const seen = t.server.connections;
        expect(seen[0]!.username).toBe("alice");
        expect(seen[0]!.cryptoInfo.backend).toBe(serverCrypto);
        for (const side of [seen[0]!.cryptoInfo.clientToServer, seen[0]!.cryptoInfo.serverToClient]) {
          expect(side.split(":")[0]).toBe(info.clientToServer.split(":")[0]); // the same cipher
          if (serverCrypto === "pure") expect(side).not.toMatch(/node:crypto|webcrypto/);
          else expect(side).toMatch(/^[a-z0-9-]+: node:crypto/);
        }
        const data = randomBytes(200_000);
        await c.writeFile(`/${cipher}`, data);
        expect(await c.readFile(`/${cipher}`)).toEqual(data);
      } finally {
        await c.close();
      }
    });
  }
});
