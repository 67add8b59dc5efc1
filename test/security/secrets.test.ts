/**
 * Secrets hygiene (issue #11 item 4): passwords, passphrases and private keys never appear in
 * what the library shows — error messages, String(err), stacks, cause chains, JSON.stringify and
 * util.inspect of its public objects, console output, the CLI's stderr, getUrl — in clear text,
 * hex or base64. Every failing authentication and key-loading path runs with marker secrets.
 *
 * Also checks the zeroing the library promises where it is observable from outside: the
 * userauth password packet is wiped once the transport has taken its copy.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { needTools } from "../support/tools.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { connect } from "../../src/connect.js";
import { SFTPAccessor } from "../../src/accessor/sftp-accessor.js";
import { sftpOptionsFromEnv } from "../../src/accessor/sftp-env.js";
import { Location } from "../../src/accessor/location.js";
import { EXIT } from "../../src/cli/errors.js";
import { runCli } from "../cli/support/run-main.js";
import { agentKeys } from "../../src/ssh/auth/agent.js";
import { authenticate } from "../../src/ssh/auth/userauth.js";
import { MSG } from "../../src/ssh/messages.js";
import { parsePrivateKey } from "../../src/ssh/keys/private-key.js";
import type { Transport } from "../../src/ssh/transport/transport.js";
import { bigintSecret, mpintSecret, stringSecret } from "../../src/ssh/kex/exchange-hash.js";
import { deriveKey } from "../../src/ssh/transport/key-derivation.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { SshReader } from "../../src/ssh/wire/reader.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import { startTestServer, USER, type TestServer } from "../server/helpers.js";
import { findLeaks, textsOf, type Leak } from "./leak-scan.js";

const PASSWORD = "S3cr3t-MARKER-password-51f0";
const PASSPHRASE = "S3cr3t-MARKER-passphrase-a7c2";
const WRONG = "S3cr3t-MARKER-wrong-3b9e";
const API_KEY = "S3cr3t-MARKER-ftrack-api-key-08d1";
/** 32 bytes: the ed25519 seed of the marker key; its text form contains the marker. */
const SEED = new TextEncoder().encode("S3cr3t-MARKER-ed25519-seed-4e6a7");
const SECRETS: (string | Uint8Array)[] = [PASSWORD, PASSPHRASE, WRONG, API_KEY, SEED];

const leaks: Leak[] = [];
/** Records the leaks of any text form of each value under `label`. */
function scan(label: string, ...values: unknown[]): void {
  for (const v of values) leaks.push(...findLeaks(label, v, SECRETS));
}
/** Asserts there are no leaks for `label` (the global list is checked again at the end). */
function expectClean(label: string): void {
  expect(leaks.filter((l) => l.label === label)).toEqual([]);
}
async function failure(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    return e;
  }
  throw new Error("expected a failure");
}

// Everything written to the console while the tests run is a "log line" and is scanned too.
const consoleLines: string[] = [];
beforeAll(() => {
  for (const m of ["log", "info", "warn", "error", "debug", "trace"] as const) {
    vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void consoleLines.push(args.map((a) => textsOf(a).join("\n")).join(" ")));
  }
});
afterAll(() => {
  vi.restoreAllMocks();
  scan("console output", consoleLines.join("\n"));
  expect(leaks).toEqual([]);
});

// --- key files holding the marker -----------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), "secrets-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function exec(cmd: string, args: string[]): void {
  // Tools are given arguments, never a shell; their output is not the library's and is not scanned.
  execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
}

