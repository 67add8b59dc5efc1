/**
 * Key material (src/ssh/keys/): private key files of every format through parsePrivateKey
 * (openssh-key-v1, PKCS#1, SEC1, PKCS#8 plain and PBES2/scrypt, PuTTY v2/v3, DER), public key
 * blobs, lines and files with signature verification, and OpenSSH certificates with
 * checkCertificate. KDF limits are set low, so a mutated cost field fails fast with KDF_LIMIT;
 * the encrypted seeds in fuzz/corpus/keys/ were made with the cheapest settings each tool
 * writes, so their mutations still get through the KDF to the decrypted structure.
 *
 * Private key input: byte 0 low 3 bits pick how the rest is presented (bytes, text, re-armored
 * PEM body, PuTTY text with its MAC recomputed), bits 4-5 the passphrase.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { checkCertificate, parseCertificate, parseCertificateFile } from "../../src/ssh/keys/certificate.js";
import { parsePrivateKey, type ParsePrivateKeyOptions, type PrivateKey } from "../../src/ssh/keys/private-key.js";
import { parsePublicKeyFile } from "../../src/ssh/keys/public-key-file.js";
import { parsePublicKey, parsePublicKeyLine } from "../../src/ssh/keys/public-key.js";
import { decodeBase64, encodeBase64 } from "../../src/ssh/wire/base64.js";
import { SshReader } from "../../src/ssh/wire/reader.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import { each, type FuzzTarget } from "../engine.js";
import { CORPUS, PASSPHRASE, VECTORS, concatBytes, joinMessages, readFiles, splitMessages, tagged, tokens } from "../corpus.js";
import type { Rng } from "../mutate.js";

/** Cheap enough that a mutated cost parameter cannot stall the run, high enough for the seeds. */
const CHEAP: ParsePrivateKeyOptions = { maxBcryptRounds: 2, maxPbkdf2Iterations: 64, maxScryptMemoryBytes: 1 << 20, maxArgon2MemoryKiB: 64, maxArgon2Work: 256 };
const PASSPHRASES = [PASSPHRASE, undefined, "wrong", new Uint8Array([0xff, 0, 0x80])];
const MODE = { BYTES: 0, TEXT: 1, PEM: 2, PPK: 3 } as const;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** `label \n headers \0 body` → an armored PEM block, so mutations of the body stay valid base64. */
function armor(content: Uint8Array): string {
  const cut = content.indexOf(0);
  const head = dec.decode(cut < 0 ? content : content.subarray(0, cut)).split("\n");
  const body = cut < 0 ? new Uint8Array(0) : content.subarray(cut + 1);
  const headers = head.slice(1).filter(Boolean);
  const lines = encodeBase64(body).match(/.{1,64}/g) ?? [""];
  return [`-----BEGIN ${head[0]}-----`, ...headers, ...(headers.length ? [""] : []), ...lines, `-----END ${head[0]}-----`, ""].join("\n");
}

function unarmor(text: string): Uint8Array | undefined {
  const m = /-----BEGIN ([^-]+)-----\n((?:[A-Za-z-]+: .*\n)*)\n?([A-Za-z0-9+/=\n]+)-----END/.exec(text);
  if (!m) return undefined;
  return concatBytes(enc.encode(`${m[1]}\n${m[2]!.trim()}`), Uint8Array.of(0), decodeBase64(m[3]!.replace(/\n/g, "")));
}

