import { homedir } from "node:os";
import { describe, expect, it } from "vitest";
import { parseArgs } from "../../src/cli/args.js";
import { UsageError } from "../../src/cli/errors.js";
import {
  agentSocket, CONNECTION_OPTIONS, connectOptionsFor, connectionSettings, formatRemote, parseOperand, parseSshOption, sameServer, type RemotePath,
} from "../../src/cli/target.js";

const settings = (argv: string[]) => connectionSettings(parseArgs(argv, CONNECTION_OPTIONS).args, "ls");

describe("parseOperand", () => {
  it("reads [user@]host:path as scp does", () => {
    expect(parseOperand("alice@example.com:/srv/data")).toEqual({ kind: "remote", remote: { user: "alice", host: "example.com", path: "/srv/data" } });
    expect(parseOperand("example.com:")).toEqual({ kind: "remote", remote: { host: "example.com", path: "" } });
    expect(parseOperand("alias:docs/a b.txt")).toEqual({ kind: "remote", remote: { host: "alias", path: "docs/a b.txt" } });
    expect(parseOperand("host:~/x")).toEqual({ kind: "remote", remote: { host: "host", path: "~/x" } });
    // The last @ separates the user (user names may contain @).
    expect(parseOperand("a@b@host:p")).toEqual({ kind: "remote", remote: { user: "a@b", host: "host", path: "p" } });
    // A path may contain ":" after the host.
    expect(parseOperand("host:a:b")).toEqual({ kind: "remote", remote: { host: "host", path: "a:b" } });
  });

  it("reads IPv6 addresses in brackets", () => {
    expect(parseOperand("[::1]:/tmp")).toEqual({ kind: "remote", remote: { host: "::1", path: "/tmp" } });
    expect(parseOperand("bob@[fe80::1%eth0]:x")).toEqual({ kind: "remote", remote: { user: "bob", host: "fe80::1%eth0", path: "x" } });
  });

  it("reads sftp:// URIs: /abs is absolute, /~/rel relative to the login directory", () => {
    expect(parseOperand("sftp://alice@host:2222/srv/x")).toEqual({ kind: "remote", remote: { user: "alice", host: "host", port: 2222, path: "/srv/x" } });
    expect(parseOperand("sftp://host/~/docs")).toEqual({ kind: "remote", remote: { host: "host", path: "docs" } });
    expect(parseOperand("sftp://host")).toEqual({ kind: "remote", remote: { host: "host", path: "" } });
    expect(parseOperand("sftp://[::1]:22/a%20b")).toEqual({ kind: "remote", remote: { host: "::1", port: 22, path: "/a b" } });
    expect(() => parseOperand("http://host/x")).toThrow(UsageError);
  });

  it("treats anything else as local", () => {
    for (const p of ["file.txt", "./a:b", "/abs/c:d", "dir/x:y", ":nohost", "", "-"]) expect(parseOperand(p)).toEqual({ kind: "local", path: p });
  });

  it("refuses bad host names", () => {
    expect(() => parseOperand("-oProxyCommand=x:y")).toThrow(/bad host/);
    expect(() => parseOperand("@host:x")).toThrow(/empty user/);
  });

  it("compares servers and prints remotes back", () => {
    const remote = (text: string): RemotePath => {
      const op = parseOperand(text);
      if (op.kind !== "remote") throw new Error(`${text} is local`);
      return op.remote;
    };
    const [a, b, c] = [remote("u@h:a"), remote("u@h:b"), remote("v@h:b")];
    expect(sameServer(a, b)).toBe(true);
    expect(sameServer(a, c)).toBe(false);
    expect(formatRemote({ user: "u", host: "::1", path: "/x" })).toBe("u@[::1]:/x");
  });
});

