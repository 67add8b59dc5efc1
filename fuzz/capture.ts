/**
 * Builds the committed seed corpus (fuzz/corpus/): `tsx fuzz/capture.ts`.
 *
 *  - traffic: runs real sessions of our client against the embedded server in this process,
 *    with several kex/cipher/MAC combinations and every auth method, and records each SSH
 *    payload as it enters the packet encoder (so after decryption, from both sides) and each
 *    SFTP packet as a framer yields it. Data is kept small and each message type capped, so
 *    the corpus stays well under 2 MB.
 *  - keys: encrypted key files made with ssh-keygen, openssl and puttygen using the cheapest
 *    KDF settings each tool accepts, so mutated encrypted keys get past the KDF quickly and
 *    reach the decrypted-structure checks; plus OpenSSH certificates of every key type.
 *
 * Re-running replaces the files; the fuzzer works without the tools, from what is committed.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../src/connect.js";
import { SftpFramer } from "../src/sftp/framing.js";
import { createSftpServer } from "../src/sftp/server/index.js";
import { PacketEncoder } from "../src/ssh/transport/framing.js";
import { generateEd25519Key } from "../src/ssh/keys/private-key.js";
import type { SshConnectOptions } from "../src/ssh/client.js";
import { CORPUS, PASSPHRASE, VECTORS, concatBytes, writeHexLines } from "./corpus.js";

const MAX_PAYLOAD = 16 * 1024;
/** Per message type: enough variety for splicing, small enough to stay far below 2 MB. */
const PER_TYPE = 40;

const ssh = new Map<string, Uint8Array>();
const sftp = new Map<string, Uint8Array>();
const keep = (into: Map<string, Uint8Array>, b: Uint8Array) => {
  if (b.length === 0 || b.length > MAX_PAYLOAD) return;
  const hex = Buffer.from(b).toString("hex");
  const sameType = [...into.values()].filter((x) => x[0] === b[0]).length;
  if (!into.has(hex) && sameType < PER_TYPE) into.set(hex, b.slice());
};

function tap(): void {
  const encode = PacketEncoder.prototype.encode;
  // The encoder may take a payload in several parts (header, data); record them joined.
  PacketEncoder.prototype.encode = function (this: PacketEncoder, ...parts: Uint8Array[]) {
    keep(ssh, concatBytes(...parts));
    return (encode as (...p: Uint8Array[]) => ReturnType<typeof encode>).apply(this, parts);
  };
  const next = SftpFramer.prototype.next;
  SftpFramer.prototype.next = function () {
    const p = next.call(this);
    if (p) keep(sftp, p);
    return p;
  };
}

async function traffic(): Promise<void> {
  if (!process.env.NO_TAP) tap();
  const base = await mkdtemp(join(tmpdir(), "fuzz-capture-"));
  const root = join(base, "root");
  await mkdir(root);
  const pub = (n: string) => readFileSync(join(VECTORS, "base", `${n}.pub`), "utf8");
  const server = await createSftpServer({
    hostKeys: [generateEd25519Key("host"), readFileSync(join(VECTORS, "base", "rsa2048"), "utf8"), readFileSync(join(VECTORS, "base", "ecdsa256"), "utf8")],
    root,
    authMethods: ["publickey", "password", "keyboard-interactive"],
    authorizedKeys: pub("ed25519") + pub("rsa2048") + pub("ecdsa384"),
    authenticate: async (r) => {
      if (r.method === "password") return r.password === "pw";
      if (r.method === "keyboard-interactive") {
        const a = await r.prompt([{ prompt: "Password: ", echo: false }, { prompt: "Code: ", echo: true }], { name: "2fa", instructions: "answer both" });
        return a[0] === "pw" && a[1] === "123456";
      }
      return false;
    },
    limits: { authFailureDelayMs: 1 },
  });
  const options = (extra: Partial<SshConnectOptions>): SshConnectOptions => ({
    host: server.host, port: server.port, username: "fuzz", sshConfig: false,
    hostKeys: { policy: "strict", fingerprints: server.hostKeyFingerprints, knownHostsFile: join(base, "kh") },
    ...extra,
  });
  const key = (n: string) => readFileSync(join(VECTORS, "base", n), "utf8");
  const runs: Partial<SshConnectOptions>[] = [
    { password: "pw" },
    { privateKey: key("ed25519"), algorithms: { kex: ["curve25519-sha256"], cipher: ["aes128-gcm@openssh.com"], serverHostKey: ["rsa-sha2-512"] } },
    { privateKey: key("rsa2048"), algorithms: { kex: ["ecdh-sha2-nistp256"], cipher: ["aes256-ctr"], mac: ["hmac-sha2-256-etm@openssh.com"], serverHostKey: ["ecdsa-sha2-nistp256"] } },
    { privateKey: key("ecdsa384"), algorithms: { kex: ["ecdh-sha2-nistp521"], cipher: ["aes192-ctr"], mac: ["hmac-sha2-256"] } },
    { password: "pw", keyboardInteractive: () => ["pw", "123456"], algorithms: { kex: ["diffie-hellman-group14-sha256"], cipher: ["aes128-ctr"], mac: ["hmac-sha2-512"] } },
    { password: "pw", algorithms: { kex: ["diffie-hellman-group-exchange-sha256"], cipher: ["aes256-gcm@openssh.com"], mac: ["hmac-sha2-512-etm@openssh.com"] } },
  ];
  for (const [i, extra] of runs.entries()) {
    const c = await connect(options(extra));
    await session(c, `/d${i}`, i === 0);
    await c.close();
  }
  // A failed login, for USERAUTH_FAILURE and the client's request sequence.
  await connect(options({ password: "wrong" })).then((c) => c.close(), () => undefined);
  await server.close();
  await rm(base, { recursive: true, force: true });
}

