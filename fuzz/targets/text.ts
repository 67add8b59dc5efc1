/**
 * The text formats read from disk: known_hosts (src/ssh/trust/known-hosts.ts) with host
 * matching, ssh_config (src/ssh/config/ssh-config.ts) resolved for several hosts over a fake
 * file system (Include of globs, an Include loop, the input including itself), and the server's
 * authorized_keys (src/ssh/server/authorized-keys.ts). Seeds are the samples in fuzz/corpus/,
 * whole and line by line; mutations also work on whole lines and keywords.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { resolveHostConfig, type ConfigContext } from "../../src/ssh/config/ssh-config.js";
import { parsePublicKey } from "../../src/ssh/keys/public-key.js";
import { keyListed, parseAuthorizedKeys } from "../../src/ssh/server/authorized-keys.js";
import { hostKeyName, matchesHost, parseKnownHosts } from "../../src/ssh/trust/known-hosts.js";
import { each, type FuzzTarget } from "../engine.js";
import { CORPUS, tokens } from "../corpus.js";

const dec = new TextDecoder();
const enc = new TextEncoder();

/** The file, and each of its lines alone (with the block header before it, for configs). */
function textSeeds(name: string): Uint8Array[] {
  const text = readFileSync(join(CORPUS, name), "utf8");
  const lines = text.split("\n").filter((l) => l.trim() && !l.startsWith("#"));
  return [text, ...lines, lines.slice(0, 4).join("\n")].map((t) => enc.encode(t));
}

const HOSTS = ["github.com", "[git.example.org]:2222", "a.corp.example", "host1.lan", `${"a".repeat(40)}.example.com`];

export const knownHosts: FuzzTarget = {
  name: "known-hosts",
  iterations: 60_000,
  text: true,
  maxLength: 8192,
  dict: tokens("@cert-authority", "@revoked", "|1|", "*", "?", "!", "[", "]:", ",", "ssh-ed25519", " "),
  seeds: () => textSeeds("known_hosts"),
  // Host patterns built from the glob alphabet: what pattern matching has to survive.
  generate: (rng) => {
    const key = textSeeds("known_hosts")[1]!;
    const keyFields = new TextDecoder().decode(key).split(" ").slice(1).join(" ");
    const pattern = () => Array.from({ length: 1 + rng.size(48) }, () => rng.pick([..."*?a.!,[]:9"])).join("");
    return enc.encode(Array.from({ length: 1 + rng.int(4) }, () => `${pattern()} ${keyFields}`).join("\n"));
  },
  run: (input) => {
    const entries = parseKnownHosts(dec.decode(input)).slice(0, 32);
    return entries.map((e) => each(
      ...HOSTS.map((h) => () => matchesHost(e.patterns, h)),
      () => matchesHost(e.patterns, hostKeyName(e.patterns.slice(0, 40), 2222)),
      () => parsePublicKey(e.keyBlob).type,
    ));
  },
};

const INCLUDED = "Port 1010\nHost other\n  User other\nMatch host *\n  IdentityFile ~/.ssh/included\n";

export const sshConfig: FuzzTarget = {
  name: "ssh-config",
  iterations: 60_000,
  text: true,
  maxLength: 8192,
  dict: tokens("Host ", "Match ", "Include ", "HostName ", "Port ", "User ", "IdentityFile ", "ProxyJump ", "RekeyLimit ", "all", "final",
    "canonical", "exec", "originalhost", "localuser", "%h", "%r", "%%", "%", "${HOME}", "${", "~/", "\"", "'", "\\", "=", "!", "*", ",", "#"),
  seeds: () => textSeeds("ssh_config"),
  run: (input) => {
    const text = dec.decode(input);
    const ctx: ConfigContext = {
      localUser: "fuzz",
      homeDir: "/home/fuzz",
      fileName: "fuzz_config",
      // The input may include itself (a.conf): the depth and file limits must hold.
      readFile: (path) => (path.endsWith("/a.conf") ? text : path.endsWith(".conf") ? INCLUDED : path === "/loop" ? "Include /loop\n" : undefined),
      listDirectory: () => ["a.conf", "b.conf", ".hidden.conf", "notes.txt"],
      env: (name) => (name === "SSH_AUTH_SOCK" ? "/tmp/agent.sock" : name === "HOME" ? "/home/fuzz" : undefined),
    };
    const host = ["alias", "jump-1", "a.example.com", "bad.example.com", "x.internal.example.com"][input.length % 5]!;
    return each(() => resolveHostConfig(text, host, ctx), () => resolveHostConfig(text, "other", { ...ctx, user: "root", port: 2200 }));
  },
};

export const authorizedKeys: FuzzTarget = {
  name: "authorized-keys",
  iterations: 40_000,
  text: true,
  maxLength: 8192,
  dict: tokens("no-pty", "restrict", "command=\"", "from=\"", "cert-authority", "principals=\"", "\\\"", ",", "ssh-ed25519 ", "ecdsa-sha2-nistp256 "),
  seeds: () => textSeeds("authorized_keys"),
  run: (input) => {
    const keys = parseAuthorizedKeys(dec.decode(input));
    return keys.map((k) => keyListed(keys, k));
  },
};

export const targets = [knownHosts, sshConfig, authorizedKeys];
