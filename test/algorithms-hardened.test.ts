/**
 * The "hardened" algorithm preset: what it resolves to, that it excludes everything ssh-audit
 * flags, and that it works end to end between our client and our embedded server, in both
 * directions against the defaults, over ssh_config and with known_hosts ordering.
 * (conformance/ssh-audit.test.ts runs ssh-audit itself; conformance/sshd.test.ts covers OpenSSH.)
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HARDENED_ALGORITHMS, resolveAlgorithms, type AlgorithmPreset } from "../src/ssh/algorithms.js";
import { connectSsh, type SshConnectOptions } from "../src/ssh/client.js";
import { CIPHERS, MACS } from "../src/ssh/crypto/algorithms.js";
import { KEX_METHODS } from "../src/ssh/kex/methods.js";
import { generateEd25519Key, parsePrivateKey } from "../src/ssh/keys/private-key.js";
import { keyTypeForAlgorithm, publicKeyLine } from "../src/ssh/keys/public-key.js";
import { startSshServer, type SshServer, type SshServerOptions } from "../src/ssh/server/server.js";
import { VECTORS } from "./keys/fixtures.js";

const ed = generateEd25519Key("hardened-test");
const ecdsa = parsePrivateKey(readFileSync(join(VECTORS, "base", "ecdsa256"), "utf8"));
const rsa = parsePrivateKey(readFileSync(join(VECTORS, "base", "rsa2048"), "utf8"));
const USER = "alice";
const PASSWORD = "hardened password";

describe("the hardened preset", () => {
  it("resolves to HARDENED_ALGORITHMS, as fresh mutable lists", () => {
    const lists = resolveAlgorithms("hardened");
    expect(lists).toEqual({
      kex: ["mlkem768x25519-sha256", "curve25519-sha256", "curve25519-sha256@libssh.org"],
      serverHostKey: ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"],
      cipher: ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com"],
      mac: ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"],
    });
    lists.kex.push("diffie-hellman-group1-sha1");
    expect(HARDENED_ALGORITHMS.kex).not.toContain("diffie-hellman-group1-sha1");
    expect(Object.isFrozen(HARDENED_ALGORITHMS) && Object.isFrozen(HARDENED_ALGORITHMS.kex)).toBe(true);
  });

  it("names only implemented algorithms", () => {
    for (const k of HARDENED_ALGORITHMS.kex) expect(KEX_METHODS[k], k).toBeDefined();
    for (const c of HARDENED_ALGORITHMS.cipher) expect(CIPHERS[c], c).toBeDefined();
    for (const m of HARDENED_ALGORITHMS.mac) expect(MACS[m], m).toBeDefined();
    for (const h of HARDENED_ALGORITHMS.serverHostKey) expect(keyTypeForAlgorithm(h), h).toBeDefined();
  });

  it("leaves out what ssh-audit 2.5 warns about or fails", () => {
    // NIST curves ("weak elliptic curves"), SHA-1, encrypt-and-MAC, 64-bit tags, ssh-rsa.
    const all = Object.values(HARDENED_ALGORITHMS).flat();
    expect(all.filter((a) => /nistp|sha1|^ssh-rsa$|umac-64|^hmac-(?!.*-etm@openssh\.com$)/.test(a))).toEqual([]);
  });

  it("refuses an unknown preset name", () => {
    expect(() => resolveAlgorithms("paranoid" as AlgorithmPreset)).toThrow(/unknown algorithm preset "paranoid"/);
  });
});

describe("hardened client and embedded server", () => {
  let dir: string;
  const servers: SshServer[] = [];
  const start = async (extra: Partial<SshServerOptions> = {}): Promise<SshServer> => {
    const s = await startSshServer({
      hostKeys: [ed],
      subsystems: {},
      authenticate: (r) => r.method === "password" && r.username === USER && r.password === PASSWORD,
      limits: { authFailureDelayMs: 20 },
      ...extra,
    });
    servers.push(s);
    return s;
  };
  const options = (s: SshServer, extra: Partial<SshConnectOptions> = {}): SshConnectOptions => ({
    host: "127.0.0.1",
    port: s.port,
    username: USER,
    password: PASSWORD,
    hostKeys: { fingerprints: s.hostKeyFingerprints, knownHostsFile: join(dir, "no-known-hosts") },
    sshConfig: false,
    readyTimeoutMs: 10_000,
    ...extra,
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hardened-"));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it("a hardened client connects to a hardened server with ML-KEM, ed25519 and chacha20-poly1305", async () => {
    const s = await start({ algorithms: "hardened" });
    const c = await connectSsh(options(s, { algorithms: "hardened" }));
    try {
      expect(c.algorithms).toMatchObject({
        kex: "mlkem768x25519-sha256",
        serverHostKey: "ssh-ed25519",
        cipherClientToServer: "chacha20-poly1305@openssh.com",
        cipherServerToClient: "chacha20-poly1305@openssh.com",
      });
    } finally {
      await c.close();
    }
  });

  it("a hardened client and a default server (and the reverse) meet on hardened algorithms", async () => {
    const plain = await start();
    const hardened = await start({ algorithms: "hardened" });
    for (const [s, algorithms] of [[plain, "hardened"], [hardened, undefined]] as const) {
      const c = await connectSsh(options(s, { algorithms }));
      try {
        expect(HARDENED_ALGORITHMS.kex).toContain(c.algorithms.kex);
        expect(HARDENED_ALGORITHMS.cipher).toContain(c.algorithms.cipherClientToServer);
      } finally {
        await c.close();
      }
    }
  });

  it("a hardened server refuses a client that offers only NIST-curve key exchange", async () => {
    const s = await start({ algorithms: "hardened" });
    await expect(connectSsh(options(s, { algorithms: { kex: ["ecdh-sha2-nistp256"] } }))).rejects.toThrow(/kex|key exchange|algorithm/i);
  });

  it("a hardened server offers no ECDSA host key, and needs an ed25519 or RSA one", async () => {
    const s = await start({ algorithms: "hardened", hostKeys: [ecdsa, rsa] });
    const c = await connectSsh(options(s, { hostKeys: { fingerprints: [rsa.publicKey.fingerprint] } }));
    try {
      expect(c.algorithms.serverHostKey).toBe("rsa-sha2-512");
    } finally {
      await c.close();
    }
    await expect(start({ algorithms: "hardened", hostKeys: [ecdsa] })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it('"hardened" overrides the algorithm lists of ssh_config', async () => {
    const s = await start();
    const config = join(dir, "ssh_config");
    await writeFile(config, "Host *\n  KexAlgorithms ecdh-sha2-nistp256\n  Ciphers aes128-ctr\n  MACs hmac-sha2-256\n");
    const plain = await connectSsh(options(s, { sshConfig: config }));
    const hardened = await connectSsh(options(s, { sshConfig: config, algorithms: "hardened" }));
    try {
      expect(plain.algorithms.kex).toBe("ecdh-sha2-nistp256");
      expect(hardened.algorithms).toMatchObject({ kex: "mlkem768x25519-sha256", cipherClientToServer: "chacha20-poly1305@openssh.com" });
    } finally {
      await plain.close();
      await hardened.close();
    }
  });

  it("a hardened client still puts the host key types known_hosts has first", async () => {
    const s = await start({ hostKeys: [ed, rsa] });
    const knownHostsFile = join(dir, "known_hosts");
    await writeFile(knownHostsFile, `[127.0.0.1]:${s.port} ${publicKeyLine(rsa.publicKey)}\n`);
    const c = await connectSsh(options(s, { algorithms: "hardened", hostKeys: { policy: "strict", knownHostsFile } }));
    try {
      expect(c.algorithms.serverHostKey).toBe("rsa-sha2-512");
    } finally {
      await c.close();
    }
  });
});
