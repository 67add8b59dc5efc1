/**
 * ssh_config resolution against OpenSSH itself: each config is resolved by `ssh -G -F <file>`
 * and by resolveHostConfig, and every key this module implements must agree. Plus Include,
 * Match and expansion cases that need a fake file system, and property tests: any text either
 * resolves or fails with SshError, and generated configs agree with ssh -G.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeUnless, missingTools } from "../support/tools.js";
import fc from "fast-check";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { homeDirectory, localUsername } from "../../src/platform/local.js";
import { join } from "node:path";
import { SshError } from "../../src/errors.js";
import { matchPattern, resolveHostConfig, splitArgs, type ConfigContext, type HostConfig } from "../../src/ssh/config/ssh-config.js";

// The library's own lookup: Bun's userInfo() says "unknown" where it cannot read the user.
const me = { username: localUsername(), homedir: homeDirectory() };
// ssh(1) takes the home directory and user name from the password database, not $HOME.
const local: ConfigContext = { localUser: me.username, homeDir: me.homedir, env: (n) => process.env[n] };

let dir: string;
let seq = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sshcfg-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `ssh -G` output as key → values, or undefined when ssh rejects the config. */
function sshG(text: string, host: string, extra: string[] = []): Map<string, string[]> | undefined {
  const file = join(dir, `config${seq++}`);
  writeFileSync(file, text, { mode: 0o600 });
  const r = spawnSync("/usr/bin/ssh", ["-G", "-F", file, ...extra, host], { encoding: "utf8", input: "" });
  if (r.status !== 0) return undefined;
  const out = new Map<string, string[]>();
  for (const line of r.stdout.split("\n")) {
    const i = line.indexOf(" ");
    if (i < 0) continue;
    const k = line.slice(0, i).toLowerCase();
    out.set(k, [...(out.get(k) ?? []), line.slice(i + 1)]);
  }
  return out;
}

const bool = (v: string | undefined) => (v === undefined ? undefined : !["no", "false"].includes(v));
const PREFIXED = /^[+\-^]/;

/** Our result in ssh -G's terms, for the keys both have. */
function compare(ours: HostConfig, g: Map<string, string[]>): void {
  const one = (k: string) => g.get(k)?.[0];
  expect(ours.user).toBe(one("user"));
  expect(ours.hostname).toBe(one("hostname"));
  expect(String(ours.port)).toBe(one("port"));
  // ssh -G prints IdentityFile unexpanded (ssh expands it when loading keys).
  const tokens: Record<string, string> = { d: me.homedir, h: ours.hostname, p: String(ours.port), r: ours.user, u: me.username, n: ours.host, "%": "%" };
  const files = (g.get("identityfile") ?? []).filter((f) => f !== "none")
    .map((f) => f.replace(/^~(?=\/|$)/, me.homedir).replace(/%(.)/g, (_, t: string) => tokens[t]!));
  expect(ours.identityFiles).toEqual(files);
  expect(ours.identitiesOnly).toBe(bool(one("identitiesonly")));
  expect(ours.identityAgent).toBe(one("identityagent"));
  expect(ours.userKnownHostsFile.join(" ") || "none").toBe(one("userknownhostsfile"));
  const strict = { true: "yes", false: "no" }[one("stricthostkeychecking") as "true"] ?? one("stricthostkeychecking");
  expect(ours.strictHostKeyChecking).toBe(strict);
  for (const [field, key] of [["hostKeyAlgorithms", "hostkeyalgorithms"], ["kexAlgorithms", "kexalgorithms"], ["ciphers", "ciphers"],
    ["macs", "macs"], ["pubkeyAcceptedAlgorithms", "pubkeyacceptedalgorithms"]] as const) {
    const v = ours[field];
    // ssh -G prints the final list; +/-/^ edits of the defaults are not resolved here.
    if (v !== undefined && !PREFIXED.test(v)) expect(v).toBe(one(key));
  }
  expect(ours.connectTimeout === undefined ? "none" : String(ours.connectTimeout)).toBe(one("connecttimeout"));
  // Debian's OpenSSH (not upstream) defaults ServerAliveInterval to 300 under BatchMode.
  // Unset is undefined here (so connect() can tell an explicit 0 from silence); ssh -G says 0.
  const interval = String(ours.serverAliveInterval ?? 0);
  const debianBatch = ours.batchMode && interval === "0" && one("serveraliveinterval") === "300";
  if (!debianBatch) expect(interval).toBe(one("serveraliveinterval"));
  expect(String(ours.serverAliveCountMax)).toBe(one("serveralivecountmax"));
  expect(ours.proxyJump).toBe(one("proxyjump"));
  if (ours.proxyJump === undefined) expect(ours.proxyCommand).toBe(one("proxycommand"));
  expect(ours.batchMode).toBe(bool(one("batchmode")));
  expect(ours.passwordAuthentication).toBe(bool(one("passwordauthentication")));
  expect(ours.kbdInteractiveAuthentication).toBe(bool(one("kbdinteractiveauthentication")));
  expect(ours.pubkeyAuthentication).toBe(bool(one("pubkeyauthentication")));
  expect(`${ours.rekeyLimit.bytes} ${ours.rekeyLimit.seconds}`).toBe(one("rekeylimit"));
  expect(ours.compression).toBe(bool(one("compression")));
}

