/**
 * Regenerates the committed key fixtures in test/vectors/keys/ with the real tools:
 * ssh-keygen (OpenSSH 9.x), openssl (3.x) and puttygen (PuTTY ≥ 0.75). Run once by hand:
 *
 *   npx tsx test/keys/generate-fixtures.ts
 *
 * It writes fresh random keys, so every run changes every file. The tests only read the files
 * and manifest.json, so they run on machines without these tools. All commands run with
 * argument arrays (execFileSync), never through a shell.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Fixture } from "./fixtures.js";

const OUT = join(dirname(fileURLToPath(import.meta.url)), "..", "vectors", "keys");
const PASS = "correct horse battery staple";
/** Non-ASCII, to pin the passphrase to its UTF-8 bytes. */
const PASS_UTF8 = "pässwörd ✓";


const fixtures: Fixture[] = [];
const run = (cmd: string, args: string[], input?: string) =>
  execFileSync(cmd, args, { input, stdio: ["pipe", "pipe", "pipe"] }).toString();
const at = (f: string) => join(OUT, f);

function add(f: Fixture): void {
  fixtures.push(f);
}

/** ssh-keygen -p on a copy of base/<base>: re-encrypt (or re-format) in place. */
function sshKeygen(file: string, base: string, format: string, passphrase: string | null, extra: string[]): void {
  copyFileSync(at(`base/${base}`), at(file));
  run("/usr/bin/ssh-keygen", ["-p", "-q", "-P", "", "-N", passphrase ?? "", "-f", at(file), ...extra]);
  add({ file, format, base, passphrase, made: `ssh-keygen -p -N … ${extra.join(" ")}` });
}

function openssl(file: string, base: string, format: string, passphrase: string | null, args: string[], error?: string): void {
  run("/usr/bin/openssl", [...args, "-out", at(file)]);
  add({ file, format, base, passphrase, made: `openssl ${args.filter((a) => !a.startsWith("pass:")).join(" ")}`, ...(error ? { error } : {}) });
}

function puttygen(file: string, base: string, passphrase: string | null, params: string, type = "private"): void {
  const args = [at(`base/${base}`), "-q", "-O", type, "-o", at(file)];
  if (params) args.push("--ppk-param", params);
  const pf = at("passphrase.tmp");
  if (passphrase !== null) {
    writeFileSync(pf, passphrase + "\n");
    args.push("--new-passphrase", pf);
  }
  run("/usr/bin/puttygen", args);
  rmSync(pf, { force: true });
  add({ file, format: type === "private" ? "ppk" : "sshcom", base, passphrase, made: `puttygen -O ${type} --ppk-param ${params}`, ...(type === "private" ? {} : { error: "KEY_FORMAT" }) });
}

rmSync(OUT, { recursive: true, force: true });
for (const d of ["base", "openssh", "pem", "pkcs8", "ppk", "public"]) mkdirSync(at(d), { recursive: true });

const BASES: [string, string[]][] = [
  ["ed25519", ["-t", "ed25519"]],
  ["ecdsa256", ["-t", "ecdsa", "-b", "256"]],
  ["ecdsa384", ["-t", "ecdsa", "-b", "384"]],
  ["ecdsa521", ["-t", "ecdsa", "-b", "521"]],
  ["rsa2048", ["-t", "rsa", "-b", "2048"]],
];
for (const [name, args] of BASES) {
  run("/usr/bin/ssh-keygen", [...args, "-q", "-N", "", "-C", `${name}@fixture`, "-f", at(`base/${name}`)]);
  add({ file: `base/${name}`, format: "openssh", base: name, passphrase: null, made: `ssh-keygen ${args.join(" ")}` });
}