/** A PuTTY file with Encryption: none gets a MAC matching its (mutated) blobs, so they get checked. */
function remacPpk(text: string): string {
  const lines = text.split("\n");
  const header = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
  const blob = (name: string) => {
    const i = lines.findIndex((l) => l.startsWith(`${name}: `));
    const n = Number(lines[i]?.split(": ")[1]);
    if (i < 0 || !(n >= 0 && n < 1000)) return undefined;
    try {
      return decodeBase64(lines.slice(i + 1, i + 1 + n).join(""));
    } catch {
      return undefined;
    }
  };
  const v2 = lines[0]?.startsWith("PuTTY-User-Key-File-2: ");
  const type = lines[0]?.split(": ")[1];
  const [pub, priv, comment] = [blob("Public-Lines"), blob("Private-Lines"), header("Comment")];
  if (header("Encryption") !== "none" || !type || !pub || !priv || comment === undefined) return text;
  const data = new SshWriter().string(type).string("none").string(comment).string(pub).string(priv).finish();
  const mac = v2 ? hmac(sha1, sha1(enc.encode("putty-private-key-file-mac-key")), data) : hmac(sha256, new Uint8Array(0), data);
  const hex = Buffer.from(mac).toString("hex");
  return lines.map((l) => (l.startsWith("Private-MAC: ") ? `Private-MAC: ${hex}` : l)).join("\n");
}

/** A key that parses must be whole: it signs, and its own public key accepts the signature. */
async function selfCheck(key: PrivateKey): Promise<string> {
  const alg = key.type === "ssh-rsa" ? "rsa-sha2-256" : key.type;
  const data = Uint8Array.of(1, 2, 3);
  if (!(await key.publicKey.verify(alg, await key.sign(alg, data), data))) throw new Error(`parsed ${key.type} key does not verify its own signature`);
  return key.type;
}

const privateFiles = () => [
  ...readFiles(VECTORS, (n) => !n.endsWith(".pub") && !n.endsWith(".json") && !n.endsWith(".sshcom")),
  ...readFiles(`${CORPUS}/keys`, (n) => !n.startsWith("cert.")),
];

export const privateKeys: FuzzTarget = {
  name: "private-key",
  iterations: 40_000,
  maxLength: 8192,
  dict: tokens("-----BEGIN ", "-----END ", "PRIVATE KEY-----", "Proc-Type: 4,ENCRYPTED", "DEK-Info: AES-128-CBC,", "openssh-key-v1\0",
    "bcrypt", "none", "aes256-ctr", "Encryption: ", "Argon2-Memory: ", "PuTTY-User-Key-File-3: ", "ssh-ed25519", "\n"),
  // Passphrase 0 is the fixtures' one; unencrypted files ignore it.
  seeds: () => privateFiles().flatMap(({ bytes }) => {
    const out = [tagged(MODE.BYTES, bytes)];
    const text = dec.decode(bytes);
    const body = unarmor(text.replace(/\r\n/g, "\n"));
    if (body) out.push(tagged(MODE.PEM, body));
    if (text.startsWith("PuTTY")) out.push(tagged(MODE.PPK, bytes));
    return out;
  }),
  run: async (input) => {
    const mode = (input[0] ?? 0) & 7;
    const passphrase = PASSPHRASES[((input[0] ?? 0) >> 4) & 3];
    const rest = input.subarray(1);
    const file: string | Uint8Array =
      mode === MODE.BYTES ? rest : mode === MODE.PEM ? armor(rest) : mode === MODE.PPK ? remacPpk(dec.decode(rest)) : dec.decode(rest);
    return selfCheck(parsePrivateKey(file, passphrase, CHEAP));
  },
};

const PUB = { BLOB: 0, FILE: 1, LINE: 2 } as const;

export const publicKeys: FuzzTarget = {
  name: "public-key",
  iterations: 40_000,
  maxLength: 8192,
  dict: tokens("ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256", "nistp256", "rsa-sha2-512", "---- BEGIN SSH2 PUBLIC KEY ----", "Comment: "),
  seeds: async () => {
    const data = enc.encode("signed data");
    const out: Uint8Array[] = [];
    for (const { name, bytes } of readFiles(`${VECTORS}/base`)) {
      if (name.endsWith(".pub")) {
        out.push(tagged(PUB.FILE, bytes), tagged(PUB.LINE, bytes));
        continue;
      }
      const key = parsePrivateKey(bytes);
      for (const alg of key.type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [key.type]) {
        out.push(tagged(PUB.BLOB, joinMessages([key.publicKey.blob, await key.sign(alg, data), data])));
      }
    }
    for (const { bytes } of readFiles(`${VECTORS}/public`)) out.push(tagged(PUB.FILE, bytes));
    return out;
  },
  run: async (input) => {
    const tag = input[0] ?? 0;
    const rest = input.subarray(1);
    if ((tag & 3) === PUB.FILE) return parsePublicKeyFile(rest).key.type;
    if ((tag & 3) === PUB.LINE) return parsePublicKeyLine(dec.decode(rest)).key.type;
    const [blob = new Uint8Array(0), sig = new Uint8Array(0), data = new Uint8Array(0)] = splitMessages(rest, 3);
    const key = parsePublicKey(blob);
    // The algorithm the blob names, so the check reaches the key-type verifier.
    const named = each(() => new SshReader(sig, "signature").ascii())[0];
    const alg = typeof named === "string" ? named : key.type;
    return `${key.type}:${await key.verify(alg, sig, data, tag & 4 ? "pure" : "auto")}`;
  },
};

