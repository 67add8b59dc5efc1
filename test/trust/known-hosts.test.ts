import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { generateEd25519Key } from "../../src/ssh/keys/private-key.js";
import { hostKeyName, matchesHost, parseKnownHosts } from "../../src/ssh/trust/known-hosts.js";
import { hostKeyVerifier, preferKnownAlgorithms } from "../../src/ssh/trust/host-key-policy.js";
import { encodeBase64 } from "../../src/ssh/wire/base64.js";
import { HostKeyError } from "../../src/errors.js";

describe("known_hosts", () => {
  it("names non-default ports in brackets", () => {
    expect(hostKeyName("example.com", 22)).toBe("example.com");
    expect(hostKeyName("10.0.0.1", 2222)).toBe("[10.0.0.1]:2222");
  });

  it("matches plain, wildcard, negated and bracketed patterns", () => {
    expect(matchesHost("example.com,other", "example.com")).toBe(true);
    expect(matchesHost("*.example.com", "a.example.com")).toBe(true);
    expect(matchesHost("*.example.com,!bad.example.com", "bad.example.com")).toBe(false);
    expect(matchesHost("host?", "host1")).toBe(true);
    expect(matchesHost("[127.0.0.1]:2222", "[127.0.0.1]:2222")).toBe(true);
    expect(matchesHost("[127.0.0.1]:2222", "127.0.0.1")).toBe(false);
    expect(matchesHost("EXAMPLE.com", "example.COM")).toBe(true);
  });

  it("matches wildcards in linear time: a crafted pattern cannot hang the client (found by fuzzing)", () => {
    const started = performance.now();
    // As a RegExp (.*a.*a…b) this pattern backtracked for minutes against a 52-character name.
    expect(matchesHost("*a".repeat(12) + "*b", "a".repeat(40) + ".example.com")).toBe(false);
    expect(matchesHost("*a*a*", "xaya")).toBe(true);
    expect(matchesHost("h.st?", "h.st1")).toBe(true);
    expect(matchesHost("h.st", "hxst")).toBe(false);
    // Backtracking takes C(40, 12) ≈ 5.6e9 steps (seconds to minutes), the linear matcher
    // microseconds: 2 s tells them apart with room for two loaded CI cores (500 ms was tight).
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("matches hashed host names (|1|salt|hash, HMAC-SHA1)", () => {
    const salt = crypto.getRandomValues(new Uint8Array(20));
    const hash = hmac(sha1, salt, new TextEncoder().encode("[h]:2200"));
    const field = `|1|${encodeBase64(salt)}|${encodeBase64(hash)}`;
    expect(matchesHost(field, "[h]:2200")).toBe(true);
    expect(matchesHost(field, "h")).toBe(false);
  });

  it("parses markers and skips comments and broken lines", () => {
    const e = parseKnownHosts("# c\n\n@revoked * ssh-ed25519 AAAA\nhost ssh-rsa\nhost ssh-ed25519 !!!\nh2 ssh-ed25519 AAAA comment\n");
    expect(e.map((x) => [x.marker, x.patterns, x.line])).toEqual([["@revoked", "*", 3], ["", "h2", 6]]);
  });

  it("orders host key algorithms by what is known", () => {
    const known = parseKnownHosts("h ssh-rsa AAAA\n");
    expect(preferKnownAlgorithms(["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"], known, (a) => (a.startsWith("rsa") ? "ssh-rsa" : a)))
      .toEqual(["rsa-sha2-512", "rsa-sha2-256", "ssh-ed25519"]);
  });
});

describe("host key policy", () => {
  const key = generateEd25519Key().publicKey;
  const other = generateEd25519Key().publicKey;
  const line = (k: typeof key, host = "[srv]:2222") => `${host} ${k.type} ${encodeBase64(k.blob)}\n`;
  const file = async (text: string) => {
    const dir = await mkdtemp(join(tmpdir(), "kh-"));
    const f = join(dir, "known_hosts");
    await writeFile(f, text);
    return f;
  };

  it("strict: known passes, unknown and changed are refused with the fingerprint", async () => {
    await expect(hostKeyVerifier("srv", 2222, { knownHostsFile: await file(line(key)) })(key)).resolves.toBeUndefined();
    const unknown = await hostKeyVerifier("srv", 2222, { knownHostsFile: await file("") })(key).catch((e) => e);
    expect(unknown).toBeInstanceOf(HostKeyError);
    expect(unknown.code).toBe("HOST_KEY_UNKNOWN");
    expect(unknown.message).toContain(key.fingerprint);
    const changed = await hostKeyVerifier("srv", 2222, { knownHostsFile: await file(line(other)) })(key).catch((e) => e);
    expect(changed.code).toBe("HOST_KEY_CHANGED");
  });

  it("a missing known_hosts file means unknown, not an I/O error", async () => {
    const err = await hostKeyVerifier("srv", 2222, { knownHostsFile: "/nonexistent/dir/kh" })(key).catch((e) => e);
    expect(err.code).toBe("HOST_KEY_UNKNOWN");
  });

  it("@revoked always refuses, even a pinned key", async () => {
    const f = await file(`@revoked * ${key.type} ${encodeBase64(key.blob)}\n`);
    const err = await hostKeyVerifier("srv", 2222, { knownHostsFile: f, fingerprints: [key.fingerprint] })(key).catch((e) => e);
    expect(err.code).toBe("HOST_KEY_REVOKED");
  });

  it("accept-new appends unknown keys but still refuses changed ones", async () => {
    const f = await file("");
    await hostKeyVerifier("srv", 2222, { policy: "accept-new", knownHostsFile: f })(key);
    const written = await readFile(f, "utf8");
    // Hashed like HashKnownHosts: the host name is not readable in the file, but still matches.
    expect(written).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 [A-Za-z0-9+/=]+\n$/);
    expect(written).not.toContain("srv");
    const [entry] = parseKnownHosts(written);
    expect(matchesHost(entry!.patterns, "[srv]:2222")).toBe(true);
    await expect(hostKeyVerifier("srv", 2222, { knownHostsFile: f })(key)).resolves.toBeUndefined();
    const err = await hostKeyVerifier("srv", 2222, { policy: "accept-new", knownHostsFile: f })(other).catch((e) => e);
    expect(err.code).toBe("HOST_KEY_CHANGED");
    // Both fingerprints are named, and the file is left byte-identical.
    expect(err.message).toContain(other.fingerprint);
    expect(err.message).toContain(key.fingerprint);
    expect(await readFile(f, "utf8")).toBe(written);
  });

  it("pins and the verify callback decide when given", async () => {
    const f = await file("");
    await expect(hostKeyVerifier("srv", 22, { knownHostsFile: f, fingerprints: [key.fingerprint] })(key)).resolves.toBeUndefined();
    expect((await hostKeyVerifier("srv", 22, { knownHostsFile: f, fingerprints: [other.fingerprint] })(key).catch((e) => e)).code)
      .toBe("HOST_KEY_MISMATCH");
    await expect(hostKeyVerifier("srv", 22, { knownHostsFile: f, verify: (k) => k.fingerprint === key.fingerprint })(key)).resolves.toBeUndefined();
    expect((await hostKeyVerifier("srv", 22, { knownHostsFile: f, verify: () => false })(key).catch((e) => e)).code).toBe("HOST_KEY_REJECTED");
  });

  it("insecure-accept-any accepts anything", async () => {
    await expect(hostKeyVerifier("srv", 22, { policy: "insecure-accept-any", knownHostsFile: "/nonexistent" })(key)).resolves.toBeUndefined();
  });
});

describe("known_hosts parser properties", () => {
  it("never throws on arbitrary text, and keeps only well-formed entries", async () => {
    const fc = (await import("fast-check")).default;
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        for (const e of parseKnownHosts(text)) {
          expect(e.patterns.length).toBeGreaterThan(0);
          expect(e.keyType.length).toBeGreaterThan(0);
          expect(matchesHost(e.patterns, "example.com")).toBeTypeOf("boolean");
        }
      }),
    );
  });

  it("round-trips the lines it writes, hashed or not", async () => {
    const fc = (await import("fast-check")).default;
    const { knownHostsLine } = await import("../../src/ssh/trust/known-hosts.js");
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9.-]{1,30}$/), fc.integer({ min: 1, max: 65535 }), fc.uint8Array({ minLength: 1, maxLength: 80 }), fc.boolean(),
        (host, port, blob, hashed) => {
          const [e] = parseKnownHosts(knownHostsLine(host, port, "ssh-ed25519", blob, hashed) + "\n");
          expect(e!.keyBlob).toEqual(blob);
          expect(matchesHost(e!.patterns, hostKeyName(host, port))).toBe(true);
          expect(matchesHost(e!.patterns, hostKeyName(host + "x", port))).toBe(false);
        }),
    );
  });
});
