/**
 * Every key exchange × every cipher/MAC × every host key algorithm that both we and the
 * installed OpenSSH implement completes a session (password login + a command), and the
 * negotiated algorithms are the ones asked for. Prints the matrix.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startSshd, supportedAlgorithms, type SshdServer } from "./sshd.js";
import { connectTo, describeSshd, run, sharedAlgorithms } from "./helpers.js";

interface Combo {
  kex: string;
  hostKey: string;
  cipher: string;
  mac: string;
}

function combinations(): Combo[] {
  const { kexes, hostKeys, cipherMacs } = sharedAlgorithms(supportedAlgorithms());
  const out: Combo[] = [];
  for (const kex of kexes) for (const hostKey of hostKeys) for (const [cipher, mac] of cipherMacs) out.push({ kex, hostKey, cipher, mac });
  return out;
}

describeSshd("algorithm matrix against OpenSSH", () => {
  let s: SshdServer;
  beforeAll(async () => {
    s = await startSshd({ extraConfig: ["MaxStartups 200:30:400", "LogLevel ERROR"] });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("completes a session for every combination", { timeout: 900_000 }, async () => {
    const combos = combinations();
    const failures: string[] = [];
    const ok = new Map<string, number>();
    const t0 = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < combos.length) {
        const combo = combos[next++]!;
        const label = `${combo.kex} ${combo.hostKey} ${combo.cipher} ${combo.mac || "(aead)"}`;
        try {
          const c = await connectTo(s, {
            algorithms: { kex: [combo.kex], serverHostKey: [combo.hostKey], cipher: [combo.cipher], mac: combo.mac ? [combo.mac] : undefined },
          });
          const a = c.algorithms;
          expect([a.kex, a.serverHostKey, a.cipherClientToServer, a.cipherServerToClient, a.macClientToServer])
            .toEqual([combo.kex, combo.hostKey, combo.cipher, combo.cipher, combo.mac]);
          const r = await run(c, "echo ok");
          expect(new TextDecoder().decode(r.stdout)).toBe("ok\n");
          await c.close();
          ok.set(combo.kex, (ok.get(combo.kex) ?? 0) + 1);
        } catch (e) {
          failures.push(`${label}: ${(e as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    const perKex = [...ok.entries()].map(([k, n]) => `  ${k.padEnd(40)} ${n} sessions`).join("\n");
    console.log(`algorithm matrix: ${combos.length - failures.length}/${combos.length} combinations in ${Date.now() - t0} ms\n${perKex}`);
    expect(failures).toEqual([]);
  });

  // The cipher code is the same for every kex and host key, but each `crypto` backend computes
  // it differently: every cipher × MAC under each, with 1 MiB through it each way (many packets,
  // so streaming CTR state, GCM nonces and ChaCha20 counters are exercised across packets).
  it.each(["auto", "pure", "native"] as const)("carries data with every cipher × MAC on crypto: %s", { timeout: 600_000 }, async (crypto) => {
    const { cipherMacs } = sharedAlgorithms(supportedAlgorithms());
    const data = new Uint8Array(1 << 20).map((_, i) => (i * 131 + (i >> 9)) & 0xff);
    const failures: string[] = [];
    for (const [cipher, mac] of cipherMacs) {
      try {
        const c = await connectTo(s, { crypto, algorithms: { cipher: [cipher], mac: mac ? [mac] : undefined } });
        try {
          const info = c.cryptoInfo;
          expect(info.backend).toBe(crypto);
          if (crypto === "pure") expect(info.clientToServer).not.toMatch(/node:crypto|webcrypto/);
          if (crypto === "native") expect(info.serverToClient).not.toMatch(/webcrypto/);
          const r = await run(c, "cat", data);
          expect(r.stdout.length).toBe(data.length);
          expect(r.stdout.every((b, i) => b === data[i])).toBe(true);
        } finally {
          await c.close();
        }
      } catch (e) {
        // crypto: "native" on a runtime without a primitive fails with a typed error, by design.
        if (crypto === "native" && (e as { code?: string }).code === "NATIVE_CRYPTO_UNAVAILABLE") continue;
        failures.push(`${crypto} ${cipher} ${mac || "(aead)"}: ${(e as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
