/**
 * OpenSSH certificates (PROTOCOL.certkeys): a public key, identity information and usage
 * restrictions, signed by a certification authority (CA) key. Supported certified key types:
 *
 *   ssh-ed25519-cert-v01@openssh.com
 *   ecdsa-sha2-nistp256-cert-v01@openssh.com (and nistp384, nistp521)
 *   ssh-rsa-cert-v01@openssh.com
 *
 * plus the signature algorithm names rsa-sha2-256-cert-v01@openssh.com and
 * rsa-sha2-512-cert-v01@openssh.com, which appear only in KEXINIT host key lists and publickey
 * USERAUTH_REQUESTs, never as a key type. A signature made "with a certificate" is an ordinary
 * signature by the embedded key, named by the plain algorithm (rsa-sha2-512, ssh-ed25519, …).
 *
 * Wire form (every type; the key fields are those of the plain key's blob after its name):
 *
 *   string  cert key type       uint64  valid after
 *   string  nonce               uint64  valid before
 *   ...     key fields          string  critical options   (string name, string data)*
 *   uint64  serial              string  extensions         (string name, string data)*
 *   uint32  type (1 user, 2 host)  string  reserved
 *   string  key id              string  signature key      (a plain key blob, never a certificate)
 *   string  valid principals    string  signature          (over everything before it)
 *
 * Parsing is synchronous and checks structure only; the CA signature is checked by
 * Certificate.verifySignature() (asynchronous, as RSA verification may use WebCrypto), which
 * checkCertificate() calls first. Errors are ProtocolError, as for every public key blob:
 * CERT_FORMAT for a structurally valid SSH encoding that is not a valid certificate (chained CA,
 * unknown certificate type number, duplicate option, too many principals), PROTOCOL_ERROR for
 * truncated or trailing bytes, UNSUPPORTED_KEY_TYPE for a key or CA type this library lacks.
 */
import { ProtocolError, SshError } from "../../errors.js";
import type { CryptoBackend } from "../crypto/cipher.js";
import { matchPattern } from "../config/ssh-config.js";
import { SshReader } from "../wire/reader.js";
import { SshWriter } from "../wire/writer.js";
import { bytesEqual } from "./bigint.js";
import type { PrivateKey } from "./key-common.js";
import { parsePublicKeyFile } from "./public-key-file.js";
import { keyTypeForAlgorithm, parsePublicKey, type PublicKey } from "./public-key.js";

export const CERT_TYPE_USER = 1;
export const CERT_TYPE_HOST = 2;

/** Certified key type → the plain key type it wraps. */
const CERT_KEY_TYPES: Readonly<Record<string, string>> = {
  "ssh-ed25519-cert-v01@openssh.com": "ssh-ed25519",
  "ecdsa-sha2-nistp256-cert-v01@openssh.com": "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384-cert-v01@openssh.com": "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521-cert-v01@openssh.com": "ecdsa-sha2-nistp521",
  "ssh-rsa-cert-v01@openssh.com": "ssh-rsa",
};

/** Certificate signature algorithm → the plain signature algorithm its signatures carry. */
const CERT_ALGORITHMS: Readonly<Record<string, string>> = {
  "ssh-ed25519-cert-v01@openssh.com": "ssh-ed25519",
  "ecdsa-sha2-nistp256-cert-v01@openssh.com": "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384-cert-v01@openssh.com": "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521-cert-v01@openssh.com": "ecdsa-sha2-nistp521",
  "rsa-sha2-512-cert-v01@openssh.com": "rsa-sha2-512",
  "rsa-sha2-256-cert-v01@openssh.com": "rsa-sha2-256",
  "ssh-rsa-cert-v01@openssh.com": "ssh-rsa",
};

/** How many SSH strings (mpints included) make up each plain key's fields. */
const KEY_FIELDS: Readonly<Record<string, number>> = {
  "ssh-ed25519": 1,
  "ecdsa-sha2-nistp256": 2,
  "ecdsa-sha2-nistp384": 2,
  "ecdsa-sha2-nistp521": 2,
  "ssh-rsa": 2,
};

/** OpenSSH's SSHKEY_CERT_MAX_PRINCIPALS. */
export const MAX_PRINCIPALS = 256;

/**
 * Seconds of clock difference tolerated at both ends of a certificate's validity window, so a
 * certificate issued "from now" by a CA whose clock runs slightly ahead is not refused as not
 * yet valid (OpenSSH itself tolerates none). checkCertificate's `clockSkewSeconds` overrides it.
 */
