/**
 * Re-exchange under load: keys change every MiB in both directions (our limit and sshd's
 * RekeyLimit) while 64 MiB go each way; every byte must arrive intact and in order.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startSshd, type SshdServer } from "./sshd.js";
import { connectTo, describeSshd, run } from "./helpers.js";

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describeSshd("rekey under load against OpenSSH", () => {
  let s: SshdServer;
  beforeAll(async () => {
    s = await startSshd({ extraConfig: ["RekeyLimit 1M"] });
  });
  afterAll(async () => {
    await s?.stop();
  });

  for (const cipher of ["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes128-ctr"]) {
    it(`moves 64 MiB each way with a rekey every MiB (${cipher})`, { timeout: 300_000 }, async () => {
      const c = await connectTo(s, { rekeyAfterBytes: MiB, algorithms: { cipher: [cipher] } });
      const data = new Uint8Array(64 * MiB);
      for (let o = 0; o < data.length; o += 65536) crypto.getRandomValues(data.subarray(o, o + 65536));
      const up = await run(c, "sha256sum", data);
      expect(new TextDecoder().decode(up.stdout).split(" ")[0]).toBe(sha256(data));
      const afterUpload = c.keyExchanges;
      expect(afterUpload).toBeGreaterThan(32);
      // The same bytes come back through `cat`: order and content must survive every re-exchange.
      const down = await run(c, "cat", data);
      expect(down.stdout.length).toBe(data.length);
      expect(sha256(down.stdout)).toBe(sha256(data));
      expect(c.keyExchanges).toBeGreaterThan(afterUpload + 32);
      await c.close();
    });
  }

  it("follows re-exchanges the server starts (its RekeyLimit, our default limits)", { timeout: 120_000 }, async () => {
    const c = await connectTo(s);
    const data = crypto.getRandomValues(new Uint8Array(65536));
    const big = new Uint8Array(8 * MiB);
    for (let o = 0; o < big.length; o += data.length) big.set(data, o);
    const down = await run(c, "cat", big);
    expect(sha256(down.stdout)).toBe(sha256(big));
    expect(c.keyExchanges).toBeGreaterThan(8);
    await c.close();
  });

  it("re-exchanges after the time limit on the next packet", { timeout: 60_000 }, async () => {
    const c = await connectTo(s, { rekeyAfterMs: 200 });
    await new Promise((r) => setTimeout(r, 300));
    const r = await run(c, "echo hi");
    expect(new TextDecoder().decode(r.stdout)).toBe("hi\n");
    expect(c.keyExchanges).toBeGreaterThanOrEqual(2);
    await c.close();
  });
});