async function session(c: Awaited<ReturnType<typeof connect>>, dir: string, everything: boolean): Promise<void> {
  const data = new Uint8Array(300).map((_, i) => i * 7);
  await c.mkdir(`${dir}/sub`, { recursive: true });
  await c.writeFile(`${dir}/a.txt`, data);
  await c.readFile(`${dir}/a.txt`);
  await c.list(dir);
  await c.stat(`${dir}/a.txt`);
  await c.exists(`${dir}/missing`);
  if (!everything) return;
  if (c.ssh.keyExchanges === 1) {
    c.ssh.rekey();
    await new Promise((r) => setTimeout(r, 300));
  }
  await c.lstat(dir);
  await c.rename(`${dir}/a.txt`, `${dir}/b.txt`);
  await c.rename(`${dir}/b.txt`, `${dir}/a.txt`, { overwrite: true });
  await c.symlink("a.txt", `${dir}/link`);
  await c.readlink(`${dir}/link`);
  await c.realpath(`${dir}/sub/..`);
  await c.chmod(`${dir}/a.txt`, 0o640);
  await c.utimes(`${dir}/a.txt`, 1_700_000_000, 1_700_000_001);
  await c.setAttrs(`${dir}/link`, { mtime: 1_700_000_002, atime: 1_700_000_002 }, { followSymlinks: false });
  await c.statvfs(dir);
  await c.hardlink(`${dir}/a.txt`, `${dir}/hard`);
  await c.fsync(`${dir}/a.txt`);
  await c.copy(`${dir}/a.txt`, `${dir}/copy`);
  await c.homeDirectory();
  await c.expandPath("~/x");
  const f = await c.open(`${dir}/rw`, "w+");
  await f.write(data.subarray(0, 100), 0);
  await f.read(0, 64);
  await f.stat();
  await f.setAttrs({ permissions: 0o600 });
  await f.close();
  await c.stat("/nope/nothing").catch(() => undefined);
  await c.remove(`${dir}/hard`);
  await c.remove(`${dir}/sub/..`).catch(() => undefined);
  await c.rmdir(`${dir}/sub`);
}

/** Runs a tool; false when it is missing or refuses (the committed corpus then stays as it is). */
function tool(cmd: string, args: string[], input?: string): boolean {
  try {
    execFileSync(cmd, args, { stdio: ["pipe", "ignore", "ignore"], input });
    return true;
  } catch {
    return false;
  }
}

