/** Test helpers: run ssh-keygen, and build/parse SSHSIG (OpenSSH PROTOCOL.sshsig) envelopes. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { SshReader } from "../../src/ssh/wire/reader.js";
import { SshWriter, concat } from "../../src/ssh/wire/writer.js";

export const SSH_KEYGEN = "/usr/bin/ssh-keygen";

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "sshkeys-"));
}

export function run(args: string[], input?: string | Uint8Array): string {
  return execFileSync(SSH_KEYGEN, args, { input, stdio: ["pipe", "pipe", "pipe"] }).toString();
}

export interface GeneratedKey {
  path: string;
  privateText: string;
  publicLine: string;
}

/** ssh-keygen -t … -N "" -f dir/name, unencrypted openssh-key-v1. */
export function keygen(dir: string, name: string, args: string[], extra: string[] = []): GeneratedKey {
  const path = join(dir, name);
  run([...args, "-N", "", "-C", `${name}@test`, "-q", "-f", path, ...extra]);
  return { path, privateText: readFileSync(path, "utf8"), publicLine: readFileSync(path + ".pub", "utf8") };
}

/** Second field of `ssh-keygen -lf` ("256 SHA256:… comment (ED25519)"). */
export function opensshFingerprint(pubPath: string): string {
  return run(["-lf", pubPath]).split(" ")[1]!;
}

export interface Sshsig {
  publicKey: Uint8Array;
  namespace: string;
  hashAlgorithm: string;
  signature: Uint8Array;
}

const ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----";
const ARMOR_END = "-----END SSH SIGNATURE-----";

export function parseSshsig(armored: string): Sshsig {
  const body = armored.slice(armored.indexOf(ARMOR_BEGIN) + ARMOR_BEGIN.length, armored.indexOf(ARMOR_END));
  const r = new SshReader(new Uint8Array(Buffer.from(body.replace(/\s+/g, ""), "base64")), "SSHSIG");
  if (Buffer.from(r.raw(6)).toString() !== "SSHSIG") throw new Error("bad SSHSIG magic");
  if (r.uint32() !== 1) throw new Error("bad SSHSIG version");
  const publicKey = r.string();
  const namespace = r.utf8();
  r.string(); // reserved
  const hashAlgorithm = r.ascii();
  const signature = r.string();
  r.end();
  return { publicKey, namespace, hashAlgorithm, signature };
}

/** PROTOCOL.sshsig §"Signed Data": what the inner signature covers. */
export function sshsigSignedData(namespace: string, hashAlgorithm: "sha256" | "sha512", message: Uint8Array): Uint8Array {
  const h = new Uint8Array(createHash(hashAlgorithm).update(message).digest());
  return concat(
    new TextEncoder().encode("SSHSIG"),
    new SshWriter().string(namespace).string("").string(hashAlgorithm).string(h).finish(),
  );
}

export function makeSshsig(sig: Sshsig): string {
  const blob = concat(
    new TextEncoder().encode("SSHSIG"),
    new SshWriter()
      .uint32(1)
      .string(sig.publicKey)
      .string(sig.namespace)
      .string("")
      .string(sig.hashAlgorithm)
      .string(sig.signature)
      .finish(),
  );
  const b64 = Buffer.from(blob).toString("base64");
  return `${ARMOR_BEGIN}\n${b64.match(/.{1,70}/g)!.join("\n")}\n${ARMOR_END}\n`;
}
