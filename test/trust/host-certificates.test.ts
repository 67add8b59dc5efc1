/**
 * Host certificates trusted through known_hosts @cert-authority lines, with certificates made by
 * ssh-keygen -s: the CA, type, validity, principal and critical-option checks, @revoked, the
 * plain-key fallback, host patterns with and without a port, and algorithm ordering.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HostKeyError } from "../../src/errors.js";
import { parsePrivateKey } from "../../src/ssh/keys/private-key.js";
import { parsePublicKey, parsePublicKeyLine, type PublicKey } from "../../src/ssh/keys/public-key.js";
import { hostKeyVerifier, preferCertificateAlgorithms } from "../../src/ssh/trust/host-key-policy.js";
import { hashHostName, parseKnownHosts } from "../../src/ssh/trust/known-hosts.js";
import { encodeBase64 } from "../../src/ssh/wire/base64.js";
import { keygen, tempDir, type GeneratedKey } from "../keys/helpers.js";
import { certBlob, encodeBody, fieldsOf, issue, signCert, stringData } from "../keys/cert-helpers.js";

let dir: string;
let ca: GeneratedKey;
let otherCa: GeneratedKey;
let hostKey: GeneratedKey;
let caLine: string;
let plainLine: string;
const line = (k: GeneratedKey) => k.publicLine.trim().split(" ").slice(0, 2).join(" ");
beforeAll(() => {
  dir = tempDir();
  ca = keygen(dir, "host-ca", ["-t", "ed25519"]);
  otherCa = keygen(dir, "other-ca", ["-t", "ecdsa", "-b", "256"]);
  hostKey = keygen(dir, "host", ["-t", "ecdsa", "-b", "384"]);
  caLine = ca.publicLine.trim().split(" ").slice(0, 2).join(" ");
  plainLine = hostKey.publicLine.trim().split(" ").slice(0, 2).join(" ");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function knownHosts(text: string): string {
  const d = mkdtempSync(join(dir, "kh-"));
  const f = join(d, "known_hosts");
  writeFileSync(f, text);
  return f;
}

function hostCert(o: { principals?: string; validity?: string; ca?: GeneratedKey; user?: boolean; options?: string[] } = {}): PublicKey {
  const line = issue(hostKey.path, {
    ca: (o.ca ?? ca).path, id: `host-cert-${++n}`, principals: o.principals ?? "srv", validity: o.validity ?? "-5m:+1h",
    host: !o.user, options: o.options,
  });
  return parsePublicKey(certBlob(line));
}

async function refusal(p: Promise<void>): Promise<HostKeyError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(HostKeyError);
  return err as HostKeyError;
}

describe("host certificates through @cert-authority", () => {
  it("accepts a valid certificate; CA patterns match [host]:port off port 22, then the bare host, as ssh does", async () => {
    const cert = hostCert();
    const ok = (port: number, text: string) => hostKeyVerifier("srv", port, { knownHostsFile: knownHosts(text) })(cert);
    await ok(2222, `@cert-authority [srv]:2222 ${caLine}\n`);
    await ok(2222, `@cert-authority * ${caLine}\n`);
    await ok(22, `@cert-authority srv,other ${caLine}\n`);
    await ok(2222, `@cert-authority ${hashHostName("[srv]:2222")} ${caLine}\n`);
    // ssh(1) retries the lookup "without port identifier": a bare-name CA line applies too.
    await ok(2222, `@cert-authority srv ${caLine}\n`);
    await ok(2222, `@cert-authority [srv]:2222 ${line(otherCa)}\n@cert-authority srv ${caLine}\n`);
    // Another port's line does not.
    const err = await refusal(ok(2222, `@cert-authority [srv]:2223 ${caLine}\n`));
    expect(err.code).toBe("HOST_KEY_UNKNOWN");
    expect(err.message).toMatch(/certified.*no @cert-authority line/);
    expect((await refusal(ok(22, `@cert-authority [srv]:2222 ${caLine}\n`))).code).toBe("HOST_KEY_UNKNOWN");
  });

  it("the principal is the lower-cased plain host name, also off port 22, compared exactly", async () => {
    const kh = knownHosts(`@cert-authority * ${caLine}\n`);
    await hostKeyVerifier("srv", 2222, { knownHostsFile: kh })(hostCert({ principals: "srv" }));
    await hostKeyVerifier("SRV", 2222, { knownHostsFile: kh })(hostCert({ principals: "other,srv" }));
    const bracketed = await refusal(hostKeyVerifier("srv", 2222, { knownHostsFile: kh })(hostCert({ principals: "[srv]:2222" })));
    expect(bracketed.code).toBe("HOST_CERT_PRINCIPAL");
    // ssh(1) 9.x compares host principals with strcmp: no wildcards.
    const pattern = await refusal(hostKeyVerifier("web1.example.com", 22, { knownHostsFile: kh })(hostCert({ principals: "*.example.com" })));
    expect(pattern.code).toBe("HOST_CERT_PRINCIPAL");
    const wrong = await refusal(hostKeyVerifier("db.example.org", 22, { knownHostsFile: kh })(hostCert({ principals: "srv,*.example.com" })));
    expect(wrong.code).toBe("HOST_CERT_PRINCIPAL");
    expect(wrong.message).toContain('"db.example.org" is not among its principals (srv, *.example.com)');
    expect(wrong.message).toMatch(/id "host-cert-\d+"/);
  });

  it("refuses expired, not yet valid, user, unknown-CA and critical-option certificates with distinct codes", async () => {
    const kh = knownHosts(`@cert-authority [srv]:2222 ${caLine}\n`);
    const verify = hostKeyVerifier("srv", 2222, { knownHostsFile: kh });
    expect((await refusal(verify(hostCert({ validity: "20200101:20200102" })))).code).toBe("HOST_CERT_EXPIRED");
    expect((await refusal(verify(hostCert({ validity: "+1d:+2d" })))).code).toBe("HOST_CERT_NOT_YET_VALID");
    expect((await refusal(verify(hostCert({ user: true })))).code).toBe("HOST_CERT_NOT_HOST");
    const untrusted = await refusal(verify(hostCert({ ca: otherCa })));
    expect(untrusted.code).toBe("HOST_CERT_UNTRUSTED_CA");
    expect(untrusted.message).toContain(parsePublicKeyLine(otherCa.publicLine).key.fingerprint);
    expect((await refusal(verify(hostCert({ options: ["force-command=/bin/false"] })))).code).toBe("HOST_CERT_CRITICAL_OPTION");
  });

  it("checks the CA signature: a certificate naming a trusted CA but signed by another key is refused", async () => {
    const cert = hostCert({ ca: otherCa });
    const f = fieldsOf(cert.certificate!);
    // The trusted CA's key in the certificate, the other CA's signature over it.
    const forged = parsePublicKey(await signCert(encodeBody({ ...f, caBlob: parsePublicKeyLine(ca.publicLine).key.blob }),
      parsePrivateKey(otherCa.privateText), "ecdsa-sha2-nistp256"));
    const err = await refusal(hostKeyVerifier("srv", 2222, { knownHostsFile: knownHosts(`@cert-authority * ${caLine}\n`) })(forged));
    expect(err.code).toBe("HOST_CERT_BAD_SIGNATURE");
    // While the same fields, honestly signed by the trusted CA, pass.
    const honest = parsePublicKey(await signCert(encodeBody({ ...f, caBlob: parsePublicKeyLine(ca.publicLine).key.blob, critical: [] }),
      parsePrivateKey(ca.privateText)));
    await hostKeyVerifier("srv", 2222, { knownHostsFile: knownHosts(`@cert-authority * ${caLine}\n`) })(honest);
    const withOption = parsePublicKey(await signCert(encodeBody({
      ...f, caBlob: parsePublicKeyLine(ca.publicLine).key.blob, critical: [{ name: "x@example.com", data: stringData("y") }],
    }), parsePrivateKey(ca.privateText)));
    expect((await refusal(hostKeyVerifier("srv", 2222, { knownHostsFile: knownHosts(`@cert-authority * ${caLine}\n`) })(withOption))).code)
      .toBe("HOST_CERT_CRITICAL_OPTION");
  });

  it("@revoked on the CA or on the certified key refuses, even a pinned fingerprint", async () => {
    const cert = hostCert();
    const caRevoked = await refusal(hostKeyVerifier("srv", 2222, {
      knownHostsFile: knownHosts(`@cert-authority * ${caLine}\n@revoked * ${caLine}\n`), fingerprints: [cert.fingerprint],
    })(cert));
    expect(caRevoked.code).toBe("HOST_KEY_REVOKED");
    expect(caRevoked.message).toMatch(/CA .*@revoked/);
    const keyRevoked = await refusal(hostKeyVerifier("srv", 2222, {
      knownHostsFile: knownHosts(`@cert-authority * ${caLine}\n@revoked * ${plainLine}\n`),
    })(cert));
    expect(keyRevoked.code).toBe("HOST_KEY_REVOKED");
  });

  it("falls back to the certified key: a plain known_hosts line or a pinned fingerprint still trusts it", async () => {
    const expired = hostCert({ validity: "20200101:20200102" });
    await hostKeyVerifier("srv", 2222, { knownHostsFile: knownHosts(`@cert-authority * ${caLine}\n[srv]:2222 ${plainLine}\n`) })(expired);
    await hostKeyVerifier("srv", 2222, { knownHostsFile: knownHosts(""), fingerprints: [parsePublicKeyLine(hostKey.publicLine).key.fingerprint] })(expired);
    // No CA line: judged as its plain key.
    await hostKeyVerifier("srv", 2222, { knownHostsFile: knownHosts(`[srv]:2222 ${plainLine}\n`) })(hostCert({ ca: otherCa }));
    const replaced = keygen(dir, `replaced-${++n}`, ["-t", "ecdsa", "-b", "384"]).publicLine.trim().split(" ").slice(0, 2).join(" ");
    const changed = await refusal(hostKeyVerifier("srv", 2222, { knownHostsFile: knownHosts(`[srv]:2222 ${replaced}\n`) })(hostCert()));
    expect(changed.code).toBe("HOST_KEY_CHANGED");
  });

  it("accept-new records the certified plain key when no CA line applies, but never overrides a refused certificate", async () => {
    const kh = knownHosts("");
    await hostKeyVerifier("srv", 2222, { policy: "accept-new", knownHostsFile: kh })(hostCert());
    const entries = parseKnownHosts(readFileSync(kh, "utf8"));
    expect(entries.map((e) => [e.marker, e.keyType, encodeBase64(e.keyBlob)])).toEqual([["", "ecdsa-sha2-nistp384", plainLine.split(" ")[1]]]);
    const withCa = knownHosts(`@cert-authority * ${caLine}\n`);
    const err = await refusal(hostKeyVerifier("srv", 2222, { policy: "accept-new", knownHostsFile: withCa })(hostCert({ validity: "20200101:20200102" })));
    expect(err.code).toBe("HOST_CERT_EXPIRED");
    expect(readFileSync(withCa, "utf8")).toBe(`@cert-authority * ${caLine}\n`);
  });

  it("offers the certificate host key algorithms first only when a CA line applies", () => {
    const base = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"];
    expect(preferCertificateAlgorithms(base, parseKnownHosts(`h ${plainLine}\n`))).toEqual(base);
    expect(preferCertificateAlgorithms(base, parseKnownHosts(`@cert-authority h ${caLine}\n`))).toEqual([
      "ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
      "rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com", ...base,
    ]);
  });
});