function agree(text: string, host: string, ctx: Partial<ConfigContext> = {}): HostConfig {
  const extra = [...(ctx.user ? ["-l", ctx.user] : []), ...(ctx.port ? ["-p", String(ctx.port)] : [])];
  const g = sshG(text, host, extra);
  expect(g, `ssh -G rejected:\n${text}`).toBeDefined();
  const ours = resolveHostConfig(text, host, { ...local, ...ctx });
  compare(ours, g!);
  return ours;
}

const CASES: { name: string; text: string; hosts: string[] }[] = [
  { name: "empty", text: "", hosts: ["example.com"] },
  {
    name: "first value wins, case-insensitive keywords, Key=Value, quotes, comments",
    text: `# comment
HOST web*  !web3
  hostNAME   web.internal   # trailing comment
  User=deploy
  PORT = 2200
  IdentityFile "~/.ssh/my key"
  IdentityFile ~/.ssh/second
  IdentitiesOnly yes
Host *
  User nobody
  Port 22
  IdentityFile ~/.ssh/third
  StrictHostKeyChecking accept-new
  ConnectTimeout 1m5s
  ServerAliveInterval 15
  ServerAliveCountMax 9
  RekeyLimit 512M
  Compression yes
  BatchMode true
  PasswordAuthentication no
  ChallengeResponseAuthentication no
`,
    hosts: ["web1", "web3", "db", "WEB1"],
  },
  {
    name: "? patterns, negation and several patterns per Host",
    text: `Host a? !ab
  Port 1001
Host b*,c
  Port 1002
Host "quoted" other
  Port 1003
Host *.example.com
  User ex
`,
    hosts: ["aa", "ab", "a", "bx", "c", "quoted", "other", "x.example.com", "example.com"],
  },
  {
    name: "Match host/originalhost/user/localuser/all",
    text: `Host alias
  HostName Target.Example.org
Match host target.example.org user root
  Port 3000
Match originalhost alias
  User fromalias
Match host *.example.org,!bad.example.org
  ConnectTimeout 7
Match localuser ${me.username} !host nomatch
  ServerAliveCountMax 11
Match !all
  Port 9
Match all
  Compression yes
`,
    hosts: ["alias", "bad.example.org", "other"],
  },
  {
    name: "Match exec that fails",
    text: `Match exec "exit 1"
  Port 4444
Host *
  Port 4445
`,
    hosts: ["any"],
  },
  {
    name: "algorithm lists and ProxyJump",
    text: `Host jumped
  ProxyJump bob@jump:2200,alice@j2
  ProxyCommand ignored
Host cmd
  ProxyCommand nc %h %p
  ProxyJump ignored
Host *
  Ciphers aes256-gcm@openssh.com,aes128-ctr
  MACs hmac-sha2-256-etm@openssh.com
  KexAlgorithms curve25519-sha256
  HostKeyAlgorithms ssh-ed25519,rsa-sha2-512
  PubkeyAcceptedAlgorithms ssh-ed25519
  UserKnownHostsFile none
  PubkeyAuthentication host-bound
`,
    hosts: ["jumped", "cmd", "plain"],
  },
  {
    name: "tokens and tilde in UserKnownHostsFile and IdentityAgent",
    text: `Host *
  HostName Real.%h
  UserKnownHostsFile ~/kh/%h-%p-%r-%u-%n-%d-%% /abs/file
  IdentityAgent ~/agent/%h.%r
  RekeyLimit 1.5G 1h30m
  StrictHostKeyChecking off
`,
    hosts: ["MyHost", "10.0.0.1"],
  },
];

