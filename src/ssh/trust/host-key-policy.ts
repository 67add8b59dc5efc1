/**
 * Decides whether a server's host key is trusted. Secure by default: with no options a key
 * must already be in ~/.ssh/known_hosts; an unknown key is refused with its SHA256 fingerprint
 * in the message so the user can check it out of band, and a changed key is always refused.
 */
import { HostKeyError } from "../../errors.js";
import type { PublicKey } from "../keys/public-key.js";
import { appendTextFile, readTextFile } from "../../platform/local.js";
import { hostKeyName, knownHostsLine, matchesHost, parseKnownHosts, type KnownHostEntry } from "./known-hosts.js";
import { bytesEqual } from "../../util/bytes.js";
import { fingerprintSha256 } from "../keys/fingerprint.js";
import { certificateAlgorithm, checkCertificate, type Certificate, type CertificateProblem } from "../keys/certificate.js";

export interface HostKeyOptions {
  /**
   * strict: must be known; accept-new: unknown keys are appended (hashed) to the file, changed
   * keys are still refused; insecure-accept-any: no check at all, with a warning on stderr.
   */
  policy?: "strict" | "accept-new" | "insecure-accept-any";
  /** Default ~/.ssh/known_hosts. */
  knownHostsFile?: string;
  /** Pinned fingerprints (`SHA256:…`); a match is trusted. */
  fingerprints?: string[];
  /** A custom check; true trusts the key. */
  verify?: (key: PublicKey) => boolean | Promise<boolean>;
}

export const DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts";

/** Loads the known_hosts entries that name this host (any marker). */
export async function knownKeysFor(host: string, port: number, file: string): Promise<KnownHostEntry[]> {
  const text = await readTextFile(file);
  if (text === undefined) return [];
  const name = hostKeyName(host, port);
  return parseKnownHosts(text).filter((e) => matchesHost(e.patterns, name));
}

/**
 * The @cert-authority and @revoked lines that apply to a host certificate: those matching
 * `[host]:port` (`host` on port 22) and, off port 22, those matching the bare host name.
 */
export async function certificateEntriesFor(host: string, port: number, file: string): Promise<KnownHostEntry[]> {
  const text = await readTextFile(file);
  if (text === undefined) return [];
  const names = port === 22 ? [host] : [hostKeyName(host, port), host];
  return parseKnownHosts(text).filter((e) => e.marker !== "" && names.some((n) => matchesHost(e.patterns, n)));
}

/**
 * Returns a verifier for the transport: resolves when trusted, throws HostKeyError otherwise.
 *
 * Host certificates (OpenSSH PROTOCOL.certkeys): the `@cert-authority <patterns> <CA key>`
 * lines that apply are those matching `[host]:port` (or `host` on port 22) and, off port 22,
 * those matching the bare `host` — ssh(1) 9.x looks CA lines up under the port-qualified name
 * and, when none there names the certificate's CA, again "without port identifier". A
 * certificate is trusted when one of those CAs signed it, it is a host certificate, it is valid
 * now (with CERT_CLOCK_SKEW_SECONDS of tolerance), it lists the lower-cased `host` itself among
 * its principals (exact comparison, never `[host]:port`, as ssh(1) checks; an empty list means
 * any host, as PROTOCOL.certkeys and ssh(1) allow) and it carries no critical option.
 * Otherwise HostKeyError HOST_CERT_* — unless the certified key is itself trusted as a plain
 * key (known_hosts line, pinned fingerprint), which ssh(1) also accepts. With no applicable
 * @cert-authority line a certificate is judged by its certified key alone, like a plain key
 * (accept-new records the plain key). `@revoked` lines naming the certified key or the CA
 * refuse it. Plain keys are looked up under the port-qualified name only, as before.
 */