export const CERT_CLOCK_SKEW_SECONDS = 60;

/** valid_before of a certificate that never expires (ssh-keygen -V …:forever). */
export const CERT_FOREVER = (1n << 64n) - 1n;

/**
 * CA signature algorithms accepted by default: OpenSSH's CASignatureAlgorithms default, which
 * leaves out SHA-1 ssh-rsa since OpenSSH 8.2.
 */
export const CA_SIGNATURE_ALGORITHMS: readonly string[] = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
];

/** True for the certified key types this library parses. */
export function isCertificateType(type: string): boolean {
  return Object.hasOwn(CERT_KEY_TYPES, type);
}

/** The plain key type a certified key type wraps; undefined for anything else. */
export function certificatePlainKeyType(certType: string): string | undefined {
  return Object.hasOwn(CERT_KEY_TYPES, certType) ? CERT_KEY_TYPES[certType] : undefined;
}

/** For a certificate signature algorithm, the plain one its signature blobs name; else undefined. */
export function plainSignatureAlgorithm(algorithm: string): string | undefined {
  return Object.hasOwn(CERT_ALGORITHMS, algorithm) ? CERT_ALGORITHMS[algorithm] : undefined;
}

/** The certificate variant of a plain signature algorithm (rsa-sha2-512 → rsa-sha2-512-cert-v01@openssh.com). */
export function certificateAlgorithm(plainAlgorithm: string): string | undefined {
  return Object.keys(CERT_ALGORITHMS).find((c) => CERT_ALGORITHMS[c] === plainAlgorithm);
}

/** The certified key type that signs with a certificate algorithm (rsa-sha2-*-cert → ssh-rsa-cert). */
export function certificateKeyTypeForAlgorithm(algorithm: string): string | undefined {
  const plain = plainSignatureAlgorithm(algorithm);
  if (plain === undefined) return undefined;
  const plainType = keyTypeForAlgorithm(plain);
  return Object.keys(CERT_KEY_TYPES).find((t) => CERT_KEY_TYPES[t] === plainType);
}

/**
 * True when a key blob names a certificate type, supported or not (…-cert-v01@openssh.com):
 * lets a caller skip certificates without parsing them. False for malformed blobs.
 */
export function isCertificateBlob(blob: Uint8Array): boolean {
  try {
    return new SshReader(blob, "key blob").ascii().endsWith("-cert-v01@openssh.com");
  } catch {
    return false;
  }
}

/** One critical option or extension. */
export interface CertificateOption {
  readonly name: string;
  /** The raw data field (for force-command and source-address, itself an SSH string). */
  readonly data: Uint8Array;
  /** The data decoded as one SSH string of UTF-8 text, "" for empty data (a flag), else undefined. */
  readonly value: string | undefined;
}

/** The decoded fields of an OpenSSH certificate. */
export interface Certificate {
  /** The certified key type, e.g. "ssh-ed25519-cert-v01@openssh.com". */
  readonly type: string;
  readonly nonce: Uint8Array;
  /** The certified (plain) public key: the key that signs when the certificate is used. */
  readonly key: PublicKey;
  readonly serial: bigint;
  /** CERT_TYPE_USER (1) or CERT_TYPE_HOST (2). */
  readonly certType: number;
  readonly kind: "user" | "host";
  readonly keyId: string;
  /** Names the certificate is valid for; empty means any (PROTOCOL.certkeys). */
  readonly principals: readonly string[];
  /** Seconds since the epoch; 0 = always. */
  readonly validAfter: bigint;
  /** Seconds since the epoch, exclusive; CERT_FOREVER = never expires. */
  readonly validBefore: bigint;
  readonly criticalOptions: readonly CertificateOption[];
  readonly extensions: readonly CertificateOption[];
  /** The CA key that signed the certificate (never itself a certificate). */
  readonly signatureKey: PublicKey;
  /** The algorithm the CA's signature blob names, e.g. "rsa-sha2-512" or "ssh-ed25519". */
  readonly signatureAlgorithm: string;
  /** The CA's RFC 4253 §6.6 signature blob. */
  readonly signature: Uint8Array;
  /** The bytes the CA signed: the certificate up to and including the signature key. */
  readonly signedData: Uint8Array;
  /** Checks the CA signature over signedData (memoised). */
  verifySignature(backend?: CryptoBackend): Promise<boolean>;
}