function armor(bin: Uint8Array): string {
  const b64 = Buffer.from(bin).toString("base64").replace(/.{70}/g, "$&\n");
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

interface Ed25519Fields {
  checkA?: number;
  checkB?: number;
  type?: string;
  seed?: Uint8Array;
  innerPub?: Uint8Array;
  outerPub?: Uint8Array;
  padding?: number[];
}

/** An unencrypted openssh-key-v1 ssh-ed25519 file whose fields can be made wrong. */
function opensshEd25519(f: Ed25519Fields = {}): string {
  const seed = f.seed ?? SEED;
  const pub = ed25519.getPublicKey(seed);
  const blob = (p: Uint8Array) => new SshWriter().string("ssh-ed25519").string(p).finish().slice();
  const priv = new Uint8Array(64);
  priv.set(seed);
  priv.set(f.innerPub ?? pub, 32);
  const section = new SshWriter()
    .uint32(f.checkA ?? 0x11223344).uint32(f.checkB ?? 0x11223344)
    .string(f.type ?? "ssh-ed25519").string(f.innerPub ?? pub).string(priv).string("marker@test");
  let body = section.finish().slice();
  const pad = f.padding ?? Array.from({ length: (8 - (body.length % 8)) % 8 }, (_, i) => i + 1);
  body = Uint8Array.from([...body, ...pad]);
  const bin = new SshWriter()
    .raw(new TextEncoder().encode("openssh-key-v1\0")).string("none").string("none").string(new Uint8Array(0)).uint32(1)
    .string(blob(f.outerPub ?? pub)).string(body).finish().slice();
  return armor(bin);
}

/** Flips one byte in the middle of the base64 body of a text key file (keeps it valid base64). */
function corrupt(text: string, at = 0.6): string {
  const lines = text.split("\n");
  const bodyLines = lines.map((l, i) => ({ l, i })).filter(({ l }) => /^[A-Za-z0-9+/=]{40,}$/.test(l));
  const target = bodyLines[Math.floor(bodyLines.length * at)]!;
  const chars = [...target.l];
  const k = Math.floor(chars.length / 2);
  chars[k] = chars[k] === "A" ? "B" : "A";
  lines[target.i] = chars.join("");
  return lines.join("\n");
}

function writeKey(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, 0o600);
  return path;
}

const plainKeyText = opensshEd25519();
const encrypted: Record<string, string> = {};

beforeAll(() => {
  // openssh-key-v1 (aes256-ctr + bcrypt), from the marker-seed key.
  const p = writeKey("ed25519", plainKeyText);
  exec("/usr/bin/ssh-keygen", ["-p", "-q", "-P", "", "-N", PASSPHRASE, "-f", p]);
  encrypted["openssh aes256-ctr"] = readFileSync(p, "utf8");
  const gcm = writeKey("ed25519-gcm", plainKeyText);
  exec("/usr/bin/ssh-keygen", ["-p", "-q", "-P", "", "-N", PASSPHRASE, "-Z", "aes256-gcm@openssh.com", "-f", gcm]);
  encrypted["openssh aes256-gcm"] = readFileSync(gcm, "utf8");
  const chacha = writeKey("ed25519-chacha", plainKeyText);
  exec("/usr/bin/ssh-keygen", ["-p", "-q", "-P", "", "-N", PASSPHRASE, "-Z", "chacha20-poly1305@openssh.com", "-f", chacha]);
  encrypted["openssh chacha20-poly1305"] = readFileSync(chacha, "utf8");
  // PEM (legacy OpenSSL encryption) and PKCS#8 PBES2, from an ECDSA key.
  const ec = join(dir, "ecdsa");
  exec("/usr/bin/ssh-keygen", ["-t", "ecdsa", "-b", "256", "-q", "-N", "", "-f", ec]);
  const pem = writeKey("ecdsa-pem", readFileSync(ec, "utf8"));
  exec("/usr/bin/ssh-keygen", ["-p", "-q", "-P", "", "-N", PASSPHRASE, "-m", "PEM", "-f", pem]);
  encrypted["PEM AES-128-CBC"] = readFileSync(pem, "utf8");
  const p8 = writeKey("ecdsa-p8", readFileSync(ec, "utf8"));
  exec("/usr/bin/ssh-keygen", ["-p", "-q", "-P", "", "-N", PASSPHRASE, "-m", "PKCS8", "-f", p8]);
  encrypted["PKCS#8 PBES2"] = readFileSync(p8, "utf8");
});