export function hostKeyVerifier(host: string, port: number, options: HostKeyOptions = {}): (key: PublicKey) => Promise<void> {
  const policy = options.policy ?? "strict";
  const file = options.knownHostsFile ?? DEFAULT_KNOWN_HOSTS;
  return async (key) => {
    const fp = key.fingerprint;
    const fail = (code: string, message: string): never => {
      throw new HostKeyError(code, message, fp, key.type);
    };
    const entries = policy === "insecure-accept-any" ? [] : await knownKeysFor(host, port, file);
    const cert = key.certificate;
    const certEntries = !cert || policy === "insecure-accept-any" ? [] : await certificateEntriesFor(host, port, file);
    // The key the server proved it holds: for a certificate, the certified key.
    const plainKey = cert?.key ?? key;
    const same = (e: KnownHostEntry) => e.keyType === plainKey.type && bytesEqual(e.keyBlob, plainKey.blob);
    const revoked = entries.find((e) => e.marker === "@revoked" && same(e));
    if (revoked) {
      fail("HOST_KEY_REVOKED", `the ${plainKey.type} host key of ${host} (${fp}) is marked @revoked in ${file} line ${revoked.line}`);
    }
    if (cert) {
      const ca = cert.signatureKey;
      const caRevoked = certEntries.find((e) => e.marker === "@revoked" && (same(e) || (e.keyType === ca.type && bytesEqual(e.keyBlob, ca.blob))));
      if (caRevoked) {
        fail("HOST_KEY_REVOKED", same(caRevoked)
          ? `the ${plainKey.type} host key of ${host} (${fp}) is marked @revoked in ${file} line ${caRevoked.line}`
          : `the host certificate of ${host} is signed by CA ${ca.type} ${ca.fingerprint}, which is marked @revoked in ${file} line ${caRevoked.line}`);
      }
    }
    if (options.fingerprints?.includes(fp)) return;
    if (options.verify) {
      if (await options.verify(key)) return;
      fail("HOST_KEY_REJECTED", `the ${key.type} host key of ${host} (${fp}) was rejected by the verify callback`);
    }
    if (options.fingerprints?.length) {
      fail("HOST_KEY_MISMATCH", `the ${key.type} host key of ${host} is ${fp}, which matches none of the pinned fingerprints`);
    }
    const plain = entries.filter((e) => e.marker === "");
    const cas = certEntries.filter((e) => e.marker === "@cert-authority");
    if (cert && cas.length > 0) {
      const refusal = await hostCertificateRefusal(cert, host, cas, file);
      if (!refusal) return;
      // ssh(1) falls back to the certified key as a plain key; so do we, but only to accept.
      if (plain.some(same)) return;
      fail(refusal.code, `the ${key.type} host certificate of ${host} (key ${fp}, ${describeCertificate(cert)}) is refused: ${refusal.reason}`);
    }
    if (plain.some(same)) return;
    if (policy === "insecure-accept-any") {
      console.warn(`WARNING: host key checking is off (insecure-accept-any): accepted ${key.type} ${fp} for ${host} unverified`);
      return;
    }
    const changed = plain.find((e) => e.keyType === plainKey.type);
    if (changed) {
      fail("HOST_KEY_CHANGED", `HOST KEY CHANGED for ${host}: the server sent ${key.type} ${fp}, but ${file} line ${changed.line} ` +
        `lists ${fingerprintSha256(changed.keyBlob)}. This may be an attack; if the server was re-keyed, remove that line.`);
    }
    if (policy === "accept-new") {
      await appendTextFile(file, knownHostsLine(host, port, plainKey.type, plainKey.blob) + "\n");
      return;
    }
    const certNote = cert
      ? ` The key is certified (${describeCertificate(cert)}) by CA ${cert.signatureKey.type} ${cert.signatureKey.fingerprint}, ` +
        `but no @cert-authority line in ${file} names ${hostKeyName(host, port)}${port === 22 ? "" : ` or ${host}`}.`
      : "";
    fail("HOST_KEY_UNKNOWN", `unknown host key for ${hostKeyName(host, port)}: ${key.type} ${fp}.${certNote} ` +
      `Check this fingerprint with the server's administrator, then add it to ${file}, pin it with ` +
      `hostKeys.fingerprints, or connect once with hostKeys.policy "accept-new".`);
  };
}

function describeCertificate(cert: Certificate): string {
  return `id "${cert.keyId}", serial ${cert.serial}`;
}

const HOST_CERT_CODES: Record<CertificateProblem, string> = {
  SIGNATURE_ALGORITHM: "HOST_CERT_SIGNATURE_ALGORITHM",
  BAD_SIGNATURE: "HOST_CERT_BAD_SIGNATURE",
  WRONG_TYPE: "HOST_CERT_NOT_HOST",
  NOT_YET_VALID: "HOST_CERT_NOT_YET_VALID",
  EXPIRED: "HOST_CERT_EXPIRED",
  PRINCIPAL: "HOST_CERT_PRINCIPAL",
  CRITICAL_OPTION: "HOST_CERT_CRITICAL_OPTION",
};

/** Why a host certificate is not trusted through these @cert-authority entries, or undefined. */
async function hostCertificateRefusal(cert: Certificate, host: string, cas: KnownHostEntry[], file: string): Promise<{ code: string; reason: string } | undefined> {
  const ca = cert.signatureKey;
  if (!cas.some((e) => e.keyType === ca.type && bytesEqual(e.keyBlob, ca.blob))) {
    return {
      code: "HOST_CERT_UNTRUSTED_CA",
      reason: `its CA ${ca.type} ${ca.fingerprint} is not among the @cert-authority keys for this host in ${file} ` +
        `(${cas.map((e) => `line ${e.line}`).join(", ")})`,
    };
  }
  const problem = await checkCertificate(cert, { kind: "host", principal: host.toLowerCase() });
  return problem && { code: HOST_CERT_CODES[problem.problem], reason: problem.reason };
}

/**
 * Host key algorithms reordered so those already known for the host come first, as ssh(1)
 * does: otherwise a server with an RSA key in known_hosts would be asked for ed25519 and fail.
 */
export function preferKnownAlgorithms(algorithms: string[], known: KnownHostEntry[], keyTypeOf: (alg: string) => string): string[] {
  const types = new Set(known.filter((e) => e.marker === "").map((e) => e.keyType));
  if (types.size === 0) return algorithms;
  const first = algorithms.filter((a) => types.has(keyTypeOf(a)));
  return [...first, ...algorithms.filter((a) => !first.includes(a))];
}

/**
 * When known_hosts has an @cert-authority line for the host, the certificate variants of the
 * offered host key algorithms go first, as ssh(1) orders them, so a server with a host
 * certificate presents it; otherwise the list is returned unchanged.
 */
export function preferCertificateAlgorithms(algorithms: string[], known: KnownHostEntry[]): string[] {
  if (!known.some((e) => e.marker === "@cert-authority")) return algorithms;
  const certs = algorithms.map((a) => certificateAlgorithm(a)).filter((a): a is string => a !== undefined && !algorithms.includes(a));
  return [...new Set(certs), ...algorithms];
}
