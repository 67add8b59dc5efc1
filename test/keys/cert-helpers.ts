/**
 * Test helpers for OpenSSH certificates: issue them with the real `ssh-keygen -s` (argument
 * arrays, no shell), and build arbitrary ones (re-encoded fields, signed by our own signer) for
 * cases ssh-keygen will not produce.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PrivateKey } from "../../src/ssh/keys/private-key.js";
import type { Certificate, CertificateOption } from "../../src/ssh/keys/certificate.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import { run } from "./helpers.js";

export interface IssueOptions {
  /** Private key file of the CA. */
  ca: string;
  id?: string;
  /** -n: comma-separated principals; omitted = none (valid for any). */
  principals?: string;
  /** -V validity interval, e.g. "0x5e0be100:0x83aa7e80", "always:forever", "-5m:+1h". */
  validity?: string;
  host?: boolean;
  serial?: number;
  /** -O options (critical options / extension switches). */
  options?: string[];
  /** -t signature algorithm for RSA CAs (rsa-sha2-512 default, rsa-sha2-256, ssh-rsa). */
  sigAlg?: string;
}

/** Runs ssh-keygen -s on `${keyPath}.pub` and returns the certificate line (`${keyPath}-cert.pub`). */
export function issue(keyPath: string, o: IssueOptions): string {
  const args = ["-q", "-s", o.ca, "-I", o.id ?? "test-id"];
  if (o.principals !== undefined) args.push("-n", o.principals);
  if (o.validity !== undefined) args.push("-V", o.validity);
  if (o.host) args.push("-h");
  if (o.serial !== undefined) args.push("-z", String(o.serial));
  for (const opt of o.options ?? []) args.push("-O", opt);
  if (o.sigAlg) args.push("-t", o.sigAlg);
  run([...args, `${keyPath}.pub`]);
  return readFileSync(`${keyPath}-cert.pub`, "utf8");
}

export function certPath(dir: string, name: string): string {
  return join(dir, `${name}-cert.pub`);
}

/** The certificate's blob from its one-line text form. */
export function certBlob(line: string): Uint8Array {
  return new Uint8Array(Buffer.from(line.trim().split(/\s+/)[1]!, "base64"));
}

export interface CertFields {
  type: string;
  nonce: Uint8Array;
  /** The plain key blob; its fields after the name are copied. */
  keyBlob: Uint8Array;
  serial: bigint;
  certType: number;
  keyId: string;
  principals: string[];
  validAfter: bigint;
  validBefore: bigint;
  critical: { name: string; data: Uint8Array }[];
  extensions: { name: string; data: Uint8Array }[];
  caBlob: Uint8Array;
}

export function fieldsOf(c: Certificate): CertFields {
  const opts = (l: readonly CertificateOption[]) => l.map((o) => ({ name: o.name, data: o.data }));
  return {
    type: c.type,
    nonce: c.nonce,
    keyBlob: c.key.blob,
    serial: c.serial,
    certType: c.certType,
    keyId: c.keyId,
    principals: [...c.principals],
    validAfter: c.validAfter,
    validBefore: c.validBefore,
    critical: opts(c.criticalOptions),
    extensions: opts(c.extensions),
    caBlob: c.signatureKey.blob,
  };
}

/** The signed part of a certificate (everything up to and including the signature key). */
export function encodeBody(f: CertFields): Uint8Array {
  // The key's fields: the plain blob after its name string.
  const keyName = 4 + new DataView(f.keyBlob.buffer, f.keyBlob.byteOffset).getUint32(0);
  const principals = new SshWriter();
  for (const p of f.principals) principals.string(p);
  const options = (l: { name: string; data: Uint8Array }[]) => {
    const w = new SshWriter();
    for (const o of l) w.string(o.name).string(o.data);
    return w.finish().slice();
  };
  return new SshWriter(1024)
    .string(f.type)
    .string(f.nonce)
    .raw(f.keyBlob.subarray(keyName))
    .uint64(f.serial)
    .uint32(f.certType)
    .string(f.keyId)
    .string(principals.finish().slice())
    .uint64(f.validAfter)
    .uint64(f.validBefore)
    .string(options(f.critical))
    .string(options(f.extensions))
    .string(new Uint8Array(0))
    .string(f.caBlob)
    .finish()
    .slice();
}

/** A whole certificate: `body` signed by `ca` with `algorithm`. */
export async function signCert(body: Uint8Array, ca: PrivateKey, algorithm = ca.type === "ssh-rsa" ? "rsa-sha2-512" : ca.type): Promise<Uint8Array> {
  const sig = await ca.sign(algorithm, body);
  return new SshWriter(body.length + sig.length + 8).raw(body).string(sig).finish().slice();
}

/** An option's data field holding one string (force-command, source-address). */
export function stringData(v: string): Uint8Array {
  return new SshWriter().string(v).finish().slice();
}