/** PuTTY v2 and v3 (Argon2id) files of the marker-seed key, made by puttygen. */
function puttyKeys(): Record<string, string> {
  const keys: Record<string, string> = {};
  const plain = writeKey("ed25519-for-putty", plainKeyText);
  const passFile = join(dir, "pass.txt");
  writeFileSync(passFile, `${PASSPHRASE}\n`);
  for (const [label, params] of [["PPK v2", "version=2"], ["PPK v3 argon2id", "version=3,kdf=argon2id,memory=1024,passes=1"]] as const) {
    const out = join(dir, `key-${label.replace(/\W/g, "")}.ppk`);
    exec("/usr/bin/puttygen", [plain, "-q", "--old-passphrase", passFile, "-O", "private", "-o", out, "--ppk-param", params, "--new-passphrase", passFile]);
    keys[label] = readFileSync(out, "utf8");
  }
  rmSync(passFile);
  return keys;
}

describe("the scanner", () => {
  it("finds secrets in clear, hex and base64 at any alignment, through causes", () => {
    const hex = Buffer.from(PASSWORD).toString("hex");
    for (const shift of [0, 1, 2]) {
      const b64 = Buffer.concat([Buffer.alloc(shift, 7), Buffer.from(SEED), Buffer.alloc(2, 1)]).toString("base64");
      expect(findLeaks("t", new Error(`blob ${b64}`), SECRETS)).not.toEqual([]);
    }
    expect(findLeaks("t", new Error("outer", { cause: new Error(`inner ${hex.toUpperCase()}`) }), SECRETS)).not.toEqual([]);
    expect(findLeaks("t", { nested: { deeper: { pw: PASSPHRASE } } }, SECRETS)).not.toEqual([]);
    expect(findLeaks("t", new Error("nothing to see"), SECRETS)).toEqual([]);
  });
});

describe("key loading", () => {
  it("keeps the key out of a parsed PrivateKey", () => {
    const key = parsePrivateKey(plainKeyText);
    scan("parsed PrivateKey", key, key.publicKey);
    expectClean("parsed PrivateKey");
  });

  it("never echoes key material from malformed or corrupt key files", async () => {
    const variants: Record<string, string> = {
      "check-ints differ": opensshEd25519({ checkB: 0x55667788 }),
      "private type is key material": opensshEd25519({ type: "S3cr3t-MARKER-not-a-key-type" }),
      "halves differ": opensshEd25519({ innerPub: new Uint8Array(32).fill(9) }),
      "outer public differs": opensshEd25519({ outerPub: ed25519.getPublicKey(new Uint8Array(32).fill(1)) }),
      "bad padding": opensshEd25519({ padding: [7, 7, 7, 7, 7, 7, 7, 7] }),
      "truncated": plainKeyText.replace(/\n[A-Za-z0-9+/=]+\n-----END/, "\n-----END"),
      "corrupt body": corrupt(plainKeyText),
      "seed as a public key line": `ssh-ed25519 ${Buffer.from(SEED).toString("base64")} x`,
      "seed as a DER blob": "",
    };
    for (const [label, text] of Object.entries(variants)) {
      const input = label === "seed as a DER blob" ? Uint8Array.from([0x30, 0x22, 0x04, 0x20, ...SEED]) : text;
      const e = await failure(() => parsePrivateKey(input));
      scan(`key file: ${label}`, e);
      expectClean(`key file: ${label}`);
    }
  });

  /** Loads each key with the right passphrase and fails it every wrong way, scanning each result. */
  async function checkEncryptedKeys(keys: Record<string, string>): Promise<void> {
    for (const [format, text] of Object.entries(keys)) {
      // Right passphrase: loads, and the result shows nothing secret.
      const key = parsePrivateKey(text, PASSPHRASE);
      scan(`${format}: loaded`, key);
      const wrongBytes = new TextEncoder().encode(WRONG);
      for (const [what, run, code] of [
        ["no passphrase", () => parsePrivateKey(text), "PASSPHRASE_REQUIRED"],
        ["wrong passphrase", () => parsePrivateKey(text, WRONG), "BAD_PASSPHRASE"],
        ["wrong passphrase (bytes)", () => parsePrivateKey(text, wrongBytes), "BAD_PASSPHRASE"],
        ["corrupt ciphertext", () => parsePrivateKey(corrupt(text), PASSPHRASE), undefined],
        ["corrupt near the start", () => parsePrivateKey(corrupt(text, 0), PASSPHRASE), undefined],
      ] as const) {
        const e = await failure(run).catch((x: Error) => x); // a corruption may still load: then scan the key
        if (code) expect((e as { code?: string }).code, `${format}: ${what}`).toBe(code);
        scan(`${format}: ${what}`, e);
        expectClean(`${format}: ${what}`);
      }
      // The caller's passphrase bytes are never wiped by the parser (they are the caller's).
      expect(new TextDecoder().decode(wrongBytes)).toBe(WRONG);
    }
  }

  it("keeps passphrases out of every encrypted-key failure (OpenSSH, PEM, PKCS#8)", async () => {
    await checkEncryptedKeys(encrypted);
  });

  it("keeps passphrases out of every encrypted-key failure (PuTTY v2, v3)", async (ctx) => {
    needTools(ctx, "/usr/bin/puttygen");
    await checkEncryptedKeys(puttyKeys());
  });
});

