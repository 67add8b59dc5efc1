/** ProxyJump: through one and two OpenSSH jump hosts, each with its own host-key check. */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { HostKeyError } from "../src/errors.js";
import { connect } from "../src/connect.js";
import { connectSsh } from "../src/ssh/client.js";
import { parseHop } from "../src/ssh/jump.js";
import { startSshd, type SshdServer } from "./sshd.js";
import { describeSshd, run } from "./helpers.js";

it("parses jump host specs", () => {
  expect(parseHop("alice@jump.example.com:2222")).toEqual({ user: "alice", host: "jump.example.com", port: 2222 });
  expect(parseHop("jump")).toEqual({ user: undefined, host: "jump", port: undefined });
  expect(parseHop("ssh://bob@[::1]:22")).toEqual({ user: "bob", host: "::1", port: 22 });
  expect(() => parseHop("a:b:c")).toThrow(/invalid jump host/);
  expect(() => parseHop("h:99999")).toThrow(/invalid port/);
});

describeSshd("jump hosts against OpenSSH", () => {
  let jump1: SshdServer;
  let jump2: SshdServer;
  let target: SshdServer;
  let knownHosts: string;
  beforeAll(async () => {
    [jump1, jump2, target] = await Promise.all([startSshd(), startSshd(), startSshd()]);
    knownHosts = join(target.dir, "all_known_hosts");
    const all = await Promise.all([jump1, jump2, target].map((s) => readFile(s.knownHostsPath, "utf8")));
    await writeFile(knownHosts, all.join(""));
  });
  afterAll(async () => {
    await Promise.all([jump1, jump2, target].map((s) => s?.stop()));
  });

  const via = (...hops: SshdServer[]) => hops.map((h) => `${h.username}@${h.host}:${h.port}`).join(",");
  const options = (jumpHosts: string, known = knownHosts) => ({
    host: target.host,
    port: target.port,
    username: target.username,
    privateKey: target.clientKeys.ed25519,
    hostKeys: { knownHostsFile: known },
    sshConfig: false,
    jumpHosts,
  });

  it("reaches the target through one jump host, and closes the chain with it", async () => {
    const c = await connectSsh(options(via(jump1)));
    const r = await run(c, "echo $SSH_CONNECTION");
    // The target sees the connection coming from the jump host's side of loopback.
    expect(new TextDecoder().decode(r.stdout)).toMatch(/^127\.0\.0\.1 \d+ 127\.0\.0\.1 \d+/);
    await c.close();
  });

  it("runs SFTP through two jump hosts", async () => {
    const sftp = await connect(options(via(jump1, jump2)));
    await sftp.writeFile("jumped.txt", "through two hops");
    expect(new TextDecoder().decode(await sftp.readFile("jumped.txt"))).toBe("through two hops");
    await sftp.remove("jumped.txt");
    await sftp.close();
  });

  it("checks each hop's host key: an unknown jump host is refused", async () => {
    const onlyTarget = join(target.dir, "target_only_known_hosts");
    await writeFile(onlyTarget, await readFile(target.knownHostsPath, "utf8"));
    const err = await connectSsh(options(via(jump1), onlyTarget)).catch((e) => e);
    expect(err).toBeInstanceOf(HostKeyError);
    expect(err.message).toContain(`${jump1.port}`);
  });
});
