/**
 * Server-side authentication: password and keyboard-interactive through the callback,
 * publickey from authorized_keys text or the callback (query answered with PK_OK, signature
 * checked over the session id), the delay after a failure, the attempt limit and the timeout.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AuthError } from "../../src/errors.js";
import type { AuthRequest } from "../../src/sftp/server/index.js";
import { parseAuthorizedKeys } from "../../src/ssh/server/authorized-keys.js";
import { generateEd25519Key, parsePrivateKey } from "../../src/ssh/keys/private-key.js";
import { publicKeyLine } from "../../src/ssh/keys/public-key.js";
import { DISCONNECT_REASON, MSG } from "../../src/ssh/messages.js";
import { connectTcp } from "../../src/ssh/socket/tcp.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import { VECTORS } from "../keys/fixtures.js";
import { PASSWORD, USER, startTestServer, type TestServer } from "./helpers.js";
import { passwordRequest, rawSession } from "./raw-client.js";

const keyText = (name: string) => readFileSync(join(VECTORS, "base", name), "utf8");
const userKey = generateEd25519Key("user");
const rsaKey = parsePrivateKey(keyText("rsa2048"));
const ecdsaKey = parsePrivateKey(keyText("ecdsa256"));

let t: TestServer | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

describe("password", () => {
  it("lets the right password in and refuses a wrong one after the failure delay", async () => {
    t = await startTestServer({ limits: { authFailureDelayMs: 250 } });
    const ok = await t.connect();
    expect(ok.ssh.username).toBe(USER);
    await ok.close();
    const started = performance.now();
    const err = await t.connect({ password: "wrong" }).catch((e) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect(err.methodsAllowed).toEqual(["publickey", "password"]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
  });

  it("a hook that throws denies the attempt and the server goes on", async () => {
    let calls = 0;
    t = await startTestServer({
      authenticate: (r) => {
        if (calls++ === 0) throw new Error("database down");
        return r.method === "password" && r.password === PASSWORD;
      },
    });
    expect(await t.connect().catch((e) => e)).toBeInstanceOf(AuthError);
    const c = await t.connect();
    await c.close();
  });

  it("drops the connection after maxAuthAttempts failures", async () => {
    t = await startTestServer({ limits: { maxAuthAttempts: 3, authFailureDelayMs: 10 } });
    const s = await rawSession(t.server.port);
    const replies: number[] = [];
    for (let i = 0; i < 10; i++) s.send(passwordRequest(USER, `guess-${i}`));
    await Promise.race([(async () => { for (;;) replies.push((await s.next())[0]!); })().catch(() => {}), s.closed]);
    const end = await s.closed;
    expect(replies).toEqual([MSG.USERAUTH_FAILURE, MSG.USERAUTH_FAILURE]);
    expect(end?.code).toBe("DISCONNECTED");
    expect((end as { reason?: number }).reason).toBe(DISCONNECT_REASON.NO_MORE_AUTH_METHODS_AVAILABLE);
  });

  it("closes a connection that does not authenticate in time", async () => {
    t = await startTestServer({ limits: { authTimeoutMs: 300 } });
    const idle = await connectTcp("127.0.0.1", t.server.port);
    const started = performance.now();
    for (let chunk = await idle.read(); chunk; chunk = await idle.read()) { /* version line, KEXINIT, DISCONNECT */ }
    // Closed by the 300 ms limit (without it, never): 5 s leaves room for two loaded CI cores.
    expect(performance.now() - started).toBeLessThan(5000);
    const authing = await rawSession(t.server.port);
    expect((await authing.closed)?.code).toBe("DISCONNECTED");
  });
});

