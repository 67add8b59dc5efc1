/**
 * The ssh-agent client against OpenSSH's real ssh-agent (keys loaded with ssh-add, fingerprints
 * from ssh-keygen -lf, signatures checked with our verifiers) and against a fake agent that
 * misbehaves: refuses, sends garbage, oversized or truncated replies, or hangs up.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeUnless, missingTools } from "../support/tools.js";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { AgentClient, agentKeys, agentSignFlags, agentSocketPath, SSH_AGENT_RSA_SHA2_256, SSH_AGENT_RSA_SHA2_512 } from "../../src/ssh/auth/agent.js";
import { SshError } from "../../src/errors.js";
import { generateEd25519Key } from "../../src/ssh/keys/private-key.js";
import { SshReader } from "../../src/ssh/wire/reader.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import { keygen, opensshFingerprint, tempDir, type GeneratedKey } from "../keys/helpers.js";

const KEYS = [
  { name: "ed25519", args: ["-t", "ed25519"], algs: ["ssh-ed25519"] },
  { name: "ecdsa256", args: ["-t", "ecdsa", "-b", "256"], algs: ["ecdsa-sha2-nistp256"] },
  { name: "ecdsa384", args: ["-t", "ecdsa", "-b", "384"], algs: ["ecdsa-sha2-nistp384"] },
  { name: "ecdsa521", args: ["-t", "ecdsa", "-b", "521"], algs: ["ecdsa-sha2-nistp521"] },
  { name: "rsa", args: ["-t", "rsa", "-b", "2048"], algs: ["rsa-sha2-512", "rsa-sha2-256"] },
];
const data = new TextEncoder().encode("session id || userauth request");

let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startAgent(name: string): Promise<{ socket: string; proc: ChildProcess }> {
  const socket = join(dir, name);
  const proc = spawn("/usr/bin/ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
  // Up to 10 s: starting a process can take seconds on two loaded CI cores. ssh-agent binds the
  // socket before it listens, so the file appearing is not enough: wait until a connect succeeds.
  for (let i = 0; i < 1000; i++) {
    if (existsSync(socket) && (await accepts(socket))) return { socket, proc };
    await new Promise((r) => setTimeout(r, 10));
  }
  proc.kill();
  throw new Error("ssh-agent did not start");
}

function accepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

async function expectCode(p: Promise<unknown>, code: string): Promise<SshError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(SshError);
  expect((err as SshError).code).toBe(code);
  return err as SshError;
}

describeUnless(missingTools("/usr/bin/ssh-agent", "/usr/bin/ssh-add"), "the ssh-agent client against OpenSSH's ssh-agent")("against OpenSSH ssh-agent", () => {
  let agent: { socket: string; proc: ChildProcess };
  const generated = new Map<string, GeneratedKey>();
  beforeAll(async () => {
    agent = await startAgent("agent.sock");
    for (const k of KEYS) {
      const gen = keygen(dir, k.name, k.args);
      generated.set(k.name, gen);
      execFileSync("/usr/bin/ssh-add", ["-q", gen.path], { env: { ...process.env, SSH_AUTH_SOCK: agent.socket }, stdio: "pipe" });
    }
  });
  afterAll(() => {
    agent.proc.kill();
  });

  it("lists every key with ssh-keygen's fingerprint and the key comment", async () => {
    const client = await AgentClient.connect(agent.socket);
    const ids = await client.listIdentities();
    client.close();
    expect(ids.map((i) => i.comment).sort()).toEqual(KEYS.map((k) => `${k.name}@test`).sort());
    for (const k of KEYS) {
      const id = ids.find((i) => i.comment === `${k.name}@test`)!;
      expect(id.publicKey.fingerprint).toBe(opensshFingerprint(generated.get(k.name)!.path + ".pub"));
    }
  });

  it("signs with each key through agentKeys(), every RSA hash, verified by our verifiers", async () => {
    const keys = await agentKeys(true, (n) => (n === "SSH_AUTH_SOCK" ? agent.socket : undefined));
    expect(keys).toHaveLength(KEYS.length);
    for (const k of KEYS) {
      const key = keys.find((x) => x.comment === `${k.name}@test`)!;
      for (const alg of k.algs) {
        const blob = await key.sign(alg, data);
        expect(new SshReader(blob).ascii()).toBe(alg);
        expect(await key.publicKey.verify(alg, blob, data)).toBe(true);
        expect(await key.publicKey.verify(alg, blob, data.subarray(1))).toBe(false);
      }
      await expectCode(key.sign("ssh-dss", data), "UNSUPPORTED_ALGORITHM");
    }
  });

  it("passes the rsa-sha2 flags through AgentClient.sign", async () => {
    const client = await AgentClient.connect(agent.socket);
    const rsa = (await client.listIdentities()).find((i) => i.publicKey.type === "ssh-rsa")!;
    const [s512, s256] = await Promise.all([
      client.sign(rsa.publicKey.blob, data, SSH_AGENT_RSA_SHA2_512),
      client.sign(rsa.publicKey.blob, data, SSH_AGENT_RSA_SHA2_256),
    ]);
    expect(new SshReader(s512).ascii()).toBe("rsa-sha2-512");
    expect(new SshReader(s256).ascii()).toBe("rsa-sha2-256");
    expect(await rsa.publicKey.verify("rsa-sha2-512", s512, data)).toBe(true);
    expect(await rsa.publicKey.verify("rsa-sha2-256", s256, data)).toBe(true);
    // A key the agent does not hold: SSH_AGENT_FAILURE, and the connection stays usable.
    await expectCode(client.sign(generateEd25519Key().publicKey.blob, data, 0), "AGENT_REFUSED");
    expect(await client.listIdentities()).toHaveLength(KEYS.length);
    client.close();
    await expectCode(client.listIdentities(), "AGENT_CLOSED");
  });

  it("an agent without keys lists nothing", async () => {
    const empty = await startAgent("empty.sock");
    try {
      expect(await agentKeys(empty.socket)).toEqual([]);
    } finally {
      empty.proc.kill();
    }
  });
});

describe("agent socket selection", () => {
  it("AGENT_UNAVAILABLE without SSH_AUTH_SOCK or with a dead socket", async () => {
    const err = await expectCode(agentKeys(true, () => undefined), "AGENT_UNAVAILABLE");
    expect(err.message).toMatch(/SSH_AUTH_SOCK is not set/);
    await expectCode(agentKeys(true, () => ""), "AGENT_UNAVAILABLE");
    await expectCode(agentKeys(join(dir, "missing.sock")), "AGENT_UNAVAILABLE");
  });

  it("maps IdentityAgent values", () => {
    const env = (n: string) => ({ SSH_AUTH_SOCK: "/a", OTHER: "/b" })[n];
    expect(agentSocketPath(undefined, env)).toBe("/a");
    expect(agentSocketPath("SSH_AUTH_SOCK", env)).toBe("/a");
    expect(agentSocketPath("$OTHER", env)).toBe("/b");
    expect(agentSocketPath("$NOPE", env)).toBeUndefined();
    expect(agentSocketPath("none", env)).toBeUndefined();
    expect(agentSocketPath("/run/agent", env)).toBe("/run/agent");
  });

  it("chooses sign flags by algorithm", () => {
    expect(agentSignFlags("ssh-rsa", "rsa-sha2-512")).toBe(4);
    expect(agentSignFlags("ssh-rsa", "rsa-sha2-256")).toBe(2);
    expect(agentSignFlags("ssh-rsa", "ssh-rsa")).toBe(0);
    expect(agentSignFlags("ssh-ed25519", "ssh-ed25519")).toBe(0);
    expect(() => agentSignFlags("ssh-ed25519", "rsa-sha2-256")).toThrow(SshError);
  });
});

/** A fake agent: `reply` gets each framed request's body and writes whatever it likes. */
async function fakeAgent(name: string, reply: (req: Uint8Array, sock: Socket) => void): Promise<{ path: string; server: Server }> {
  const path = join(dir, name);
  const server = createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const len = buf.readUInt32BE(0);
        const req = new Uint8Array(buf.subarray(4, 4 + len));
        buf = buf.subarray(4 + len);
        reply(req, sock);
      }
    });
    sock.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { path, server };
}