// --- authentication against the embedded server ---------------------------------------------

describe("authentication", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      authMethods: ["publickey", "password", "keyboard-interactive"],
      authenticate: async (r) => {
        if (r.method === "keyboard-interactive") {
          await r.prompt([{ prompt: "Password: ", echo: false }, { prompt: "One-time code: ", echo: false }]);
          return false;
        }
        return r.method === "password" && r.password === PASSWORD && r.username === "marker-ok";
      },
      limits: { authFailureDelayMs: 1, maxAuthAttempts: 20 },
    });
  });
  afterAll(() => server.stop());

  it("keeps a wrong password out of the AuthError", async () => {
    const e = await failure(connect(server.options({ password: PASSWORD })));
    expect((e as { code?: string }).code).toBe("AUTH_FAILED");
    scan("wrong password", e);
    expectClean("wrong password");
  });

  it("keeps keyboard-interactive answers out of the failure", async () => {
    const e = await failure(connect(server.options({ password: PASSWORD, keyboardInteractive: () => [PASSWORD, WRONG] })));
    scan("keyboard-interactive", e);
    expectClean("keyboard-interactive");
  });

  it("keeps a key passphrase out of a failed connect (wrong passphrase, then no key)", async () => {
    const wrong = await failure(connect(server.options({ privateKey: encrypted["openssh aes256-ctr"]!, passphrase: WRONG, password: PASSWORD })));
    scan("connect: wrong passphrase", wrong);
    const unauthorised = await failure(connect(server.options({ privateKey: encrypted["openssh aes256-ctr"]!, passphrase: PASSPHRASE, password: PASSWORD })));
    scan("connect: key refused", unauthorised);
    expectClean("connect: wrong passphrase");
    expectClean("connect: key refused");
  });

  it("keeps secrets out of host key, connection and timeout failures", async () => {
    const hostKey = await failure(connect(server.options({ password: PASSWORD, hostKeys: { fingerprints: ["SHA256:" + "A".repeat(43)] } })));
    scan("host key refused", hostKey);
    const refused = await failure(connect({ host: "127.0.0.1", port: 1, password: PASSWORD, passphrase: PASSPHRASE, sshConfig: false, readyTimeoutMs: 5000 }));
    scan("connection refused", refused);
    const aborted = await failure(connect(server.options({ password: PASSWORD, signal: AbortSignal.abort(new Error("stop")) })));
    scan("aborted", aborted);
    for (const l of ["host key refused", "connection refused", "aborted"]) expectClean(l);
  });

  it("shows nothing secret on a live SftpClient and SshConnection", async () => {
    const client = await connect(server.options({ username: "marker-ok", password: PASSWORD }));
    try {
      scan("live SftpClient", client, client.ssh, client.session);
      await client.list(".");
      scan("live SftpClient", client);
    } finally {
      await client.close();
    }
    scan("closed SftpClient", client);
    expectClean("live SftpClient");
    expectClean("closed SftpClient");
  });

  it("keeps secrets out of ssh-agent failures", async () => {
    const missing = await failure(agentKeys(join(dir, "no-agent.sock")));
    scan("agent: no socket", missing);
    const viaConnect = await failure(connect(server.options({ agent: join(dir, "no-agent.sock"), password: PASSWORD, passphrase: PASSPHRASE })));
    scan("agent: connect without agent", viaConnect);

    // An agent that lists the marker key and then refuses to sign with it.
    const agentKey = parsePrivateKey(plainKeyText);
    const sock = join(dir, "agent.sock");
    const agent = await fakeAgent(sock, agentKey.publicKey.blob);
    const keyServer = await startTestServer({ authenticate: (r) => r.method === "publickey" });
    try {
      const refused = await failure(connect(keyServer.options({ agent: sock, password: PASSWORD })));
      expect((refused as { code?: string }).code).toBe("AGENT_REFUSED");
      scan("agent: refuses to sign", refused);
    } finally {
      await keyServer.stop();
      agent.close();
    }
    for (const l of ["agent: no socket", "agent: connect without agent", "agent: refuses to sign"]) expectClean(l);
  });

  it("keeps secrets out of the accessor: options, errors, getUrl, Location", async () => {
    const target = (username: string) => {
      const o = server.options();
      return { host: "127.0.0.1", port: o.port!, username, hostKeys: o.hostKeys!, connectOptions: { readyTimeoutMs: 10_000 } };
    };
    const accessor = new SFTPAccessor({
      ...target(USER),
      password: PASSWORD,
      passphrase: PASSPHRASE,
      privateKey: encrypted["openssh aes256-ctr"]!,
      folder: "data",
    });
    scan("accessor object", accessor, await accessor.getUrl("a/b.txt"));
    const e = await failure(accessor.exists("x"));
    scan("accessor connect failure", e, accessor);
    await accessor.close();

    const ok = new SFTPAccessor({ ...target("marker-ok"), password: PASSWORD });
    expect(await ok.exists("nothing-here")).toBe(false);
    scan("accessor connected", ok);
    const session = {
      apiKey: API_KEY, apiUser: "someone", serverUrl: "https://ftrack.example",
      query: async () => ({ data: [] }), create: async () => ({ data: {} }), update: async () => ({ data: {} }), delete: async () => ({}),
    };
    const location = new Location({ session, entity: { id: "loc-1", name: "studio.sftp", __entity_type__: "Location" }, accessor: ok });
    scan("Location", location);
    await ok.close();
    for (const l of ["accessor object", "accessor connect failure", "accessor connected", "Location"]) expectClean(l);
  });

  it("keeps secrets out of accessor configuration errors (fromEnv)", async () => {
    const base = {
      FTRACK_SFTP_ACCESSOR_HOSTNAME: "127.0.0.1",
      FTRACK_SFTP_ACCESSOR_PASSWORD: PASSWORD,
      FTRACK_SFTP_ACCESSOR_PASSPHRASE: PASSPHRASE,
    };
    const cases: Record<string, Record<string, string>> = {
      "bad port": { ...base, FTRACK_SFTP_ACCESSOR_PORT: "not-a-port" },
      "bad policy": { ...base, FTRACK_SFTP_ACCESSOR_HOST_KEY_POLICY: "insecure-accept-any" },
      "bad pin": { ...base, FTRACK_SFTP_ACCESSOR_HOST_KEY_FINGERPRINT: "md5:00" },
      "key text without armor": { ...base, FTRACK_SFTP_ACCESSOR_PRIVATE_KEY: Buffer.from(SEED).toString("base64") },
      "marker as key": { ...base, FTRACK_SFTP_ACCESSOR_PRIVATE_KEY: PASSPHRASE },
      "long key text": { ...base, FTRACK_SFTP_ACCESSOR_PRIVATE_KEY: `${WRONG}${"x".repeat(5000)}` },
      "no host": { FTRACK_SFTP_ACCESSOR_PASSWORD: PASSWORD },
    };
    for (const [label, env] of Object.entries(cases)) {
      const e = await failure(() => SFTPAccessor.fromEnv(env));
      scan(`fromEnv: ${label}`, e);
      expectClean(`fromEnv: ${label}`);
    }
    // Armored key text in the variable: the options carry it, the accessor shows none of it.
    const good = SFTPAccessor.fromEnv({ ...base, FTRACK_SFTP_ACCESSOR_PRIVATE_KEY: plainKeyText });
    scan("fromEnv: accessor", good, sftpOptionsFromEnv(base).host);
    expectClean("fromEnv: accessor");
  });

  it("keeps secrets out of the CLI's error output", async () => {
    const keyFile = writeKey("cli-key", encrypted["openssh aes256-ctr"]!);
    const known = join(dir, "cli-known-hosts");
    const common = ["-F", "none", "-p", String(server.server.port), "-o", `UserKnownHostsFile=${known}`, "-o", "StrictHostKeyChecking=accept-new", "-o", "BatchMode=yes"];
    const runs: [string, string[], Record<string, string>][] = [
      ["cli: wrong password", ["ls", ...common, `${USER}@127.0.0.1:`], { PURESFTP_PASSWORD: PASSWORD }],
      ["cli: wrong password --json", ["--json", "ls", ...common, `${USER}@127.0.0.1:`], { PURESFTP_PASSWORD: PASSWORD }],
      ["cli: wrong passphrase", ["ls", ...common, "-i", keyFile, `${USER}@127.0.0.1:`], { PURESFTP_PASSPHRASE: WRONG, PURESFTP_PASSWORD: PASSWORD }],
      ["cli: key refused", ["--json", "ls", ...common, "-i", keyFile, `${USER}@127.0.0.1:`], { PURESFTP_PASSPHRASE: PASSPHRASE }],
    ];
    for (const [label, argv, env] of runs) {
      const r = await runCli(argv, { HOME: dir, ...env });
      expect(r.code, `${label}: ${r.stderr}`).toBe(EXIT.AUTH);
      scan(label, r.stderr, r.stdout);
      expectClean(label);
    }
    // The ftrack commands: an unreachable server, with the API key and SFTP secrets in the environment.
    const ftrackEnv = {
      HOME: dir, FTRACK_SERVER: "http://127.0.0.1:1", FTRACK_API_USER: "someone", FTRACK_API_KEY: API_KEY,
      FTRACK_SFTP_ACCESSOR_HOSTNAME: "127.0.0.1", FTRACK_SFTP_ACCESSOR_PASSWORD: PASSWORD, FTRACK_SFTP_ACCESSOR_PASSPHRASE: PASSPHRASE,
    };
    for (const [label, argv] of [
      ["cli: ftrack unreachable", ["ftrack", "upload", "version-1", join(dir, "cli-key")]],
      ["cli: ftrack unreachable --json", ["--json", "ftrack", "transfer", "c-1", "--from", "a", "--to", "b"]],
    ] as const) {
      const r = await runCli([...argv], ftrackEnv);
      expect(r.code, `${label}: ${r.stderr}`).toBe(EXIT.CONNECTION);
      expect(r.stderr).toContain("cannot reach ftrack");
      scan(label, r.stderr, r.stdout);
      expectClean(label);
    }
  });
});

