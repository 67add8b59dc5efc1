/**
 * Key-exchange replies and inits (src/ssh/kex/*): every method in both roles, fed a script of
 * peer messages. The first input byte picks the method (low 7 bits) and role (high bit); the
 * rest is up to three messages (splitMessages). Seeds are genuine exchanges between our own
 * client and server plus the kex messages captured from real sessions.
 *
 * Each input costs a fresh ephemeral key and, for finite-field DH, up to two 8192-bit modular
 * exponentiations by design, so this target runs fewer inputs with a larger time bound.
 */
import type { ExchangeInputs, KexHostKey, KexMethod } from "../../src/ssh/kex/kex.js";
import { KEX_METHODS } from "../../src/ssh/kex/methods.js";
import type { FuzzTarget } from "../engine.js";
import { joinMessages, splitMessages, sshMessages, sshString, concatBytes, tagged } from "../corpus.js";
import { kexPair, scriptedKexIO } from "../fakes.js";

const METHODS: readonly KexMethod[] = Object.values(KEX_METHODS);

const INPUTS: ExchangeInputs = {
  clientVersion: "SSH-2.0-fuzz_client",
  serverVersion: "SSH-2.0-fuzz_server",
  clientKexInit: Uint8Array.of(20, ...new Array<number>(40).fill(1)),
  serverKexInit: Uint8Array.of(20, ...new Array<number>(40).fill(2)),
};

const hostKey: KexHostKey = {
  blob: concatBytes(sshString("ssh-ed25519"), sshString(new Uint8Array(32).fill(5))),
  sign: async () => concatBytes(sshString("ssh-ed25519"), sshString(new Uint8Array(64).fill(6))),
};

/** A genuine exchange: what the server sent (client-role seed) and what the client sent. */
async function genuine(m: KexMethod): Promise<{ toClient: Uint8Array[]; toServer: Uint8Array[] }> {
  const [c, s] = kexPair();
  await Promise.all([m.client(c, INPUTS), m.server(s, INPUTS, hostKey)]);
  return { toClient: s.sent, toServer: c.sent };
}

let seeds: Uint8Array[] | undefined;

export const kexMessages: FuzzTarget = {
  name: "ssh-kex",
  iterations: 12_000,
  timeLimitMs: 1000,
  maxLength: 4096,
  seeds: async () => {
    if (seeds) return seeds;
    const out: Uint8Array[] = [];
    for (const [i, m] of METHODS.entries()) {
      const g = await genuine(m);
      out.push(tagged(i, joinMessages(g.toClient)), tagged(i | 0x80, joinMessages(g.toServer)));
    }
    // Captured messages 30-34 under every method, so each parser meets the others' shapes.
    const captured = sshMessages(30, 31, 32, 33, 34);
    for (const [i, msg] of captured.entries()) out.push(tagged((i % METHODS.length) | (i & 1 ? 0x80 : 0), joinMessages([msg])));
    return (seeds = out);
  },
  run: (input) => {
    const sel = input[0] ?? 0;
    const method = METHODS[(sel & 0x7f) % METHODS.length]!;
    const messages = splitMessages(input.subarray(1), 3);
    const io = scriptedKexIO(messages);
    return sel & 0x80 ? method.server(io, INPUTS, hostKey) : method.client(io, INPUTS);
  },
};

export const targets = [kexMessages];