describeUnless(missingTools("/usr/bin/ssh"), "the ssh -G comparison")("agrees with ssh -G", () => {
  for (const c of CASES) {
    it(c.name, () => {
      for (const host of c.hosts) agree(c.text, host);
    });
  }

  it("an explicit user and port win over the config (ssh -l / -p)", () => {
    const text = "Host *\n  User cfg\n  Port 2\n  IdentityFile ~/.ssh/id_%r\nMatch user explicit\n  Compression yes\n";
    const c = agree(text, "h", { user: "explicit", port: 2022 });
    expect(c.identityFiles).toEqual([`${me.homedir}/.ssh/id_explicit`]);
    expect(c.compression).toBe(true);
  });

  it("Include with globs, Match not leaking out of an Include, Include inside inactive blocks", () => {
    const inc = join(dir, "conf.d");
    mkdirSync(inc, { recursive: true });
    writeFileSync(join(inc, "10-a.conf"), "Port 1010\nHost other\n  User other\n", { mode: 0o600 });
    writeFileSync(join(inc, "20-b.conf"), "User fromb\n", { mode: 0o600 });
    writeFileSync(join(inc, ".hidden.conf"), "ConnectTimeout 3\n", { mode: 0o600 });
    writeFileSync(join(inc, "skip.txt"), "Compression yes\n", { mode: 0o600 });
    const text = `Host nope\n  Include ${inc}/*.conf\nHost *\n  Include ${inc}/*.conf ${dir}/missing-*\n  ServerAliveInterval 4\n`;
    for (const host of ["h", "other", "nope"]) agree(text, host);
    expect(resolveHostConfig(text, "h", local)).toMatchObject({ port: 1010, user: "fromb", serverAliveInterval: 4, connectTimeout: undefined });
  });

  it("Match final re-parses with the final hostname", () => {
    const text = "Host a\n  HostName b\nMatch final host b\n  Port 5000\nMatch canonical\n  User canon\n";
    agree(text, "a");
    agree(text, "c");
  });
});