// openssh-key-v1 with every cipher ssh-keygen offers (bcrypt, default 16 rounds).
for (const cipher of [
  "aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-cbc", "aes192-cbc", "aes256-cbc",
  "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
]) {
  sshKeygen(`openssh/ed25519.${cipher.replace(/@.*/, "")}`, "ed25519", "openssh", PASS, ["-Z", cipher]);
}
for (const name of ["ecdsa256", "ecdsa384", "ecdsa521", "rsa2048"]) {
  sshKeygen(`openssh/${name}.aes256-ctr`, name, "openssh", PASS, []);
}
sshKeygen("openssh/ecdsa256.chacha20-poly1305.utf8", "ecdsa256", "openssh", PASS_UTF8, ["-Z", "chacha20-poly1305@openssh.com"]);
sshKeygen("openssh/rsa2048.aes256-gcm.rounds1", "rsa2048", "openssh", PASS, ["-Z", "aes256-gcm@openssh.com", "-a", "1"]);
sshKeygen("openssh/ed25519.aes256-ctr.rounds1", "ed25519", "openssh", PASS, ["-a", "1"]);
sshKeygen("openssh/ed25519.3des-cbc", "ed25519", "openssh", PASS, ["-Z", "3des-cbc", "-a", "1"]);
fixtures[fixtures.length - 1]!.error = "UNSUPPORTED_CIPHER";

// Legacy PEM: PKCS#1 and SEC1, plain and with OpenSSL's Proc-Type/DEK-Info encryption.
for (const name of ["rsa2048", "ecdsa256", "ecdsa384", "ecdsa521"]) {
  const kind = name.startsWith("rsa") ? "pkcs1" : "sec1";
  sshKeygen(`pem/${name}.${kind}.pem`, name, "pem", null, ["-m", "PEM"]);
  sshKeygen(`pem/${name}.${kind}-aes128.pem`, name, "pem", PASS, ["-m", "PEM"]);
}
const plainPem = (name: string) => at(`pem/${name}.${name.startsWith("rsa") ? "pkcs1" : "sec1"}.pem`);
openssl("pem/rsa2048.pkcs1-aes256.pem", "rsa2048", "pem", PASS, ["rsa", "-traditional", "-aes256", "-in", plainPem("rsa2048"), "-passout", `pass:${PASS}`]);
openssl("pem/ecdsa384.sec1-aes192.pem", "ecdsa384", "pem", PASS_UTF8, ["ec", "-aes192", "-in", plainPem("ecdsa384"), "-passout", `pass:${PASS_UTF8}`]);
openssl("pem/rsa2048.pkcs1-des3.pem", "rsa2048", "pem", PASS, ["rsa", "-traditional", "-des3", "-in", plainPem("rsa2048"), "-passout", `pass:${PASS}`], "UNSUPPORTED_CIPHER");
// SEC1 without the optional public key: the parser must derive Q itself.
openssl("pem/ecdsa521.sec1-nopub.pem", "ecdsa521", "pem", null, ["ec", "-no_public", "-in", plainPem("ecdsa521")]);

// PKCS#8: ssh-keygen's (PBES2, PBKDF2-HMAC-SHA256, AES-128-CBC) and openssl's variants.
for (const name of ["rsa2048", "ecdsa256", "ecdsa384", "ecdsa521"]) {
  sshKeygen(`pkcs8/${name}.pkcs8.pem`, name, "pkcs8", null, ["-m", "PKCS8"]);
  sshKeygen(`pkcs8/${name}.pbes2-sshkeygen.pem`, name, "pkcs8", PASS, ["-m", "PKCS8"]);
}
const p8 = (name: string) => at(`pkcs8/${name}.pkcs8.pem`);
const topk8 = (file: string, name: string, pass: string, args: string[], error?: string) =>
  openssl(file, name, "pkcs8", pass, ["pkcs8", "-topk8", "-in", p8(name), "-passout", `pass:${pass}`, ...args], error);