const frame = (body: Uint8Array) => new SshWriter().string(body).finish().slice();

describe("against a misbehaving agent", () => {
  const servers: Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));
  async function client(name: string, reply: (req: Uint8Array, sock: Socket) => void): Promise<AgentClient> {
    const { path, server } = await fakeAgent(name, reply);
    servers.push(server);
    return AgentClient.connect(path);
  }

  it("FAILURE is AGENT_REFUSED", async () => {
    const c = await client("fail.sock", (_, s) => s.write(frame(new Uint8Array([5]))));
    await expectCode(c.listIdentities(), "AGENT_REFUSED");
    await expectCode(c.sign(new Uint8Array(4), data, 0), "AGENT_REFUSED");
    c.close();
  });

  it("garbage and oversized replies are protocol errors", async () => {
    const http = await client("http.sock", (_, s) => s.write("HTTP/1.1 400 Bad Request\r\n\r\n"));
    expect((await expectCode(http.listIdentities(), "PROTOCOL_ERROR")).message).toMatch(/exceeds/);
    const big = await client("big.sock", (_, s) => s.write(new Uint8Array([0, 4, 0, 1, 12])));
    await expectCode(big.listIdentities(), "PROTOCOL_ERROR");
    const empty = await client("zero.sock", (_, s) => s.write(new Uint8Array(4)));
    await expectCode(empty.listIdentities(), "PROTOCOL_ERROR");
    const wrongType = await client("type.sock", (_, s) => s.write(frame(new Uint8Array([99, 1, 2]))));
    await expectCode(wrongType.listIdentities(), "PROTOCOL_ERROR");
    await expectCode(wrongType.listIdentities(), "PROTOCOL_ERROR"); // broken now: stays failed
    const count = await client("count.sock", (_, s) => s.write(frame(new Uint8Array([12, 0x7f, 0xff, 0xff, 0xff]))));
    expect((await expectCode(count.listIdentities(), "PROTOCOL_ERROR")).message).toMatch(/claims/);
    const trailing = await client("trail.sock", (_, s) => s.write(frame(new Uint8Array([14, 0, 0, 0, 0, 9]))));
    await expectCode(trailing.sign(new Uint8Array(4), data, 0), "PROTOCOL_ERROR");
  });

  it("hanging up is AGENT_CLOSED, before or during a reply", async () => {
    const closes = await client("close.sock", (_, s) => s.destroy());
    await expectCode(closes.listIdentities(), "AGENT_CLOSED");
    const partial = await client("partial.sock", (_, s) => s.end(new Uint8Array([0, 0, 0, 20, 12, 0])));
    await expectCode(partial.listIdentities(), "AGENT_CLOSED");
  });

  it("skips key types it does not know", async () => {
    const good = generateEd25519Key("good");
    const cert = new SshWriter().string("ssh-ed25519-cert-v01@openssh.com").string(new Uint8Array(32)).finish().slice();
    const dss = new SshWriter().string("ssh-dss").mpint(7n).finish().slice();
    const answer = new SshWriter().byte(12).uint32(3).string(cert).string("cert").string(good.publicKey.blob).string("good").string(dss).string("dsa").finish();
    const c = await client("mixed.sock", (_, s) => s.write(frame(answer)));
    const ids = await c.listIdentities();
    expect(ids.map((i) => i.comment)).toEqual(["good"]);
    expect(ids[0]!.publicKey.fingerprint).toBe(good.publicKey.fingerprint);
    c.close();
  });

  it("refuses a signature made with another algorithm than requested", async () => {
    const rsaBlob = new SshWriter().string("ssh-rsa").mpint(65537n).mpint((1n << 2047n) + 1n).finish().slice();
    const answer = new SshWriter().byte(12).uint32(1).string(rsaBlob).string("old agent").finish();
    const sha1 = new SshWriter().byte(14).string(new SshWriter().string("ssh-rsa").string(new Uint8Array(256)).finish()).finish();
    const { path, server } = await fakeAgent("sha1.sock", (req, s) => s.write(frame(req[0] === 11 ? answer : sha1)));
    servers.push(server);
    const [key] = await agentKeys(path);
    await expectCode(key!.sign("rsa-sha2-512", data), "AGENT_WRONG_ALGORITHM");
    expect(new SshReader(await key!.sign("ssh-rsa", data)).ascii()).toBe("ssh-rsa");
  });
});
