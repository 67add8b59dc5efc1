/**
 * OpenSSH certificates (PROTOCOL.certkeys) made by the real ssh-keygen -s, for every certified
 * key type and several CA types: parsing, the CA signature, tampering, the validity window,
 * principals, options, signing and verifying through a certificate, and fuzzed input.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { readFileSync, rmSync } from "node:fs";
import { ProtocolError, SshError } from "../../src/errors.js";
import {
  CERT_FOREVER,
  CERT_TYPE_HOST,
  CERT_TYPE_USER,
  certificateAlgorithm,
  certifyPrivateKey,
  checkCertificate,
  isCertificateBlob,
  parseCertificate,
  parseCertificateFile,
  plainSignatureAlgorithm,
  type CertificatePublicKey,
} from "../../src/ssh/keys/certificate.js";
import { parsePrivateKey, type PrivateKey } from "../../src/ssh/keys/private-key.js";
import { keyTypeForAlgorithm, parsePublicKey, parsePublicKeyLine } from "../../src/ssh/keys/public-key.js";
import { signatureAlgorithm } from "../../src/ssh/auth/userauth.js";
import { SshReader } from "../../src/ssh/wire/reader.js";
import { keygen, opensshFingerprint, tempDir, type GeneratedKey } from "./helpers.js";
import { certBlob, encodeBody, fieldsOf, issue, signCert, stringData } from "./cert-helpers.js";
import { xorAtDistinct, xorEdits } from "../support/byte-edits.js";

const KEYS = [
  { name: "ed25519", args: ["-t", "ed25519"], plain: "ssh-ed25519", cert: "ssh-ed25519-cert-v01@openssh.com",
    algs: ["ssh-ed25519-cert-v01@openssh.com"] },
  { name: "ecdsa256", args: ["-t", "ecdsa", "-b", "256"], plain: "ecdsa-sha2-nistp256", cert: "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    algs: ["ecdsa-sha2-nistp256-cert-v01@openssh.com"] },
  { name: "ecdsa384", args: ["-t", "ecdsa", "-b", "384"], plain: "ecdsa-sha2-nistp384", cert: "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    algs: ["ecdsa-sha2-nistp384-cert-v01@openssh.com"] },
  { name: "ecdsa521", args: ["-t", "ecdsa", "-b", "521"], plain: "ecdsa-sha2-nistp521", cert: "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    algs: ["ecdsa-sha2-nistp521-cert-v01@openssh.com"] },
  { name: "rsa", args: ["-t", "rsa", "-b", "2048"], plain: "ssh-rsa", cert: "ssh-rsa-cert-v01@openssh.com",
    algs: ["rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com"] },
];
const CAS = [
  { name: "ca-ed25519", args: ["-t", "ed25519"], sigAlg: "ssh-ed25519" },
  { name: "ca-ecdsa384", args: ["-t", "ecdsa", "-b", "384"], sigAlg: "ecdsa-sha2-nistp384" },
  { name: "ca-rsa", args: ["-t", "rsa", "-b", "2048"], sigAlg: "rsa-sha2-512" },
];
// 2020-01-01T00:00:00Z to 2040-01-01T00:00:00Z.
const AFTER = 0x5e0be100n;
const BEFORE = 0x83aa7e80n;
const INSIDE = Number(AFTER) + 86400;
const data = new TextEncoder().encode("signed through a certificate");

let dir: string;
const keys = new Map<string, GeneratedKey>();
const cas = new Map<string, GeneratedKey>();
beforeAll(() => {
  dir = tempDir();
  for (const k of KEYS) keys.set(k.name, keygen(dir, k.name, k.args));
  for (const c of CAS) cas.set(c.name, keygen(dir, c.name, c.args));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const caPath = (name: string) => cas.get(name)!.path;
const caBlobOf = (name: string) => parsePublicKeyLine(cas.get(name)!.publicLine).key.blob;

function certOf(line: string): CertificatePublicKey {
  const key = parsePublicKey(certBlob(line));
  expect(key.certificate).toBeDefined();
  return key as CertificatePublicKey;
}

describe.each(KEYS)("$name certificates from ssh-keygen -s", (k) => {
  let priv: PrivateKey;
  beforeAll(() => {
    priv = parsePrivateKey(keys.get(k.name)!.privateText);
  });

  it.each(CAS)("parses every field and verifies the CA signature ($name CA)", async (ca) => {
    const line = issue(keys.get(k.name)!.path, {
      ca: caPath(ca.name), id: `id for ${k.name}`, principals: "alice,bob", validity: "0x5e0be100:0x83aa7e80", serial: 4242,
    });
    const key = certOf(line);
    const c = key.certificate;
    expect(key.type).toBe(k.cert);
    expect(c.type).toBe(k.cert);
    expect(Buffer.from(key.blob).toString("base64")).toBe(line.split(" ")[1]);
    expect(c.key.type).toBe(k.plain);
    expect(c.key.blob).toEqual(priv.publicKey.blob);
    // ssh-keygen -l prints the certified key's fingerprint for a certificate.
    expect(key.fingerprint).toBe(priv.publicKey.fingerprint);
    expect(key.fingerprint).toBe(opensshFingerprint(`${keys.get(k.name)!.path}-cert.pub`));
    expect(c.nonce.length).toBe(32);
    expect(c.serial).toBe(4242n);
    expect(c.certType).toBe(CERT_TYPE_USER);
    expect(c.kind).toBe("user");
    expect(c.keyId).toBe(`id for ${k.name}`);
    expect(c.principals).toEqual(["alice", "bob"]);
    expect(c.validAfter).toBe(AFTER);
    expect(c.validBefore).toBe(BEFORE);
    expect(c.criticalOptions).toEqual([]);
    expect(c.extensions.map((e) => e.name)).toEqual([
      "permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding", "permit-pty", "permit-user-rc",
    ]);
    expect(c.signatureKey.blob).toEqual(caBlobOf(ca.name));
    expect(c.signatureAlgorithm).toBe(ca.sigAlg);
    expect(await c.verifySignature()).toBe(true);
    expect(await c.verifySignature("pure")).toBe(true);
    expect(await checkCertificate(c, { kind: "user", principal: "bob", now: INSIDE })).toBeUndefined();
    // The .pub line form parses to the same certificate.
    expect(parseCertificateFile(line).blob).toEqual(key.blob);
    expect(parsePublicKeyLine(line).key.type).toBe(k.cert);
  });

  it("verifies signatures by the certified key under every certificate algorithm, and signs through certifyPrivateKey", async () => {
    const key = certOf(issue(keys.get(k.name)!.path, { ca: caPath("ca-ed25519"), principals: "alice" }));
    const certified = certifyPrivateKey(priv, key);
    expect(certified.type).toBe(k.cert);
    expect(certified.publicKey).toBe(key);
    for (const alg of k.algs) {
      expect(keyTypeForAlgorithm(alg)).toBe(k.cert);
      const plain = plainSignatureAlgorithm(alg)!;
      expect(certificateAlgorithm(plain)).toBe(alg);
      const sig = await certified.sign(alg, data);
      // The signature blob names the plain algorithm (PROTOCOL.certkeys; OpenSSH signs so).
      expect(new SshReader(sig).ascii()).toBe(plain);
      expect(await key.verify(alg, sig, data)).toBe(true);
      expect(await key.verify(alg, sig, new TextEncoder().encode("other data"))).toBe(false);
      expect(await priv.publicKey.verify(plain, sig, data)).toBe(true);
    }
    expect(await key.verify("ssh-ed25519-cert-v01@openssh.com", await priv.sign(priv.type === "ssh-rsa" ? "rsa-sha2-512" : priv.type, data), data))
      .toBe(k.plain === "ssh-ed25519");
  });

  it("a tampered certificate never verifies", async () => {
    const line = issue(keys.get(k.name)!.path, { ca: caPath("ca-ecdsa384"), principals: "alice", validity: "0x5e0be100:0x83aa7e80" });
    const good = certBlob(line);
    const sigStart = certOf(line).certificate.signedData.length;
    // Every 5th byte of the signed part and a few in the signature.
    const positions = [...Array.from({ length: Math.ceil(sigStart / 5) }, (_, i) => i * 5), sigStart + 20, good.length - 1, good.length - 7];
    let parsedButRefused = 0;
    for (const pos of positions) {
      const bad = good.slice();
      bad[pos]! ^= 0x01;
      let key;
      try {
        key = parsePublicKey(bad);
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError);
        continue;
      }
      expect(await key.certificate!.verifySignature(), `byte ${pos}`).toBe(false);
      parsedButRefused++;
    }
    expect(parsedButRefused).toBeGreaterThan(10);
  });
});

describe("certificate checks", () => {
  const user = () => keys.get("ed25519")!.path;

  it("validity window: valid after <= now < valid before, widened by the clock skew allowance", async () => {
    const c = certOf(issue(user(), { ca: caPath("ca-ed25519"), principals: "alice", validity: "0x5e0be100:0x83aa7e80" })).certificate;
    const at = async (now: number, clockSkewSeconds?: number) =>
      (await checkCertificate(c, { kind: "user", principal: "alice", now, clockSkewSeconds }))?.problem;
    const a = Number(AFTER);
    const b = Number(BEFORE);
    expect(await at(a, 0)).toBeUndefined();
    expect(await at(a - 1, 0)).toBe("NOT_YET_VALID");
    expect(await at(b - 1, 0)).toBeUndefined();
    expect(await at(b, 0)).toBe("EXPIRED");
    // Default: 60 s of skew either way.
    expect(await at(a - 60)).toBeUndefined();
    expect(await at(a - 61)).toBe("NOT_YET_VALID");
    expect(await at(b + 59)).toBeUndefined();
    expect(await at(b + 60)).toBe("EXPIRED");
    const r = await checkCertificate(c, { kind: "user", now: b + 3600 });
    expect(r?.reason).toMatch(/expired.*2040-01-01T00:00:00Z/);
  });

  it("always:forever is 0 .. 2^64-1 and valid at any time", async () => {
    const c = certOf(issue(user(), { ca: caPath("ca-ed25519"), principals: "alice", validity: "always:forever" })).certificate;
    expect(c.validAfter).toBe(0n);
    expect(c.validBefore).toBe(CERT_FOREVER);
    expect(await checkCertificate(c, { kind: "user", now: 0 })).toBeUndefined();
    expect(await checkCertificate(c, { kind: "user", now: 2 ** 40 })).toBeUndefined();
  });

  it("an expired certificate (ssh-keygen -V in the past) is EXPIRED now", async () => {
    const c = certOf(issue(user(), { ca: caPath("ca-ed25519"), principals: "alice", validity: "20200101:20200102" })).certificate;
    expect((await checkCertificate(c, { kind: "user", principal: "alice" }))?.problem).toBe("EXPIRED");
    const fresh = certOf(issue(user(), { ca: caPath("ca-ed25519"), principals: "alice", validity: "-5m:+5m" })).certificate;
    expect(await checkCertificate(fresh, { kind: "user", principal: "alice" })).toBeUndefined();
  });

  it("principals: exact match by default (as ssh and sshd compare); patterns on request; none = any", async () => {
    const u = certOf(issue(user(), { ca: caPath("ca-ed25519"), principals: "alice,bo*", validity: "always:forever" })).certificate;
    const pu = async (name: string) => (await checkCertificate(u, { kind: "user", principal: name }))?.problem;
    expect(await pu("alice")).toBeUndefined();
    expect(await pu("bo*")).toBeUndefined();
    expect(await pu("bob")).toBe("PRINCIPAL");
    expect(await pu("Alice")).toBe("PRINCIPAL");
    const h = certOf(issue(user(), { ca: caPath("ca-ed25519"), principals: "*.example.com,db1", host: true })).certificate;
    expect(h.kind).toBe("host");
    expect(h.certType).toBe(CERT_TYPE_HOST);
    const ph = async (name: string, wildcardPrincipals?: boolean) =>
      (await checkCertificate(h, { kind: "host", principal: name, wildcardPrincipals }))?.problem;
    expect(await ph("db1")).toBeUndefined();
    expect(await ph("*.example.com")).toBeUndefined();
    expect(await ph("web.example.com")).toBe("PRINCIPAL");
    expect(await ph("DB1")).toBe("PRINCIPAL");
    expect(await ph("web.example.com", true)).toBeUndefined();
    expect(await ph("DB1", true)).toBeUndefined();
    expect(await ph("example.com", true)).toBe("PRINCIPAL");
    expect(await ph("db10", true)).toBe("PRINCIPAL");
    const any = certOf(issue(user(), { ca: caPath("ca-ed25519"), host: true })).certificate;
    expect(any.principals).toEqual([]);
    expect(await checkCertificate(any, { kind: "host", principal: "anything" })).toBeUndefined();
  });

  it("a principal pattern from the certificate cannot make matching take exponential time (found by fuzzing)", async () => {
    const h = certOf(issue(user(), { ca: caPath("ca-ed25519"), principals: "*a".repeat(12) + "*b", host: true })).certificate;
    const started = performance.now();
    const r = await checkCertificate(h, { kind: "host", principal: "a".repeat(40), wildcardPrincipals: true });
    expect(r?.problem).toBe("PRINCIPAL");
    // Backtracking takes C(40, 12) ≈ 5.6e9 steps (seconds to minutes); 2 s leaves the signature
    // check and the linear matcher room on two loaded CI cores.
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("type, critical options and SHA-1 CA signatures", async () => {
    const host = certOf(issue(user(), { ca: caPath("ca-ed25519"), principals: "h", host: true })).certificate;
    expect((await checkCertificate(host, { kind: "user", principal: "h" }))?.problem).toBe("WRONG_TYPE");
    const forced = certOf(issue(user(), {
      ca: caPath("ca-ed25519"), principals: "alice", options: ["force-command=/bin/true", "source-address=10.0.0.0/8"],
    })).certificate;
    expect(forced.criticalOptions.map((o) => [o.name, o.value])).toEqual([["force-command", "/bin/true"], ["source-address", "10.0.0.0/8"]]);
    expect((await checkCertificate(forced, { kind: "user", principal: "alice" }))?.problem).toBe("CRITICAL_OPTION");
    expect(await checkCertificate(forced, { kind: "user", principal: "alice", knownCriticalOptions: ["force-command", "source-address"] }))
      .toBeUndefined();
    const bare = certOf(issue(user(), { ca: caPath("ca-ed25519"), principals: "alice", options: ["clear"] })).certificate;
    expect(bare.extensions).toEqual([]);
    const sha1 = certOf(issue(user(), { ca: caPath("ca-rsa"), principals: "alice", sigAlg: "ssh-rsa" })).certificate;
    expect(sha1.signatureAlgorithm).toBe("ssh-rsa");
    expect(await sha1.verifySignature()).toBe(true);
    expect((await checkCertificate(sha1, { kind: "user", principal: "alice" }))?.problem).toBe("SIGNATURE_ALGORITHM");
    expect(await checkCertificate(sha1, { kind: "user", principal: "alice", caSignatureAlgorithms: ["ssh-rsa"] })).toBeUndefined();
    const sha256 = certOf(issue(user(), { ca: caPath("ca-rsa"), principals: "alice", sigAlg: "rsa-sha2-256" })).certificate;
    expect(sha256.signatureAlgorithm).toBe("rsa-sha2-256");
    expect(await checkCertificate(sha256, { kind: "user", principal: "alice" })).toBeUndefined();
  });

  it("re-encoded certificates: changed fields, another CA key, or a certificate as CA fail", async () => {
    const key = certOf(issue(user(), { ca: caPath("ca-ed25519"), principals: "alice", validity: "always:forever" }));
    const f = fieldsOf(key.certificate);
    const sig = key.blob.subarray(key.certificate.signedData.length);
    const withSig = (body: Uint8Array) => {
      const out = new Uint8Array(body.length + sig.length);
      out.set(body);
      out.set(sig, body.length);
      return out;
    };
    // Same signature over a re-encoded body: identical fields verify, any change does not.
    expect(await parseCertificate(withSig(encodeBody(f))).certificate.verifySignature()).toBe(true);
    expect(await parseCertificate(withSig(encodeBody({ ...f, principals: ["alice", "root"] }))).certificate.verifySignature()).toBe(false);
    expect(await parseCertificate(withSig(encodeBody({ ...f, certType: 2 }))).certificate.verifySignature()).toBe(false);
    expect(await parseCertificate(withSig(encodeBody({ ...f, caBlob: caBlobOf("ca-ecdsa384") }))).certificate.verifySignature()).toBe(false);
    const sneaky = await parseCertificate(withSig(encodeBody({ ...f, caBlob: caBlobOf("ca-rsa") }))).certificate;
    expect(sneaky.signatureAlgorithm).toBe("ssh-ed25519");
    expect(await sneaky.verifySignature()).toBe(false);
    // A certificate as the signature key (chained), even when properly signed by it.
    const other = certOf(issue(keys.get("ecdsa256")!.path, { ca: caPath("ca-ed25519"), principals: "x" }));
    const caPriv = parsePrivateKey(cas.get("ca-ed25519")!.privateText);
    const chained = await signCert(encodeBody({ ...f, caBlob: other.blob }), caPriv);
    expect(() => parsePublicKey(chained)).toThrow(expect.objectContaining({ code: "CERT_FORMAT" }));
    // Our own signer, through the helpers, makes certificates OpenSSH-compatible enough to verify.
    const own = parseCertificate(await signCert(encodeBody({ ...f, keyId: "made here" }), caPriv)).certificate;
    expect(own.keyId).toBe("made here");
    expect(await own.verifySignature()).toBe(true);
  });

  it("refuses a bad type number, a duplicate option, too many principals, trailing bytes, an unknown CA type", async () => {
    const key = certOf(issue(user(), { ca: caPath("ca-ed25519"), principals: "alice" }));
    const f = fieldsOf(key.certificate);
    const caPriv = parsePrivateKey(cas.get("ca-ed25519")!.privateText);
    const code = async (fields: typeof f) => {
      try {
        parsePublicKey(await signCert(encodeBody(fields), caPriv));
        return "parsed";
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError);
        return (e as SshError).code;
      }
    };
    expect(await code({ ...f, certType: 3 })).toBe("CERT_FORMAT");
    expect(await code({ ...f, critical: [{ name: "force-command", data: stringData("a") }, { name: "force-command", data: stringData("b") }] }))
      .toBe("CERT_FORMAT");
    expect(await code({ ...f, principals: Array.from({ length: 257 }, (_, i) => `p${i}`) })).toBe("CERT_FORMAT");
    expect(await code({ ...f, principals: Array.from({ length: 256 }, (_, i) => `p${i}`) })).toBe("parsed");
    const dss = new Uint8Array([0, 0, 0, 7, ...new TextEncoder().encode("ssh-dss"), 0, 0, 0, 1, 7]);
    expect(await code({ ...f, caBlob: dss })).toBe("UNSUPPORTED_KEY_TYPE");
    const extra = new Uint8Array(key.blob.length + 1);
    extra.set(key.blob);
    expect(() => parsePublicKey(extra)).toThrow(ProtocolError);
    expect(() => parsePublicKey(key.blob.subarray(0, key.blob.length - 1))).toThrow(ProtocolError);
  });

  it("pairs only with its own private key; plain keys are not certificates", () => {
    const key = certOf(issue(user(), { ca: caPath("ca-ed25519"), principals: "alice" }));
    const other = parsePrivateKey(keys.get("ecdsa256")!.privateText);
    expect(() => certifyPrivateKey(other, key)).toThrow(expect.objectContaining({ code: "CERT_MISMATCH" }));
    expect(() => parseCertificateFile(keys.get("ed25519")!.publicLine)).toThrow(expect.objectContaining({ code: "KEY_FORMAT" }));
    expect(() => parseCertificateFile("ssh-ed25519-cert-v01@openssh.com AAAA")).toThrow(SshError);
    expect(isCertificateBlob(key.blob)).toBe(true);
    expect(isCertificateBlob(parsePrivateKey(keys.get("ed25519")!.privateText).publicKey.blob)).toBe(false);
    expect(parsePrivateKey(keys.get("ed25519")!.privateText).publicKey.certificate).toBeUndefined();
  });

  it("picks the certificate signature algorithm from server-sig-algs", () => {
    expect(signatureAlgorithm("ssh-ed25519-cert-v01@openssh.com", undefined)).toBe("ssh-ed25519-cert-v01@openssh.com");
    expect(signatureAlgorithm("ecdsa-sha2-nistp384-cert-v01@openssh.com", ["ssh-ed25519"])).toBe("ecdsa-sha2-nistp384-cert-v01@openssh.com");
    expect(signatureAlgorithm("ssh-rsa-cert-v01@openssh.com", undefined)).toBe("rsa-sha2-512-cert-v01@openssh.com");
    expect(signatureAlgorithm("ssh-rsa-cert-v01@openssh.com", ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"])).toBe("rsa-sha2-512-cert-v01@openssh.com");
    expect(signatureAlgorithm("ssh-rsa-cert-v01@openssh.com", ["rsa-sha2-256"])).toBe("rsa-sha2-256-cert-v01@openssh.com");
    expect(signatureAlgorithm("ssh-rsa-cert-v01@openssh.com", ["rsa-sha2-256-cert-v01@openssh.com"])).toBe("rsa-sha2-256-cert-v01@openssh.com");
    expect(signatureAlgorithm("ssh-rsa-cert-v01@openssh.com", ["ssh-rsa"])).toBe("ssh-rsa-cert-v01@openssh.com");
    expect(signatureAlgorithm("ssh-rsa", ["rsa-sha2-256"])).toBe("rsa-sha2-256");
  });
});

describe("fuzzed certificates", () => {
  let blobs: Uint8Array[];
  beforeAll(() => {
    blobs = [
      certBlob(issue(keys.get("ed25519")!.path, { ca: caPath("ca-ed25519"), principals: "a,b", options: ["force-command=x"] })),
      certBlob(issue(keys.get("ecdsa256")!.path, { ca: caPath("ca-ecdsa384"), principals: "h", host: true })),
      certBlob(issue(keys.get("rsa")!.path, { ca: caPath("ca-rsa"), principals: "u" })),
    ];
  });

  /** Only ProtocolError escapes, and a changed certificate never verifies. */
  async function probe(bytes: Uint8Array, changed: boolean): Promise<void> {
    let key;
    try {
      key = parsePublicKey(bytes);
    } catch (e) {
      expect(e).toBeInstanceOf(ProtocolError);
      return;
    }
    if (!key.certificate) return;
    const ok = await key.certificate.verifySignature();
    if (changed) expect(ok).toBe(false);
    const r = await checkCertificate(key.certificate, { kind: "host", principal: "h" });
    if (changed) expect(r).toBeDefined();
  }

  it("mutated ssh-keygen certificates: flipped bytes, truncation, extension", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 2 }),
        fc.oneof(
          xorEdits(4).map((edits) => (b: Uint8Array) => xorAtDistinct(b, edits)),
          fc.nat().map((n) => (b: Uint8Array) => b.slice(0, n % b.length)),
          fc.uint8Array({ minLength: 1, maxLength: 16 }).map((tail) => (b: Uint8Array) => {
            const out = new Uint8Array(b.length + tail.length);
            out.set(b);
            out.set(tail, b.length);
            return out;
          }),
        ),
        async (which, mutate) => {
          await probe(mutate(blobs[which]!), true);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("random bytes after a certificate type name", async () => {
    const names = ["ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com"];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...names), fc.uint8Array({ maxLength: 600 }), async (name, body) => {
        const head = new Uint8Array([0, 0, 0, name.length, ...new TextEncoder().encode(name)]);
        const bytes = new Uint8Array(head.length + body.length);
        bytes.set(head);
        bytes.set(body, head.length);
        await probe(bytes, true);
      }),
      { numRuns: 400 },
    );
  });

  it("structured garbage: valid framing, random field contents", async () => {
    const caPriv = parsePrivateKey(cas.get("ca-ed25519")!.privateText);
    const base = fieldsOf(parseCertificate(blobs[0]!).certificate);
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          certType: fc.nat(),
          keyId: fc.string({ maxLength: 20 }),
          principals: fc.array(fc.string({ maxLength: 8 }), { maxLength: 5 }),
          validAfter: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          validBefore: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          critical: fc.array(fc.record({ name: fc.string({ maxLength: 12 }), data: fc.uint8Array({ maxLength: 12 }) }), { maxLength: 3 }),
        }),
        async (r) => {
          const bytes = await signCert(encodeBody({ ...base, ...r }), caPriv);
          let key;
          try {
            key = parsePublicKey(bytes);
          } catch (e) {
            expect(e).toBeInstanceOf(ProtocolError);
            return;
          }
          // Well-formed and really signed by the CA: the signature holds, the checks decide.
          expect(await key.certificate!.verifySignature()).toBe(true);
          const res = await checkCertificate(key.certificate!, { kind: "user", principal: "a" });
          if (res) expect(typeof res.reason).toBe("string");
        },
      ),
      { numRuns: 150 },
    );
  });
});

it("the certificate fixture helpers read what ssh-keygen wrote", () => {
  const line = issue(keys.get("ed25519")!.path, { ca: caPath("ca-ed25519"), principals: "alice" });
  expect(readFileSync(`${keys.get("ed25519")!.path}-cert.pub`, "utf8")).toBe(line);
});