topk8("pkcs8/rsa2048.pbes2-aes256-sha1.pem", "rsa2048", PASS, ["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA1"]);
topk8("pkcs8/ecdsa256.pbes2-aes256-sha256.pem", "ecdsa256", PASS_UTF8, ["-v2", "aes-256-cbc"]);
topk8("pkcs8/ecdsa384.pbes2-aes192-sha512.pem", "ecdsa384", PASS, ["-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA512", "-iter", "10000"]);
topk8("pkcs8/ecdsa521.scrypt-aes256.pem", "ecdsa521", PASS, ["-scrypt", "-scrypt_N", "1024", "-scrypt_r", "8", "-scrypt_p", "1"]);
topk8("pkcs8/rsa2048.pbes1-3des.pem", "rsa2048", PASS, ["-v1", "PBE-SHA1-3DES"], "UNSUPPORTED_CIPHER");
topk8("pkcs8/ecdsa256.pbes2-des3.pem", "ecdsa256", PASS, ["-v2", "des3"], "UNSUPPORTED_CIPHER");
// DER (binary) forms, as `openssl … -outform DER` writes them.
openssl("pkcs8/ecdsa256.pkcs8.der", "ecdsa256", "pkcs8", null, ["pkcs8", "-topk8", "-nocrypt", "-in", p8("ecdsa256"), "-outform", "DER"]);
topk8("pkcs8/rsa2048.pbes2-aes256.der", "rsa2048", PASS, ["-v2", "aes-256-cbc", "-outform", "DER"]);
// Ed25519 (RFC 8410): ssh-keygen 9.x cannot write it; openssl makes an unrelated key whose
// public half goes into base/ed25519-openssl.pub.
run("/usr/bin/openssl", ["genpkey", "-algorithm", "ed25519", "-out", at("pkcs8/ed25519-openssl.pkcs8.pem")]);
const spki = execFileSync("/usr/bin/openssl", ["pkey", "-in", at("pkcs8/ed25519-openssl.pkcs8.pem"), "-pubout", "-outform", "DER"]);
const raw = spki.subarray(spki.length - 32);
const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), raw]);
writeFileSync(at("base/ed25519-openssl.pub"), `ssh-ed25519 ${blob.toString("base64")}\n`);
add({ file: "pkcs8/ed25519-openssl.pkcs8.pem", format: "pkcs8", base: "ed25519-openssl", passphrase: null, made: "openssl genpkey -algorithm ed25519" });
openssl("pkcs8/ed25519-openssl.pbes2-aes256.pem", "ed25519-openssl", "pkcs8", PASS, ["pkcs8", "-topk8", "-in", at("pkcs8/ed25519-openssl.pkcs8.pem"), "-v2", "aes-256-cbc", "-passout", `pass:${PASS}`]);

// PuTTY .ppk v2 and v3. Small Argon2 costs keep the tests quick; one file uses the defaults.
for (const [name] of BASES) {
  puttygen(`ppk/${name}.v3.ppk`, name, null, "version=3");
  puttygen(`ppk/${name}.v2.ppk`, name, null, "version=2");
  puttygen(`ppk/${name}.v3-argon2id.ppk`, name, PASS, "version=3,kdf=argon2id,memory=1024,passes=2");
  puttygen(`ppk/${name}.v2-aes.ppk`, name, PASS, "version=2");
}
puttygen("ppk/ed25519.v3-argon2i.ppk", "ed25519", PASS_UTF8, "version=3,kdf=argon2i,memory=512,passes=3,parallelism=2");
puttygen("ppk/ecdsa256.v3-argon2d.ppk", "ecdsa256", PASS, "version=3,kdf=argon2d,memory=2048,passes=1");
puttygen("ppk/rsa2048.v3-defaults.ppk", "rsa2048", PASS, "");
puttygen("ppk/rsa2048.sshcom", "rsa2048", null, "", "private-sshcom");

// Public key files: RFC 4716 from ssh-keygen -e and from puttygen -p (quoted Comment header).
for (const [name] of BASES) {
  writeFileSync(at(`public/${name}.rfc4716.pub`), run("/usr/bin/ssh-keygen", ["-e", "-f", at(`base/${name}.pub`)]));
  run("/usr/bin/puttygen", [at(`base/${name}`), "-q", "-O", "public", "-o", at(`public/${name}.putty.pub`)]);
  add({ file: `public/${name}.rfc4716.pub`, format: "public", base: name, passphrase: null, made: "ssh-keygen -e" });
  add({ file: `public/${name}.putty.pub`, format: "public", base: name, passphrase: null, made: "puttygen -O public" });
}

writeFileSync(at("manifest.json"), JSON.stringify({ generatedBy: "test/keys/generate-fixtures.ts", tools: toolVersions(), fixtures }, null, 1) + "\n");
console.log(`${fixtures.length} fixtures in ${OUT}`);

function toolVersions(): Record<string, string> {
  const first = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    return `${r.stdout}${r.stderr}`.split("\n")[0]!.trim();
  };
  return {
    ssh: first("/usr/bin/ssh", ["-V"]),
    openssl: first("/usr/bin/openssl", ["version"]),
    puttygen: first("/usr/bin/puttygen", ["--version"]),
  };
}