describe("-o options", () => {
  it("splits Key=Value, Key Value, Key = Value", () => {
    expect(parseSshOption("StrictHostKeyChecking=accept-new")).toEqual(["stricthostkeychecking", "accept-new"]);
    expect(parseSshOption("Port 2222")).toEqual(["port", "2222"]);
    expect(parseSshOption(" Ciphers = +aes128-ctr ")).toEqual(["ciphers", "+aes128-ctr"]);
    expect(() => parseSshOption("Port=")).toThrow(UsageError);
    expect(() => parseSshOption("=x")).toThrow(UsageError);
  });

  it("maps host-key options; strict unless told, changed keys never trusted", () => {
    expect(settings([]).hostKeys).toEqual({});
    expect(settings(["-o", "StrictHostKeyChecking=yes"]).hostKeys.policy).toBe("strict");
    expect(settings(["-o", "StrictHostKeyChecking=ask"]).hostKeys.policy).toBe("strict");
    expect(settings(["-o", "StrictHostKeyChecking=accept-new"]).hostKeys.policy).toBe("accept-new");
    expect(settings(["-o", "stricthostkeychecking=no"]).hostKeys.policy).toBe("accept-new");
    expect(() => settings(["-o", "StrictHostKeyChecking=maybe"])).toThrow(/yes, ask, accept-new or no/);
    expect(settings(["-o", "UserKnownHostsFile=/tmp/kh /tmp/kh2"]).hostKeys.knownHostsFile).toBe("/tmp/kh");
    expect(settings(["-o", "UserKnownHostsFile=~/kh"]).hostKeys.knownHostsFile).toBe(`${homedir()}/kh`);
    expect(settings(["-o", "UserKnownHostsFile=none"]).hostKeys.knownHostsFile).toBe("/dev/null");
  });

  it("maps algorithm lists, checking the names up front", () => {
    const s = settings(["-o", "Ciphers=aes128-ctr,aes256-gcm@openssh.com", "-o", "KexAlgorithms=+diffie-hellman-group14-sha256", "-o", "MACs=-hmac-sha1", "-o", "HostKeyAlgorithms=ssh-ed25519"]);
    expect(s.algorithms).toEqual({
      cipher: "aes128-ctr,aes256-gcm@openssh.com",
      kex: "+diffie-hellman-group14-sha256",
      mac: "-hmac-sha1",
      serverHostKey: "ssh-ed25519",
    });
    expect(() => settings(["-o", "Ciphers=rot13"])).toThrow(/unsupported cipher algorithm\(s\): rot13/);
  });

  it("maps port, user, identities, jump hosts, config, timeouts, batch mode", () => {
    const s = settings(["-p", "2200", "-o", "Port=9", "-o", "User=bob", "-i", "/k1", "-o", "IdentityFile=/k2", "-J", "gw", "-F", "none",
      "-o", "ConnectTimeout=5", "-o", "ServerAliveInterval=30", "-o", "BatchMode=yes"]);
    expect(s.port).toBe(2200); // -p wins over -o Port
    expect(s.user).toBe("bob");
    expect(s.identityFiles).toEqual(["/k1", "/k2"]);
    expect(s.jumpHosts).toBe("gw");
    expect(s.sshConfig).toBe(false);
    expect(s.readyTimeoutMs).toBe(5000);
    expect(s.keepaliveIntervalMs).toBe(30000);
    expect(s.batchMode).toBe(true);
    expect(settings(["-P", "2201"]).port).toBe(2201);
    expect(settings(["-o", "ProxyJump=a@b:22,c"]).jumpHosts).toBe("a@b:22,c");
    expect(settings(["-F", "~/cfg"]).sshConfig).toBe(`${homedir()}/cfg`);
  });

  it("keeps the first value of a repeated option, as ssh does", () => {
    expect(settings(["-o", "Port=1", "-o", "Port=2"]).port).toBe(1);
    expect(settings(["-o", "StrictHostKeyChecking=accept-new", "-o", "StrictHostKeyChecking=yes"]).hostKeys.policy).toBe("accept-new");
  });

  it("refuses unknown keys and bad values", () => {
    expect(() => settings(["-o", "ProxyCommand=nc %h %p"])).toThrow(/unsupported -o option "ProxyCommand"/);
    expect(() => settings(["-p", "70000"])).toThrow(/between 1 and 65535/);
    expect(() => settings(["-o", "BatchMode=perhaps"])).toThrow(/yes or no/);
  });
});

describe("agentSocket", () => {
  it("passes $SSH_AUTH_SOCK only when it is a socket and no ssh_config is in effect", async () => {
    const { createServer } = await import("node:net");
    const { mkdtemp, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const dir = await mkdtemp(`${tmpdir()}/agent-`);
    const sock = `${dir}/agent.sock`;
    const server = createServer();
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      expect(agentSocket(settings(["-F", "none"]), { SSH_AUTH_SOCK: sock })).toBe(sock);
      expect(agentSocket(settings(["-F", "none"]), {})).toBeUndefined();
      expect(agentSocket(settings(["-F", "none"]), { SSH_AUTH_SOCK: `${dir}/missing` })).toBeUndefined();
      expect(agentSocket(settings(["-F", "none"]), { SSH_AUTH_SOCK: dir })).toBeUndefined(); // not a socket
      // A config file in effect: the library decides (IdentitiesOnly, IdentityAgent).
      expect(agentSocket(settings(["-F", "/etc/hostname"]), { SSH_AUTH_SOCK: sock })).toBeUndefined();
      expect(agentSocket(settings(["-F", `${dir}/no-config`]), { SSH_AUTH_SOCK: sock })).toBe(sock);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("connectOptionsFor", () => {
  it("builds the library's options: the operand wins over the options, nothing unset is sent", () => {
    const s = settings(["-p", "2200", "-o", "User=bob", "-o", "StrictHostKeyChecking=accept-new", "-o", "UserKnownHostsFile=/kh", "-J", "gw"]);
    expect(connectOptionsFor({ user: "alice", host: "h", path: "" }, s)).toEqual({
      host: "h", port: 2200, username: "alice", jumpHosts: "gw", hostKeys: { policy: "accept-new", knownHostsFile: "/kh" },
    });
    expect(connectOptionsFor({ host: "h", port: 7, path: "" }, s).port).toBe(7);
    // Nothing given: the library's defaults (and ~/.ssh/config) decide — strict host keys.
    expect(connectOptionsFor({ host: "h", path: "" }, settings([]))).toEqual({ host: "h" });
  });
});