function keys(): void {
  const out = join(CORPUS, "keys");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), "fuzz-keys-"));
  const pw = PASSPHRASE;
  try {
    // openssh-key-v1 with bcrypt_pbkdf at 1 round, every cipher ssh-keygen writes.
    const types: [string, string[]][] = [["ed25519", ["-t", "ed25519"]], ["ecdsa256", ["-t", "ecdsa", "-b", "256"]], ["rsa1024", ["-t", "rsa", "-b", "1024"]]];
    for (const [name, args] of types) {
      const plain = join(tmp, name);
      tool("ssh-keygen", [...args, "-q", "-N", "", "-C", `fuzz ${name}`, "-f", plain]);
      for (const z of ["aes256-ctr", "aes128-cbc", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"]) {
        if (name !== "ed25519" && z !== "aes256-ctr") continue;
        const f = join(tmp, `${name}.${z.replace(/@.*/, "")}`);
        writeFileSync(f, readFileSync(plain), { mode: 0o600 });
        if (tool("ssh-keygen", ["-p", "-q", "-a", "1", "-Z", z, "-P", "", "-N", pw, "-f", f])) writeFileSync(join(out, `openssh.${name}.${z.replace(/@.*/, "")}`), readFileSync(f));
      }
      // PKCS#8 PBES2 with 1 PBKDF2 iteration, and scrypt with the smallest N.
      const pem = join(tmp, `${name}.pem`);
      writeFileSync(pem, readFileSync(plain), { mode: 0o600 });
      if (name !== "ed25519" && tool("ssh-keygen", ["-p", "-q", "-P", "", "-N", "", "-m", "PKCS8", "-f", pem])) {
        const outFile = (tag: string) => join(out, `pkcs8.${name}.${tag}`);
        tool("openssl", ["pkcs8", "-topk8", "-in", pem, "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA512", "-iter", "1", "-passout", `pass:${pw}`, "-out", outFile("pbes2-aes256")]);
        tool("openssl", ["pkcs8", "-topk8", "-in", pem, "-v2", "aes-128-cbc", "-iter", "1", "-passout", `pass:${pw}`, "-outform", "DER", "-out", outFile("pbes2-aes128.der")]);
        tool("openssl", ["pkcs8", "-topk8", "-in", pem, "-scrypt", "-scrypt_N", "2", "-scrypt_r", "1", "-scrypt_p", "1", "-passout", `pass:${pw}`, "-out", outFile("scrypt")]);
      }
      // PuTTY v3 with the smallest Argon2 cost puttygen writes.
      for (const kdf of ["argon2id", "argon2i"]) {
        const passFile = join(tmp, "pass");
        writeFileSync(passFile, pw + "\n");
        tool("puttygen", [plain, "-O", "private", "--new-passphrase", passFile, "--ppk-param", `version=3,kdf=${kdf},memory=8,passes=1,parallel=1`, "-o", join(out, `ppk.${name}.${kdf}.ppk`)]);
      }
    }
    // Certificates: user and host, with options and extensions, signed by each CA type.
    const ca = join(tmp, "ca");
    tool("ssh-keygen", ["-t", "ed25519", "-q", "-N", "", "-f", ca]);
    const caRsa = join(tmp, "ca-rsa");
    tool("ssh-keygen", ["-t", "rsa", "-b", "1024", "-q", "-N", "", "-f", caRsa]);
    for (const [name] of types) {
      const pubFile = join(tmp, `${name}.pub`);
      if (!existsSync(pubFile)) continue;
      const certs: [string, string[]][] = [
        ["user", ["-s", ca, "-I", "fuzz-user", "-n", "alice,bob", "-V", "+52w", "-O", "force-command=/bin/true", "-O", "source-address=10.0.0.0/8"]],
        ["host", ["-s", caRsa, "-h", "-I", "fuzz-host", "-n", "example.com,*.example.org", "-z", "42"]],
      ];
      for (const [kind, args] of certs) {
        if (tool("ssh-keygen", ["-q", ...args, pubFile])) writeFileSync(join(out, `cert.${name}.${kind}.pub`), readFileSync(join(tmp, `${name}-cert.pub`)));
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (!process.argv.includes("--keys-only")) {
  await traffic();
  writeHexLines("ssh-messages.txt", [...ssh.values()], "decrypted SSH payloads from fuzz/capture.ts sessions (both directions)");
  writeHexLines("sftp-packets.txt", [...sftp.values()], "SFTP packets (type byte + body) from fuzz/capture.ts sessions");
  console.log(`captured ${ssh.size} SSH payloads, ${sftp.size} SFTP packets`);
}
if (!process.argv.includes("--traffic-only")) {
  keys();
  console.log("wrote cheap-KDF key files and certificates to fuzz/corpus/keys/");
}
// Lingering sockets and timers of the sessions must not keep the process alive.
process.exit(0);
