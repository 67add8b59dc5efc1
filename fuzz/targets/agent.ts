/**
 * ssh-agent replies (src/ssh/auth/agent.ts): an AgentClient over a ByteChannel that returns the
 * input as the agent's byte stream, cut into chunks (byte 1 seeds the cuts), for a key listing,
 * a signature request, or both in a row on one connection (byte 0), so leftover bytes of one
 * reply meet the next request. Seeds are replies an OpenSSH agent would send for the fixture
 * keys, certificates and unsupported key types.
 */
import { AGENT_MSG, AgentClient } from "../../src/ssh/auth/agent.js";
import { parsePrivateKey } from "../../src/ssh/keys/private-key.js";
import { decodeBase64 } from "../../src/ssh/wire/base64.js";
import { SshWriter } from "../../src/ssh/wire/writer.js";
import { classify, type FuzzTarget } from "../engine.js";
import { CORPUS, VECTORS, concatBytes, readFiles } from "../corpus.js";
import { chunkSizes, scriptedChannel } from "../fakes.js";

const LIST = 0;
const SIGN = 1;
const BOTH = 2;
const frame = (msg: Uint8Array) => new SshWriter(msg.length + 4).string(msg).finish().slice();
const data = new TextEncoder().encode("session id || userauth request");

let seeds: Uint8Array[] | undefined;

export const agentReplies: FuzzTarget = {
  name: "agent",
  iterations: 40_000,
  maxLength: 16 * 1024,
  seeds: async () => {
    if (seeds) return seeds;
    const keys = readFiles(`${VECTORS}/base`, (n) => !n.includes(".")).map(({ bytes }) => parsePrivateKey(bytes));
    const certs = readFiles(`${CORPUS}/keys`, (n) => n.startsWith("cert.")).map(({ bytes }) => decodeBase64(new TextDecoder().decode(bytes).split(" ")[1]!));
    const dss = new SshWriter().string("ssh-dss").string("p").string("q").string("g").string("y").finish();
    const identities = (blobs: Uint8Array[]) => {
      const w = new SshWriter(4096).byte(AGENT_MSG.IDENTITIES_ANSWER).uint32(blobs.length);
      blobs.forEach((b, i) => w.string(b).string(`key ${i}`));
      return frame(w.finish());
    };
    const list = identities([...keys.map((k) => k.publicKey.blob), ...certs.slice(0, 2), dss]);
    const out = [concatBytes(Uint8Array.of(LIST, 0), list), concatBytes(Uint8Array.of(LIST, 3), identities([]))];
    for (const k of keys) {
      const alg = k.type === "ssh-rsa" ? "rsa-sha2-512" : k.type;
      const signed = frame(new SshWriter(1024).byte(AGENT_MSG.SIGN_RESPONSE).string(await k.sign(alg, data)).finish());
      out.push(concatBytes(Uint8Array.of(SIGN, 1), signed), concatBytes(Uint8Array.of(BOTH, 7), list, signed));
    }
    out.push(concatBytes(Uint8Array.of(SIGN, 2), frame(Uint8Array.of(AGENT_MSG.FAILURE))));
    return (seeds = out);
  },
  run: async (input) => {
    const op = (input[0] ?? 0) % 3;
    const channel = scriptedChannel(input.subarray(2), chunkSizes(input[1] ?? 0));
    const agent = new AgentClient(channel);
    try {
      if (op === LIST) return (await agent.listIdentities()).length;
      if (op === SIGN) return (await agent.sign(Uint8Array.of(0, 0, 0, 1, 0x78), data, 4)).length;
      // Both at once: the second queues behind the first and must still end.
      const [ids, sig] = await Promise.allSettled([agent.listIdentities(), agent.sign(Uint8Array.of(1), data)]);
      for (const r of [ids, sig]) if (r.status === "rejected" && classify(r.reason) !== "typed") throw r.reason;
      if (ids.status === "rejected") throw ids.reason;
      if (sig.status === "rejected") throw sig.reason;
      return ids.value.length + sig.value.length;
    } finally {
      agent.close();
    }
  },
};

export const targets = [agentReplies];
