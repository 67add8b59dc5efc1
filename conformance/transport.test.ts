/**
 * Our client against a real OpenSSH sshd: logins, sessions, subsystems, host-key trust and the
 * errors a user sees when something is wrong.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AuthError, HostKeyError } from "../src/errors.js";
import { connectSsh } from "../src/ssh/client.js";
import { startSshd, type SshdServer } from "./sshd.js";
import { baseOptions, connectTo, describeSshd, run } from "./helpers.js";

describeSshd("SSH transport against OpenSSH", () => {
  let s: SshdServer;
  beforeAll(async () => {
    s = await startSshd();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("logs in with a password, runs a command and reports the session", async () => {
    const c = await connectTo(s);
    expect(c.serverVersion).toMatch(/^SSH-2\.0-OpenSSH_/);
    expect(c.strictKex).toBe(true);
    expect(c.hostKey.fingerprint).toBe(s.hostKeys.find((k) => k.type === "ssh-ed25519")!.fingerprint);
    const r = await run(c, "printf hello; id -un");
    expect(new TextDecoder().decode(r.stdout)).toBe(`hello${s.username}\n`);
    expect(r.status).toBe(0);
    await c.close();
    expect(c.closed).toBe(true);
  });

  for (const key of ["ed25519", "ecdsa", "rsa"] as const) {
    it(`logs in with an unencrypted ${key} key (no password offered)`, async () => {
      const c = await connectSsh(baseOptions(s, { password: undefined, privateKey: s.clientKeys[key] }));
      const r = await run(c, "echo ok");
      expect(new TextDecoder().decode(r.stdout)).toBe("ok\n");
      await c.close();
    });
  }

  it("opens the sftp subsystem", async () => {
    const c = await connectTo(s);
    const ch = await c.openSession();
    await ch.subsystem("sftp");
    // SSH_FXP_INIT version 3 → the server answers SSH_FXP_VERSION (draft-ietf-secsh-filexfer-02 §4).
    const got = new Promise<Uint8Array>((resolve) => (ch.onData = (d) => resolve(d.slice())));
    await ch.write(new Uint8Array([0, 0, 0, 5, 1, 0, 0, 0, 3]));
    const reply = await got;
    expect(reply[4]).toBe(2);
    expect(reply.subarray(5, 9)).toEqual(new Uint8Array([0, 0, 0, 3]));
    await ch.close();
    await c.close();
  });

  // Channel.onData promises that a chunk stays valid after the call (the SFTP framers on both
  // sides keep chunks without copying). Kept chunks must still hold what they held when handed
  // over after megabytes more have been read, decrypted in place (pure) or not (auto).
  for (const [crypto, cipher] of [["pure", "aes128-gcm@openssh.com"], ["pure", "chacha20-poly1305@openssh.com"], ["auto", "aes128-gcm@openssh.com"], ["auto", "chacha20-poly1305@openssh.com"], ["auto", "aes128-ctr"]] as const) {
    it(`channel data stays valid after onData returns (${crypto}, ${cipher})`, async () => {
      const c = await connectTo(s, { crypto, algorithms: { cipher: [cipher] } });
      const ch = await c.openSession();
      const kept: [Uint8Array, Uint8Array][] = [];
      ch.onData = (d) => void kept.push([d, d.slice()]);
      await ch.exec("head -c 8388608 /dev/urandom");
      ch.eof();
      await ch.whenClosed;
      await c.close();
      expect(kept.reduce((n, [d]) => n + d.length, 0)).toBe(8 * 1024 * 1024);
      expect(kept.filter(([d, copy]) => !d.every((b, i) => b === copy[i])).length).toBe(0);
    });
  }

  it("refuses a wrong password with AuthError listing what was tried", async () => {
    const err = await connectTo(s, { password: "wrong" }).catch((e) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect(err.methodsTried).toContain("password");
    expect(err.methodsAllowed).toContain("publickey");
  });

  it("refuses an unknown host key and names its SHA256 fingerprint", async () => {
    const empty = join(s.dir, "empty_known_hosts");
    await writeFile(empty, "");
    const err = await connectTo(s, { hostKeys: { knownHostsFile: empty } }).catch((e) => e);
    expect(err).toBeInstanceOf(HostKeyError);
    expect(err.code).toBe("HOST_KEY_UNKNOWN");
    const fp = s.hostKeys.find((k) => k.type === "ssh-ed25519")!.fingerprint;
    expect(err.fingerprint).toBe(fp);
    expect(err.message).toContain(fp);
  });

  it("refuses a changed host key", async () => {
    const other = join(s.dir, "changed_known_hosts");
    const ed = s.hostKeys.find((k) => k.type === "ssh-ed25519")!;
    // A different ed25519 key recorded for this host: the client must refuse, not re-learn.
    const fake = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    await writeFile(other, `[127.0.0.1]:${s.port} ssh-ed25519 ${fake}\n`);
    const err = await connectTo(s, { hostKeys: { knownHostsFile: other } }).catch((e) => e);
    expect(err).toBeInstanceOf(HostKeyError);
    expect(err.code).toBe("HOST_KEY_CHANGED");
    expect(err.fingerprint).toBe(ed.fingerprint);
  });

  it("trusts a pinned fingerprint, and refuses a wrong pin", async () => {
    const rsa = s.hostKeys.find((k) => k.type === "ssh-rsa")!;
    const none = join(s.dir, "none_known_hosts");
    const c = await connectTo(s, {
      algorithms: { serverHostKey: ["rsa-sha2-512"] },
      hostKeys: { knownHostsFile: none, fingerprints: [rsa.fingerprint] },
    });
    expect(c.hostKey.fingerprint).toBe(rsa.fingerprint);
    await c.close();
    const err = await connectTo(s, { hostKeys: { knownHostsFile: none, fingerprints: [rsa.fingerprint] } }).catch((e) => e);
    expect(err).toBeInstanceOf(HostKeyError);
    expect(err.code).toBe("HOST_KEY_MISMATCH");
  });

  it("accept-new records an unknown key, then trusts it", async () => {
    const file = join(s.dir, "learned_known_hosts");
    const c1 = await connectTo(s, { hostKeys: { policy: "accept-new", knownHostsFile: file } });
    await c1.close();
    const c2 = await connectTo(s, { hostKeys: { policy: "strict", knownHostsFile: file } });
    expect(c2.hostKey.fingerprint).toBe(c1.hostKey.fingerprint);
    await c2.close();
  });

  it("prefers the host key algorithm already in known_hosts", async () => {
    const file = join(s.dir, "ecdsa_only_known_hosts");
    const ec = s.hostKeys.find((k) => k.type === "ecdsa-sha2-nistp384")!;
    await writeFile(file, `[127.0.0.1]:${s.port} ${ec.publicKeyLine}\n`);
    const c = await connectTo(s, { hostKeys: { knownHostsFile: file } });
    expect(c.algorithms.serverHostKey).toBe("ecdsa-sha2-nistp384");
    await c.close();
  });

  it("times out with a typed error when the server never answers", async () => {
    const net = await import("node:net");
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    const t0 = Date.now();
    const err = await connectSsh({ ...baseOptions(s), port, readyTimeoutMs: 300 }).catch((e) => e);
    expect(err.code).toBe("TIMEOUT");
    expect(Date.now() - t0).toBeLessThan(5000);
    silent.close();
  });

  it("rekeys on request while a command streams data", async () => {
    const c = await connectTo(s);
    const before = c.algorithms;
    const pending = run(c, "head -c 4000000 /dev/zero | wc -c");
    c.rekey();
    const r = await pending;
    expect(new TextDecoder().decode(r.stdout).trim()).toBe("4000000");
    expect(c.algorithms).toEqual(before);
    expect(c.keyExchanges).toBe(2);
    await c.close();
  });
});
