/**
 * Property tests over every key file format: random input and mutations of the committed
 * fixtures (at the layer under the armor, so they reach the deep parsers; for unencrypted PPK
 * files the MAC is recomputed so mutations get past it) give either a key that signs and
 * verifies, or an SshError whose cause, if any, is also ours: never a TypeError, RangeError or
 * an error from a dependency.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { parsePrivateKey, type ParsePrivateKeyOptions } from "../../src/ssh/keys/private-key.js";
import { findPemBlock } from "../../src/ssh/keys/pem.js";
import { DerReader } from "../../src/ssh/keys/der.js";
import { parsePpk } from "../../src/ssh/keys/ppk.js";
import { parseOpensshKey } from "../../src/ssh/keys/openssh-key.js";
import { parseEncryptedPkcs8, parsePkcs8 } from "../../src/ssh/keys/pkcs8.js";
import { ecFromSec1, rsaFromPkcs1 } from "../../src/ssh/keys/pem.js";
import { SshError } from "../../src/errors.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import { FIXTURES, b64, fixtureInput, fixtureText, hex, type Fixture } from "./fixtures.js";
import { xorAtDistinct, xorEdits } from "../support/byte-edits.js";

/** Cheap KDF bounds so that a mutated cost parameter cannot stall the run. */
const CHEAP: ParsePrivateKeyOptions = { maxBcryptRounds: 8, maxPbkdf2Iterations: 20_000, maxScryptMemoryBytes: 2 << 20, maxArgon2MemoryKiB: 2048, maxArgon2Work: 4096 };

async function check(input: string | Uint8Array, passphrase: string | undefined): Promise<void> {
  let key;
  try {
    key = parsePrivateKey(input, passphrase, CHEAP);
  } catch (e) {
    expect(e).toBeInstanceOf(SshError);
    const cause = (e as SshError).cause;
    if (cause !== undefined) expect(cause, String(cause)).toBeInstanceOf(SshError);
    return;
  }
  // A key that parses is internally consistent: it signs, and its own public key verifies it.
  const alg = key.type === "ssh-rsa" ? "rsa-sha2-256" : key.type;
  const data = new Uint8Array([1, 2, 3]);
  expect(await key.publicKey.verify(alg, await key.sign(alg, data), data)).toBe(true);
}

const edit = (bytes: Uint8Array) =>
  fc.oneof(
    xorEdits(3).map((edits) => xorAtDistinct(bytes, edits)),
    fc.nat().map((n) => bytes.slice(0, n % bytes.length)),
    fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 6 })).map(([at, ins]) => {
      const i = at % bytes.length;
      return Uint8Array.from([...bytes.subarray(0, i), ...ins, ...bytes.subarray(i)]);
    }),
  );

/** The same PEM block (label and headers) around a new body. */
const rearmor = (text: string, body: Uint8Array) => {
  const { label, headers } = findPemBlock(text)!;
  const head = [...headers].map(([k, v]) => `${k}: ${v}\n`).join("") + (headers.size ? "\n" : "");
  return `-----BEGIN ${label}-----\n${head}${(b64(body).match(/.{1,64}/g) ?? [""]).join("\n")}\n-----END ${label}-----\n`;
};

/** Recomputes a PPK's MAC for its (possibly edited) unencrypted blobs. */
function ppkWithBlobs(text: string, pub: Uint8Array, priv: Uint8Array): string {
  const lines = text.split("\n");
  const type = lines[0]!.split(": ")[1]!;
  const v2 = lines[0]!.startsWith("PuTTY-User-Key-File-2");
  const comment = lines[2]!.slice("Comment: ".length);
  const data = new SshWriter().string(type).string("none").string(comment).string(pub).string(priv).finish();
  const macKey = v2 ? sha1(new TextEncoder().encode("putty-private-key-file-mac-key")) : new Uint8Array(0);
  const mac = hex(v2 ? hmac(sha1, macKey, data) : hmac(sha256, macKey, data));
  const wrap = (b: Uint8Array) => b64(b).match(/.{1,64}/g) ?? [];
  const pubLines = wrap(pub);
  const privLines = wrap(priv);
  return [lines[0], lines[1], lines[2], `Public-Lines: ${pubLines.length}`, ...pubLines, `Private-Lines: ${privLines.length}`, ...privLines, `Private-MAC: ${mac}`, ""].join("\n");
}