// --- zeroing --------------------------------------------------------------------------------

describe("zeroing", () => {
  it("consumes the raw shared secret when encoding K", () => {
    const raw = Uint8Array.from([0x80, 1, 2, 3]);
    expect([...mpintSecret(raw)]).toEqual([0, 0, 0, 5, 0, 0x80, 1, 2, 3]);
    expect([...raw]).toEqual([0, 0, 0, 0]);
    const digest = Uint8Array.from([9, 9]);
    expect([...stringSecret(digest)]).toEqual([0, 0, 0, 2, 9, 9]);
    expect([...digest]).toEqual([0, 0]);
    expect([...bigintSecret(0x80n)]).toEqual([0, 0, 0, 2, 0, 0x80]);
  });

  it("derives the same keys while wiping its intermediates, and leaves K and H alone", () => {
    const K = bigintSecret(123456789n);
    const H = new Uint8Array(32).fill(7);
    const before = [K.slice(), H.slice()];
    const key = deriveKey((d) => sha256(d), K, H, "C", H, 100);
    expect(key.length).toBe(100);
    expect([K, H]).toEqual(before);
    // RFC 4253 §7.2 by hand: K1 = HASH(K || H || "C" || session_id), K2 = HASH(K || H || K1), …
    const k1 = sha256(Uint8Array.from([...K, ...H, 0x43, ...H]));
    const k2 = sha256(Uint8Array.from([...K, ...H, ...k1]));
    expect([...key.subarray(0, 64)]).toEqual([...k1, ...k2]);
  });

  it("wipes the password packet once the transport has taken it", async () => {
    const sent: Uint8Array[] = [];
    const copies: Uint8Array[] = [];
    const replies: Uint8Array[] = [];
    const transport = {
      sessionId: new Uint8Array(32),
      serverSigAlgs: undefined,
      onMessage: (_: Uint8Array) => {},
      onClose() {},
      send(payload: Uint8Array) {
        // A transport frames (copies) the payload before send() returns; keep both views.
        sent.push(payload);
        copies.push(payload.slice());
        const type = payload[0];
        if (type === MSG.SERVICE_REQUEST) replies.push(new SshWriter().byte(MSG.SERVICE_ACCEPT).string("ssh-userauth").finish().slice());
        else replies.push(new SshWriter().byte(MSG.USERAUTH_FAILURE).nameList(["password"]).boolean(false).finish().slice());
        queueMicrotask(() => this.onMessage(replies.shift()!));
      },
    };
    const e = await failure(authenticate(transport as unknown as Transport, { username: "u", password: PASSWORD }, () => {}));
    expect((e as { code?: string }).code).toBe("AUTH_FAILED");
    const i = copies.findIndex((c) => {
      const r = new SshReader(c, "t");
      return r.byte() === MSG.USERAUTH_REQUEST && r.utf8() === "u" && r.utf8() === "ssh-connection" && r.utf8() === "password";
    });
    expect(i).toBeGreaterThan(0);
    expect(new TextDecoder().decode(copies[i])).toContain(PASSWORD); // what went to the wire
    expect(sent[i]!.every((b) => b === 0)).toBe(true); // the buffer handed over is wiped afterwards
  });
});

// --- helpers --------------------------------------------------------------------------------

/** A minimal ssh-agent on a Unix socket: lists one key, refuses every signature. */
function fakeAgent(path: string, blob: Uint8Array): Promise<Server> {
  const server = createServer((sock: Socket) => {
    let buf = Buffer.alloc(0);
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const len = buf.readUInt32BE(0);
        const type = buf[4];
        buf = buf.subarray(4 + len);
        const reply = type === 11
          ? new SshWriter().byte(12).uint32(1).string(blob).string("marker key").finish()
          : Uint8Array.of(5);
        sock.write(new SshWriter().string(reply).finish());
      }
    });
    sock.on("error", () => {});
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}