describe("without ssh", () => {
  const files: Record<string, string> = {
    "/home/u/.ssh/config.d/x.conf": "User x\n",
    "/home/u/.ssh/config.d/y.conf": "Port 7\n",
    "/home/u/.ssh/rel": "IdentityFile %d/id_%h_%p_%r_%u_%n\n",
    "/loop": "Include /loop\n",
  };
  const fake: ConfigContext = {
    localUser: "u",
    homeDir: "/home/u",
    readFile: (p) => files[p],
    listDirectory: (d) => (d === "/home/u/.ssh/config.d" ? ["y.conf", "x.conf", "z.txt"] : undefined),
    env: (n) => ({ AGENT_DIR: "/run/agent" })[n],
  };

  it("relative Include is under ~/.ssh; globs are sorted", () => {
    const c = resolveHostConfig("Include config.d/*.conf rel\n", "Host1", fake);
    expect(c).toMatchObject({ user: "x", port: 7 });
    expect(c.identityFiles).toEqual(["/home/u/id_host1_7_x_u_Host1"]);
    expect(c.identityFilesConfigured).toBe(true);
  });

  it("defaults", () => {
    const c = resolveHostConfig("", "H", fake);
    expect(c).toMatchObject({ host: "H", hostname: "h", port: 22, user: "u", strictHostKeyChecking: "ask", identityFilesConfigured: false });
    expect(c.identityFiles).toContain("/home/u/.ssh/id_ed25519");
    expect(c.userKnownHostsFile).toEqual(["/home/u/.ssh/known_hosts", "/home/u/.ssh/known_hosts2"]);
  });

  it("expands ${ENV}, %% and refuses unknown tokens, unset variables, ~user", () => {
    expect(resolveHostConfig("IdentityAgent ${AGENT_DIR}/s%%\n", "h", fake).identityAgent).toBe("/run/agent/s%");
    expect(resolveHostConfig("IdentityAgent SSH_AUTH_SOCK\n", "h", fake).identityAgent).toBe("SSH_AUTH_SOCK");
    for (const bad of ["IdentityFile ~/%z\n", "IdentityAgent ${NOPE}\n", "IdentityFile ~other/key\n", "HostName %r\n", "IdentityFile a%\n"]) {
      expect(() => resolveHostConfig(bad, "h", fake), bad).toThrow(SshError);
    }
  });

  it("never runs Match exec: such a block never applies, negated or not", () => {
    const c = resolveHostConfig(`Match exec "touch /tmp/pwned"\n  Port 1\nMatch !exec "exit 1"\n  User x\n`, "h", fake);
    expect(c).toMatchObject({ port: 22, user: "u" });
  });

  it("bounds Include depth", () => {
    expect(() => resolveHostConfig("Include /loop\n", "h", fake)).toThrow(/recursive/);
  });

  it("rejects what ssh rejects, with file and line", () => {
    for (const [text, re] of [
      ["Port 0\n", /line 1/], ["Port x\n", /bad port/], ["User\n", /no argument/], ["User a b\n", /extra/],
      ["BatchMode maybe\n", /unsupported value/], ["Host a\nUser 'x\n", /line 2.*quotes/], ["Match\n", /no argument/],
      ["Match foo bar\n", /unsupported Match attribute/], ["Match host\n", /missing Match criteria/], ["RekeyLimit 8\n", /too small/],
      ["ConnectTimeout 5x\n", /invalid time/], ["UserKnownHostsFile none /x\n", /bad list/], ["Match all host x\n", /cannot be combined/],
    ] as const) {
      const err = (() => { try { resolveHostConfig(text, "h", fake); } catch (e) { return e; } })();
      expect(err, text).toBeInstanceOf(SshError);
      expect((err as SshError).code).toBe("CONFIG_ERROR");
      expect((err as SshError).message, text).toMatch(re);
    }
  });

  it("ignores unknown keywords, including Object.prototype names", () => {
    const c = resolveHostConfig("Frobnicate yes\nconstructor x\n__proto__ y\nhasOwnProperty z\nUser kept\n", "h", fake);
    expect(c.user).toBe("kept");
    expect(() => resolveHostConfig("BatchMode constructor\n", "h", fake)).toThrow(SshError);
    expect(() => resolveHostConfig("BatchMode toString\n", "h", fake)).toThrow(SshError);
  });

  it("splits arguments like argv_split and matches patterns like match_pattern", () => {
    expect(splitArgs(`a "b c" 'd"e' f\\ g h#i #j`)).toEqual(["a", "b c", 'd"e', "f g", "h#i"]);
    expect(splitArgs(`"open`)).toBeUndefined();
    expect(matchPattern("abc", "a*c")).toBe(true);
    expect(matchPattern("abc", "a?c")).toBe(true);
    expect(matchPattern("abc", "a?")).toBe(false);
    expect(matchPattern("a".repeat(5000), "*a*a*a*a*a*b")).toBe(false);
  });
});