/** A certificate as a PublicKey: verify() delegates to the certified key. */
export interface CertificatePublicKey extends PublicKey {
  readonly certificate: Certificate;
}

function fail(message: string): never {
  throw new ProtocolError(message, "CERT_FORMAT");
}

function readPrincipals(field: Uint8Array): string[] {
  const r = new SshReader(field, "certificate principals");
  const principals: string[] = [];
  while (r.remaining > 0) {
    if (principals.length >= MAX_PRINCIPALS) fail(`certificate lists more than ${MAX_PRINCIPALS} principals`);
    principals.push(r.utf8());
  }
  return principals;
}

function readOptions(field: Uint8Array, what: string): CertificateOption[] {
  const r = new SshReader(field, `certificate ${what}`);
  const options: CertificateOption[] = [];
  // Each option is at least two empty strings (8 bytes), so the loop is bounded by the field.
  while (r.remaining > 0) {
    const name = r.utf8();
    const data = r.string().slice();
    // PROTOCOL.certkeys: each name at most once. (Lexical order is required too, but is not
    // enforced: a misordered list is still unambiguous.)
    if (options.some((o) => o.name === name)) fail(`certificate ${what} list "${name}" twice`);
    options.push({ name, data, value: optionValue(data) });
  }
  return options;
}

function optionValue(data: Uint8Array): string | undefined {
  if (data.length === 0) return "";
  try {
    const r = new SshReader(data, "option data");
    const v = r.utf8();
    r.end();
    return v;
  } catch {
    return undefined;
  }
}

class ParsedCertificate implements Certificate {
  private verified: Promise<boolean> | undefined;
  readonly kind: "user" | "host";
  constructor(
    readonly type: string,
    readonly nonce: Uint8Array,
    readonly key: PublicKey,
    readonly serial: bigint,
    readonly certType: number,
    readonly keyId: string,
    readonly principals: readonly string[],
    readonly validAfter: bigint,
    readonly validBefore: bigint,
    readonly criticalOptions: readonly CertificateOption[],
    readonly extensions: readonly CertificateOption[],
    readonly signatureKey: PublicKey,
    readonly signatureAlgorithm: string,
    readonly signature: Uint8Array,
    readonly signedData: Uint8Array,
  ) {
    this.kind = certType === CERT_TYPE_HOST ? "host" : "user";
  }

  verifySignature(backend: CryptoBackend = "auto"): Promise<boolean> {
    this.verified ??= (async () => {
      // The blob must name an algorithm of the CA key's type (no RSA name on an Ed25519 CA).
      if (keyTypeForAlgorithm(this.signatureAlgorithm) !== this.signatureKey.type) return false;
      try {
        return await this.signatureKey.verify(this.signatureAlgorithm, this.signature, this.signedData, backend);
      } catch {
        return false;
      }
    })();
    return this.verified;
  }
}

class CertificateKey implements CertificatePublicKey {
  readonly fingerprint: string;
  constructor(
    readonly type: string,
    readonly blob: Uint8Array,
    readonly certificate: Certificate,
  ) {
    // As ssh-keygen -l prints it: the fingerprint of the certified key.
    this.fingerprint = certificate.key.fingerprint;
  }

  /**
   * `algorithm` is a certificate algorithm (e.g. rsa-sha2-512-cert-v01@openssh.com) or the plain
   * one; either way the signature blob must name the plain algorithm, as OpenSSH signs.
   */
  async verify(algorithm: string, signature: Uint8Array, data: Uint8Array, backend: CryptoBackend = "auto"): Promise<boolean> {
    const plain = plainSignatureAlgorithm(algorithm) ?? algorithm;
    if (keyTypeForAlgorithm(plain) !== this.certificate.key.type) return false;
    return this.certificate.key.verify(plain, signature, data, backend);
  }
}

/**
 * Decodes a certificate blob (what parsePublicKey does for certificate types). Structure only:
 * call `certificate.verifySignature()` or checkCertificate() before trusting it.
 */
