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
});