describe("property tests", () => {
  const KEYWORDS = ["Host", "Match", "Include", "HostName", "Port", "User", "IdentityFile", "IdentitiesOnly", "IdentityAgent",
    "UserKnownHostsFile", "StrictHostKeyChecking", "Ciphers", "ConnectTimeout", "ServerAliveInterval", "ServerAliveCountMax",
    "ProxyJump", "ProxyCommand", "BatchMode", "RekeyLimit", "Compression", "PubkeyAuthentication", "constructor", "Bogus"];
  const WORDS = ["*", "!h", "h?", "all", "host", "user", "exec", "final", "yes", "no", "none", "ask", "10", "1h", "%h", "%%",
    "%q", "~/x", "${HOME}", "\"q w\"", "'", "#", "=", "a,b", "config", "*.conf", "1G", "0", "65536"];
  const line = fc.tuple(fc.constantFrom(...KEYWORDS), fc.array(fc.oneof(fc.constantFrom(...WORDS), fc.string({ maxLength: 6 })), { maxLength: 4 }),
    fc.constantFrom(" ", "=", " = ", "\t"))
    .map(([k, args, sep]) => `${k}${sep}${args.join(" ")}`);
  const text = fc.oneof(fc.string({ maxLength: 400 }), fc.array(line, { maxLength: 20 }).map((ls) => ls.join("\n")));

  it("any text resolves or throws SshError", () => {
    fc.assert(fc.property(text, fc.string({ maxLength: 12 }), (t, host) => {
      const ctx: ConfigContext = { ...local, homeDir: "/nonexistent", readFile: () => t, listDirectory: () => ["a.conf", "b.conf"] };
      try {
        const c = resolveHostConfig(t, host, ctx);
        expect(typeof c.port).toBe("number");
      } catch (e) {
        if (!(e instanceof SshError)) throw e;
        expect(e.code).toBe("CONFIG_ERROR");
      }
    }), { numRuns: 1500 });
  });

  it("the final pass matches Host lines against the final hostname, as ssh -G does", () => {
    // Found by the property below (under Deno's seed): ssh.c re-reads the files with `host` set
    // to the expanded HostName, so `Host c` no longer applies and `Host real.c` now does.
    const c = agree("Host c\n  HostName real.%h\nHost real.c\n  User finaluser\nMatch final\n", "c");
    expect(c.user).toBe("finaluser");
  });

  it("generated configs resolve as ssh -G does", () => {
    const inc = join(dir, "gen");
    mkdirSync(inc, { recursive: true });
    writeFileSync(join(inc, "1.conf"), "User incuser\nHost a*\n  Port 2101\n", { mode: 0o600 });
    writeFileSync(join(inc, "2.conf"), "Match host real.*\n  ConnectTimeout 9\nIdentityFile ~/.ssh/inc\n", { mode: 0o600 });
    const opt = fc.oneof(
      fc.constantFrom("Port 2001", "Port 2002", "User alice", "User bob", "HostName real.%h", "HostName fixed.example",
        "IdentityFile ~/.ssh/k1", "IdentityFile ~/.ssh/k2", "IdentitiesOnly yes", "ConnectTimeout 5", "ConnectTimeout none",
        "ServerAliveInterval 30", "ServerAliveCountMax 1", "StrictHostKeyChecking no", "StrictHostKeyChecking accept-new",
        "BatchMode yes", "Compression yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "PubkeyAuthentication no", "ProxyJump j1", "ProxyCommand nc %h %p", "RekeyLimit 1M 60", "RekeyLimit default none",
        "UserKnownHostsFile ~/kh1 ~/kh2", "UserKnownHostsFile none", "Ciphers aes128-ctr", "IdentityAgent ~/a.sock",
        "IdentityFile none", "ProxyJump none", "proxyjump=u@j2:2222", "PORT=2003", 'User "quoted user"',
        "StrictHostKeyChecking=ask # comment", "\tconnecttimeout = 1m", "PubkeyAcceptedKeyTypes ssh-ed25519",
        "ChallengeResponseAuthentication no", "IdentityFile ~/.ssh/id_%r", "ServerAliveInterval 1h", "# just a comment", "",
        `Include ${inc}/*.conf`, `Include ${inc}/2.conf`),
    );
    const block = fc.oneof(
      fc.constantFrom("Host *", "Host a*", "Host b? !bb", "Host !a c", "Match host real.*", "Match originalhost a*",
        "Match user alice", "Match !user bob host fixed.example", "Match all", "Match final host fixed.example", "Match canonical",
        `Match localuser ${me.username}`, "Match !originalhost a1", "Host *\t# comment", "Match final", "match HOST REAL.*"),
    );
    const config = fc.array(fc.oneof({ weight: 3, arbitrary: opt }, { weight: 1, arbitrary: block }), { maxLength: 14 }).map((ls) => ls.join("\n") + "\n");
    fc.assert(fc.property(config, fc.constantFrom("a1", "bb", "bc", "c", "zz"), (t, host) => {
      agree(t, host);
    }), { numRuns: 200 });
  }, 120_000);
});