export function parseCertificate(blob: Uint8Array): CertificatePublicKey {
  const bytes = blob.slice();
  const r = new SshReader(bytes, "certificate");
  const type = r.ascii();
  const plainType = certificatePlainKeyType(type);
  if (plainType === undefined) throw new ProtocolError(`unsupported certificate type "${type}"`, "UNSUPPORTED_KEY_TYPE");
  const nonce = r.string().slice();
  const keyStart = r.offset;
  for (let i = 0; i < KEY_FIELDS[plainType]!; i++) r.string();
  const keyFields = bytes.subarray(keyStart, r.offset);
  const key = parsePublicKey(new SshWriter(keyFields.length + plainType.length + 8).string(plainType).raw(keyFields).finish().slice());
  const serial = r.uint64();
  const certType = r.uint32();
  if (certType !== CERT_TYPE_USER && certType !== CERT_TYPE_HOST) fail(`certificate type ${certType} is neither user (1) nor host (2)`);
  const keyId = r.utf8();
  const principals = readPrincipals(r.string());
  const validAfter = r.uint64();
  const validBefore = r.uint64();
  const criticalOptions = readOptions(r.string(), "critical options");
  const extensions = readOptions(r.string(), "extensions");
  r.string(); // reserved: ignored in this version of the protocol
  const caBlob = r.string().slice();
  const signedData = bytes.slice(0, r.offset);
  const signature = r.string().slice();
  r.end();

  if (isCertificateBlob(caBlob)) fail("certificate is signed by another certificate (chained certificates are not supported)");
  const signatureKey = parsePublicKey(caBlob);
  const s = new SshReader(signature, "certificate signature");
  const signatureAlgorithm = s.ascii();
  s.string();
  s.end();

  const cert = new ParsedCertificate(type, nonce, key, serial, certType, keyId, principals, validAfter, validBefore,
    criticalOptions, extensions, signatureKey, signatureAlgorithm, signature, signedData);
  return new CertificateKey(type, bytes, cert);
}

/**
 * Reads a certificate file: one OpenSSH line (`ssh-ed25519-cert-v01@openssh.com AAAA… comment`,
 * what ssh-keygen -s writes to id_ed25519-cert.pub) or its RFC 4716 form. SshError KEY_FORMAT
 * when it is malformed or a plain public key.
 */
export function parseCertificateFile(input: string | Uint8Array): CertificatePublicKey {
  let key: PublicKey;
  try {
    key = parsePublicKeyFile(input).key;
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    throw new SshError(e instanceof SshError && e.code === "UNSUPPORTED_KEY_TYPE" ? e.code : "KEY_FORMAT", `malformed certificate: ${detail}`, { cause: e });
  }
  if (!key.certificate) throw new SshError("KEY_FORMAT", `expected an OpenSSH certificate, got a plain ${key.type} public key`);
  return key as CertificatePublicKey;
}

/**
 * A PrivateKey that authenticates with `certificate`: its publicKey is the certificate (sent in
 * the publickey request), and sign() maps certificate algorithms to the plain ones the private
 * key signs with. SshError CERT_MISMATCH when the certificate is for another key.
 */
export function certifyPrivateKey(key: PrivateKey, certificate: PublicKey): PrivateKey {
  const cert = certificate.certificate;
  if (!cert) throw new SshError("KEY_FORMAT", `expected an OpenSSH certificate, got a plain ${certificate.type} public key`);
  if (key.publicKey.certificate) throw new SshError("KEY_FORMAT", "the private key is already paired with a certificate");
  if (!bytesEqual(cert.key.blob, key.publicKey.blob)) {
    throw new SshError("CERT_MISMATCH",
      `certificate "${cert.keyId}" certifies ${cert.key.type} key ${cert.key.fingerprint}, ` +
        `not this ${key.publicKey.type} key ${key.publicKey.fingerprint}`);
  }
  return {
    type: certificate.type,
    publicKey: certificate,
    comment: key.comment,
    sign(algorithm, data, backend) {
      return key.sign(plainSignatureAlgorithm(algorithm) ?? algorithm, data, backend);
    },
  };
}

/** Why a certificate is not acceptable (checkCertificate). */
export type CertificateProblem =
  | "SIGNATURE_ALGORITHM"
  | "BAD_SIGNATURE"
  | "WRONG_TYPE"
  | "NOT_YET_VALID"
  | "EXPIRED"
  | "PRINCIPAL"
  | "CRITICAL_OPTION";

