/**
 * Property: whatever a peer sends, a method either completes or fails with ProtocolError — never
 * a RangeError, a noble Error, or a hang. Runs random bytes, random fields in the right message
 * shape, and byte mutations of a genuine reply.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ProtocolError } from "../../src/errors.js";
import { KEX_METHODS } from "../../src/ssh/kex/methods.js";
import type { KexMethod } from "../../src/ssh/kex/kex.js";
import { INPUTS, dummyHostKey, msg, scriptedIO, str, u32 } from "./helpers.js";

/** Past the script, the peer sends a message of a number no method expects. */
const WRONG = Uint8Array.of(99);

async function outcome(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(ProtocolError);
  }
}

const field = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.constantFrom(32, 65, 97, 133, 256, 257, 384, 512, 1120, 1216).chain((n) =>
    fc.uint8Array({ minLength: n, maxLength: n }),
  ),
);
const shaped = (type: number) =>
  fc.tuple(field, field, field).map(([a, b, c]) => msg(type, str(a), str(b), str(c)));
const anyMessage = fc.oneof(fc.uint8Array({ maxLength: 300 }), shaped(30), shaped(31), shaped(32), shaped(33));

/** A genuine REPLY (or GEX GROUP) payload from this method's server, for mutation. */
async function genuineServerMessage(method: KexMethod): Promise<Uint8Array> {
  const c = scriptedIO([]);
  void method.client(c, INPUTS).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 0));
  const s = scriptedIO([c.sent[0]!], WRONG);
  await method.server(s, INPUTS, dummyHostKey()).catch(() => undefined);
  return s.sent[0]!;
}

const mutation = (good: Uint8Array) =>
  fc.oneof(
    fc.integer({ min: 0, max: good.length }).map((n) => good.subarray(0, n)),
    fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const b = good.slice();
      b[i]! ^= x;
      return b;
    }),
  );

describe("random peer messages end only in ProtocolError", () => {
  for (const [name, method] of Object.entries(KEX_METHODS)) {
    // Finite-field DH generates a key per run (42 ms for 8192 bits); keep those runs fewer.
    const numRuns = /diffie-hellman/.test(name) ? 25 : 100;

    it(`${name} client`, async () => {
      const good = await genuineServerMessage(method);
      await fc.assert(
        fc.asyncProperty(fc.oneof(anyMessage, mutation(good)), fc.option(anyMessage), async (first, second) => {
          const replies = second ? [first, second] : [first];
          await outcome(method.client(scriptedIO(replies, WRONG), INPUTS));
        }),
        { numRuns },
      );
    });

    it(`${name} server`, async () => {
      const gexRequest = fc
        .tuple(fc.nat(), fc.nat(), fc.nat())
        .map(([a, b, c]) => msg(34, u32(a % 10000), u32(b % 10000), u32(c % 10000)));
      await fc.assert(
        fc.asyncProperty(fc.oneof(anyMessage, gexRequest), fc.option(anyMessage), async (first, second) => {
          const inits = second ? [first, second] : [first];
          await outcome(method.server(scriptedIO(inits, WRONG), INPUTS, dummyHostKey()));
        }),
        { numRuns },
      );
    });
  }
});