function ppkBlobs(text: string): { pub: Uint8Array; priv: Uint8Array } {
  const lines = text.split("\n");
  const pi = lines.findIndex((l) => l.startsWith("Public-Lines: "));
  const pn = Number(lines[pi]!.split(": ")[1]);
  const qi = lines.findIndex((l) => l.startsWith("Private-Lines: "));
  const qn = Number(lines[qi]!.split(": ")[1]);
  const dec = (from: number, n: number) => new Uint8Array(Buffer.from(lines.slice(from, from + n).join(""), "base64"));
  return { pub: dec(pi + 1, pn), priv: dec(qi + 1, qn) };
}

const keyFiles = FIXTURES.filter((f) => f.format !== "public" && f.format !== "sshcom");
const runs = (f: Fixture) => (f.passphrase !== null && f.format === "openssh" && !f.file.includes("rounds1") ? 3 : 40);

describe("fuzzing every private key format", () => {
  it("mutated binary under the armor (openssh-key-v1, PEM, PKCS#8, DER)", async () => {
    for (const f of keyFiles.filter((x) => x.format !== "ppk")) {
      const input = fixtureInput(f);
      const body = typeof input === "string" ? findPemBlock(input)!.body : input;
      await fc.assert(
        fc.asyncProperty(edit(body), async (b) => {
          const mutated = typeof input === "string" ? rearmor(input, b) : b;
          await check(mutated, f.passphrase ?? undefined);
        }),
        { numRuns: runs(f) },
      );
    }
  });

  it("mutated PPK blobs with a valid MAC (unencrypted), and mutated PPK text", async () => {
    for (const f of keyFiles.filter((x) => x.format === "ppk")) {
      const text = fixtureText(f.file);
      if (f.passphrase === null) {
        const { pub, priv } = ppkBlobs(text);
        expect(parsePrivateKey(ppkWithBlobs(text, pub, priv)).type).toBeTruthy(); // the MAC recomputation is right
        await fc.assert(fc.asyncProperty(edit(priv), async (p) => check(ppkWithBlobs(text, pub, p), undefined)), { numRuns: 40 });
        await fc.assert(fc.asyncProperty(edit(pub), async (p) => check(ppkWithBlobs(text, p, priv), undefined)), { numRuns: 20 });
      }
      const bytes = new TextEncoder().encode(text);
      await fc.assert(fc.asyncProperty(edit(bytes), async (b) => check(b, f.passphrase ?? undefined)), { numRuns: 15 });
    }
  });

  it("random input shaped like each format", async () => {
    const armored = (label: string) => fc.uint8Array({ maxLength: 300 }).map((b) => `-----BEGIN ${label}-----\n${b64(b)}\n-----END ${label}-----\n`);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }).map((b) => Uint8Array.from([0x30, ...b])),
          fc.uint8Array({ maxLength: 300 }).map((b) => Uint8Array.from([...new TextEncoder().encode("openssh-key-v1\0"), ...b])),
          armored("PRIVATE KEY"),
          armored("ENCRYPTED PRIVATE KEY"),
          armored("RSA PRIVATE KEY"),
          armored("EC PRIVATE KEY"),
          armored("OPENSSH PRIVATE KEY"),
          fc.array(fc.string({ maxLength: 40 }), { maxLength: 12 }).map((ls) => ["PuTTY-User-Key-File-3: ssh-ed25519", ...ls].join("\n")),
          fc.string({ maxLength: 200 }),
        ),
        fc.constantFrom(undefined, "pw"),
        async (input, pass) => check(input, pass),
      ),
      { numRuns: 600 },
    );
  });

  it("each format parser alone, on random bytes, throws only SshError", () => {
    const parsers: ((b: Uint8Array) => unknown)[] = [
      (b) => parsePkcs8(b),
      (b) => parseEncryptedPkcs8(b, "pw", CHEAP),
      (b) => rsaFromPkcs1(b),
      (b) => ecFromSec1(b),
      (b) => parseOpensshKey(b, "pw", CHEAP),
      (b) => parsePpk(new TextDecoder().decode(b), "pw", CHEAP),
      (b) => findPemBlock(new TextDecoder().decode(b)),
      // A generic walk over arbitrary DER: every element, every primitive decoder.
      (b) => {
        const walk = (r: DerReader, depth: number): void => {
          while (!r.done) {
            const tag = r.peekTag()!;
            if ((tag & 0x20) && depth < 8) walk(new DerReader(r.any().value), depth + 1);
            else if (tag === 0x02) r.integer();
            else if (tag === 0x06) r.oid();
            else if (tag === 0x03) r.bitString();
            else r.any();
          }
        };
        walk(new DerReader(b), 0);
      },
    ];
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }).map((b) => Uint8Array.from([0x30, b.length, ...b]))), (b) => {
        for (const parse of parsers) {
          try {
            parse(b);
          } catch (e) {
            expect(e).toBeInstanceOf(SshError);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});
