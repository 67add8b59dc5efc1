/**
 * The DER reader's strictness, and the PEM / PKCS#1 / SEC1 / PKCS#8 decoders on hand-built
 * structures: unsupported algorithms, inconsistent copies of key material, KDF limits.
 */
import { describe, expect, it } from "vitest";
import { needTools } from "../support/tools.js";
import { p256 } from "@noble/curves/nist.js";
import { DerReader } from "../../src/ssh/keys/der.js";
import { evpBytesToKeyMd5, findPemBlock } from "../../src/ssh/keys/pem.js";
import { parsePrivateKey } from "../../src/ssh/keys/private-key.js";
import { ProtocolError } from "../../src/errors.js";
import { BEFORE_ANY_KDF_WORK_MS, PASS, TOOLS, b64, codeOf, fixtureText, hex, tool, unhex } from "./fixtures.js";

// A minimal DER encoder for building test structures.
const len = (n: number): number[] => (n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff]);
const tlv = (tag: number, ...parts: (Uint8Array | number[])[]): Uint8Array => {
  const body = parts.flatMap((p) => [...p]);
  return Uint8Array.from([tag, ...len(body.length), ...body]);
};
const seq = (...parts: Uint8Array[]) => tlv(0x30, ...parts);
const octet = (b: Uint8Array | number[]) => tlv(0x04, b);
const int = (v: bigint): Uint8Array => {
  let h = v.toString(16);
  if (h.length % 2) h = "0" + h;
  if (parseInt(h.slice(0, 2), 16) >= 0x80) h = "00" + h;
  return tlv(0x02, unhex(h));
};
const oid = (dotted: string): Uint8Array => {
  const [a, b, ...rest] = dotted.split(".").map(Number) as [number, number, ...number[]];
  const out = [40 * a + b];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, out);
};
const NULL = Uint8Array.from([0x05, 0x00]);
const pem = (label: string, der: Uint8Array) => `-----BEGIN ${label}-----\n${b64(der).match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;
const derOf = (file: string) => findPemBlock(fixtureText(file))!.body;

const ED25519_OID = "1.3.101.112";
const SEED = unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"); // RFC 8032 test 1
const SEED_PUB = unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");

describe("DerReader", () => {
  const bad: [string, string][] = [
    ["3080020100" + "0000", "indefinite"],
    ["308103020100", "non-minimal length"],
    ["30820003020100", "non-minimal length"],
    ["3085000000000300", "length field of 5"],
    ["3005020100", "truncated"],
    ["1f0100", "high tag"],
  ];
  it.each(bad)("rejects %s (%s)", (h, message) => {
    const r = new DerReader(unhex(h));
    expect(() => r.sequence()).toThrow(ProtocolError);
    expect(() => new DerReader(unhex(h)).any()).toThrow(message);
  });

  it("decodes and checks INTEGERs, OIDs, NULL and BIT STRINGs", () => {
    const r = (h: string) => new DerReader(unhex(h));
    expect(r("0201ff").integer()).toBe(-1n);
    expect(r("02020080").integer()).toBe(128n);
    expect(() => r("02020005").integer()).toThrow("non-minimal");
    expect(() => r("0202ff80").integer()).toThrow("non-minimal");
    expect(() => r("0200").integer()).toThrow("empty");
    expect(() => r("0201ff").unsigned()).toThrow("negative");
    expect(() => r("020201ff").small("version", 255)).toThrow("exceeds");
    expect(r("06092a864886f70d010101").oid()).toBe("1.2.840.113549.1.1.1");
    expect(r("06028837").oid()).toBe("2.999");
    expect(() => r("06028001").oid()).toThrow("non-minimal");
    expect(() => r("060186").oid()).toThrow("truncated");
    expect(() => r("050100").null()).toThrow("contents");
    expect(() => r("030201ff").bitString()).toThrow("unused bits");
    expect(hex(r("030300abcd").bitString())).toBe("abcd");
    expect(() => r("0201010201").end()).toThrow("trailing");
    expect(() => r("0401ff").integer()).toThrow("expected INTEGER");
  });
});

describe("legacy PEM", () => {
  it("derives keys like OpenSSL's EVP_BytesToKey (openssl enc -md md5 -P)", (ctx) => {
    needTools(ctx, "/usr/bin/openssl");
    const out = tool("/usr/bin/openssl", ["enc", "-aes-256-cbc", "-md", "md5", "-S", "0102030405060708", "-pass", "pass:secret", "-P"]);
    const key = /key=([0-9A-F]+)/.exec(out)![1]!;
    const iv = /iv\s*=([0-9A-F]+)/.exec(out)![1]!;
    const derived = evpBytesToKeyMd5(new TextEncoder().encode("secret"), unhex("0102030405060708"), 48);
    expect(hex(derived).toUpperCase()).toBe(key + iv);
  });

  it("handles text around the block, and refuses malformed headers", () => {
    const text = fixtureText("pem/ecdsa256.sec1-aes128.pem");
    expect(parsePrivateKey(`Bag Attributes\n    friendlyName: x\n${text}trailing\n`, PASS).type).toBe("ecdsa-sha2-nistp256");
    const indented = text.split("\n").map((l) => (l ? "    " + l : l)).join("\n");
    expect(parsePrivateKey(`key: |\n${indented}`, PASS).type).toBe("ecdsa-sha2-nistp256");
    const noDek = text.replace(/DEK-Info: .*\n/, "");
    expect(codeOf(() => parsePrivateKey(noDek, PASS))).toMatch(/^KEY_FORMAT: unsupported PEM headers/);
    const shortIv = text.replace(/(DEK-Info: AES-128-CBC,)[0-9A-F]{2}/, "$1");
    expect(codeOf(() => parsePrivateKey(shortIv, PASS))).toMatch(/^KEY_FORMAT: DEK-Info IV/);
    const camellia = text.replace("AES-128-CBC", "CAMELLIA-128-CBC");
    expect(codeOf(() => parsePrivateKey(camellia, PASS))).toMatch(/^UNSUPPORTED_CIPHER: .*CAMELLIA/);
    expect(codeOf(() => parsePrivateKey(text.replace(/-----END.*/, "")))).toMatch(/^KEY_FORMAT: missing -----END EC PRIVATE KEY-----/);
    const withHeader = fixtureText("pkcs8/ecdsa256.pkcs8.pem").replace("KEY-----\n", "KEY-----\nProc-Type: 4,ENCRYPTED\n\n");
    expect(codeOf(() => parsePrivateKey(withHeader))).toMatch(/^KEY_FORMAT: unexpected headers/);
  });

  it("skips the EC PARAMETERS block openssl ecparam -genkey writes first", () => {
    const params = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
    expect(parsePrivateKey(params + fixtureText("pem/ecdsa256.sec1.pem")).type).toBe("ecdsa-sha2-nistp256");
    expect(codeOf(() => parsePrivateKey(params))).toMatch(/^KEY_FORMAT: "EC PARAMETERS"/);
    if (TOOLS.openssl) {
      const out = tool("/usr/bin/openssl", ["ecparam", "-name", "secp384r1", "-genkey"]);
      expect(out).toMatch(/^-----BEGIN EC PARAMETERS-----/);
      expect(parsePrivateKey(out).type).toBe("ecdsa-sha2-nistp384");
    }
  });

  it("reports a changed IV salt as a wrong passphrase, and corrupt key material as KEY_FORMAT", () => {
    const text = fixtureText("pem/rsa2048.pkcs1-aes256.pem");
    // The first IV byte is also KDF salt: a different key decrypts everything to garbage.
    const salted = text.replace(/(DEK-Info: AES-256-CBC,)(.)/, (_, h: string, c: string) => h + (c === "0" ? "1" : "0"));
    expect(codeOf(() => parsePrivateKey(salted, PASS))).toMatch(/^BAD_PASSPHRASE:/);
    // Legacy PEM has no MAC: a flipped ciphertext block garbles two plaintext blocks inside the
    // integers, and the RSA consistency checks catch it.
    const lines = text.split("\n");
    const i = lines.length - 4;
    lines[i] = lines[i]!.slice(0, 4).split("").reverse().join("") + lines[i]!.slice(4);
    expect(codeOf(() => parsePrivateKey(lines.join("\n"), PASS))).toMatch(/^(KEY_FORMAT|BAD_PASSPHRASE):/);
  });

  it("checks the redundant CRT values of PKCS#1 and refuses multi-prime keys", () => {
    const s = new DerReader(derOf("pem/rsa2048.pkcs1.pem")).sequence();
    const ints = Array.from({ length: 9 }, () => s.integer());
    const rebuild = (v: bigint[]) => pem("RSA PRIVATE KEY", seq(...v.map(int)));
    expect(parsePrivateKey(rebuild(ints)).type).toBe("ssh-rsa");
    const badDp = [...ints];
    badDp[6] = badDp[6]! + 2n;
    expect(codeOf(() => parsePrivateKey(rebuild(badDp)))).toMatch(/^KEY_FORMAT: .*CRT exponents/);
    const badQinv = [...ints];
    badQinv[8] = badQinv[8]! + 1n;
    expect(codeOf(() => parsePrivateKey(rebuild(badQinv)))).toMatch(/^KEY_FORMAT: corrupt ssh-rsa/);
    const multi = [1n, ...ints.slice(1)];
    expect(codeOf(() => parsePrivateKey(rebuild(multi)))).toMatch(/^UNSUPPORTED_KEY_TYPE: multi-prime/);
    // Raw DER bytes work too.
    expect(parsePrivateKey(seq(...ints.map(int))).type).toBe("ssh-rsa");
  });

  it("checks SEC1's optional public key and curve, and refuses unsupported curves", () => {
    const s = new DerReader(derOf("pem/ecdsa256.sec1.pem")).sequence();
    s.integer();
    const d = s.octetString();
    const sec1 = (...extra: Uint8Array[]) => seq(int(1n), octet(d), ...extra);
    const curve = (o: string) => tlv(0xa0, oid(o));
    expect(parsePrivateKey(pem("EC PRIVATE KEY", sec1(curve("1.2.840.10045.3.1.7")))).type).toBe("ecdsa-sha2-nistp256");
    expect(parsePrivateKey(sec1(curve("1.2.840.10045.3.1.7"))).type).toBe("ecdsa-sha2-nistp256"); // as DER
    const otherPub = p256.getPublicKey(p256.utils.randomSecretKey(), false);
    const wrongPub = sec1(curve("1.2.840.10045.3.1.7"), tlv(0xa1, tlv(0x03, [0], otherPub)));
    expect(codeOf(() => parsePrivateKey(pem("EC PRIVATE KEY", wrongPub)))).toMatch(/^KEY_FORMAT: .*does not match public point/);
    expect(codeOf(() => parsePrivateKey(pem("EC PRIVATE KEY", sec1())))).toMatch(/^KEY_FORMAT: ECPrivateKey names no curve/);
    expect(codeOf(() => parsePrivateKey(pem("EC PRIVATE KEY", sec1(curve("1.3.132.0.10")))))).toMatch(/^UNSUPPORTED_KEY_TYPE: EC curve 1.3.132.0.10/);
    expect(codeOf(() => parsePrivateKey(pem("EC PRIVATE KEY", sec1(tlv(0xa0, seq(int(1n)))))))).toMatch(/^UNSUPPORTED_KEY_TYPE: explicit/);
    const p8 = seq(int(0n), seq(oid("1.2.840.10045.2.1"), oid("1.3.132.0.34")), octet(sec1(curve("1.2.840.10045.3.1.7"))));
    expect(codeOf(() => parsePrivateKey(pem("PRIVATE KEY", p8)))).toMatch(/^KEY_FORMAT: .*differs from the PKCS#8 curve/);
  });

  it("refuses DSA keys as an unsupported type", () => {
    expect(codeOf(() => parsePrivateKey(pem("DSA PRIVATE KEY", seq(int(0n)))))).toMatch(/^UNSUPPORTED_KEY_TYPE: DSA/);
  });
});

describe("PKCS#8", () => {
  const edInfo = (...extra: Uint8Array[]) => seq(int(extra.length ? 1n : 0n), seq(oid(ED25519_OID)), octet(octet(SEED)), ...extra);

  it("reads Ed25519 (RFC 8410), including the v2 OneAsymmetricKey public key", () => {
    const key = parsePrivateKey(pem("PRIVATE KEY", edInfo()));
    expect(hex(key.publicKey.blob.subarray(-32))).toBe(hex(SEED_PUB));
    const v2 = edInfo(tlv(0xa0, seq(oid("1.2.840.113549.1.9.9"), tlv(0x31, octet([1])))), tlv(0x81, [0], SEED_PUB));
    expect(hex(parsePrivateKey(pem("PRIVATE KEY", v2)).publicKey.blob.subarray(-32))).toBe(hex(SEED_PUB));
    const wrong = edInfo(tlv(0x81, [0], SEED));
    expect(codeOf(() => parsePrivateKey(pem("PRIVATE KEY", wrong)))).toMatch(/^KEY_FORMAT: corrupt ssh-ed25519/);
    const v1WithPub = seq(int(0n), seq(oid(ED25519_OID)), octet(octet(SEED)), tlv(0x81, [0], SEED_PUB));
    expect(codeOf(() => parsePrivateKey(pem("PRIVATE KEY", v1WithPub)))).toMatch(/^KEY_FORMAT: PKCS#8 v1 key with a v2 publicKey/);
    const withParams = seq(int(0n), seq(oid(ED25519_OID), NULL), octet(octet(SEED)));
    expect(codeOf(() => parsePrivateKey(pem("PRIVATE KEY", withParams)))).toMatch(/^KEY_FORMAT: .*trailing/);
    const shortSeed = seq(int(0n), seq(oid(ED25519_OID)), octet(octet(SEED.subarray(1))));
    expect(codeOf(() => parsePrivateKey(pem("PRIVATE KEY", shortSeed)))).toMatch(/^KEY_FORMAT: ssh-ed25519 private key is 31 bytes/);
  });

  it("refuses other key algorithms as UNSUPPORTED_KEY_TYPE, naming them", () => {
    for (const [o, name] of [["1.2.840.10040.4.1", "DSA"], ["1.3.101.113", "Ed448"], ["1.2.840.113549.1.1.10", "RSASSA-PSS"], ["1.2.3.4", "1.2.3.4"]]) {
      const der = seq(int(0n), seq(oid(o!)), octet([4, 0]));
      expect(codeOf(() => parsePrivateKey(pem("PRIVATE KEY", der)))).toMatch(new RegExp(`^UNSUPPORTED_KEY_TYPE: PKCS#8 .*${name}`));
    }
  });

  it("bounds PBKDF2 iterations and scrypt memory (KDF_LIMIT) before deriving anything", () => {
    const epki = (iterations: bigint) =>
      seq(
        seq(
          oid("1.2.840.113549.1.5.13"),
          seq(seq(oid("1.2.840.113549.1.5.12"), seq(octet(new Uint8Array(8)), int(iterations))), seq(oid("2.16.840.1.101.3.4.1.42"), octet(new Uint8Array(16)))),
        ),
        octet(new Uint8Array(32)),
      );
    const t0 = performance.now();
    expect(codeOf(() => parsePrivateKey(pem("ENCRYPTED PRIVATE KEY", epki(0xffffffffn)), "pw"))).toMatch(/^KDF_LIMIT: PBKDF2 iteration count is 4294967295/);
    expect(performance.now() - t0).toBeLessThan(BEFORE_ANY_KDF_WORK_MS);
    expect(codeOf(() => parsePrivateKey(pem("ENCRYPTED PRIVATE KEY", epki(0n)), "pw"))).toMatch(/^KEY_FORMAT: PBKDF2 iteration count 0/);
    expect(codeOf(() => parsePrivateKey(epki(1n), "pw"))).toMatch(/^BAD_PASSPHRASE:/); // DER input, default SHA-1 PRF
    expect(codeOf(() => parsePrivateKey(fixtureText("pkcs8/rsa2048.pbes2-sshkeygen.pem"), PASS, { maxPbkdf2Iterations: 2047 }))).toMatch(/^KDF_LIMIT:/);
    expect(codeOf(() => parsePrivateKey(fixtureText("pkcs8/ecdsa521.scrypt-aes256.pem"), PASS, { maxScryptMemoryBytes: (1 << 20) - 1 }))).toMatch(
      /^KDF_LIMIT: scrypt memory/,
    );
  });
});
