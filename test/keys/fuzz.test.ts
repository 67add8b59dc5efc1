/**
 * Property tests: random and mutated input into the key parsers and verifiers produces only this
 * library's error types (ProtocolError for wire blobs, SshError for key files), never a
 * TypeError/RangeError from deep inside, and verify() never accepts garbage.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { readFileSync, rmSync } from "node:fs";
import { parsePrivateKey, type PrivateKey } from "../../src/ssh/keys/private-key.js";
import { parsePublicKey, parsePublicKeyLine } from "../../src/ssh/keys/public-key.js";
import { ProtocolError, SshError } from "../../src/errors.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import { keygen, tempDir } from "./helpers.js";
import { xorAtDistinct, xorEdits } from "../support/byte-edits.js";

const ALGS: Record<string, string[]> = {
  "ssh-ed25519": ["ssh-ed25519"],
  "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
  "ecdsa-sha2-nistp521": ["ecdsa-sha2-nistp521"],
  "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
};

let dir: string;
const keys: PrivateKey[] = [];
const rawFiles: Uint8Array[] = [];
beforeAll(() => {
  dir = tempDir();
  for (const [name, args] of [
    ["ed", ["-t", "ed25519"]],
    ["ec256", ["-t", "ecdsa", "-b", "256"]],
    ["ec521", ["-t", "ecdsa", "-b", "521"]],
    ["rsa", ["-t", "rsa", "-b", "2048"]],
  ] as const) {
    const g = keygen(dir, name, [...args]);
    keys.push(parsePrivateKey(g.privateText));
    const body = readFileSync(g.path, "utf8").replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
    rawFiles.push(new Uint8Array(Buffer.from(body, "base64")));
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function onlyOurs(e: unknown, type: typeof SshError = SshError): void {
  expect(e).toBeInstanceOf(type);
  const cause = (e as SshError).cause;
  if (cause !== undefined) expect(cause).toBeInstanceOf(SshError);
}

/** A copy of `bytes` with some bytes replaced, or truncated, or extended. */
const mutation = (bytes: () => Uint8Array) =>
  fc.oneof(
    xorEdits(4).map((edits) => xorAtDistinct(bytes(), edits)),
    fc.nat().map((n) => bytes().slice(0, n % bytes().length)),
    fc.uint8Array({ minLength: 1, maxLength: 8 }).map((tail) => Uint8Array.from([...bytes(), ...tail])),
  );

describe("fuzzing", () => {
  it("parsePublicKey: random bytes and mutated blobs give a key or ProtocolError", () => {
    for (let k = 0; k < keys.length; k++) {
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutation(() => keys[k]!.publicKey.blob)), (b) => {
          try {
            parsePublicKey(b);
          } catch (e) {
            onlyOurs(e, ProtocolError);
          }
        }),
        { numRuns: 300 },
      );
    }
  });

  it("parsePublicKeyLine: random text gives a key or ProtocolError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ maxLength: 80 }), (a, b) => {
        for (const line of [a, `ssh-ed25519 ${a}`, `ssh-rsa ${Buffer.from(b).toString("base64")} c`]) {
          try {
            parsePublicKeyLine(line);
          } catch (e) {
            onlyOurs(e, ProtocolError);
          }
        }
      }),
    );
  });

  it("verify: random signature blobs are rejected with false or ProtocolError", async () => {
    for (const key of keys) {
      for (const alg of ALGS[key.type]!) {
        const valid = await key.sign(alg, new Uint8Array(3));
        await fc.assert(
          fc.asyncProperty(
            fc.oneof(
              fc.uint8Array({ maxLength: 120 }),
              mutation(() => valid),
              // Well-formed blob, random body: must be a plain false, never an error.
              fc.uint8Array({ maxLength: 600 }).map((body) => new SshWriter().string(alg).string(body).finish().slice()),
            ),
            fc.constantFrom("auto", "pure" as const),
            async (sig, backend) => {
              try {
                expect(await key.publicKey.verify(alg, sig, new Uint8Array(3), backend)).toBe(false);
              } catch (e) {
                onlyOurs(e, ProtocolError);
              }
            },
          ),
          { numRuns: 60 },
        );
      }
    }
  });

  it("parsePrivateKey: random text and bytes give SshError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 })), (input) => {
        expect(() => parsePrivateKey(input)).toThrow(SshError);
        try {
          parsePrivateKey(input);
        } catch (e) {
          onlyOurs(e);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("parsePrivateKey: mutated key files give SshError or a key matching the original", () => {
    for (let k = 0; k < rawFiles.length; k++) {
      fc.assert(
        fc.property(mutation(() => rawFiles[k]!), (b) => {
          try {
            // Mutations of the comment survive; nothing else may.
            expect(parsePrivateKey(b).publicKey.fingerprint).toBe(keys[k]!.publicKey.fingerprint);
          } catch (e) {
            onlyOurs(e);
          }
        }),
        { numRuns: 200 },
      );
    }
  });
});