describe("publickey", () => {
  it("accepts ed25519, ecdsa and rsa keys listed in authorized_keys, and no other", async () => {
    const files = ["ed25519", "ecdsa256", "rsa2048"];
    const authorizedKeys = files.map((f) => publicKeyLine(parsePrivateKey(keyText(f)).publicKey, f)).join("\n");
    t = await startTestServer({ authorizedKeys, authenticate: () => false });
    for (const f of files) {
      const c = await t.connect({ password: undefined, privateKey: keyText(f) });
      expect(await c.realpath(".")).toBe("/");
      await c.close();
    }
    const other = await t.connect({ password: undefined, privateKey: keyText("ecdsa384") }).catch((e) => e);
    expect(other).toBeInstanceOf(AuthError);
    expect(other.methodsTried).toEqual(["publickey"]);
  });

  it("asks the callback for keys, answers the query with PK_OK, and needs a valid signature", async () => {
    const seen: AuthRequest[] = [];
    t = await startTestServer({
      authenticate: (r) => {
        seen.push(r);
        return r.method === "publickey" && r.publicKey.fingerprint === userKey.publicKey.fingerprint && r.username === USER;
      },
    });
    // Our client queries first, then signs: the callback is asked both times.
    const ssh = await rawSession(t.server.port);
    const blob = userKey.publicKey.blob;
    const query = new SshWriter(256).byte(MSG.USERAUTH_REQUEST).string(USER).string("ssh-connection").string("publickey")
      .boolean(false).string("ssh-ed25519").string(blob).finish().slice();
    ssh.send(query);
    const pkOk = await ssh.next();
    expect(pkOk[0]).toBe(MSG.USERAUTH_PK_OK);
    // A signature by another key over the right data is refused.
    const signedPart = new SshWriter(256).byte(MSG.USERAUTH_REQUEST).string(USER).string("ssh-connection").string("publickey")
      .boolean(true).string("ssh-ed25519").string(blob).finish().slice();
    const data = new SshWriter(512).string(ssh.transport.sessionId!).raw(signedPart).finish();
    const forged = await generateEd25519Key().sign("ssh-ed25519", data);
    ssh.send(new SshWriter(512).raw(signedPart).string(forged).finish().slice());
    expect((await ssh.next())[0]).toBe(MSG.USERAUTH_FAILURE);
    // The real signature, but over another session's id, is refused too.
    const replayed = await userKey.sign("ssh-ed25519", new SshWriter(512).string(new Uint8Array(32)).raw(signedPart).finish());
    ssh.send(new SshWriter(512).raw(signedPart).string(replayed).finish().slice());
    expect((await ssh.next())[0]).toBe(MSG.USERAUTH_FAILURE);
    const good = await userKey.sign("ssh-ed25519", data);
    ssh.send(new SshWriter(512).raw(signedPart).string(good).finish().slice());
    expect((await ssh.next())[0]).toBe(MSG.USERAUTH_SUCCESS);
    await ssh.transport.disconnect();
    expect(seen.every((r) => r.method === "publickey")).toBe(true);

    const c = await t.connect({ password: undefined, privateKey: [keyText("ecdsa256")] }).catch((e) => e);
    expect(c).toBeInstanceOf(AuthError);
  });
});

describe("keyboard-interactive", () => {
  it("runs prompts through the callback, in several rounds", async () => {
    t = await startTestServer({
      authMethods: ["keyboard-interactive"],
      authenticate: async (r) => {
        if (r.method !== "keyboard-interactive") return false;
        const [pw] = await r.prompt([{ prompt: "Password: ", echo: false }], { instructions: "first" });
        if (pw !== PASSWORD) return false;
        const [code] = await r.prompt([{ prompt: "Code: ", echo: true }]);
        return code === "123456";
      },
    });
    const asked: string[] = [];
    const c = await t.connect({
      password: undefined,
      keyboardInteractive: (prompts) => prompts.map((p) => (asked.push(p.prompt), p.prompt.startsWith("Password") ? PASSWORD : "123456")),
    });
    expect(asked).toEqual(["Password: ", "Code: "]);
    await c.close();
    const err = await t.connect({ password: undefined, keyboardInteractive: () => ["nope"] }).catch((e) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect(err.methodsAllowed).toEqual(["keyboard-interactive"]);
  });
});

describe("authorized_keys parsing", () => {
  it("reads plain and harmless-option lines, and skips restricted or malformed ones", () => {
    const a = publicKeyLine(userKey.publicKey, "plain");
    const b = publicKeyLine(rsaKey.publicKey);
    const c = publicKeyLine(ecdsaKey.publicKey);
    const text = [
      "# comment", "", a,
      `no-pty,no-port-forwarding ${b} with options`,
      `command="/bin/evil arg, with comma",no-pty ${c}`,
      `from="10.0.0.0/8" ${c}`,
      "ssh-ed25519 not-base64!",
    ].join("\n");
    const keys = parseAuthorizedKeys(text);
    expect(keys.map((k) => k.fingerprint)).toEqual([userKey.publicKey.fingerprint, rsaKey.publicKey.fingerprint]);
  });
});

describe("the ssh-userauth service", () => {
  it("refuses other services and out-of-order messages", async () => {
    t = await startTestServer();
    const s = await rawSession(t.server.port, false);
    s.send(new SshWriter(32).byte(MSG.SERVICE_REQUEST).string("ssh-connection").finish().slice());
    const end = await s.closed;
    expect((end as { reason?: number }).reason).toBe(DISCONNECT_REASON.SERVICE_NOT_AVAILABLE);
    const s2 = await rawSession(t.server.port);
    s2.send(new SshWriter(64).byte(MSG.CHANNEL_OPEN).string("session").uint32(0).uint32(65536).uint32(32768).finish().slice());
    expect((await s2.closed)?.code).toBe("DISCONNECTED");
  });
});