export interface CertificateCheck {
  /** The certificate type required. */
  kind: "user" | "host";
  /**
   * The name that must be among the principals (a host name, or a user name). Undefined skips
   * the check. An empty principal list matches any name (PROTOCOL.certkeys; OpenSSH's ssh
   * accepts such host certificates too).
   */
  principal?: string;
  /**
   * Treat principals as `*`/`?` patterns (case-insensitive). Default false: exact comparison,
   * as ssh(1) 9.x does for host certificates (it lower-cases the host name first) and sshd
   * does for user names.
   */
  wildcardPrincipals?: boolean;
  /** Seconds since the epoch to check validity at; default the current time. */
  now?: number;
  /** Tolerated clock difference; default CERT_CLOCK_SKEW_SECONDS. */
  clockSkewSeconds?: number;
  /** CA signature algorithms accepted; default CA_SIGNATURE_ALGORITHMS (no SHA-1). */
  caSignatureAlgorithms?: readonly string[];
  /** Critical options the caller enforces; any other refuses the certificate. Default none. */
  knownCriticalOptions?: readonly string[];
  backend?: CryptoBackend;
}

/** A human-readable time for a certificate bound (0 → "always", CERT_FOREVER → "forever"). */
export function formatCertificateTime(t: bigint): string {
  if (t === 0n) return "always";
  if (t === CERT_FOREVER) return "forever";
  const ms = Number(t) * 1000;
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString().replace(".000Z", "Z") : `${t} s`;
}

/**
 * Glob match with `*` and `?` (OpenSSH match_pattern), case-insensitive. Linear-time: the
 * principals come from the peer's certificate, and a pattern turned into a RegExp (`*a*a*a…`)
 * backtracks exponentially.
 */
function wildcard(pattern: string, s: string): boolean {
  return matchPattern(s.toLowerCase(), pattern.toLowerCase());
}

/**
 * Checks a certificate the way sshkey_cert_check_authority does, plus its CA signature: the
 * signature algorithm is allowed and the signature verifies, the type is as required, `now`
 * lies in [valid after, valid before) widened by the clock skew, the principal is listed, and
 * no critical option is unknown. Which CA keys to trust is the caller's decision (compare
 * `signatureKey.blob`). Resolves undefined when acceptable, else the problem and a reason.
 */
export async function checkCertificate(cert: Certificate, check: CertificateCheck): Promise<{ problem: CertificateProblem; reason: string } | undefined> {
  const algs = check.caSignatureAlgorithms ?? CA_SIGNATURE_ALGORITHMS;
  if (!algs.includes(cert.signatureAlgorithm)) {
    return { problem: "SIGNATURE_ALGORITHM", reason: `it is signed with ${cert.signatureAlgorithm}, which is not an accepted CA signature algorithm (${algs.join(", ")})` };
  }
  if (!(await cert.verifySignature(check.backend))) {
    return { problem: "BAD_SIGNATURE", reason: `its CA signature (${cert.signatureAlgorithm}, CA ${cert.signatureKey.fingerprint}) does not verify` };
  }
  if (cert.kind !== check.kind) return { problem: "WRONG_TYPE", reason: `it is a ${cert.kind} certificate, not a ${check.kind} certificate` };
  const now = BigInt(Math.floor(check.now ?? Date.now() / 1000));
  const skew = BigInt(Math.max(0, Math.floor(check.clockSkewSeconds ?? CERT_CLOCK_SKEW_SECONDS)));
  const window = `valid from ${formatCertificateTime(cert.validAfter)} to ${formatCertificateTime(cert.validBefore)}`;
  if (now + skew < cert.validAfter) return { problem: "NOT_YET_VALID", reason: `it is not valid yet (${window}; now ${formatCertificateTime(now)})` };
  if (cert.validBefore !== CERT_FOREVER && now - skew >= cert.validBefore) {
    return { problem: "EXPIRED", reason: `it has expired (${window}; now ${formatCertificateTime(now)})` };
  }
  if (check.principal !== undefined && cert.principals.length > 0) {
    const name = check.principal;
    const wild = check.wildcardPrincipals ?? false;
    const listed = cert.principals.some((p) => (wild ? wildcard(p, name) : p === name));
    if (!listed) return { problem: "PRINCIPAL", reason: `"${name}" is not among its principals (${cert.principals.join(", ")})` };
  }
  const known = check.knownCriticalOptions ?? [];
  const unknown = cert.criticalOptions.filter((o) => !known.includes(o.name));
  if (unknown.length > 0) {
    return { problem: "CRITICAL_OPTION", reason: `it has critical option(s) this client cannot enforce: ${unknown.map((o) => o.name).join(", ")}` };
  }
  return undefined;
}