/** A fixed ed25519 CA, so generated certificates carry valid signatures and reach the later checks. */
const CA_SEED = new Uint8Array(32).fill(42);
const CA_BLOB = new SshWriter().string("ssh-ed25519").string(ed25519.getPublicKey(CA_SEED)).finish().slice();
const PRINCIPAL_CHARS = "*?a.b-*";

function generateCertificate(rng: Rng): Uint8Array {
  const w = new SshWriter(1024).string("ssh-ed25519-cert-v01@openssh.com").string(rng.bytes(32)).string(ed25519.getPublicKey(rng.bytes(32)));
  w.uint64(BigInt(rng.u32())).uint32(rng.pick([1, 2, 1, 2, 3])).string(`id-${rng.u32()}`);
  const principals = new SshWriter(256);
  for (let i = rng.int(4); i > 0; i--) principals.string(Array.from({ length: rng.size(40) }, () => rng.pick([...PRINCIPAL_CHARS])).join(""));
  w.string(principals.finish()).uint64(rng.chance(0.5) ? 0n : BigInt(rng.u32())).uint64(rng.chance(0.5) ? (1n << 64n) - 1n : BigInt(rng.u32()) * 2n);
  const options = (names: string[]) => {
    const o = new SshWriter(128);
    for (const n of names) o.string(n).string(rng.chance(0.5) ? new Uint8Array(0) : new SshWriter().string("value").finish());
    return o.finish();
  };
  w.string(options(rng.chance(0.7) ? [] : ["force-command"])).string(options(rng.chance(0.5) ? ["permit-pty"] : [])).string("").string(CA_BLOB);
  const signed = w.finish().slice();
  return concatBytes(signed, new SshWriter().string(new SshWriter().string("ssh-ed25519").string(ed25519.sign(signed, CA_SEED)).finish()).finish());
}

export const certificates: FuzzTarget = {
  name: "certificate",
  iterations: 30_000,
  maxLength: 8192,
  dict: tokens("-cert-v01@openssh.com", "force-command", "source-address", "permit-pty", "*", "?"),
  seeds: () => readFiles(`${CORPUS}/keys`, (n) => n.startsWith("cert.")).flatMap(({ bytes }) => {
    const b64 = dec.decode(bytes).split(" ")[1] ?? "";
    return [tagged(1, bytes), tagged(0, decodeBase64(b64))];
  }),
  generate: (rng) => tagged(rng.int(256) & ~1, generateCertificate(rng)),
  run: async (input) => {
    const tag = input[0] ?? 0;
    const rest = input.subarray(1);
    const key = tag & 1 ? parseCertificateFile(rest) : parseCertificate(rest);
    const cert = key.certificate!;
    const problem = await checkCertificate(cert, {
      kind: tag & 2 ? "host" : "user",
      principal: tag & 4 ? "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com" : "alice",
      wildcardPrincipals: (tag & 8) !== 0,
      now: 1_700_000_000,
      knownCriticalOptions: tag & 16 ? ["force-command", "source-address"] : [],
      backend: tag & 32 ? "pure" : "auto",
    });
    return problem?.problem ?? "ok";
  },
};

export const targets = [privateKeys, publicKeys, certificates];
